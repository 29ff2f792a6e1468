"""Plain Python out: list wrappers become lists at every depth, and :func:`plain` makes anything JSON-ready.

Results stay zeep objects (attribute and item access, ``entity.Name`` and ``entity["Name"]``) so that they can
be changed and sent back; only their list wrappers are replaced, in place, by Python lists. A nil scalar or
complex value is None; a list wrapper is always a list: zeep reads an empty wrapper (``<Faxes/>``) exactly like
a nil one, so the two cannot be told apart, and an empty list is what both mean to a reader.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
from collections.abc import Mapping
from typing import Any

from lxml import etree
from zeep.xsd.valueobjects import CompoundValue

from soapkit._memo import PerObject
from soapkit.values.schema import list_item


def shape(value: Any) -> Any:
    """``value`` with every list wrapper (``ArrayOfX``, ``StringDictionary``, ...) replaced by a list."""
    if isinstance(value, CompoundValue):
        item = list_item(value._xsd_type)
        if item is not None:
            items = value.__values__.get(item[0]) or []
            nested = list_item(item[1].type) is not None  # ArrayOfArrayOfX: an empty inner list reads as None
            return [[] if v is None and nested else shape(v) for v in items]
        wrappers = wrapper_fields(value._xsd_type)
        values = value.__values__
        for name, child in values.items():
            if child is None:
                if name in wrappers:
                    values[name] = []
            elif not isinstance(child, (str, int, float, bool)):
                values[name] = shape(child)
        return value
    if isinstance(value, list):
        return [shape(v) for v in value]
    return value


def _find_wrapper_fields(xsd_type: Any) -> frozenset[str]:
    return frozenset(name for name, element in getattr(xsd_type, "elements", ()) if list_item(element.type) is not None)


#: The names of a complex type's fields that are list wrappers (worked out once per type).
wrapper_fields: PerObject[Any, frozenset[str]] = PerObject(_find_wrapper_fields)


def plain(value: Any) -> Any:
    """Any result as JSON-ready values: dicts with the WSDL's names, lists, str, int, float, bool, None.

    Datetimes, dates and times become ISO 8601 text, bytes base64, decimals numbers, enums their names.
    The value itself is not changed.
    """
    if isinstance(value, CompoundValue):
        item = list_item(value._xsd_type)
        if item is not None:
            return [plain(v) for v in value.__values__.get(item[0]) or []]
        return {name: plain(child) for name, child in value.__values__.items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, etree._Element):
        return etree.tostring(value, encoding="unicode")
    return str(value)
