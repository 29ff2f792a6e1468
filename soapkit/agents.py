"""Agent proxies generated from the WSDL: ``so.ContactAgent.GetContactEntity(5)``.

Nothing here knows any particular operation: names, parameters and types come from the cached WSDL.
One call: check and shape the arguments against the WSDL (:mod:`soapkit.values`, before anything is sent),
locate the tenant, bind the service to its URL, let the header plugin add the credential,
send; then unwrap ``Response`` (list wrappers become lists at every depth) and turn
``Succeeded=false``/``ExceptionInfo``, faults and HTTP errors into typed errors. A rejected credential is
invalidated and the call retried once; HTTP 421 makes the tenant be looked up again and the call retried once
on the new host.
"""

from __future__ import annotations

import difflib
import threading
from typing import TYPE_CHECKING, Any

from zeep.proxy import ServiceProxy

from soapkit.catalog import ServiceDescription, service_name
from soapkit.errors import AgentError, AuthenticationFailed, CredentialRejected, UnknownOperationError, WrongSubdomain
from soapkit.headers import SuperOfficeHeaders
from soapkit.transport import looks_like_credential_failure, soap_errors
from soapkit.values.codec import codec_for
from soapkit.values.empty_strings import EmptyStrings
from soapkit.values.inputs import InputOptions
from soapkit.values.outputs import shape

if TYPE_CHECKING:
    from soapkit.client import SuperOfficeClient


def unwrap(result: Any) -> Any:
    """The ``Response`` value of an agent answer; raise :class:`AgentError` when ``Succeeded`` is false."""
    header = getattr(result, "header", None) if _has(result, "header") else None
    body = result.body if _has(result, "body") else result
    if header is not None:
        _raise_if_failed(header)
    shaped = shape(body)
    if _has(shaped, "Response"):
        return shaped["Response"]
    return shaped


def _has(value: Any, name: str) -> bool:
    try:
        return name in value
    except TypeError:
        return False


def _raise_if_failed(header: Any) -> None:
    succeeded = header["Succeeded"] if _has(header, "Succeeded") else None
    info = header["ExceptionInfo"] if _has(header, "ExceptionInfo") else None
    if succeeded is not False and info is None:
        return
    if info is None:
        raise AgentError("The agent answered Succeeded=false without ExceptionInfo.")
    message = info["Message"] or "no message"
    exception_type = info["ExceptionType"]
    if "applicationtoken" in (exception_type or "").lower():
        raise AuthenticationFailed(f"{exception_type}: {message}",
                                   hint="Check the application token (client secret) and that the app is "
                                   "installed in this tenant.")
    if looks_like_credential_failure(exception_type, message) and "right" not in (message or "").lower():
        raise CredentialRejected(f"{exception_type or 'Error'}: {message}")
    raise AgentError(
        f"{exception_type or 'Error'}: {message}",
        exception_type=exception_type,
        friendly_text=info["FriendlyText"],
        source=info["Source"],
        hint=info["FriendlyText"] or "See ExceptionInfo (soapkit call --trace shows the full envelope).",
    )


class Operation:
    """One operation of one agent, callable with the WSDL's parameters (by position or by name)."""

    def __init__(self, agent: AgentProxy, name: str) -> None:
        self._agent = agent
        self.name = name
        self.__doc__ = f"{agent.name}Agent.{name}{self.signature}"

    @property
    def signature(self) -> str:
        operation = self._agent.description.operation(self.name)
        return f"({operation.input.signature(as_output=False)}) -> {operation.output.signature(as_output=True)}"

    def __repr__(self) -> str:
        return f"<operation {self._agent.name}Agent.{self.name}{self.signature}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._agent.invoke(self.name, args, kwargs)


class AgentProxy:
    """The operations of one service (``ContactAgent``), bound to the tenant's current host."""

    def __init__(self, client: SuperOfficeClient, service: str) -> None:
        self._client = client
        self.name = service_name(service)
        self.description: ServiceDescription = client.catalog.describe(self.name, client.version)
        self._lock = threading.Lock()
        self._bound: dict[tuple[str, str], ServiceProxy] = {}  # (address, operation)

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
        return Operation(self, name)

    def service_proxy(self, services_url: str, operation: str) -> ServiceProxy:
        address = f"{services_url}{self.name}.svc"
        with self._lock:
            proxy = self._bound.get((address, operation))
            if proxy is None:
                plugin = SuperOfficeHeaders(
                    self._client.context.application_token,
                    ticket=self._client.ticket,
                    time_zone=self._client.time_zone,
                    ws_addressing=self._client.ws_addressing,
                    application_token_optional=self._client.onsite is not None,
                )
                _, proxy = self._client.catalog.bind(
                    self.name, address, operation, version=self._client.version,
                    transport=self._client.transport, plugins=[plugin, EmptyStrings()],
                )
                self._bound[(address, operation)] = proxy
            return proxy

    def invoke(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
               options: InputOptions | None = None) -> Any:
        """Call ``operation``; arguments are checked first (:class:`~soapkit.errors.InvalidValue` if they do
        not fit the WSDL), ``options`` default to the client's."""
        values = codec_for(self.description).inputs(operation, options or self._client.input_options).bind(
            args, kwargs)
        rerouted = refreshed = False
        while True:
            proxy = self.service_proxy(self._client.services_url(), operation)
            try:
                with soap_errors():
                    result = proxy[operation](**values)
                return unwrap(result)
            except WrongSubdomain:
                if rerouted:
                    raise
                rerouted = True
                if self._client.onsite is not None:
                    raise  # an onsite NetServer has no tenant directory to ask again
                self._client.tenants.forget(self._client.context.context_identifier)
            except CredentialRejected as rejected:
                if not self._client.credentials.can_refresh:
                    raise CredentialRejected(rejected.message, hint="The ticket or token you passed was rejected and "
                                             "soapkit cannot renew it: obtain a new one and pass it again.") from None
                if refreshed:
                    raise
                refreshed = True
                self._client.credentials.invalidate(self._client.context)
