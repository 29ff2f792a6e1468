"""The sandbox's response writer: plain values straight onto lxml, in the bytes zeep would write.

zeep's ``operation.output.serialize`` first turns every dict into a value object, then renders the objects;
for a page of 1,000 Archive rows that is about half a second, so the sandbox, not the client under test,
would be the bottleneck. This module renders the same values directly, with a plan compiled once per schema
type: for every element the same ``etree.SubElement`` calls in the same order, the same ``xsi:nil``, the
same text from the type's own ``xmlvalue``, hence the same prefixes and bytes.

It covers what WCF data contracts use: sequences of elements of simple or complex types, arrays as repeated
elements, nil. Anything else -- attributes, choices, ``xsd:any``, schema defaults, zeep value objects,
``xsi:type`` subtypes, a value zeep would reject -- raises :class:`Unsupported`, and
:func:`soapkit.sandbox.soap.serialize_response` lets zeep write that response, so behaviour never depends
on this shortcut. With ``SOAPKIT_SANDBOX_CHECK_RENDER=1`` (the test suite sets it) every response is also
written by zeep and the two are compared byte for byte.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lxml import etree
from zeep.xsd import Nil
from zeep.xsd.const import xsi_ns
from zeep.xsd.elements.element import Element
from zeep.xsd.elements.indicators import Sequence
from zeep.xsd.types.builtins import Integer, String
from zeep.xsd.types.complex import ComplexType
from zeep.xsd.types.simple import AnySimpleType

_NIL = xsi_ns("nil")

#: renders one element's value under ``parent``
Writer = Callable[[etree._Element, Any], None]


class _Child:
    """One element of a complex type's sequence: its key in the value dict, its writer and its bounds.

    ``tag``/``as_is``/``as_str`` let the loop in :func:`_write_children` write the commonest case, a str or an
    int for a simple element, without calling the writer (the same text the writer would set).
    """

    __slots__ = ("as_is", "as_str", "complex", "max_occurs", "min_occurs", "multiple", "name", "tag", "write")

    def __init__(self, name: str, write: Writer, element: Element) -> None:
        self.name, self.write = name, write
        self.multiple = bool(element.accepts_multiple)
        self.min_occurs = int(element.min_occurs)
        self.max_occurs = None if element.max_occurs == "unbounded" else int(element.max_occurs)
        self.tag = element.qname.text
        self.complex = isinstance(element.type, ComplexType)
        self.as_is, self.as_str = _text_kinds(element.type)


def _text_kinds(xsd_type: Any) -> tuple[type | None, type | None]:
    """The value type written as is (str for xsd:string and its restrictions) and the one written as ``str(v)``
    (int for the integer types): exactly what the type's ``xmlvalue`` returns for them."""
    if isinstance(xsd_type, ComplexType):
        return None, None
    method = getattr(type(xsd_type), "xmlvalue", None)
    return (str if method is String.xmlvalue else None), (int if method is Integer.xmlvalue else None)


class Unsupported(Exception):
    """This value or type is outside what the shortcut writes exactly like zeep: let zeep write it."""


class _Plans:
    """Compiled writers by schema element, built once per process (types are shared by every operation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._elements: dict[int, tuple[Element, Writer]] = {}
        self._types: dict[int, tuple[ComplexType, tuple[_Child, ...] | None]] = {}

    def element(self, element: Element) -> Writer:
        known = self._elements.get(id(element))
        if known is not None and known[0] is element:
            return known[1]
        writer = _element_writer(element, self)
        with self._lock:
            self._elements[id(element)] = (element, writer)  # the element is kept: its id stays unique
        return writer

    def children(self, xsd_type: ComplexType) -> tuple[_Child, ...]:
        """The elements of a complex type's sequence, in schema order.

        Compiled on first use, not when the parent is compiled: recursive types (a type containing itself)
        need no special case.
        """
        known = self._types.get(id(xsd_type))
        if known is not None and known[0] is xsd_type:
            if known[1] is None:
                raise Unsupported(f"type {xsd_type.name}")
            return known[1]
        try:
            children: tuple[_Child, ...] | None = tuple(
                _Child(name, self.element(element), element) for name, element in _sequence_elements(xsd_type))
        except Unsupported:
            children = None
        with self._lock:
            self._types[id(xsd_type)] = (xsd_type, children)
        if children is None:
            raise Unsupported(f"type {xsd_type.name}")
        return children


def _sequence_elements(xsd_type: ComplexType) -> list[tuple[str, Element]]:
    """The elements of a type made of (nested) sequences only, or :class:`Unsupported`."""
    if xsd_type.attributes or getattr(xsd_type, "_array_type", None):
        raise Unsupported("attributes or a SOAP-encoded array")
    found: list[tuple[str, Element]] = []

    def walk(items: list[tuple[str | None, Any]]) -> None:
        for name, item in items:
            if isinstance(item, Element):
                if not name or item.default is not None or not isinstance(item.type, (ComplexType, AnySimpleType)):
                    raise Unsupported(f"element {name}")
                found.append((name, item))
            elif type(item) is Sequence and item.max_occurs == 1 and item.min_occurs == 1:
                walk(item.elements_nested)
            else:
                raise Unsupported(f"indicator {type(item).__name__}")

    for _name, indicator in xsd_type.elements_nested:
        if isinstance(indicator, Element):  # an element directly under the type: zeep renders it differently
            raise Unsupported("element outside a sequence")
        walk([(None, indicator)])
    if len({name for name, _ in found}) != len(found):
        raise Unsupported("two elements with one name")
    return found


def _element_writer(element: Element, plans: _Plans) -> Writer:
    tag = element.qname.text
    optional, nillable = bool(element.is_optional), bool(element.nillable)
    xsd_type = element.type
    sub_element = etree.SubElement

    def absent(parent: etree._Element, value: Any) -> None:
        """Nil, or None (also: a missing key) -- nothing for an optional element, else nil where allowed."""
        if value is Nil:
            sub_element(parent, tag).set(_NIL, "true")
        elif not optional:
            if not nillable:
                raise Unsupported(f"missing {element.name}")  # zeep's ValidationError, raised by zeep
            sub_element(parent, tag).set(_NIL, "true")

    if isinstance(xsd_type, ComplexType):
        children: list[tuple[_Child, ...]] = []  # resolved on first use (recursive types)

        def write_complex(parent: etree._Element, value: Any) -> None:
            if type(value) is dict:
                if not children:
                    children.append(plans.children(xsd_type))
                _write_children(sub_element(parent, tag), value, children[0])
            elif value is None or value is Nil:
                absent(parent, value)
            else:
                raise Unsupported(f"{type(value).__name__} for {element.name}")
        return write_complex

    xmlvalue = xsd_type.xmlvalue
    as_is, as_str = _text_kinds(xsd_type)

    def write_simple(parent: etree._Element, value: Any) -> None:
        kind = type(value)
        if kind is as_is:
            sub_element(parent, tag).text = value
        elif kind is as_str:
            sub_element(parent, tag).text = str(value)
        elif value is None or value is Nil:
            absent(parent, value)
        elif kind in _COLLECTIONS or isinstance(value, etree.CDATA) or hasattr(value, "_xsd_type"):
            raise Unsupported(f"{kind.__name__} for {element.name}")
        else:
            text = xmlvalue(value)
            sub_element(parent, tag).text = text
    return write_simple


_COLLECTIONS = frozenset({list, dict, tuple, set, frozenset})


def _write_children(node: etree._Element, value: dict[str, Any], children: tuple[_Child, ...]) -> None:
    used = 0
    sub_element = etree.SubElement
    for child in children:
        if child.name not in value:
            # zeep fills a missing single element with None, a missing repeated one with []
            if not child.multiple:
                child.write(node, None)
            elif child.min_occurs:
                raise Unsupported(f"too few {child.name}")
            continue
        used += 1
        item = value[child.name]
        kind = type(item)
        if kind is child.as_is:
            sub_element(node, child.tag).text = item
        elif kind is child.as_str:
            sub_element(node, child.tag).text = str(item)
        elif not child.multiple or item is None or item is Nil:
            child.write(node, item)
        elif kind is list:
            if len(item) < child.min_occurs or (child.max_occurs is not None and len(item) > child.max_occurs):
                raise Unsupported(f"the number of {child.name}")  # zeep's ValidationError, raised by zeep
            for each in item:
                if each is None or (each is Nil and child.complex):
                    # zeep reads a Nil item of a complex type as the value of its first element
                    raise Unsupported(f"None or nil in {child.name}")
                child.write(node, each)
        else:
            raise Unsupported(f"a single value for the repeated {child.name}")
    if used != len(value):
        raise Unsupported("a key the type does not have")  # zeep's TypeError, raised by zeep


_PLANS = _Plans()


def render_body(body_element: Element, parent: etree._Element, values: dict[str, Any]) -> None:
    """Write the body element of a message (``GetContactEntityResponse`` ...) with ``values`` under ``parent``."""
    if type(values) is not dict:
        raise Unsupported("body values")
    _PLANS.element(body_element)(parent, values)


def render_headers(header_element: Element, parent: etree._Element, values: dict[str, Any]) -> None:
    """Write the header elements that have a value, in the order the message declares them (as zeep does)."""
    children = dict(header_element.type.elements)  # zeep's own order (an xsd:all of the declared headers)
    if not all(isinstance(element, Element) for element in children.values()):
        raise Unsupported("a header that is not an element")
    if not set(values) <= set(children):
        raise Unsupported("an undeclared header")
    if _holds_nil(values):
        # zeep deep-copies header values first, and a copied Nil is no longer zeep's Nil: what it then writes
        # (an element holding the text "Nil") is zeep's to reproduce
        raise Unsupported("nil in a header")
    for name, element in children.items():
        value = values.get(name)
        if value is not None:
            if element.accepts_multiple:
                raise Unsupported(f"repeated header {name}")
            _PLANS.element(element)(parent, value)


def _holds_nil(value: Any) -> bool:
    if value is Nil:
        return True
    if type(value) is dict:
        return any(_holds_nil(item) for item in value.values())
    if type(value) is list:
        return any(_holds_nil(item) for item in value)
    return False


def render_message(message: Any, body: dict[str, Any], headers: dict[str, Any] | None) -> etree._Element:
    """The envelope zeep's ``message.serialize(**body, _soapheaders=headers)`` builds, for a SOAP 1.1 document
    message, or :class:`Unsupported`."""
    if message.body is None or getattr(message, "_is_body_wrapped", False):
        raise Unsupported("a message without a body element, or a wrapped one")
    nsmap = {"soap-env": message.nsmap["soap-env"]}
    nsmap.update(message.wsdl.types._prefix_map_custom)
    namespace = message.nsmap["soap-env"]
    envelope = etree.Element(f"{{{namespace}}}Envelope", nsmap=nsmap)
    if headers:
        if type(headers) is not dict or message.header is None:
            raise Unsupported("headers")
        header = etree.Element(f"{{{namespace}}}Header", nsmap=nsmap)
        render_headers(message.header, header, headers)
        envelope.append(header)
    body_node = etree.Element(f"{{{namespace}}}Body", nsmap=nsmap)
    envelope.append(body_node)
    render_body(message.body, body_node, body)
    return envelope
