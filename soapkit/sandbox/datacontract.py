"""WCF's DataContractSerializer rules for reading a request body, derived from the schema for every operation.

NetServer reads a request with the DataContractSerializer, which differs from a strict schema validator:

* members are read in schema order; an element that is not the next expected member or a later one (a member
  out of order) is **skipped** and its value lost, as is an element the contract does not know (a field of a
  newer WSDL) — neither is a fault;
* an empty element of a non-string simple type (``<ContactEntityId/>`` for ``xs:int``, an empty
  ``xs:dateTime``, ``xs:boolean``, ``xs:decimal``, a guid, ...) is a deserialization fault, unless it is
  ``xsi:nil="true"``;
* a value of an enumeration that is not one of its members (``ReturnTokenType`` ``JWT`` where the schema says
  ``Jwt|Saml``; enumerations are case-sensitive) is a deserialization fault.

:func:`read_as_wcf` applies these rules to the body of a request before zeep reads it, in place: skipped
elements are removed, so zeep (strict) sees members in schema order only; the faults are raised as
:class:`~soapkit.sandbox.soap.SoapRequestError` with WCF's ``a:DeserializationFailed`` code and wording.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

from lxml import etree
from zeep.xsd.elements.element import Element
from zeep.xsd.types import builtins
from zeep.xsd.types.complex import ComplexType

from soapkit.sandbox.soap import SoapRequestError

WCF_DISPATCHER = "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_Name = tuple[str | None, str]  # (namespace, local name) of a member
_Index = tuple[list[Element], dict[_Name, list[int]]]  # members in schema order; positions by name
# Depth of nested carriers the reader follows; deeper content is left to zeep as it is.
MAX_DEPTH = 64

# Non-string simple types, named as .NET names them in its messages: an empty element is a fault.
_CLR_NAMES: tuple[tuple[type, str], ...] = (  # most derived first: zeep's Byte is a Short is an Int is a Long
    (builtins.Boolean, "Boolean"), (builtins.Byte, "SByte"), (builtins.Short, "Int16"), (builtins.Int, "Int32"),
    (builtins.Long, "Int64"), (builtins.UnsignedByte, "Byte"), (builtins.UnsignedShort, "UInt16"),
    (builtins.UnsignedInt, "UInt32"), (builtins.UnsignedLong, "UInt64"), (builtins.Integer, "Int32"),
    (builtins.Decimal, "Decimal"), (builtins.Double, "Double"), (builtins.Float, "Single"),
    (builtins.DateTime, "DateTime"), (builtins.Date, "DateTime"), (builtins.Time, "DateTime"),
    (builtins.Duration, "TimeSpan"),
)


def _clr_name(xsd_type: Any) -> str | None:
    if getattr(xsd_type, "name", None) == "guid":
        return "Guid"
    for kind, name in _CLR_NAMES:
        if isinstance(xsd_type, kind):
            return name
    return None


def _deserialization_failed(element: etree._Element, inner: str) -> SoapRequestError:
    qname = etree.QName(element)
    return SoapRequestError(
        "The formatter threw an exception while trying to deserialize the message: There was an error while "
        f"trying to deserialize parameter {qname.namespace}:{qname.localname}. The InnerException message was "
        f"'{inner}'. Please see InnerException for more details.",
        code=(WCF_DISPATCHER, "DeserializationFailed"))


class _Reader:
    def __init__(self, schema: Any, enums: Mapping[str, tuple[str, ...]]) -> None:
        self.schema = schema
        self.enums = enums
        self._indexes: dict[int, _Index | None] = {}

    def element(self, node: etree._Element, declared: Any, depth: int) -> None:
        """Check one element against its declared type (a zeep type), pruning complex content."""
        if node.get(f"{{{XSI}}}nil") in ("true", "1"):
            return
        xsd_type = self._actual_type(node, declared)
        if isinstance(xsd_type, ComplexType):
            if depth < MAX_DEPTH:
                self.members(node, xsd_type, depth + 1)
            return
        self.simple(node, xsd_type)

    def _actual_type(self, node: etree._Element, declared: Any) -> Any:
        """The declared type, or the derived type an ``xsi:type`` names (when the schema knows it)."""
        named = node.get(f"{{{XSI}}}type")
        if not named or self.schema is None:
            return declared
        prefix, _, local = named.rpartition(":")
        namespace = node.nsmap.get(prefix or None)
        try:
            return self.schema.get_type(etree.QName(namespace, local).text if namespace else local)
        except Exception:  # an unknown xsi:type: zeep reports it
            return declared

    def members(self, node: etree._Element, xsd_type: ComplexType, depth: int) -> None:
        index = self._member_index(xsd_type)
        if index is None:
            return  # xs:any, choices and the like: nothing to reorder, zeep reads them as they are
        members, positions = index
        position = 0
        for child in list(node):
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            at = positions.get((qname.namespace or None, qname.localname), ())
            found = at[bisect.bisect_left(at, position)] if at and at[-1] >= position else None
            if found is None:  # out of order, or unknown to this contract: skipped, as WCF does
                node.remove(child)
                continue
            member = members[found]
            position = found if member.max_occurs != 1 else found + 1
            self.element(child, member.type, depth)

    def _member_index(self, xsd_type: ComplexType) -> _Index | None:
        """The members of ``xsd_type`` in schema order and, by qualified name, their positions (cached per type)."""
        key = id(xsd_type)
        if key not in self._indexes:
            members = [member for _, member in xsd_type.elements]
            if not members or any(not isinstance(member, Element) for member in members):
                self._indexes[key] = None
            else:
                positions: dict[_Name, list[int]] = {}
                for number, member in enumerate(members):
                    positions.setdefault(_member_name(member), []).append(number)
                self._indexes[key] = (members, positions)
        return self._indexes[key]

    def simple(self, node: etree._Element, xsd_type: Any) -> None:
        text = (node.text or "").strip()
        choices = self.enums.get(getattr(xsd_type, "name", None) or "")
        if choices:
            values = text.split() if text else [""]
            for value in values:
                if value not in choices:
                    raise _deserialization_failed(node, f"Invalid enum value '{value}' cannot be deserialized into "
                                                  f"type '{xsd_type.name}' (allowed: {', '.join(choices)}). Ensure "
                                                  "that the necessary enum values are present")
            return
        clr = _clr_name(xsd_type)
        if clr is not None and not text:
            raise _deserialization_failed(node, f"There was an error deserializing the object of type System.{clr}. "
                                          f"The value '' cannot be parsed as the type '{clr}'.")


def _member_name(member: Element) -> _Name:
    qname = member.qname
    if qname is None:
        return None, str(member.name)
    return qname.namespace or None, qname.localname


def read_as_wcf(operation: Any, envelope: etree._Element, enums: Mapping[str, tuple[str, ...]]) -> None:
    """Apply the DataContractSerializer's rules to the request body of ``operation`` (see the module)."""
    body_type = getattr(getattr(operation.input, "body", None), "type", None)
    if not isinstance(body_type, ComplexType):
        return
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    wrapper = next((child for child in body if isinstance(child.tag, str)), None) if body is not None else None
    if wrapper is None:
        return
    try:
        schema = operation.binding.wsdl.types
    except AttributeError:
        schema = None
    _Reader(schema, enums).members(wrapper, body_type, 0)
