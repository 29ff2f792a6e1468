"""Random, schema-valid SOAP answers (and request values) for any operation, for the codec's differential tests.

Everything is derived from zeep's parsed types of the operation and from the schema files (for the subtypes
an ``xsi:type`` may name), so it holds for every operation. A :class:`random.Random` drives the choices; the
hypothesis tests pass one hypothesis controls (``st.randoms()``).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import random
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from zeep.xsd import ComplexType
from zeep.xsd.elements import Element
from zeep.xsd.types.any import AnyType

from soapkit.values.schema import INTEGER_RANGES, _schema_trees, builtin_name, list_item

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
_XS = f"{{{XSD}}}"

_STRINGS = ["", " ", "Acme AS", "æøå ÆØÅ", "line\nbreak", "  padded  ", "<tag>&amp;", "x" * 40, "true", "0"]


@cache
def subtypes(wsdl_path: Path, *, siblings: bool = True) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """For each complex type, the types an ``xsi:type`` may name for it (from the schema files): the types that
    extend it, and for a type that extends another (every SuperOffice entity extends ``Carrier``) itself and the
    other subtypes of its base (zeep reads whatever type ``xsi:type`` names). ``siblings=False``: only what a
    schema-valid answer may name, the types that derive from it."""
    direct: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for tree in _schema_trees(wsdl_path):
        for schema in tree.iter(f"{_XS}schema"):
            namespace = schema.get("targetNamespace") or ""
            for complex_type in schema.findall(f"{_XS}complexType"):
                extension = complex_type.find(f"{_XS}complexContent/{_XS}extension")
                if extension is None or not complex_type.get("name"):
                    continue
                prefix, _, local = (extension.get("base") or "").rpartition(":")
                base = (extension.nsmap.get(prefix or None) or "", local)
                direct.setdefault(base, []).append((namespace, complex_type.get("name") or ""))
    closed: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    for base in direct:
        seen: list[tuple[str, str]] = []
        pending = list(direct[base])
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.append(current)
                pending.extend(direct.get(current, []))
        closed[base] = tuple(seen)
    if not siblings:
        return closed
    related = dict(closed)
    for subtypes_of_base in closed.values():
        for derived in subtypes_of_base:
            related[derived] = tuple(dict.fromkeys((derived, *closed.get(derived, ()), *subtypes_of_base)))
    return related


class AnswerMaker:
    """Builds answer envelopes for one operation."""

    def __init__(self, description: Any, operation: str, rng: random.Random, *, max_depth: int = 4,
                 unknown: float = 0.0, max_items: int = 3, siblings: bool = True) -> None:
        self.operation = description.operation(operation)
        self.schema = self.operation.binding.wsdl.types
        self.subtypes = subtypes(description.path, siblings=siblings)
        self.rng = rng
        self.max_depth = max_depth
        self.unknown = unknown
        self.max_items = max_items

    def envelope(self) -> bytes:
        rng = self.rng
        root = etree.Element(f"{{{ENV}}}Envelope", nsmap={"s": ENV, "xsi": XSI})
        output = self.operation.output
        header_elements = output.header.type.elements
        if header_elements and rng.random() < 0.9:
            header = etree.SubElement(root, f"{{{ENV}}}Header")
            for _, element in header_elements:
                if rng.random() < 0.7:
                    self.element(header, element, 1)
        body = etree.SubElement(root, f"{{{ENV}}}Body")
        wrapper = etree.SubElement(body, output.body.qname)
        self.content(wrapper, output.body.type, 0)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))

    def element(self, parent: Any, element: Any, depth: int) -> None:
        rng = self.rng
        count = 1
        if element.accepts_multiple:
            count = rng.randint(0, self.max_items)
        elif element.is_optional and rng.random() < 0.15:
            count = 0
        for _ in range(count):
            self.one(parent, element, depth)

    def one(self, parent: Any, element: Any, depth: int) -> None:
        rng = self.rng
        node = etree.SubElement(parent, element.qname)
        xsd_type = element.type
        if element.nillable and (rng.random() < 0.12 or (depth >= self.max_depth and
                                                          isinstance(xsd_type, ComplexType))):
            node.set(f"{{{XSI}}}nil", "true")
            return
        if isinstance(xsd_type, ComplexType):
            if depth >= self.max_depth:
                return  # an empty element
            qname = getattr(xsd_type, "qname", None)
            derived = self.subtypes.get((qname.namespace, qname.localname)) if qname is not None else None
            if derived and rng.random() < 0.25:
                namespace, local = derived[0] if rng.random() < 0.6 else rng.choice(derived)
                prefix = node.nsmap and next((p for p, uri in node.nsmap.items() if uri == namespace and p), None)
                if not prefix:
                    prefix = "sub"
                    node = _redeclare(parent, node, prefix, namespace)
                node.set(f"{{{XSI}}}type", f"{prefix}:{local}")
                xsd_type = self.schema.get_type(f"{{{namespace}}}{local}")
            self.content(node, xsd_type, depth + 1)
            return
        if type(xsd_type) is AnyType:  # xs:anyType: typed by xsi:type, or bare text
            kind = rng.choice(["string", "int", "boolean", "dateTime", None])
            if kind is not None:
                node = _redeclare(parent, node, "xs", XSD)
                node.set(f"{{{XSI}}}type", f"xs:{kind}")
                xsd_type = self.schema.get_type(f"{{{XSD}}}{kind}")
        text = self.text(xsd_type)
        if text is not None:
            node.text = text

    def content(self, node: Any, xsd_type: Any, depth: int) -> None:
        elements = [element for _, element in xsd_type.elements if isinstance(element, Element)]
        wrapper = list_item(xsd_type) is not None
        for element in elements:
            if wrapper and element.accepts_multiple:
                for _ in range(self.rng.randint(0, self.max_items)):
                    self.one(node, element, depth)
            else:
                self.element(node, element, depth)
        if self.unknown and self.rng.random() < self.unknown:
            position = self.rng.randint(0, len(node))
            node.insert(position, etree.Element(f"{{{_namespace(node)}}}NotInTheSchema"))

    def text(self, xsd_type: Any) -> str | None:
        rng = self.rng
        base = builtin_name(xsd_type) or "string"
        if base in INTEGER_RANGES:
            low, high = INTEGER_RANGES[base]
            return str(rng.choice([0, 1, -1 if (low or 0) < 0 else 2, low if low is not None else -10**20,
                                   high if high is not None else 10**20, rng.randint(0, 100000)]))
        if base == "boolean":
            return rng.choice(["true", "false", "1", "0"])
        if base == "dateTime":
            moment = dt.datetime(2000, 1, 1) + dt.timedelta(seconds=rng.randint(0, 10**9))
            return rng.choice([moment.isoformat(), moment.isoformat() + ".1234567", moment.isoformat() + "Z",
                               moment.isoformat() + "+02:00", moment.date().isoformat(),
                               "0001-01-01T00:00:00", moment.isoformat(timespec="milliseconds")])
        if base == "date":
            return (dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 9000))).isoformat()
        if base == "time":
            return rng.choice(["12:30:00", "00:00:00.5", "23:59:59"])
        if base == "decimal":
            return str(decimal.Decimal(rng.randint(-10**6, 10**6)) / 100)
        if base in ("double", "float"):
            return rng.choice(["1.5", "0", "-2.25E3", "INF", "3"])
        if base == "base64Binary":
            return base64.b64encode(rng.randbytes(rng.randint(0, 12))).decode()
        if base == "duration":
            return rng.choice(["PT5M", "P1DT2H", "PT0S"])
        if base == "anyURI":
            return "http://example.com/x"
        enumeration = getattr(xsd_type, "qname", None)
        if enumeration is not None and enumeration.localname == "guid":
            return "2f1a6b0e-9b1c-4c57-8a4e-1d2c3b4a5f60"
        return rng.choice(_STRINGS)


def _namespace(node: Any) -> str:
    return etree.QName(node).namespace or ""


def _redeclare(parent: Any, node: Any, prefix: str, namespace: str) -> Any:
    """``node`` again, with ``prefix`` declared for ``namespace`` (lxml declares namespaces at creation)."""
    replacement = etree.Element(node.tag, nsmap={prefix: namespace})
    parent.replace(node, replacement)
    return replacement


class ArgumentMaker:
    """Plain Python arguments for one operation, as a caller gives them (checked by ``bind`` afterwards)."""

    def __init__(self, description: Any, operation: str, rng: random.Random, *, max_depth: int = 3) -> None:
        from soapkit.values.codec import codec_for

        self.operation = description.operation(operation)
        self.schema = self.operation.binding.wsdl.types
        self.enumerations = codec_for(description).enumerations
        self.subtypes = subtypes(description.path)
        self.rng = rng
        self.max_depth = max_depth

    def arguments(self) -> dict[str, Any]:
        body = self.operation.input.body
        if body is None:
            return {}
        owner = body.qname.localname
        return {name: self.value(element, owner, 0) for name, element in body.type.elements
                if self.rng.random() < 0.9}

    def value(self, element: Any, owner: str, depth: int) -> Any:
        rng = self.rng
        if element.accepts_multiple:
            return [self.single(element.type, owner, element.name, depth) for _ in range(rng.randint(0, 2))]
        if rng.random() < 0.1:
            return None
        return self.single(element.type, owner, element.name, depth)

    def single(self, xsd_type: Any, owner: str, name: str, depth: int) -> Any:
        rng = self.rng
        if isinstance(xsd_type, ComplexType):
            item = list_item(xsd_type)
            label = xsd_type.qname.localname if xsd_type.qname is not None else owner
            if item is not None:
                if depth >= self.max_depth:
                    return []
                return [self.single(item[1].type, label, item[0], depth + 1) for _ in range(rng.randint(0, 2))]
            qname = xsd_type.qname
            derived = self.subtypes.get((qname.namespace, qname.localname)) if qname is not None else None
            fields = self._fields(xsd_type, label, depth)
            if derived and rng.random() < 0.1:
                namespace, local = rng.choice(derived)
                actual = self.schema.get_type(f"{{{namespace}}}{local}")
                instance = actual()  # a zeep object of the subtype, as a result read back would be
                for key, field in self._fields(actual, local, depth).items():
                    instance[key] = field
                return instance
            return fields
        found = self.enumerations.for_element(owner, name, xsd_type)
        if found is not None:
            return rng.sample(found.values, k=min(2, len(found.values))) if found.flags else rng.choice(found.values)
        return self.scalar(xsd_type)

    def _fields(self, xsd_type: Any, label: str, depth: int) -> dict[str, Any]:
        fields = {}
        for name, element in xsd_type.elements:
            required = element.min_occurs and not element.nillable and not element.accepts_multiple
            if required or (depth < self.max_depth and self.rng.random() < 0.6):
                value = self.value(element, label, depth + 1)
                fields[name] = value if value is not None or not required else self.single(
                    element.type, label, name, depth + 1)
        return fields

    def scalar(self, xsd_type: Any) -> Any:
        rng = self.rng
        base = builtin_name(xsd_type) or "string"
        if base in INTEGER_RANGES:
            low, high = INTEGER_RANGES[base]
            return rng.choice([0, 1, low if low is not None else -5, high if high is not None else 10**12])
        if base == "boolean":
            return rng.random() < 0.5
        if base == "dateTime":
            return rng.choice([dt.datetime(2024, 5, 1, 12, 30), dt.datetime(2024, 5, 1, 12, 30, 5, 120000),
                               dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))])
        if base == "date":
            return dt.date(2024, 2, 29)
        if base == "time":
            return dt.time(7, 45)
        if base == "decimal":
            return rng.choice([decimal.Decimal("12.50"), 3, 1.25])
        if base in ("double", "float"):
            return rng.choice([1.5, 0, -2.0e10])
        if base in ("base64Binary", "hexBinary"):
            return rng.randbytes(rng.randint(0, 8))
        if base == "duration":
            return dt.timedelta(minutes=rng.randint(0, 90))
        return rng.choice(_STRINGS)
