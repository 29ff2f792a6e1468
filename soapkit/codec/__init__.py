"""A compiled codec: each operation's request writer and answer reader, straight between lxml and plain values.

``compiled(description, "GetContactEntity")`` gives an :class:`OperationCodec` (built once per description and
operation, thread-safe) whose :meth:`~OperationCodec.encode` writes the whole SOAP 1.1 envelope zeep and
soapkit's plugins write today, and whose :meth:`~OperationCodec.decode` reads an answer into exactly the values
today's path gives (zeep objects of the same classes, list wrappers as lists, ``""`` for empty strings), without
zeep's object machinery on the way. zeep stays the WSDL engine (the codec is derived from its parsed types)
and the fallback: whatever the codec cannot handle exactly like zeep raises :class:`CodecFallback`, and the
caller hands that message to zeep. See docs/codec.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import zeep.exceptions
from lxml import etree

from soapkit._memo import PerObject
from soapkit.catalog import ServiceDescription
from soapkit.codec.compiler import (
    XSI_NIL,
    CodecFallback,
    DecoderRegistry,
    ElementEncoder,
    EncoderRegistry,
)
from soapkit.values.outputs import shape

__all__ = ["CodecFallback", "CodecFault", "CodecMode", "DecodedReply", "OperationCodec", "ResponseReader", "compiled",
           "parse_answer"]

#: The ``codec=`` option of :func:`soapkit.connect`: the compiled codec (falling back to zeep per message) or
#: zeep alone.
CodecMode = Literal["compiled", "zeep"]

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE = f"{{{SOAP11_ENV}}}Envelope"
_HEADER = f"{{{SOAP11_ENV}}}Header"
_BODY = f"{{{SOAP11_ENV}}}Body"
_FAULT = f"{{{SOAP11_ENV}}}Fault"
_CONTENT_TYPE = "text/xml; charset=utf-8"


class CodecFault(zeep.exceptions.Fault):
    """A SOAP Fault in an answer. It is zeep's own Fault type (``message``, ``code``, ``actor``, ``detail``),
    so :func:`soapkit.transport.soap_errors` turns it into :class:`~soapkit.errors.SoapFault` or
    :class:`~soapkit.errors.CredentialRejected` exactly as it does zeep's."""

    def __init__(self, code: str | None, message: str | None, detail: etree._Element | None,
                 actor: str | None = None) -> None:
        super().__init__(message, code=code, actor=actor, detail=detail)


@dataclass(frozen=True)
class DecodedReply:
    """A decoded answer: ``header`` (zeep's value of the SOAP header: ``ExceptionInfo``, ``ExtraInfo``,
    ``Succeeded``, ``TimeZone``; None without one), ``body`` (the shaped body wrapper, as
    :func:`soapkit.values.shape` leaves zeep's) and ``value`` (what :func:`soapkit.agents.unwrap` returns: the
    wrapper's ``Response``). ``"header" in reply`` and ``reply.header``/``reply.body`` work as on zeep's result,
    so ``unwrap(reply)`` gives ``reply.value`` too."""

    header: Any
    body: Any
    value: Any

    def __contains__(self, name: object) -> bool:
        return name in ("header", "body")


class _ParserLocal(threading.local):
    def __init__(self) -> None:
        # what zeep's parse_xml uses with soapkit's settings, and no network or DTD loading at all
        self.parser = etree.XMLParser(remove_comments=True, resolve_entities=False, no_network=True,
                                      load_dtd=False, huge_tree=False, recover=False)


_parsers = _ParserLocal()


def parse_answer(content: bytes) -> etree._Element:
    """An answer's root element, parsed as zeep parses it; a DTD (and so any entity declaration) is refused
    with zeep's DTDForbidden, which :func:`soapkit.transport.soap_errors` reports as it does today. Text that
    is not well-formed XML raises :class:`CodecFallback` (zeep reports it with the HTTP status)."""
    try:
        root = etree.fromstring(content, parser=_parsers.parser)
    except etree.XMLSyntaxError as error:
        raise CodecFallback(f"the answer is not well-formed XML ({str(error)[:100]})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype:
        raise zeep.exceptions.DTDForbidden(docinfo.doctype, docinfo.system_url, docinfo.public_id)
    return root


class _Registries:
    def __init__(self, schema: Any) -> None:
        self.shaped = DecoderRegistry(schema, shaped=True)
        self.raw = DecoderRegistry(schema, shaped=False)
        self.encoders = EncoderRegistry()


class _Compiled:
    """What is compiled for one service description: its operations' codecs and the type registries of each of
    its zeep schemas (nothing in here refers to the description, so it goes with it)."""

    def __init__(self) -> None:
        self.codecs: dict[str, OperationCodec] = {}
        self.registries: dict[int, tuple[Any, _Registries]] = {}

    def registries_for(self, schema: Any) -> _Registries:
        with _codecs_lock:
            found = self.registries.get(id(schema))
            if found is None:
                found = self.registries[id(schema)] = (schema, _Registries(schema))
            return found[1]


#: A reader of an answer's body wrapper (see :meth:`OperationCodec.decode`): ``reader(wrapper_element,
#: wrapper_decoder)`` gives the reply's value, or raises :class:`CodecFallback`.
ResponseReader = Callable[[etree._Element, Any], Any]


class OperationCodec:
    """The compiled request writer and answer reader of one operation."""

    def __init__(self, description: ServiceDescription, name: str, compiled: _Compiled | None = None) -> None:
        operation = description.operation(name)
        self.service = description.name
        self.name = name
        schema = operation.binding.wsdl.types
        registries = (compiled or _Compiled()).registries_for(schema)
        message = operation.input
        if message._is_body_wrapped or operation.output._is_body_wrapped:
            raise CodecFallback(f"{name} has a multi-part body")
        self._parameters = frozenset(name for name, _ in message.body.type.elements) if message.body else None
        self._body = ElementEncoder(message.body, registries.encoders) if message.body is not None else None
        self._headers = [(header_name, ElementEncoder(element, registries.encoders))
                         for header_name, element in message.header.type.elements]
        #: The SOAP headers the operation's input declares, in the binding's order (the keys ``encode`` reads).
        self.header_names: tuple[str, ...] = tuple(header_name for header_name, _ in self._headers)
        action = operation.soapaction
        #: The HTTP headers zeep sends with the request.
        self.http_headers: dict[str, str] = {"SOAPAction": f'"{action}"' if action else '""',
                                             "Content-Type": _CONTENT_TYPE}
        output = operation.output
        self._wrapper = output.body
        self._wrapper_tag = output.body.qname.text if output.body is not None else None
        self._wrapper_decoder = (registries.shaped.for_type(output.body.type) if output.body is not None
                                 else None)
        self._raw_wrapper_decoder = (registries.raw.for_type(output.body.type) if output.body is not None
                                     else None)
        header_type = output.header.type
        self._has_header = bool(header_type._element)
        self._header_class = header_type._value_class
        self._header_fields = {element.qname.text: (field_name, registries.raw.for_type(element.type))
                               for field_name, element in header_type.elements}
        if any(element.accepts_multiple for _, element in header_type.elements):
            raise CodecFallback(f"{name} has a repeated header")
        self._header_template = OrderedDict((field_name, element.default_value)
                                            for field_name, element in header_type.elements)
        self._envelope = output.envelope

    def __repr__(self) -> str:
        return f"<OperationCodec {self.service}.{self.name}>"

    # --- requests ----------------------------------------------------------------------------------------

    def encode(self, values: Mapping[str, Any], headers: Mapping[str, Any]) -> bytes:
        """The request envelope for ``values`` (the keyword arguments ``codec_for(...).inputs(...).bind``
        gives) with the SOAP headers in ``headers`` that the operation declares (in the binding's order; a
        missing or None one is left out), as the bytes zeep posts."""
        if self._parameters is not None and any(key not in self._parameters for key in values):
            raise CodecFallback(f"{self.name} has no parameter {next(k for k in values if k not in self._parameters)}")
        envelope = etree.Element(_ENVELOPE, nsmap={"soap-env": SOAP11_ENV})
        body = etree.Element(_BODY, nsmap={"soap-env": SOAP11_ENV})
        envelope.append(body)
        if self._body is not None:
            self._body.item(body, dict(values))
        header = None
        for name, encoder in self._headers:
            value = headers.get(name)
            if value is None:
                continue
            if header is None:
                header = etree.Element(_HEADER)
                envelope.insert(0, header)
            encoder.render(header, value)
        etree.cleanup_namespaces(envelope)
        return bytes(etree.tostring(envelope, pretty_print=False, xml_declaration=True, encoding="utf-8"))

    # --- answers -----------------------------------------------------------------------------------------

    def decode(self, content: bytes, status: int = 200, *, reader: ResponseReader | None = None) -> DecodedReply:
        """An answer (HTTP ``status``) as today's path reads it; a SOAP Fault raises :class:`CodecFault`,
        anything the codec cannot read exactly like zeep :class:`CodecFallback`.

        ``reader`` (for operations with output headers) reads the body wrapper its own way instead, e.g.
        :class:`soapkit.codec.archive.ArchivePageReader` straight into rows: it is called with the wrapper
        element and the wrapper's compiled decoder, and its result is the reply's ``value``; when it raises
        :class:`CodecFallback`, the wrapper is decoded as usual. The SOAP header is read either way."""
        root = parse_answer(content)
        if root.tag != _ENVELOPE:
            raise CodecFallback("the answer's root is not a SOAP 1.1 Envelope")
        body = root.find(_BODY)
        if body is not None:
            fault = body.find(_FAULT)
            if fault is not None:
                raise _fault(fault)
        if status != 200:
            raise CodecFallback(f"HTTP {status} without a SOAP Fault")
        if body is None or self._wrapper_tag is None:
            raise CodecFallback("no SOAP Body")
        children = list(body)
        if len(children) != 1 or children[0].tag != self._wrapper_tag:
            raise CodecFallback(f"the Body does not hold exactly one {self._wrapper_tag}")
        wrapper = children[0]
        for part in list(wrapper):  # soapkit's header plugin drops nil parts of the wrapper
            if part.get(XSI_NIL) == "true":
                wrapper.remove(part)
        header_node = root.find(_HEADER)
        if not self._has_header:
            return self._simplified(wrapper)
        header = self._header(header_node) if header_node is not None else None
        if reader is not None:
            try:
                read = reader(wrapper, self._wrapper_decoder)
            except CodecFallback:
                pass  # read as usual below
            else:
                return DecodedReply(header, OrderedDict(Response=read), read)
        decoded = self._wrapper_decoder.decode(wrapper, False)  # type: ignore[union-attr]
        value = decoded["Response"] if decoded is not None and "Response" in decoded else decoded
        return DecodedReply(header, decoded, value)

    def _header(self, node: etree._Element) -> Any:
        values = OrderedDict(self._header_template)
        seen = set()
        for child in node:
            found = self._header_fields.get(child.tag)
            if found is None:
                raise CodecFallback(f"an undeclared SOAP header {child.tag!r}")
            name, decoder = found
            if name in seen:
                continue  # zeep reads the first of repeated headers
            seen.add(name)
            values[name] = decoder.decode(child)
        value = self._header_class.__new__(self._header_class)
        value.__values__ = values
        return value

    def _simplified(self, wrapper: etree._Element) -> DecodedReply:
        """An operation without output headers: zeep returns the wrapper's one part (or its one field)."""
        result = self._raw_wrapper_decoder.decode(wrapper, False)  # type: ignore[union-attr]
        if result is not None and hasattr(result, "__len__"):
            if len(result) == 0:
                result = None
            elif len(result) == 1:
                result = next(iter(result.__values__.values()))
                if hasattr(result, "_xsd_type"):
                    children = result._xsd_type.elements
                    if len(children) == 1 and not result._xsd_type.attributes:
                        result = result[children[0][0]]
        shaped = shape(result)
        try:
            has_response = "Response" in shaped
        except TypeError:
            has_response = False
        return DecodedReply(None, shaped, shaped["Response"] if has_response else shaped)


def _fault(fault: etree._Element) -> CodecFault:
    for child in list(fault):  # soapkit's header plugin drops nil children of the body's elements
        if child.get(XSI_NIL) == "true":
            fault.remove(child)

    def text(name: str) -> str | None:  # zeep's own look-up
        child = fault.find(name, namespaces=fault.nsmap)
        return child.text if child is not None else None

    detail = fault.find("detail", namespaces=fault.nsmap)
    return CodecFault(text("faultcode"), text("faultstring"), detail, text("faultactor"))


_per_description: PerObject[ServiceDescription, _Compiled] = PerObject(lambda description: _Compiled())
_codecs_lock = threading.Lock()


def compiled(description: ServiceDescription, operation_name: str) -> OperationCodec:
    """The compiled codec of one operation (built on first use, kept with its description; thread-safe).

    Raises :class:`CodecFallback` for an operation the codec does not handle at all (none of the shipped ones).
    """
    per_description = _per_description(description)
    with _codecs_lock:
        found = per_description.codecs.get(operation_name)
    if found is None:
        built = OperationCodec(description, operation_name, per_description)
        with _codecs_lock:
            found = per_description.codecs.setdefault(operation_name, built)
    return found
