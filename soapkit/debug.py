"""Envelope capture and display: the :class:`Recorder`, envelope redaction and pretty printing.

The recorder keeps the envelopes exactly as sent and received on the wire (bytes), with HTTP status,
headers and timing, bounded in count and in size. What leaves the recorder for display is redacted
unless ``show_secrets=True`` is asked for explicitly.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from soapkit.redaction import MASK, SECRET_ELEMENTS, redact_headers, redact_text

if TYPE_CHECKING:
    import requests

SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True,
                              huge_tree=False)


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
    soap_action: str = field(init=False)

    def __post_init__(self) -> None:
        self.soap_action = self.request_headers.get("SOAPAction", "").strip('"')

    @property
    def operation(self) -> str:
        return self.soap_action.rsplit("/", 1)[-1] if self.soap_action else self.url.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return f"<Exchange {self.operation} {self.status} {self.seconds * 1000:.0f} ms>"


class Recorder:
    """Keeps the last ``max_exchanges`` exchanges; bodies longer than ``max_body_bytes`` are cut. Thread-safe."""

    def __init__(self, max_exchanges: int = 100, max_body_bytes: int = 1_000_000) -> None:
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._exchanges: collections.deque[Exchange] = collections.deque(maxlen=max_exchanges)

    def record(self, url: str, headers: dict[str, str], body: bytes, response: requests.Response | None,
               seconds: float) -> Exchange:
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
        )
        with self._lock:
            self._exchanges.append(exchange)
        return exchange

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


def redact_envelope(xml: bytes | str, *, show_secrets: bool = False) -> bytes:
    """The envelope with the text of secret elements (ApplicationToken, Ticket, ...) replaced by ``***``."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if show_secrets:
        return data
    try:
        root = etree.fromstring(data, SAFE_PARSER)
    except etree.XMLSyntaxError:
        return redact_text(data.decode("utf-8", "replace")).encode("utf-8")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).localname in SECRET_ELEMENTS and element.text and element.text.strip():
            element.text = MASK
        elif element.text:
            element.text = redact_text(element.text)
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
        elif name == "Fault":
            outcome["Fault"] = redact_text(root.findtext(".//faultstring") or "")
    return outcome


def format_exchange(exchange: Exchange, *, show_secrets: bool = False) -> str:
    """A readable report of one exchange: request, response, status, timing and SOAP outcome."""
    headers_in = exchange.request_headers if show_secrets else redact_headers(exchange.request_headers)
    lines = [f"--> POST {exchange.url}  ({exchange.operation})"]
    lines += [f"    {k}: {v}" for k, v in headers_in.items()]
    lines.append(pretty_envelope(exchange.request_body, show_secrets=show_secrets).rstrip())
    status = exchange.status if exchange.status is not None else "no response"
    lines.append(f"<-- HTTP {status} in {exchange.seconds * 1000:.1f} ms")
    if exchange.response_body:
        outcome = soap_outcome(exchange.response_body)
        if outcome:
            lines.append(f"    outcome: {outcome}")
        lines.append(pretty_envelope(exchange.response_body, show_secrets=show_secrets).rstrip())
    if exchange.truncated:
        lines.append("    (bodies truncated to the recorder's size limit)")
    return "\n".join(lines)
