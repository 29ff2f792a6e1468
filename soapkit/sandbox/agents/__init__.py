"""NetServer agents of the sandbox (Contact, Person, SoPrincipal, Archive, List): registry, handlers, endpoint."""

from soapkit.sandbox.agents import archive, contact, lists, person, principal  # noqa: F401  (register their handlers)
from soapkit.sandbox.agents.registry import HANDLERS, AgentCall, AgentFailure, handles, implemented
from soapkit.sandbox.agents.service import AgentService

__all__ = ["HANDLERS", "AgentCall", "AgentFailure", "AgentService", "handles", "implemented"]
