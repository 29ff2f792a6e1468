"""NetServer agents of the sandbox (Contact, Person, SoPrincipal): registry, handlers, endpoint."""

from soapkit.sandbox.agents import contact, person, principal  # noqa: F401  (register their handlers)
from soapkit.sandbox.agents.registry import HANDLERS, AgentCall, AgentFailure, handles, implemented
from soapkit.sandbox.agents.service import AgentService

__all__ = ["HANDLERS", "AgentCall", "AgentFailure", "AgentService", "handles", "implemented"]
