"""Values made from the WSDL's types: schema defaults, enumerations, and JSON that keeps XSD value types.

The generic parts of the sandbox (the entity store, whole-contract tests) need a valid value of any
type the contract names, without code per type. The rules are NetServer's: a number is 0, a flag false,
a date ``DateTime.MinValue``, text empty, an enumeration its first member, an array empty, and any other
nillable carrier nil.

zeep does not keep a simple type's enumeration facets, so they are read from the schema text once per
folder (:func:`enumerations`).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lxml import etree
from zeep.xsd.types import builtins
from zeep.xsd.types.complex import ComplexType

XSD = "http://www.w3.org/2001/XMLSchema"
MIN_DATE = dt.datetime(1, 1, 1)
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
# Carriers are nested deeply (an entity holds carriers that hold carriers); a non-nillable member deeper
# than this is left out, which the schema allows (every member of NetServer's carriers is minOccurs=0).
MAX_DEPTH = 4


def enumerations(wsdl: Path) -> Mapping[str, tuple[str, ...]]:
    """``{type name: (allowed values, ...)}`` of the enumerated simple types a WSDL can use: those of the
    ``.xsd`` files beside it and of its own inline types (a self-contained WSDL keeps them there)."""
    return {**_enumerations_in(wsdl), **_folder_enumerations(wsdl.parent)}


@functools.lru_cache(maxsize=16)
def _folder_enumerations(folder: Path) -> Mapping[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(folder.glob("*.xsd")):
        found.update({k: v for k, v in _enumerations_in(path).items() if k not in found})
    return found


@functools.lru_cache(maxsize=128)
def _enumerations_in(path: Path) -> Mapping[str, tuple[str, ...]]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    found: dict[str, tuple[str, ...]] = {}
    root = etree.parse(str(path), parser).getroot()
    for simple in root.iter(f"{{{XSD}}}simpleType"):
        name = simple.get("name")
        values = [e.get("value") or "" for e in simple.iterfind(f"{{{XSD}}}restriction/{{{XSD}}}enumeration")]
        if name and values:
            found.setdefault(name, tuple(values))
    return found


def is_array(xsd_type: Any) -> bool:
    """An ``ArrayOfX``-like carrier: one member, repeated."""
    if not isinstance(xsd_type, ComplexType):
        return False
    members = list(xsd_type.elements)
    return len(members) == 1 and members[0][1].max_occurs != 1


def simple_default(xsd_type: Any, enums: Mapping[str, tuple[str, ...]]) -> Any:
    choices = enums.get(getattr(xsd_type, "name", None) or "")
    if choices:
        return choices[0]
    if isinstance(xsd_type, builtins.Boolean):
        return False
    if isinstance(xsd_type, builtins.Integer):
        return 0
    if isinstance(xsd_type, (builtins.Decimal, builtins.Double, builtins.Float)):
        return 0.0
    if isinstance(xsd_type, builtins.DateTime):
        return MIN_DATE
    if isinstance(xsd_type, builtins.Duration):
        return dt.timedelta(0)
    if isinstance(xsd_type, (builtins.Base64Binary, builtins.HexBinary)):
        return b""
    if getattr(xsd_type, "name", None) == "guid":
        return EMPTY_GUID
    if isinstance(xsd_type, builtins.String):
        return ""
    return None  # xs:anyType and the like: nothing is a valid value


def default_value(element: Any, enums: Mapping[str, tuple[str, ...]], depth: int = 0) -> Any:
    """The default of one element (a member of a carrier or a parameter of an operation)."""
    if element.max_occurs != 1:
        return []
    xsd_type = element.type
    if not isinstance(xsd_type, ComplexType):
        return simple_default(xsd_type, enums)
    if is_array(xsd_type):
        return {xsd_type.elements[0][0]: []}
    if element.nillable or depth >= MAX_DEPTH:
        return None
    return default_members(xsd_type, enums, depth + 1)


def default_members(xsd_type: Any, enums: Mapping[str, tuple[str, ...]], depth: int = 0) -> dict[str, Any]:
    """Every member of a complex type at its default."""
    return {name: default_value(element, enums, depth) for name, element in xsd_type.elements}


def default_parameters(operation: Any, enums: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """A value for every body parameter of a zeep operation (a request anyone could send)."""
    body = operation.input.body
    if body is None or not isinstance(body.type, ComplexType):
        return {}
    return default_members(body.type, enums)


# --- JSON that remembers dates, bytes and decimals ------------------------------------------------

_TAG = "$xsd"


def _encode(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if isinstance(value, dt.datetime):
        return {_TAG: "dateTime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {_TAG: "time", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {_TAG: "duration", "v": value.total_seconds()}
    if isinstance(value, bytes):
        return {_TAG: "base64", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, decimal.Decimal):
        return {_TAG: "decimal", "v": str(value)}
    return value


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "dateTime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat, "time": dt.time.fromisoformat,
    "duration": lambda v: dt.timedelta(seconds=v), "base64": base64.b64decode, "decimal": decimal.Decimal,
}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if _TAG in value:
            return _DECODERS[value[_TAG]](value["v"])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def to_json(value: Any) -> str:
    """Plain values (as zeep reads them) -> JSON text; :func:`from_json` gives back equal values."""
    return json.dumps(_encode(value), separators=(",", ":"))


def from_json(text: str) -> Any:
    return _decode(json.loads(text))
