"""Agent proxies generated from the WSDL: ``so.ContactAgent.GetContactEntity(5)``.

Nothing here knows any particular operation: names, parameters and types come from the cached WSDL. A proxy
only names the call; the client runs it as the call flow (:func:`soapkit.calls.agent_call`) with its driver,
so the same proxy serves the sync client (the call returns the value) and the async one (it returns an
awaitable).
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from soapkit.calls import raise_if_failed, unwrap
from soapkit.catalog import ServiceDescription, service_name
from soapkit.errors import UnknownOperationError

if TYPE_CHECKING:
    from soapkit.client import ClientBase
    from soapkit.retry import RetryPolicy
    from soapkit.values.inputs import InputOptions

__all__ = ["AgentProxy", "Operation", "raise_if_failed", "unwrap"]


class Operation:
    """One operation of one agent, callable with the WSDL's parameters (by position or by name).

    ``with_options(idempotent=True)`` marks this call safe to send again (or ``False``: never), ``retries=``
    gives it its own :class:`~soapkit.retry.RetryPolicy`.
    """

    def __init__(self, agent: AgentProxy, name: str, *, idempotent: bool | None = None,
                 retries: RetryPolicy | None = None, options: InputOptions | None = None) -> None:
        self._agent = agent
        self.name = name
        self._idempotent = idempotent
        self._retries = retries
        self._options = options
        self.__doc__ = f"{agent.name}Agent.{name}{self.signature}"

    @property
    def signature(self) -> str:
        operation = self._agent.description.operation(self.name)
        return f"({operation.input.signature(as_output=False)}) -> {operation.output.signature(as_output=True)}"

    def __repr__(self) -> str:
        return f"<operation {self._agent.name}Agent.{self.name}{self.signature}>"

    def with_options(self, *, idempotent: bool | None = None, retries: RetryPolicy | None = None) -> Operation:
        """This operation with a per-call retry rule (see docs/retries.md)."""
        return Operation(self._agent, self.name, idempotent=idempotent, retries=retries, options=self._options)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._agent.invoke(self.name, args, kwargs, options=self._options, idempotent=self._idempotent,
                                  retries=self._retries)


class AgentProxy:
    """The operations of one service (``ContactAgent``)."""

    def __init__(self, client: ClientBase, service: str) -> None:
        self._client = client
        self.name = service_name(service)
        self.description: ServiceDescription = client.catalog.describe(self.name, client.version)

    def __repr__(self) -> str:
        return f"<{self.name}Agent: {len(self.description.operation_names)} operations>"

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.description.operation_names]

    def __getattr__(self, name: str) -> Operation:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self.description.operation_names:
            raise UnknownOperationError(
                f"{self.name}Agent has no operation {name!r}.",
                suggestions=difflib.get_close_matches(name, self.description.operation_names, n=3, cutoff=0.5),
            )
        operation = Operation(self, name)
        self.__dict__[name] = operation  # built once: its signature walks zeep's model
        return operation

    def invoke(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
               options: InputOptions | None = None, idempotent: bool | None = None,
               retries: RetryPolicy | None = None) -> Any:
        """Call ``operation``; arguments are checked first (:class:`~soapkit.errors.InvalidValue` if they do
        not fit the WSDL), ``options`` default to the client's. The sync client returns the value, the async
        client an awaitable of it."""
        return self._client.run_call(self.name, operation, args, kwargs, options=options, idempotent=idempotent,
                                     retries=retries)
