"""The table of agent operations the sandbox implements: (service, operation) -> handler.

A handler receives an :class:`AgentCall` and returns the response body values by part name (usually
``{"Response": ...}``). It raises :class:`AgentFailure` for an answer with ``Succeeded=false`` and
``ExceptionInfo``; anything else it raises becomes ``ExceptionType=SandboxInternalError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from soapkit.sandbox.agents.records import Crm
from soapkit.sandbox.backend import Backend
from soapkit.sandbox.tenants import Tenant


class AgentFailure(Exception):
    """Answered as ``Succeeded=false`` with ``ExceptionInfo`` (HTTP 200)."""

    def __init__(self, exception_type: str, message: str, *, friendly_text: str | None = None) -> None:
        self.exception_type = exception_type
        self.message = message
        self.friendly_text = friendly_text
        super().__init__(message)


@dataclass
class AgentCall:
    service: str
    operation: str
    tenant: Tenant
    params: dict[str, Any]
    backend: Backend
    base_url: str
    now: dt.datetime
    associate_id: int  # the authenticated user (the system user for tickets); 0 without credentials
    application_token: str | None
    #: called on the onsite endpoint (``/onsite/Remote/...``): no tenant lookup, ApplicationToken not checked
    onsite: bool = False

    @property
    def ctx(self) -> str:
        return self.tenant.ctx

    @property
    def crm(self) -> Crm:
        return Crm(self.backend.store, self.tenant.ctx)

    @property
    def timestamp(self) -> str:
        """Now as rows store it: UTC without offset, whole seconds."""
        return self.now.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value


Handler = Callable[[AgentCall], dict[str, Any]]
HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(service: str, operation: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[(service, operation)] = handler
        return handler

    return register


def handler_for(service: str, operation: str) -> Handler | None:
    return HANDLERS.get((service, operation))


def implemented(service: str | None = None) -> list[tuple[str, str]]:
    return sorted(key for key in HANDLERS if service is None or key[0] == service)
