"""Envelope capture and display: the :class:`Recorder`, redaction, pretty printing, capture files, diff, replay.

The recorder keeps the envelopes exactly as sent and received on the wire (bytes), with HTTP status,
headers and timing, bounded in count and in size. What leaves the recorder -- for display, in a capture
file, in a diff or in a log line -- is redacted unless ``show_secrets=True`` is asked for explicitly.

Capture files (``soapkit-capture``, version 1) are JSON::

    {"format": "soapkit-capture", "version": 1, "created": "2024-05-01T12:00:00Z", "redacted": true,
     "exchanges": [{"url": "...", "method": "POST", "timestamp": "2024-05-01T12:00:00.123Z",
                    "seconds": 0.042, "status": 200, "truncated": false,
                    "request": {"headers": {...}, "body": "<s:Envelope ...>"},
                    "response": {"headers": {...}, "body": "<s:Envelope ...>"}}]}

Bodies are text (UTF-8); a body that is not UTF-8 is stored as ``"body_base64"`` instead of ``"body"``.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import difflib
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lxml import etree

from soapkit.errors import CaptureFormatError, ConfigurationError, CredentialRejected, WrongSubdomain
from soapkit.flow import Flow, HttpResponse
from soapkit.redaction import MASK, SECRET_ELEMENTS, redact_headers, redact_text

if TYPE_CHECKING:
    import requests

    from soapkit.client import ClientBase, SuperOfficeClient

SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True,
                              huge_tree=False)
# Same safety, but whitespace kept: redaction must change nothing but the secrets.
WIRE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

CAPTURE_FORMAT = "soapkit-capture"
CAPTURE_VERSION = 1


@dataclass
class Exchange:
    """One request/response pair as seen on the wire."""

    url: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int | None
    response_headers: dict[str, str]
    response_body: bytes
    seconds: float
    truncated: bool = False
    #: when the request was sent (epoch seconds), if known
    timestamp: float | None = None
    #: the HTTP method: POST for SOAP and token requests, GET for state lookups and JWKS
    method: str = "POST"
    soap_action: str = field(init=False)

    def __post_init__(self) -> None:
        action = next((v for k, v in self.request_headers.items() if k.lower() == "soapaction"), "")
        self.soap_action = action.strip('"')

    @property
    def is_sign_in(self) -> bool:
        """An exchange that obtained a credential (PartnerSystemUserService, OAuth), not an agent call."""
        return "/login/" in self.url.lower()

    @property
    def is_call(self) -> bool:
        """An agent call (a SOAP POST), not a sign-in, tenant state lookup or JWKS fetch."""
        return self.method == "POST" and not self.is_sign_in

    @property
    def operation(self) -> str:
        return self.soap_action.rsplit("/", 1)[-1] if self.soap_action else self.url.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return f"<Exchange {self.operation} {self.status} {self.seconds * 1000:.0f} ms>"

    def redacted(self) -> Exchange:
        """A copy with secrets masked in the URL, headers and both envelopes."""
        return replace(
            self,
            url=redact_text(self.url),
            request_headers=redact_headers(self.request_headers),
            request_body=redact_envelope(self.request_body) if self.request_body else b"",
            response_headers=redact_headers(self.response_headers),
            response_body=redact_envelope(self.response_body) if self.response_body else b"",
        )


class Recorder:
    """Keeps the last ``max_exchanges`` exchanges; bodies longer than ``max_body_bytes`` are cut. Thread-safe."""

    def __init__(self, max_exchanges: int = 100, max_body_bytes: int = 1_000_000) -> None:
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._exchanges: collections.deque[Exchange] = collections.deque(maxlen=max_exchanges)

    def __repr__(self) -> str:
        return f"<Recorder {len(self)}/{self._exchanges.maxlen} exchanges>"

    def record(self, url: str, headers: dict[str, str], body: bytes, response: requests.Response | HttpResponse | None,
               seconds: float, *, method: str = "POST") -> Exchange:
        response_body = response.content if response is not None else b""
        truncated = len(body) > self.max_body_bytes or len(response_body) > self.max_body_bytes
        exchange = Exchange(
            url=url,
            request_headers=dict(headers),
            request_body=body[: self.max_body_bytes],
            status=response.status_code if response is not None else None,
            response_headers=dict(response.headers) if response is not None else {},
            response_body=response_body[: self.max_body_bytes],
            seconds=seconds,
            truncated=truncated,
            timestamp=time.time() - seconds,
            method=method,
        )
        self.add(exchange)
        return exchange

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def clear(self) -> None:
        with self._lock:
            self._exchanges.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._exchanges)

    def save(self, path: str | os.PathLike[str], *, show_secrets: bool = False) -> Path:
        """Write the exchanges to a capture file (mode 0600), redacted unless ``show_secrets``."""
        return save_capture(self.exchanges, path, show_secrets=show_secrets)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_exchanges: int = 100,
             max_body_bytes: int = 1_000_000) -> Recorder:
        """A recorder holding the exchanges of a capture file (the last ``max_exchanges`` of them)."""
        recorder = cls(max_exchanges=max_exchanges, max_body_bytes=max_body_bytes)
        for exchange in load_capture(path):
            recorder.add(exchange)
        return recorder


# --- redaction and display ---------------------------------------------------------------------


def redact_envelope(xml: bytes | str, *, show_secrets: bool = False) -> bytes:
    """The envelope with the text of secret elements (ApplicationToken, Ticket, ...) replaced by ``***``."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if show_secrets:
        return data
    try:
        root = etree.fromstring(data, WIRE_PARSER)
    except etree.XMLSyntaxError:
        return redact_text(data.decode("utf-8", "replace")).encode("utf-8")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in SECRET_ELEMENTS and element.text and element.text.strip():
            # a ticket keeps its kind (7T: ticket, 8A: access token): not secret, and it helps diffs
            element.text = _mask_ticket(element.text) if name == "Ticket" else MASK
        elif element.text:
            element.text = redact_text(element.text)
        for name, value in element.attrib.items():
            element.set(name, redact_text(value))
    return etree.tostring(root)


def pretty_envelope(xml: bytes | str, *, show_secrets: bool = False) -> str:
    """Indented, redacted XML text of an envelope (non-XML bodies are returned redacted as text)."""
    data = redact_envelope(xml, show_secrets=show_secrets)
    try:
        root = etree.fromstring(data, SAFE_PARSER)
    except etree.XMLSyntaxError:
        return data.decode("utf-8", "replace")
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def soap_outcome(xml: bytes) -> dict[str, Any]:
    """``Succeeded``, ``ExceptionInfo`` and any Fault of a response envelope, for the top of a printout."""
    outcome: dict[str, Any] = {}
    try:
        root = etree.fromstring(xml, SAFE_PARSER)
    except etree.XMLSyntaxError:
        return {"error": "not XML"}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name == "Succeeded":
            outcome["Succeeded"] = (element.text or "").strip() == "true"
        elif name == "ExceptionInfo" and len(element):
            outcome["ExceptionInfo"] = {etree.QName(c).localname: redact_text(c.text) for c in element
                                        if isinstance(c.tag, str) and c.text}
        elif name == "IsSuccessful":
            outcome["IsSuccessful"] = (element.text or "").strip() == "true"
        elif name == "ErrorMessage" and element.text:
            outcome["ErrorMessage"] = redact_text(element.text)
        elif name == "Fault":
            outcome["Fault"] = redact_text(element.findtext("faultstring") or element.findtext(".//faultstring")
                                           or "")
    return outcome


def outcome_summary(outcome: dict[str, Any]) -> str:
    """One line saying whether the call succeeded, and if not, why (from :func:`soap_outcome`)."""
    if "error" in outcome:
        return "response is not XML"
    if "Fault" in outcome:
        return f"SOAP Fault: {outcome['Fault']}"
    info = outcome.get("ExceptionInfo")
    if outcome.get("Succeeded") is False or info:
        if info:
            kind = info.get("ExceptionType") or "Error"
            return f"Succeeded=false  {kind}: {info.get('Message', 'no message')}"
        return "Succeeded=false (no ExceptionInfo)"
    if outcome.get("IsSuccessful") is False:
        return f"IsSuccessful=false: {outcome.get('ErrorMessage', 'no message')}"
    if outcome.get("Succeeded") or outcome.get("IsSuccessful"):
        return "Succeeded=true" if "Succeeded" in outcome else "IsSuccessful=true"
    return ""


def exchange_failed(exchange: Exchange) -> bool:
    """Whether an exchange failed: no answer, an HTTP error, a Fault, ``Succeeded``/``IsSuccessful`` false."""
    if exchange.status is None or exchange.status >= 400:
        return True
    outcome = soap_outcome(exchange.response_body) if exchange.response_body else {}
    return bool("Fault" in outcome or outcome.get("ExceptionInfo") or outcome.get("Succeeded") is False
                or outcome.get("IsSuccessful") is False)


def format_exchange(exchange: Exchange, *, show_secrets: bool = False) -> str:
    """A readable report of one exchange: request, response, status, timing and SOAP outcome.

    The outcome (``Succeeded``/``ExceptionInfo``, ``IsSuccessful``/``ErrorMessage`` or the Fault) is written
    on the response line itself, so a failure is visible without reading the envelope.
    """
    headers_in = exchange.request_headers if show_secrets else redact_headers(exchange.request_headers)
    url = exchange.url if show_secrets else redact_text(exchange.url)
    lines = [f"--> {exchange.method} {url}  ({exchange.operation})"]
    lines += [f"    {k}: {v}" for k, v in headers_in.items()]
    if exchange.request_body:
        lines.append(pretty_envelope(exchange.request_body, show_secrets=show_secrets).rstrip())
    status = exchange.status if exchange.status is not None else "no response"
    summary = outcome_summary(soap_outcome(exchange.response_body)) if exchange.response_body else ""
    lines.append(f"<-- HTTP {status} in {exchange.seconds * 1000:.1f} ms" + (f"  {summary}" if summary else ""))
    info = soap_outcome(exchange.response_body).get("ExceptionInfo") if exchange.response_body else None
    for key in ("ExceptionType", "Message", "FriendlyText", "Source"):
        if info and info.get(key):
            lines.append(f"    {key}: {info[key]}")
    if exchange.response_body:
        lines.append(pretty_envelope(exchange.response_body, show_secrets=show_secrets).rstrip())
    if exchange.truncated:
        lines.append("    (bodies truncated to the recorder's size limit)")
    return "\n".join(lines)


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the message, its arguments and any exception text.

    Attach it to a *handler* (filters on a logger do not see records propagated from child loggers such as
    ``zeep.transports``, which logs whole envelopes at DEBUG): ``handler.addFilter(RedactingFilter())``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error handling
            return True
        record.msg = redact_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def install_log_redaction(target: logging.Logger | logging.Handler | None = None) -> RedactingFilter:
    """Add a :class:`RedactingFilter` to a handler, to every handler of a logger, or to the root logger's."""
    redacting = RedactingFilter()
    handlers: Iterable[logging.Handler] = (
        [target] if isinstance(target, logging.Handler) else (target or logging.getLogger()).handlers
    )
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    return redacting


# --- capture files -----------------------------------------------------------------------------


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(text: Any, where: str) -> float | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise CaptureFormatError(f"{where}: timestamp {text!r} is not ISO 8601.") from None


def _body_json(body: bytes) -> dict[str, str]:
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode("ascii")}


def exchange_to_json(exchange: Exchange, *, show_secrets: bool = False) -> dict[str, Any]:
    """One exchange as a capture-file entry (redacted unless ``show_secrets``)."""
    shown = exchange if show_secrets else exchange.redacted()
    return {
        "url": shown.url,
        "method": shown.method,
        "timestamp": _iso(shown.timestamp),
        "seconds": round(shown.seconds, 6),
        "status": shown.status,
        "truncated": shown.truncated,
        "request": {"headers": shown.request_headers, **_body_json(shown.request_body)},
        "response": {"headers": shown.response_headers, **_body_json(shown.response_body)},
    }


def capture_to_json(exchanges: Sequence[Exchange], *, show_secrets: bool = False) -> dict[str, Any]:
    """The whole capture document (see the module docstring for the format)."""
    return {
        "format": CAPTURE_FORMAT,
        "version": CAPTURE_VERSION,
        "created": _iso(time.time()),
        "redacted": not show_secrets,
        "exchanges": [exchange_to_json(e, show_secrets=show_secrets) for e in exchanges],
    }


def write_private_file(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` readable by the owner only (0600), replacing any previous file atomically."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def save_capture(exchanges: Sequence[Exchange], path: str | os.PathLike[str], *, show_secrets: bool = False) -> Path:
    """Write exchanges to a capture file (JSON, mode 0600), redacted unless ``show_secrets``."""
    document = capture_to_json(exchanges, show_secrets=show_secrets)
    return write_private_file(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def load_capture(path: str | os.PathLike[str]) -> list[Exchange]:
    """Read the exchanges of a capture file; :class:`CaptureFormatError` says precisely what is wrong."""
    source = Path(path).expanduser()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaptureFormatError(f"Capture file {source} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CaptureFormatError(f"Cannot read capture file {source}: {error}") from None
    return parse_capture(text, name=str(source))


def parse_capture(text: str, *, name: str = "capture") -> list[Exchange]:
    """The exchanges of a capture document given as text."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CaptureFormatError(f"{name} is not JSON (line {error.lineno}, column {error.colno}: {error.msg}).")\
            from None
    except RecursionError:
        raise CaptureFormatError(f"{name} is nested too deeply to be a capture file.") from None
    if not isinstance(document, dict) or document.get("format") != CAPTURE_FORMAT:
        raise CaptureFormatError(f"{name} is not a soapkit capture file (no \"format\": \"{CAPTURE_FORMAT}\").")
    version = document.get("version")
    if version != CAPTURE_VERSION:
        raise CaptureFormatError(
            f"{name} has capture format version {version!r}; this soapkit reads version {CAPTURE_VERSION}.",
            hint="Upgrade soapkit to read newer capture files.",
        )
    entries = document.get("exchanges")
    if not isinstance(entries, list):
        raise CaptureFormatError(f"{name}: \"exchanges\" must be a list.")
    return [_exchange_from_json(entry, f"{name}: exchanges[{i}]") for i, entry in enumerate(entries)]


def _exchange_from_json(entry: Any, where: str) -> Exchange:
    if not isinstance(entry, dict):
        raise CaptureFormatError(f"{where} must be an object.")
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise CaptureFormatError(f"{where}.url is missing.")
    status = entry.get("status")
    if status is not None and not isinstance(status, int):
        raise CaptureFormatError(f"{where}.status must be an integer or null.")
    seconds = entry.get("seconds", 0.0)
    if not isinstance(seconds, (int, float)):
        raise CaptureFormatError(f"{where}.seconds must be a number.")
    request_headers, request_body = _part_from_json(entry.get("request"), f"{where}.request")
    response_headers, response_body = _part_from_json(entry.get("response", {}), f"{where}.response")
    return Exchange(url=url, request_headers=request_headers, request_body=request_body, status=status,
                    response_headers=response_headers, response_body=response_body, seconds=float(seconds),
                    truncated=bool(entry.get("truncated", False)), timestamp=_epoch(entry.get("timestamp"), where),
                    method=_method(entry.get("method", "POST"), where))


def _method(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.upper() not in ("GET", "POST"):
        raise CaptureFormatError(f"{where}.method must be GET or POST.")
    return value.upper()


def _part_from_json(part: Any, where: str) -> tuple[dict[str, str], bytes]:
    if not isinstance(part, dict):
        raise CaptureFormatError(f"{where} is missing or not an object.")
    headers = part.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise CaptureFormatError(f"{where}.headers must be an object of strings.")
    if isinstance(part.get("body"), str):
        return dict(headers), part["body"].encode("utf-8")
    if isinstance(part.get("body_base64"), str):
        try:
            return dict(headers), base64.b64decode(part["body_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise CaptureFormatError(f"{where}.body_base64 is not base64.") from None
    if "body" not in part and "body_base64" not in part:
        return dict(headers), b""
    raise CaptureFormatError(f"{where}.body must be a string.")


# --- canonical diff ----------------------------------------------------------------------------

WSA_NAMESPACES = frozenset({"http://www.w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing"})
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
# Stable prefixes for the namespaces of SuperOffice envelopes, so a diff reads the same whatever
# prefixes each side chose (.NET writes s:/h:, zeep soap-env:/ns0:); other namespaces get ns_<hash>.
KNOWN_PREFIXES = {
    "http://schemas.xmlsoap.org/soap/envelope/": "soap",
    "http://www.w3.org/2003/05/soap-envelope": "soap12",
    "http://www.superoffice.net/ws/crm/NetServer/Services88": "so",
    "http://www.superoffice.com/superid/partnersystemuser/0.1": "psu",
    "http://www.w3.org/2005/08/addressing": "wsa",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing": "wsa04",
    XSI_NAMESPACE: "xsi",
    "http://www.w3.org/2001/XMLSchema": "xsd",
    "http://schemas.microsoft.com/2003/10/Serialization/Arrays": "arr",
    "http://schemas.microsoft.com/2003/10/Serialization/": "ser",
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd": "wsu",
}
# Elements whose value differs on every call: compared by shape only.
VOLATILE_WSA = frozenset({"MessageID", "To", "RelatesTo"})
VOLATILE_ELEMENTS = frozenset({"Created", "Expires", "Timestamp"})
_SIGNED_TOKEN = re.compile(r"^(?P<token>.+)\.(?P<stamp>\d{12})\.(?P<signature>[A-Za-z0-9+/]+={0,2})$", re.S)


def _mask_ticket(text: str) -> str:
    """Keep the kind of credential (``7T:`` ticket, ``8A:`` access token), mask the value."""
    match = re.match(r"^\s*(\w{2}:)", text)
    return f"{match.group(1)}{MASK}" if match else MASK


def _mask_signed_token(text: str) -> str:
    if _SIGNED_TOKEN.match(text.strip()):
        return "***.{yyyyMMddHHmm}.{signature}"
    return "*** (not token.yyyyMMddHHmm.signature)"


def _secret_mask(element: etree._Element) -> str | None:
    """The masked text of a secret element (ticket, tokens, client secret), or None for other elements."""
    name = etree.QName(element).localname
    text = element.text or ""
    if not text.strip():
        return None
    if name == "Ticket":
        return _mask_ticket(text)
    if name == "SignedSystemToken":
        return _mask_signed_token(text)
    return MASK if name in SECRET_ELEMENTS else None


def _volatile_mask(element: etree._Element) -> str | None:
    """The placeholder of a value that differs on every call (message ids, timestamps), or None."""
    qname = etree.QName(element)
    if not (element.text or "").strip():
        return None
    if qname.namespace in WSA_NAMESPACES and qname.localname in VOLATILE_WSA:
        return f"{{{qname.localname}}}"
    return "{timestamp}" if qname.localname in VOLATILE_ELEMENTS else None


def _compared_text(element: etree._Element, *, mask_volatile: bool, show_secrets: bool) -> str | None:
    masked = _volatile_mask(element) if mask_volatile else None
    if masked is None and (mask_volatile or not show_secrets):
        masked = _secret_mask(element)
    if masked is not None:
        return masked
    text = (element.text or "").strip()
    if not text:
        return None
    return text if show_secrets else redact_text(text)


def _prefix_for(namespace: str) -> str:
    return KNOWN_PREFIXES.get(namespace) or "ns_" + hashlib.sha1(namespace.encode()).hexdigest()[:6]  # noqa: S324


def _parse_envelope(xml: bytes | str, label: str) -> etree._Element:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        return etree.fromstring(data.strip(), SAFE_PARSER)
    except etree.XMLSyntaxError as error:
        raise CaptureFormatError(f"{label} is not XML: {error}") from None


def _rebuild(source: etree._Element, parent: etree._Element | None, *, mask_volatile: bool,
             show_secrets: bool) -> etree._Element:
    """Copy ``source`` with stable prefixes, trimmed text, QName attribute values re-prefixed and masks applied."""
    namespaces = {n for n in (etree.QName(source).namespace,) if n}
    namespaces |= {etree.QName(a).namespace for a in source.attrib if etree.QName(a).namespace}
    xsi_type = source.get(f"{{{XSI_NAMESPACE}}}type")
    type_qname = _resolve_qname(source, xsi_type) if xsi_type else None
    if type_qname is not None and type_qname.namespace:
        namespaces.add(type_qname.namespace)
    nsmap = {_prefix_for(n): n for n in namespaces}
    if parent is None:
        copy = etree.Element(source.tag, nsmap=nsmap)
    else:
        copy = etree.SubElement(parent, source.tag, nsmap=nsmap)
    for name, value in sorted(source.attrib.items()):
        copy.set(name, value)
    if type_qname is not None:
        prefix = _prefix_for(type_qname.namespace) + ":" if type_qname.namespace else ""
        copy.set(f"{{{XSI_NAMESPACE}}}type", prefix + type_qname.localname)
    copy.text = _compared_text(source, mask_volatile=mask_volatile, show_secrets=show_secrets)
    for child in source:
        if isinstance(child.tag, str):
            _rebuild(child, copy, mask_volatile=mask_volatile, show_secrets=show_secrets)
    return copy


def _resolve_qname(element: etree._Element, value: str) -> etree.QName:
    prefix, _, local = value.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    return etree.QName(namespace, local) if namespace else etree.QName(local)


def canonical_envelope(xml: bytes | str, *, mask_volatile: bool = True, show_secrets: bool = False,
                       label: str = "envelope") -> str:
    """The envelope after C14N 2.0 with stable prefixes, trimmed whitespace and masks, one element per line.

    Two envelopes that mean the same to a SOAP server give the same text: prefix choices, namespace
    declaration places, attribute order, indentation, comments and volatile values (``wsa:MessageID``,
    ``wsa:To``, tickets, tokens, signed-token timestamps) do not matter. Prefixes are derived from the
    namespace URI (``so``, ``soap``, ``psu``, ... or ``ns_<hash>``), listed once at the top.
    """
    root = _rebuild(_parse_envelope(xml, label), None, mask_volatile=mask_volatile, show_secrets=show_secrets)
    canonical = etree.canonicalize(etree.tostring(root).decode("utf-8"), strip_text=True, with_comments=False)
    tree = etree.fromstring(canonical.encode("utf-8"), SAFE_PARSER)
    lines: list[str] = []
    used: set[str] = set()
    _render(tree, 0, lines, used)
    legend = [f"# {_prefix_for(n)} = {n}" for n in sorted(used, key=_prefix_for)]
    return "\n".join([*legend, *lines]) + "\n"


def _name(tag: str, used: set[str]) -> str:
    qname = etree.QName(tag)
    if not qname.namespace:
        return qname.localname
    used.add(qname.namespace)
    return f"{_prefix_for(qname.namespace)}:{qname.localname}"


def _render(element: etree._Element, depth: int, lines: list[str], used: set[str]) -> None:
    from xml.sax.saxutils import escape, quoteattr

    name = _name(element.tag, used)
    attributes = "".join(f" {_name(k, used)}={quoteattr(v)}" for k, v in sorted(element.attrib.items()))
    pad = "  " * depth
    text = escape((element.text or "").strip())
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        lines.append(f"{pad}<{name}{attributes}>{text}</{name}>" if text else f"{pad}<{name}{attributes}/>")
        return
    lines.append(f"{pad}<{name}{attributes}>" + text)
    for child in children:
        _render(child, depth + 1, lines, used)
    lines.append(f"{pad}</{name}>")


def diff_envelopes(a: bytes | str, b: bytes | str, *, labels: tuple[str, str] = ("a", "b"),
                   mask_volatile: bool = True, show_secrets: bool = False, context: int = 3) -> str:
    """A unified diff of two canonicalised envelopes; the empty string when they are equivalent."""
    left = canonical_envelope(a, mask_volatile=mask_volatile, show_secrets=show_secrets, label=labels[0])
    right = canonical_envelope(b, mask_volatile=mask_volatile, show_secrets=show_secrets, label=labels[1])
    if left == right:
        return ""
    lines = difflib.unified_diff(left.splitlines(keepends=True), right.splitlines(keepends=True),
                                 fromfile=labels[0], tofile=labels[1], n=context)
    return "".join(lines)


# --- replay ------------------------------------------------------------------------------------

_KEPT_HEADERS = frozenset({"soapaction", "content-type"})


def replay_url(captured_url: str, client: ClientBase) -> str:
    """Where to send a captured request now (see :func:`replay_url_flow`), looked up synchronously."""
    from soapkit.drivers.sync import SyncDriver

    return SyncDriver(client.session).run(replay_url_flow(captured_url, client))


def replay_url_flow(captured_url: str, client: ClientBase) -> Flow[str]:
    """Where to send a captured request now: the tenant's current host, the captured service path.

    Agent URLs (``.../Remote/Services88/Contact.svc``) go to the tenant's current endpoint, looked up at the
    state endpoint; other URLs (PartnerSystemUserService) go to the client's environment.
    """
    parts = urlsplit(captured_url)
    query = f"?{parts.query}" if parts.query else ""
    if "/Remote/" in parts.path:
        if client.onsite is not None:
            base = client.onsite.services_url(client.version).split("/Remote/", 1)[0]
        else:
            location = yield from client.tenants.locate_flow(client.context.context_identifier)
            base = location.endpoint.rstrip("/")
        return f"{base}/Remote/{parts.path.split('/Remote/', 1)[1]}{query}"
    return f"{client.context.environment.base_url}{parts.path}{query}"


def refresh_credentials(body: bytes, client: ClientBase, url: str, ticket: str | None = None) -> bytes:
    """The captured request with the client's current ticket (``ticket``), application token and context put
    in."""
    root = _parse_envelope(body, "the captured request")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        if qname.localname == "Ticket":
            if ticket is None:
                raise ConfigurationError("The captured request carries a ticket, but none was obtained.")
            element.text = ticket
        elif qname.localname == "ApplicationToken":
            element.text = _application_token(client)
        elif qname.localname == "ContextIdentifier":
            element.text = client.context.context_identifier
        elif qname.localname == "SignedSystemToken":
            element.text = _fresh_signed_token(client)
        elif qname.namespace in WSA_NAMESPACES and qname.localname == "To":
            element.text = url
        elif qname.namespace in WSA_NAMESPACES and qname.localname == "MessageID":
            element.text = f"urn:uuid:{uuid.uuid4()}"
    return etree.tostring(root, xml_declaration=False, encoding="utf-8")


def _carries_ticket(body: bytes) -> bool:
    root = _parse_envelope(body, "the captured request")
    return any(isinstance(e.tag, str) and etree.QName(e).localname == "Ticket" for e in root.iter())


def _application_token(client: ClientBase) -> str:
    token = client.context.application_token
    if not token:
        raise ConfigurationError("The captured request carries an ApplicationToken, but none was given.",
                                 hint="Pass the client secret (--app-token-file or SOAPKIT_APP_TOKEN).")
    return token


def _fresh_signed_token(client: ClientBase) -> str:
    sign = getattr(client.credentials, "sign", None)
    if not callable(sign):
        raise ConfigurationError("The captured request carries a SignedSystemToken; replaying it needs a system user.",
                                 hint="Give the system-user token and the private key instead of a ticket.")
    return str(sign())


def replay(exchange: Exchange, client: SuperOfficeClient, *, recorder: Recorder | None = None) -> Exchange:
    """Send a captured request again, with a fresh credential, to the tenant's current host.

    The credential headers (``Credentials/Ticket``, ``ApplicationToken``, ``ContextIdentifier``, a
    ``SignedSystemToken``) are replaced by the client's; everything else is sent as captured, so a redacted
    capture replays as well as a raw one. Returns the new exchange (also kept by ``recorder`` when given).
    It runs as the call flow does (:func:`replay_flow`), with the client's driver: HTTP errors without a SOAP
    answer raise soapkit errors, a 421 is followed once, a rejected ticket is renewed once.
    """
    from soapkit.drivers.sync import SyncDriver

    recorder = recorder or Recorder(max_exchanges=4)
    SyncDriver(client.session, recorder=recorder).run(replay_flow(exchange, client))
    return recorder.exchanges[-1]


def replay_flow(exchange: Exchange, client: ClientBase) -> Flow[HttpResponse]:
    """:func:`replay` as a flow: the captured request, re-routed and re-credentialed; the answer."""
    from soapkit.error_table import failure_error, status_error
    from soapkit.flow import HttpRequest, TransportFailure

    if exchange.truncated:
        raise CaptureFormatError("The captured request was truncated by the recorder's size limit; it cannot be "
                                 "replayed.", hint="Record it again with a larger Recorder(max_body_bytes=...).")
    if exchange.method.upper() != "POST":
        raise CaptureFormatError(f"The captured exchange is a {exchange.method} request ({exchange.url}); only SOAP "
                                 "requests (POST) are replayed.", hint="Pick another exchange (--index).")
    if not exchange.request_body.strip():
        raise CaptureFormatError("The captured exchange has no request body to replay.")
    headers = {k: v for k, v in exchange.request_headers.items() if k.lower() in _KEPT_HEADERS}
    headers.setdefault("Content-Type", "text/xml; charset=utf-8")
    needs_ticket = _carries_ticket(exchange.request_body)
    rerouted = renewed = False
    while True:
        url = yield from replay_url_flow(exchange.url, client)
        ticket = None
        if needs_ticket:
            ticket = (yield from client.credentials.issued_flow(client.context)).value
        body = refresh_credentials(exchange.request_body, client, url, ticket)
        outcome = yield HttpRequest("POST", url, headers, body, timeout=client.timeout,
                                    max_bytes=client.max_response_bytes)
        if isinstance(outcome, TransportFailure):
            raise failure_error(outcome, f"POST {url}")
        assert isinstance(outcome, HttpResponse)
        error = status_error(outcome, url)
        if isinstance(error, WrongSubdomain) and not rerouted and client.onsite is None:
            rerouted = True
            client.tenants.forget(client.context.context_identifier)
            continue
        if isinstance(error, CredentialRejected) and needs_ticket and not renewed and ticket is not None \
                and client.credentials.can_refresh:
            renewed = True
            yield from client.credentials.invalidate_flow(client.context, ticket)
            continue
        if error is not None:
            raise error
        return outcome
