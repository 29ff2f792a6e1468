"""The call flow: one agent call from arguments to plain values, written once for both drivers.

:func:`soap_exchange` is one SOAP request and its answer: build the envelope from the WSDL (zeep's model,
cached per operation), write the headers it is handed, send it within the deadline and size cap, classify
the answer (:mod:`soapkit.error_table`) and decode it. PartnerSystemUserService and onsite sign-ins use it
as it is.

:func:`agent_call` wraps it in everything an agent call needs: check the arguments (before anything is
sent), locate the tenant, obtain a credential, send; re-route once on HTTP 421, renew a rejected credential
once, and retry what is safe to retry by :class:`~soapkit.retry.RetryPolicy` — reads, and writes that
certainly never reached the server. A write that failed after it may have arrived raises
:class:`~soapkit.errors.OutcomeUnknown`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import zeep
import zeep.exceptions
from lxml import etree

from soapkit._memo import PerObject
from soapkit.codec import CodecMode, DecodedReply, ResponseReader
from soapkit.error_table import exception_info_error, failure_error, fault_error, status_error
from soapkit.errors import (
    ConfigurationError,
    ConnectionFailed,
    CredentialRejected,
    HttpError,
    OutcomeUnknown,
    RateLimited,
    RequestTimeout,
    ResponseRejected,
    SoapkitError,
    WrongSubdomain,
)
from soapkit.flow import Flow, HttpRequest, HttpResponse, Sleep, TransportFailure, within
from soapkit.headers import HeaderValues, write_headers
from soapkit.values.outputs import shape

if TYPE_CHECKING:
    from soapkit.catalog import Catalog
    from soapkit.credentials.base import AuthContext, Credential
    from soapkit.retry import RetryPolicy
    from soapkit.values.inputs import InputOptions

#: A call's whole deadline, in client timeouts, when its RetryPolicy names none: one full wait, and room to retry.
DEADLINE_TIMEOUTS = 2
#: The largest SOAP answer read (bytes) unless the client says otherwise: a larger one raises ResponseTooLarge.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Bound:
    """zeep's model of one operation, ready to write requests and read answers (no transport, no address)."""

    client: zeep.Client
    binding: Any
    operation: Any  # zeep's bound operation

    @property
    def declared_headers(self) -> Any:
        return self.operation.input.header


# catalog -> (service, version, operation) -> model; a catalog that goes away takes its models with it
_bound: PerObject[Catalog, dict[tuple[str, str, str], Bound]] = PerObject(lambda catalog: {})
_bound_lock = threading.Lock()


def bound(catalog: Catalog, service: str, operation: str, version: str) -> Bound:
    """The (cached) zeep model of ``service.operation``; built once per catalog, version and operation."""
    key = (service, version, operation)
    models = _bound(catalog)
    with _bound_lock:
        found = models.get(key)
    if found is not None:
        return found
    from soapkit.headers import ResponseParts
    from soapkit.values.empty_strings import EmptyStrings

    client, proxy = catalog.bind(service, "http://soapkit.invalid/", operation, version=version,
                                 plugins=[ResponseParts(), EmptyStrings()])
    binding = proxy._binding
    made = Bound(client, binding, binding.get(operation))
    with _bound_lock:
        return models.setdefault(key, made)


def envelope(model: Bound, operation: str, values: Mapping[str, Any], headers: HeaderValues,
             address: str) -> tuple[bytes, dict[str, str]]:
    """The request's bytes and HTTP headers (SOAPAction, Content-Type)."""
    try:
        document, http_headers = model.binding._create(operation, (), dict(values), client=model.client,
                                                       options={"address": address})
    except zeep.exceptions.ValidationError as error:
        raise ConfigurationError(f"Invalid argument: {error}",
                                 hint="Check the parameter types with `soapkit describe`.") from None
    write_headers(document, model.declared_headers, headers)
    body = etree.tostring(document, encoding="utf-8", xml_declaration=True)
    return body, dict(http_headers)


def decode(model: Bound, response: HttpResponse) -> Any:
    """zeep's reading of a SOAP answer; faults and unreadable or unsafe XML become soapkit errors."""
    return _read(lambda: model.binding.process_reply(model.client, model.operation, response))


def _read(reader: Callable[[], Any]) -> Any:
    """``reader()`` (zeep's or the codec's reading of an answer) with what they raise classified by the table."""
    try:
        return reader()
    except BaseException as error:
        classified = reading_error(error)
        if classified is None:
            raise
        raise classified from None


def reading_error(error: BaseException) -> SoapkitError | None:
    """What an exception raised while zeep, lxml or the codec read an answer means (None: not a reading error).
    Faults go to the error table; unreadable or unsafe answers become ResponseRejected, never with zeep's dump of
    the body."""
    if isinstance(error, zeep.exceptions.Fault):
        detail = etree.tostring(error.detail).decode() if error.detail is not None else None
        return fault_error(error.code, error.message, detail)
    if isinstance(error, zeep.exceptions.TransportError):  # its message embeds the whole body: never used
        reason = str(error.message).split("\n", 1)[0][:300]
        return ResponseRejected(error.status_code, f"HTTP {error.status_code}: the server's answer is not a "
                                f"readable SOAP message ({reason}).", body=_text(error.content))
    if isinstance(error, (zeep.exceptions.Error, etree.LxmlError, UnicodeError, RecursionError, MemoryError)):
        return ResponseRejected(200, f"The server's answer was refused: {unsafe_answer_reason(error)}.")
    return None


def soap_exchange(catalog: Catalog, service: str, operation: str, address: str, values: Mapping[str, Any],
                  headers: HeaderValues, *, version: str, timeout: float, deadline: float | None = None,
                  max_bytes: int = MAX_RESPONSE_BYTES, purpose: Any = "soap", codec: CodecMode = "zeep",
                  reader: ResponseReader | None = None) -> Flow[Any]:
    """One SOAP request and its answer read: zeep's result (``{header, body}`` when the operation has output
    headers), or with ``codec="compiled"`` a :class:`~soapkit.codec.DecodedReply` (the compiled codec; any
    message it cannot read exactly like zeep goes to zeep; ``reader`` reads the body its own way when it can,
    see :meth:`~soapkit.codec.OperationCodec.decode`). Errors come from the one table; nothing is retried."""
    model = bound(catalog, service, operation, version)
    compiled = _compiled(catalog, service, operation, version) if codec == "compiled" and not \
        headers.ws_addressing else None
    if compiled is not None:
        header_values = {name: headers.value(name) for name in compiled.header_names}
        body = compiled.encode(values, {name: value for name, value in header_values.items() if value is not None})
        http_headers = dict(compiled.http_headers)
    else:
        body, http_headers = envelope(model, operation, values, headers, address)
    outcome = yield HttpRequest("POST", address, http_headers, body, timeout=timeout, deadline=deadline,
                                max_bytes=max_bytes, purpose=purpose)
    if isinstance(outcome, TransportFailure):
        raise failure_error(outcome, f"POST {address}")
    assert isinstance(outcome, HttpResponse)
    error = status_error(outcome, address)
    if error is not None:
        raise error
    if compiled is not None:
        from soapkit.codec import CodecFallback

        try:
            return _read(lambda: compiled.decode(outcome.content, outcome.status_code, reader=reader))
        except CodecFallback:
            pass  # zeep reads it: the codec never guesses
    return decode(model, outcome)


def _compiled(catalog: Catalog, service: str, operation: str, version: str) -> Any:
    from soapkit.codec import CodecFallback, compiled

    try:
        return compiled(catalog.describe(service, version), operation)
    except CodecFallback:
        return None  # an operation the codec does not compile: zeep writes and reads it


def unwrap(result: Any) -> Any:
    """The ``Response`` value of an agent answer; raise the table's error when ``Succeeded`` is false."""
    if isinstance(result, DecodedReply):  # the compiled codec has read it already
        if result.header is not None:
            raise_if_failed(result.header)
        return result.value
    header = _part(result, "header") if _has(result, "header") else None
    body = result.body if _has(result, "body") else result
    if header is not None:
        raise_if_failed(header)
    shaped = shape(body)
    if _has(shaped, "Response"):
        return shaped["Response"]
    return shaped


def raise_if_failed(header: Any) -> None:
    succeeded = _part(header, "Succeeded")
    info = _part(header, "ExceptionInfo")
    if succeeded is not False and info is None:
        return
    raise exception_info_error(info)


def _has(value: Any, name: str) -> bool:
    try:
        return name in value
    except TypeError:
        return False


def _part(value: Any, name: str) -> Any:
    return value[name] if _has(value, name) else None


@dataclass
class CallSettings:
    """What one client's calls share: where, as whom, how patiently."""

    catalog: Catalog
    version: str
    context: AuthContext
    credentials: Credential
    services_url: Callable[[], Flow[str]]
    forget_tenant: Callable[[], None] | None  # None onsite: no directory to ask again
    header_values: Callable[[str], HeaderValues]
    timeout: float
    retries: RetryPolicy
    max_response_bytes: int = MAX_RESPONSE_BYTES
    input_options: InputOptions | None = None
    codec: CodecMode = "compiled"
    monotonic: Callable[[], float] = time.monotonic


#: Errors that say the request did not get a usable answer, and may succeed when sent again.
_TRANSIENT = (ConnectionFailed, RequestTimeout, RateLimited)


def agent_call(settings: CallSettings, service: str, operation: str, args: tuple[Any, ...],
               kwargs: Mapping[str, Any], *, options: InputOptions | None = None,
               idempotent: bool | None = None, retries: RetryPolicy | None = None,
               reader: ResponseReader | None = None) -> Flow[Any]:
    """``service.operation(*args, **kwargs)`` with checked arguments, routing, credentials and safe retries
    (``reader``: see :func:`soap_exchange`)."""
    from soapkit.catalog import service_name
    from soapkit.values.codec import agent_label, codec_for

    service = service_name(service)
    description = settings.catalog.describe(service, settings.version)
    values = codec_for(description).inputs(operation, options or settings.input_options).bind(tuple(args),
                                                                                            dict(kwargs))
    policy = retries or settings.retries
    label = f"{agent_label(service)}.{operation}"
    may_repeat = policy.idempotent_call(service, operation, idempotent)
    deadline = settings.monotonic() + (policy.deadline or DEADLINE_TIMEOUTS * settings.timeout)
    attempt, rerouted, renewed = 1, False, False
    while True:
        sending = False
        ticket: str | None = None
        try:
            services_url = yield from within(deadline, settings.services_url())
            issued = yield from within(deadline, settings.credentials.issued_flow(settings.context))
            ticket = issued.value
            address = f"{services_url}{service}.svc"
            sending = True
            result = yield from soap_exchange(
                settings.catalog, service, operation, address, values, settings.header_values(ticket),
                version=settings.version, timeout=settings.timeout, deadline=deadline,
                max_bytes=settings.max_response_bytes, codec=settings.codec, reader=reader)
            return unwrap(result)
        except WrongSubdomain:
            if rerouted or settings.forget_tenant is None:
                raise
            rerouted = True
            settings.forget_tenant()
        except CredentialRejected as rejected:
            if not settings.credentials.can_refresh:
                raise CredentialRejected(rejected.message, hint="The ticket or token you passed was rejected and "
                                         "soapkit cannot renew it: obtain a new one and pass it again.") from None
            if renewed or ticket is None:
                raise
            renewed = True
            yield from settings.credentials.invalidate_flow(settings.context, ticket)
        except (*_TRANSIENT, HttpError) as error:
            if not _transient(error, policy):
                raise
            reached = sending and _may_have_arrived(error)
            if reached and not may_repeat:
                raise OutcomeUnknown(label, error) from None
            if attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt, error.retry_after if isinstance(error, RateLimited) else None)
            if settings.monotonic() + wait >= deadline:
                raise
            attempt += 1
            yield Sleep(wait)


def _transient(error: SoapkitError, policy: RetryPolicy) -> bool:
    if isinstance(error, _TRANSIENT):
        return True
    return isinstance(error, HttpError) and not isinstance(error, (WrongSubdomain, ResponseRejected)) \
        and error.status in policy.retry_on_status


def _may_have_arrived(error: SoapkitError) -> bool:
    """False only when the request certainly was not acted on: never connected, or refused by rate limiting."""
    if isinstance(error, RateLimited):
        return False
    return bool(getattr(error, "sent", True))


def unsafe_answer_reason(error: BaseException) -> str:
    """A short, bounded description of why an answer could not be read (never its content)."""
    if isinstance(error, zeep.exceptions.DTDForbidden):
        return "it contains a DTD"
    if isinstance(error, zeep.exceptions.EntitiesForbidden):
        return "it declares entities"
    if isinstance(error, zeep.exceptions.ExternalReferenceForbidden):
        return "it refers to an external resource"
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    if isinstance(error, MemoryError):
        return "it is too large"
    if isinstance(error, UnicodeError):
        return "it is not valid UTF-8"
    detail = error.message if isinstance(error, zeep.exceptions.Error) else str(error)
    return f"{type(error).__name__}: {str(detail)[:300]}"


def _text(content: Any) -> str:
    if isinstance(content, bytes):
        return content.decode("utf-8", "replace")
    return str(content or "")

