"""The zeep transport soapkit uses, and the mapping of SOAP-level failures to soapkit errors.

:class:`SoapkitTransport` sees every exchange on the wire: it hands request and response to the
recorder (if any) and turns HTTP statuses that carry no SOAP answer (401, 421, 429, 5xx without a
fault, ...) and network failures into typed errors before zeep tries to parse them. It reads each answer
in pieces and refuses one larger than ``max_response_bytes`` (so an endless or huge body costs bounded
memory). :func:`soap_errors` turns whatever zeep or lxml raise about an answer (faults, malformed or
unsafe XML: DTDs, entities, excessive depth, invalid UTF-8) into soapkit errors; messages never carry
zeep's dump of the body.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests
import zeep
import zeep.exceptions
from lxml import etree

from soapkit.errors import (
    ConnectionFailed,
    CredentialRejected,
    HttpError,
    RateLimited,
    RequestTimeout,
    ResponseRejected,
    SoapFault,
    WrongSubdomain,
)
from soapkit.http import retry_after

if TYPE_CHECKING:
    from soapkit.debug import Recorder

#: The largest SOAP answer read (bytes); a larger one is refused with ResponseRejected.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 64 * 1024

# Words with which SuperOffice (and the sandbox) say "your ticket/token is not (any longer) good".
_CREDENTIAL_WORDS = ("credential", "ticket", "token", "authenticat", "unauthori", "not logged in", "expired")


def looks_like_credential_failure(*texts: str | None) -> bool:
    joined = " ".join(t for t in texts if t).lower()
    return any(word in joined for word in _CREDENTIAL_WORDS)


class SoapkitTransport(zeep.Transport):
    """A zeep transport with timeouts, wire-level recording and HTTP status mapping."""

    def __init__(self, session: requests.Session, *, timeout: float = 30.0, recorder: Recorder | None = None,
                 max_response_bytes: int = MAX_RESPONSE_BYTES):
        super().__init__(session=session, timeout=timeout, operation_timeout=timeout)
        self.recorder = recorder
        self.max_response_bytes = max_response_bytes

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> requests.Response:
        body = message.encode("utf-8") if isinstance(message, str) else message
        started = time.perf_counter()
        try:
            response = self.session.post(address, data=body, headers=headers, timeout=self.operation_timeout,
                                         stream=True)
            _read_bounded(response, self.max_response_bytes, address)
        except requests.Timeout:
            self._record(address, headers, body, None, started)
            raise RequestTimeout(f"POST {address} timed out after {self.operation_timeout:g} s.") from None
        except requests.exceptions.ContentDecodingError:
            self._record(address, headers, body, None, started)
            raise ResponseRejected(200, f"POST {address}: the answer's content encoding is corrupt.") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:  # incl. a cut body
            self._record(address, headers, body, None, started)
            raise ConnectionFailed(f"POST {address} failed: {type(error).__name__}: {error}") from None
        self._record(address, headers, body, response, started)
        _raise_for_status(address, response)
        return response

    def _record(self, address: str, headers: dict[str, str], body: bytes,
                response: requests.Response | None, started: float) -> None:
        if self.recorder is not None:
            self.recorder.record(address, headers, body, response, time.perf_counter() - started)


def _read_bounded(response: requests.Response, limit: int, address: str) -> None:
    """Read the body in pieces into ``response.content``, refusing more than ``limit`` bytes."""
    if response.raw is None or getattr(response, "_content_consumed", False):  # already read (a replay, a test)
        if len(response.content or b"") > limit:
            raise ResponseRejected(response.status_code, f"POST {address}: the answer is larger than {limit} bytes.")
        return
    pieces: list[bytes] = []
    size = 0
    try:
        for piece in _pieces(response):
            size += len(piece)
            if size > limit:
                pieces.clear()  # the traceback keeps this frame alive: do not keep the body with it
                raise ResponseRejected(response.status_code, f"POST {address}: the answer is larger than "
                                       f"{limit} bytes; soapkit stopped reading it.")
            pieces.append(piece)
    finally:
        response.close()
    response._content = b"".join(pieces)
    response._content_consumed = True  # type: ignore[attr-defined]


def _pieces(response: requests.Response) -> Iterator[bytes]:
    """The body in pieces; a read timeout while reading it stays a timeout (requests reports it as a
    ConnectionError)."""
    from urllib3.exceptions import ReadTimeoutError

    try:
        yield from response.iter_content(_READ_CHUNK)
    except requests.ConnectionError as error:
        if error.args and isinstance(error.args[0], ReadTimeoutError):
            raise requests.exceptions.ReadTimeout(str(error)) from None
        raise


def _is_soap(response: requests.Response) -> bool:
    content_type = response.headers.get("Content-Type", "")
    return "xml" in content_type and b"Envelope" in response.content[:2000]


def _raise_for_status(address: str, response: requests.Response) -> None:
    status = response.status_code
    if status == 200 or (status == 500 and _is_soap(response)):
        return  # a SOAP answer: zeep parses it (a 500 carries a Fault)
    text = response.text
    if status == 421:
        raise WrongSubdomain(421, f"{address} answered 421: {text.strip()[:200] or 'wrong subdomain'}.", body=text)
    if status == 429:
        raise RateLimited(f"{address} is rate limiting (HTTP 429).", retry_after=retry_after(response), body=text)
    if status in (401, 403):
        raise CredentialRejected(f"{address} refused the credential (HTTP {status}).")
    hints = {
        404: "The service does not exist at this address: check the services version and the tenant endpoint.",
        503: "The tenant or service is unavailable (maintenance?). Retry later.",
    }
    raise HttpError(status, f"{address} answered HTTP {status} without a SOAP response.", body=text,
                    hint=hints.get(status, "Retry later; if it persists, capture the exchange with --trace."))


@contextmanager
def soap_errors() -> Iterator[None]:
    """Translate zeep's exceptions into soapkit's hierarchy."""
    try:
        yield
    except zeep.exceptions.Fault as fault:
        detail = etree.tostring(fault.detail).decode() if fault.detail is not None else None
        if looks_like_credential_failure(fault.message, fault.code, detail):
            raise CredentialRejected(f"SOAP Fault: {fault.message}") from None
        raise SoapFault(f"SOAP Fault {fault.code or ''}: {fault.message}".replace("  ", " "),
                        code=fault.code, detail=detail) from None
    except zeep.exceptions.TransportError as error:  # its message embeds the whole body: never used
        reason = str(error.message).split("\n", 1)[0][:300]  # what zeep found, before its dump of the body
        raise ResponseRejected(error.status_code, f"HTTP {error.status_code}: the server's answer is not a "
                               f"readable SOAP message ({reason}).", body=_text(error.content)) from None
    except zeep.exceptions.ValidationError as error:
        from soapkit.errors import ConfigurationError

        raise ConfigurationError(f"Invalid argument: {error}",
                                 hint="Check the parameter types with `soapkit describe`.") from None
    except (zeep.exceptions.Error, etree.LxmlError, UnicodeError, RecursionError, MemoryError) as error:
        raise ResponseRejected(200, f"The server's answer was refused: {_unsafe_answer_reason(error)}.") from None


def _unsafe_answer_reason(error: BaseException) -> str:
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
