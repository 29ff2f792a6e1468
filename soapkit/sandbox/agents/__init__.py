"""NetServer agents of the sandbox: the hand-written handlers (Contact, Person, SoPrincipal, Archive, List, Appointment,
MDO, Associate, Selection, User, UserDefinedFieldInfo), the generic entity store, the registry and the endpoint."""

from soapkit.sandbox.agents import (  # noqa: F401  (register their handlers)
    appointment,
    archive,
    contact,
    lists,
    mdo,
    person,
    principal,
    selection,
    udf,
    users,
)
from soapkit.sandbox.agents.registry import HANDLERS, AgentCall, AgentFailure, handles, implemented
from soapkit.sandbox.agents.service import AgentService

__all__ = ["HANDLERS", "AgentCall", "AgentFailure", "AgentService", "handles", "implemented"]
