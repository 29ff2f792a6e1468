"""The one error table: statuses, faults and ExceptionInfo map to exceptions by exact answers, never by wording."""

from __future__ import annotations

import pytest

from soapkit.error_table import (
    CREDENTIAL_EXCEPTION_TYPES,
    CREDENTIAL_FAULT_CODES,
    exception_info_error,
    failure_error,
    fault_error,
    retry_after,
    status_error,
)
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
    WrongSubdomain,
)
from soapkit.flow import Headers, HttpResponse, TransportFailure


def _info(exception_type: str | None, message: str = "boom") -> dict[str, object]:
    return {"ExceptionType": exception_type, "Message": message, "FriendlyText": None, "Source": "NetServer"}


@pytest.mark.parametrize("name", sorted(CREDENTIAL_EXCEPTION_TYPES))
def test_every_listed_exception_type_is_a_rejected_credential(name: str) -> None:
    assert isinstance(exception_info_error(_info(name)), CredentialRejected)
    assert isinstance(exception_info_error(_info(f"SuperOffice.CRM.Security.{name.upper()}")), CredentialRejected)


def test_the_narrow_fallback_and_what_it_does_not_catch() -> None:
    assert isinstance(exception_info_error(_info("SoCredentialsRevokedException")), CredentialRejected)
    assert isinstance(exception_info_error(_info("TicketRevokedException")), CredentialRejected)
    for business in ("TokenLimitException", "ValidationException", "SoSecurityException", "CredentialsHelper",
                     None, "EntityNotFoundException"):
        error = exception_info_error(_info(business, "the ticket token expired credential is not authorized"))
        assert type(error) is AgentError, business  # words in the message never decide


def test_application_token_refusal_is_not_renewable() -> None:
    error = exception_info_error(_info("ApplicationTokenInvalidException"))
    assert isinstance(error, AuthenticationFailed) and not isinstance(error, CredentialRejected)
    assert "application token" in error.hint


def test_no_exception_info_is_still_an_agent_error() -> None:
    assert type(exception_info_error(None)) is AgentError


@pytest.mark.parametrize("code", sorted(CREDENTIAL_FAULT_CODES))
def test_ws_security_fault_codes_reject_the_credential(code: str) -> None:
    assert isinstance(fault_error(f"a:{code}", "nope", None), CredentialRejected)
    assert isinstance(fault_error(f"{{http://docs.oasis-open.org/wss}}{code}", "nope", None), CredentialRejected)


def test_other_faults_stay_faults_whatever_they_say() -> None:
    fault = fault_error("s:Server", "The ticket has expired, token invalid", "<detail/>")
    assert type(fault) is SoapFault and fault.code == "s:Server"


def _response(status: int, content_type: str = "text/plain", body: bytes = b"x",
              **headers: str) -> HttpResponse:
    return HttpResponse(status, Headers({"Content-Type": content_type, **headers}), body)


def test_statuses() -> None:
    assert status_error(_response(200), "u") is None
    assert status_error(_response(500, "text/xml", b"<s:Envelope/>"), "u") is None  # a Fault: read it
    assert isinstance(status_error(_response(421), "u"), WrongSubdomain)
    limited = status_error(_response(429, **{"Retry-After": "7"}), "u")
    assert isinstance(limited, RateLimited) and limited.retry_after == 7
    for status in (401, 403):
        assert isinstance(status_error(_response(status), "u"), CredentialRejected)
    for status in (404, 500, 502, 503, 504):
        error = status_error(_response(status), "u")
        assert type(error) is HttpError and error.status == status and error.hint


def test_retry_after_forms() -> None:
    assert retry_after(Headers({"Retry-After": "2.5"})) == 2.5
    assert retry_after(Headers({"Retry-After": "-3"})) == 0.0
    assert retry_after(Headers({"Retry-After": "soon"})) is None
    assert retry_after(Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0  # in the past
    assert retry_after(Headers({})) is None


def test_transport_failures() -> None:
    refused = failure_error(TransportFailure("refused", False, "ConnectionRefusedError"), "POST u")
    assert isinstance(refused, ConnectionFailed) and refused.sent is False
    for kind in ("dropped", "truncated"):
        error = failure_error(TransportFailure(kind, True, "x"), "POST u")  # type: ignore[arg-type]
        assert isinstance(error, ConnectionFailed) and error.sent is True
    timeout = failure_error(TransportFailure("timeout", True, "no answer within 3 s"), "POST u")
    assert isinstance(timeout, RequestTimeout) and "timed out" in str(timeout)
    assert isinstance(failure_error(TransportFailure("too_large", True, "big", 200), "POST u"), ResponseTooLarge)
    corrupt = failure_error(TransportFailure("corrupt", True, "gzip"), "POST u")
    assert type(corrupt) is ResponseRejected


def test_an_unknown_charset_is_read_as_utf8_not_an_escaping_lookup_error() -> None:
    answer = HttpResponse(503, Headers({"Content-Type": "text/plain; charset=no-such-codec"}), "busy ø".encode())
    assert answer.text == "busy ø"
    error = status_error(answer, "u")
    assert isinstance(error, HttpError) and "busy" in error.body
