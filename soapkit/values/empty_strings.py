"""Keep an empty string empty: ``<Name/>`` is "", ``<Name xsi:nil="true"/>`` is None.

WCF writes "" as an empty element and null as ``xsi:nil``; zeep reads both as None, so a value that was an empty
string would come back as "no value" and be lost. :func:`mark_empty_strings` walks a body against zeep's model of
it and gives every empty, non-nil element of a string type an empty text before zeep reads it (lxml then hands
zeep ``""`` rather than None). It follows the schema (complex types, base types, ``xsi:type`` subtypes,
repeated elements), so it holds for every operation. Used by the client (:class:`EmptyStrings`, an ingress
plugin) and by the sandbox when it reads a request.
"""

from __future__ import annotations

import contextlib
from typing import Any

from lxml import etree
from zeep import Plugin
from zeep.xsd import ComplexType
from zeep.xsd.types.builtins import String

from soapkit._memo import PerObject

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_NIL = f"{{{XSI}}}nil"
_TYPE = f"{{{XSI}}}type"


def mark_empty_strings(node: etree._Element, xsd_type: Any, schema: Any) -> None:
    """Set ``text = ""`` on every empty, non-nil string element under ``node`` (of type ``xsd_type``)."""
    if node.get(_NIL) in ("true", "1"):
        return
    declared = node.get(_TYPE)
    if declared and schema is not None and ":" in declared:
        prefix, _, local = declared.partition(":")
        namespace = node.nsmap.get(prefix)
        if namespace:
            # an unknown xsi:type: zeep itself reports it while parsing; keep the declared type here
            with contextlib.suppress(Exception):
                xsd_type = schema.get_type(f"{{{namespace}}}{local}")
    if isinstance(xsd_type, String):
        if node.text is None and len(node) == 0:
            node.text = ""
        return
    if not isinstance(xsd_type, ComplexType):
        return
    children = _children(xsd_type)
    for child in node:
        if not isinstance(child.tag, str):
            continue
        element = children.get(child.tag)
        if element is not None:
            mark_empty_strings(child, element.type, schema)


def _find_children(xsd_type: Any) -> dict[str, Any]:
    return {element.qname.text: element for _, element in xsd_type.elements
            if getattr(element, "qname", None) is not None}


#: A complex type's child elements by tag (``{namespace}name``), worked out once per type: zeep's ``elements``
#: flattens the type's whole content each time it is asked.
_children: PerObject[Any, dict[str, Any]] = PerObject(_find_children)


def mark_body(body: etree._Element | None, wrapper: Any, schema: Any) -> None:
    """The same for a SOAP Body whose one child is the operation's wrapper element ``wrapper``."""
    if body is None or wrapper is None:
        return
    for child in body:
        if isinstance(child.tag, str) and etree.QName(child) == wrapper.qname:
            mark_empty_strings(child, wrapper.type, schema)


class EmptyStrings(Plugin):
    """zeep ingress plugin: empty string elements of an answer read as "" (a pure envelope transform)."""

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        output = getattr(operation, "output", None)
        wrapper = getattr(output, "body", None)
        schema = getattr(getattr(getattr(operation, "binding", None), "wsdl", None), "types", None)
        mark_body(envelope.find(f"{{{SOAP11_ENV}}}Body"), wrapper, schema)
        return envelope, http_headers
