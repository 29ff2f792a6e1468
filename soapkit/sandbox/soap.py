"""SOAP 1.1 plumbing for the sandbox: safe parsing, header lookup, faults and serialisation with zeep.

Incoming XML is parsed with entity expansion, DTDs and network access off, and a size limit (enforced by
the HTTP layer). Responses are serialised by zeep from the WSDL's output message, so every element is
emitted in schema order.
"""

from __future__ import annotations

import logging
import os
from contextvars import ContextVar
from typing import Any

from lxml import etree
from zeep import helpers

from soapkit.sandbox import render
from soapkit.values.empty_strings import mark_body

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WCF_ADDRESSING_NONE = "http://schemas.microsoft.com/ws/2005/05/addressing/none"
CONTENT_TYPE = "text/xml; charset=utf-8"


class SoapRequestError(Exception):
    """The request is not a usable SOAP 1.1 message: answered with a SOAP Fault (HTTP 500)."""

    def __init__(self, message: str, *, code: tuple[str, str] = (SOAP11_ENV, "Client")) -> None:
        self.message = message
        self.code = code
        super().__init__(message)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_envelope(data: bytes) -> etree._Element:
    """The SOAP 1.1 Envelope of a request, parsed safely."""
    if not data.strip():
        raise SoapRequestError("The request has no body; expected a SOAP 1.1 envelope.")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise SoapRequestError(f"The request is not well-formed XML: {error}") from None
    if root.getroottree().docinfo.doctype:
        raise SoapRequestError("DTDs are not allowed in SOAP messages.")
    if root.tag == f"{{{SOAP12_ENV}}}Envelope":
        raise SoapRequestError("SOAP 1.2 is not supported by this endpoint; send SOAP 1.1 (text/xml).",
                               code=(SOAP11_ENV, "VersionMismatch"))
    if root.tag != f"{{{SOAP11_ENV}}}Envelope":
        raise SoapRequestError(f"Expected a SOAP 1.1 Envelope, found <{etree.QName(root).localname}>.")
    if root.find(f"{{{SOAP11_ENV}}}Body") is None:
        raise SoapRequestError("The SOAP envelope has no Body.")
    return root


def body_element(envelope: etree._Element) -> etree._Element | None:
    body = envelope.find(f"{{{SOAP11_ENV}}}Body")
    if body is None:
        return None
    return next((child for child in body if isinstance(child.tag, str)), None)


def header_element(envelope: etree._Element, qname: str) -> etree._Element | None:
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    return header.find(qname) if header is not None else None


def header_text(envelope: etree._Element, qname: str, child: str | None = None) -> str | None:
    """Text of the header ``qname`` (or of its child ``child``, a Clark-notation name), stripped."""
    element = header_element(envelope, qname)
    if element is not None and child is not None:
        element = element.find(child)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def soap_action(value: str | None) -> str:
    return (value or "").strip().strip('"').strip()


def declared_headers(message: Any) -> dict[str, str]:
    """Local name -> Clark name of the headers a zeep message declares (``{}`` when none)."""
    header = getattr(message, "header", None)
    if header is None:
        return {}
    return {name: element.qname.text for name, element in header.type.elements}


# zeep reads a value that is not of its simple type (``<ContactEntityId>abc</ContactEntityId>``) as None
# and only logs the error; WCF refuses such a request. The filter below turns those log records into
# errors of the request being read (per thread: each request is served by its own thread).
_translation_errors: ContextVar[list[str] | None] = ContextVar("soapkit_sandbox_translation_errors", default=None)


class _TranslationErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        errors = _translation_errors.get()
        if errors is None:
            return True
        errors.append(str(record.exc_info[1]) if record.exc_info else record.getMessage())
        return False


logging.getLogger("zeep.xsd.types.simple").addFilter(_TranslationErrors())


def deserialize_body(operation: Any, envelope: etree._Element) -> dict[str, Any]:
    """The request's body values as plain dicts/lists, parsed by zeep against the WSDL."""
    errors: list[str] = []
    token = _translation_errors.set(errors)
    try:
        mark_body(envelope.find(f"{{{SOAP11_ENV}}}Body"), operation.input.body, operation.binding.wsdl.types)
        result = operation.input.deserialize(envelope)
    except Exception as error:  # zeep raises XMLParseError, ValidationError, ValueError, ...
        raise SoapRequestError(f"The request body does not match the contract: {error}") from None
    finally:
        _translation_errors.reset(token)
    if errors:
        raise SoapRequestError(f"The request body does not match the contract: {errors[0]}")
    body = getattr(result, "body", result)
    if body is None:
        return {}
    plain = helpers.serialize_object(body, dict)
    return plain if isinstance(plain, dict) else {}


def serialize_response(operation: Any, body: dict[str, Any], headers: dict[str, Any] | None = None) -> bytes:
    """The response envelope of ``operation`` with ``body`` values and ``headers`` values, in schema order.

    Written by :mod:`soapkit.sandbox.render` (the same bytes, without zeep's value objects) where it can, by
    zeep otherwise; ``SOAPKIT_SANDBOX_CHECK_RENDER=1`` writes both and fails loudly if they differ.
    """
    try:
        fast: bytes | None = None if _ZEEP_ONLY else _to_bytes(render.render_message(operation.output, body, headers))
    except render.Unsupported:
        fast = None
    if fast is not None and not _CHECK_RENDER:
        return fast
    kwargs = dict(body)
    if headers:
        kwargs["_soapheaders"] = headers
    reference = _to_bytes(operation.output.serialize(**kwargs).content)
    if fast is not None and fast != reference:
        raise AssertionError(f"soapkit.sandbox.render wrote {operation.name}'s response unlike zeep:\n"
                             f"{fast[:2000]!r}\nzeep:\n{reference[:2000]!r}")
    return reference


def _to_bytes(envelope: etree._Element) -> bytes:
    return etree.tostring(wcf_prefixes(envelope), encoding="utf-8", xml_declaration=False)


#: the test suite sets it: every response is written twice and compared (see soapkit.sandbox.render)
_CHECK_RENDER = os.environ.get("SOAPKIT_SANDBOX_CHECK_RENDER") == "1"
#: ``SOAPKIT_SANDBOX_RENDER=zeep``: zeep writes every response (the benchmarks' before/after, or to rule the
#: shortcut out when a response looks wrong)
_ZEEP_ONLY = os.environ.get("SOAPKIT_SANDBOX_RENDER") == "zeep"


def wcf_prefixes(envelope: etree._Element) -> etree._Element:
    """``envelope`` rewritten with WCF's prefixes: ``s:`` for the SOAP envelope namespace (zeep writes
    ``soap-env:``), the answer's own elements unchanged."""
    if envelope.prefix == "s":
        return envelope
    rewritten = etree.Element(envelope.tag, nsmap={"s": SOAP11_ENV})
    for child in envelope:
        rewritten.append(child)
    etree.cleanup_namespaces(rewritten)
    return rewritten


def fault(message: str, code: tuple[str, str] = (SOAP11_ENV, "Client")) -> bytes:
    """A SOAP 1.1 Fault envelope, shaped as WCF writes it."""
    envelope = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"s": SOAP11_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP11_ENV}}}Body")
    element = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
    namespace, local = code
    prefix = "s" if namespace == SOAP11_ENV else "a"
    faultcode = etree.SubElement(element, "faultcode", nsmap={prefix: namespace} if prefix != "s" else None)
    faultcode.text = f"{prefix}:{local}"
    faultstring = etree.SubElement(element, "faultstring")
    faultstring.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    faultstring.text = message
    return etree.tostring(envelope, encoding="utf-8", xml_declaration=False)
