"""The one table that turns what a server answered into soapkit's exceptions.

Every answer of every flow is classified here, and nowhere else:

* :func:`failure_error` — no complete answer (:class:`~soapkit.flow.TransportFailure`);
* :func:`status_error` — an HTTP status that carries no SOAP message (:data:`STATUS_ERRORS`);
* :func:`fault_error` — a SOAP Fault (:data:`CREDENTIAL_FAULT_CODES`);
* :func:`exception_info_error` — ``Succeeded=false`` with ``ExceptionInfo`` (:data:`CREDENTIAL_EXCEPTION_TYPES`).

**When is a credential rejected?** Only by the exact answers SuperOffice gives for a ticket or token that is
no longer good: HTTP 401 or 403; an ``ExceptionType`` in :data:`CREDENTIAL_EXCEPTION_TYPES` (compared by
its last dotted part, without case); a SOAP fault whose code (its local part) is in
:data:`CREDENTIAL_FAULT_CODES` (the WS-Security codes WCF uses). The narrow, documented fallback: an
``ExceptionType`` whose last part *starts* with ``Credential``, ``Ticket`` or ``SoCredential`` and ends with
``Exception`` (a NetServer version naming it slightly differently). Nothing is decided from message text: a
business error that mentions a token stays an :class:`~soapkit.errors.AgentError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from soapkit.errors import (
    AgentError,
    AuthenticationFailed,
    ConnectionFailed,
    CredentialRejected,
    HttpError,
    RateLimited,
    RequestTimeout,
    ResponseRejected,
    ResponseTooLarge,
    SoapFault,
    SoapkitError,
    WrongSubdomain,
)

if TYPE_CHECKING:
    from soapkit.flow import HttpResponse, TransportFailure

#: ``ExceptionInfo.ExceptionType`` values that mean "this ticket or token is not (any longer) good".
CREDENTIAL_EXCEPTION_TYPES: frozenset[str] = frozenset(name.lower() for name in (
    "CredentialsMissingException", "CredentialsInvalidException", "CredentialsExpiredException",
    "SoCredentialsExpiredException", "SoCredentialsInvalidException", "TicketExpiredException",
    "InvalidTicketException", "SoTicketExpiredException", "SecurityTokenException",
    "SecurityTokenValidationException", "ExpiredSecurityTokenException",
))
#: ``ExceptionType`` values that mean "the application token (client secret) is refused": not renewable.
APPLICATION_EXCEPTION_TYPES: frozenset[str] = frozenset(name.lower() for name in (
    "ApplicationTokenInvalidException", "InvalidApplicationTokenException", "ApplicationTokenMissingException",
))
#: SOAP fault codes (local part) of a refused credential: WS-Security's, as WCF sends them.
CREDENTIAL_FAULT_CODES: frozenset[str] = frozenset(code.lower() for code in (
    "FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken", "SecurityTokenUnavailable",
    "MessageExpired", "UnsupportedSecurityToken",
))
_CREDENTIAL_TYPE_FALLBACK = re.compile(r"^(?:so)?(?:credential|ticket)\w*exception$", re.IGNORECASE)

#: Hints for HTTP statuses without a SOAP answer.
STATUS_HINTS: Mapping[int, str] = {
    404: "The service does not exist at this address: check the services version and the tenant endpoint.",
    502: "A gateway in front of the tenant failed. Reads are retried; retry a write only after checking it.",
    503: "The tenant or service is unavailable (maintenance?). Reads are retried; retry later.",
    504: "A gateway timed out waiting for the tenant. Reads are retried; check a write before repeating it.",
}
_DEFAULT_STATUS_HINT = "Retry later; if it persists, capture the exchange with --trace."


def _last_part(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1].strip().lower()


def is_credential_exception_type(exception_type: str | None) -> bool:
    name = _last_part(exception_type)
    return name in CREDENTIAL_EXCEPTION_TYPES or bool(_CREDENTIAL_TYPE_FALLBACK.match(name))


def failure_error(failure: TransportFailure, what: str) -> SoapkitError:
    """No complete answer: a timeout, a refused / dropped / cut connection, an over-large or corrupt body."""
    where = f"{what}: " if what else ""
    if failure.kind == "timeout":
        return RequestTimeout(f"{what or 'The request'} timed out: {failure.detail}.", sent=failure.sent)
    if failure.kind == "too_large":
        return ResponseTooLarge(failure.status_code or 200, f"{where}{failure.detail}")
    if failure.kind == "corrupt":
        return ResponseRejected(failure.status_code or 200, f"{where}{failure.detail}")
    if failure.kind == "refused":
        return ConnectionFailed(f"{where}could not connect ({failure.detail}).", sent=False)
    if failure.kind == "truncated":
        return ConnectionFailed(f"{where}the answer was cut short ({failure.detail}).", sent=True,
                                hint="The connection closed before the whole answer arrived. Reads are retried.")
    return ConnectionFailed(f"{where}the connection was lost ({failure.detail}).", sent=True)


def rate_limited(response: HttpResponse, what: str) -> RateLimited:
    return RateLimited(f"{what} is rate limiting (HTTP 429).", retry_after=retry_after(response.headers),
                       body=response.text)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (a number; an HTTP date counts from now); None when absent or unreadable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils
        import time

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if seconds == seconds else None  # NaN is unreadable


def _is_soap(response: HttpResponse) -> bool:
    content_type = response.headers.get("Content-Type", "")
    return "xml" in content_type and b"Envelope" in response.content[:2000]


def status_error(response: HttpResponse, address: str) -> SoapkitError | None:
    """The error of an HTTP status that carries no SOAP message; None for a SOAP answer (200, or a 500 Fault)."""
    status = response.status_code
    if status == 200 or (status == 500 and _is_soap(response)):
        return None
    text = response.text
    if status == 421:
        return WrongSubdomain(421, f"{address} answered 421: {text.strip()[:200] or 'wrong subdomain'}.", body=text)
    if status == 429:
        return rate_limited(response, address)
    if status in (401, 403):
        return CredentialRejected(f"{address} refused the credential (HTTP {status}).")
    return HttpError(status, f"{address} answered HTTP {status} without a SOAP response.", body=text,
                     hint=STATUS_HINTS.get(status, _DEFAULT_STATUS_HINT))


def fault_error(code: str | None, message: str | None, detail: str | None) -> SoapkitError:
    """A SOAP Fault: a refused credential by its code (:data:`CREDENTIAL_FAULT_CODES`), else :class:`SoapFault`."""
    local = (code or "").rsplit(":", 1)[-1].rsplit("}", 1)[-1].lower()
    if local in CREDENTIAL_FAULT_CODES:
        return CredentialRejected(f"SOAP Fault {code}: {message or 'credential refused'}")
    return SoapFault(f"SOAP Fault {code or ''}: {message or 'no message'}".replace("  ", " "), code=code,
                     detail=detail)


def exception_info_error(info: Any) -> SoapkitError:
    """``Succeeded=false``: the error its ``ExceptionInfo`` names (``info`` reads like a mapping; None when the
    server gave no ExceptionInfo)."""
    if info is None:
        return AgentError("The agent answered Succeeded=false without ExceptionInfo.")

    def part(name: str) -> Any:
        try:
            return info[name]
        except (KeyError, TypeError, IndexError):
            return getattr(info, name, None)

    message = part("Message") or "no message"
    exception_type = part("ExceptionType")
    label = f"{exception_type or 'Error'}: {message}"
    if _last_part(exception_type) in APPLICATION_EXCEPTION_TYPES:
        return AuthenticationFailed(label, hint="Check the application token (client secret) and that the app is "
                                    "installed in this tenant.")
    if is_credential_exception_type(exception_type):
        return CredentialRejected(label)
    return AgentError(label, exception_type=exception_type, friendly_text=part("FriendlyText"),
                      source=part("Source"),
                      hint=part("FriendlyText") or "See ExceptionInfo (soapkit call --trace shows the full envelope).")
