"""Plain Python in: arguments checked against the WSDL and shaped the way zeep writes them.

Lists and tuples stand for list wrappers (``ArrayOfint``, ``ArrayOfEntityElement``, ``StringDictionary``,
...) at any depth, dicts (or zeep objects, such as a result being sent back) for complex types, and
Python scalars for XSD simple types. Anything that does not fit raises :class:`~soapkit.errors.InvalidValue`
naming the operation, the path (``ContactEntity.Emails[1].Value``), what was expected and close names.
"""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
import enum
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import isodate
from zeep.xsd import ComplexType
from zeep.xsd.valueobjects import CompoundValue

from soapkit.errors import InvalidValue
from soapkit.values.schema import (
    INTEGER_RANGES,
    Enumeration,
    EnumerationIndex,
    builtin_name,
    is_many,
    is_required,
    key_value_item,
    list_item,
    type_label,
)
from soapkit.values.text import BadText, expected, parse_text

AwareDatetimes = Literal["utc", "refuse"]


@dataclass(frozen=True)
class InputOptions:
    """How values are read: ``text`` (the command line: strings are parsed for numbers, dates, ...) and what
    to do with timezone-aware datetimes (``utc``: convert to UTC; ``refuse``: an error)."""

    text: bool = False
    aware_datetimes: AwareDatetimes = "utc"


@dataclass(frozen=True)
class Fields:
    """The fields of one complex type by name, and by lower-case name for forgiving look-ups."""

    by_name: dict[str, Any]
    by_lower: dict[str, str]
    owner: str
    required: tuple[str, ...] = ()  # minOccurs >= 1 and not nillable: zeep cannot write the type without them


class ValueConverter:
    """Converts values for the types of one service description (cached per type, thread-safe reads)."""

    def __init__(self, enumerations: EnumerationIndex, options: InputOptions, operation: str) -> None:
        self.enumerations = enumerations
        self.options = options
        self.operation = operation
        self._fields: dict[int, Fields] = {}

    # --- dispatch ------------------------------------------------------------------------------

    def element(self, value: Any, element: Any, owner: str, path: str) -> Any:
        """A value for one element of ``owner`` (a repeated element takes a list)."""
        if value is None:
            return None
        if is_many(element):
            items = self._sequence(value, element.type, path)
            return [self.typed(item, element.type, owner, element.name, f"{path}[{i}]")
                    for i, item in enumerate(items)]
        return self.typed(value, element.type, owner, element.name, path)

    def typed(self, value: Any, xsd_type: Any, owner: str, name: str, path: str) -> Any:
        if value is None:
            return None
        if isinstance(xsd_type, ComplexType):
            item = list_item(xsd_type)
            if item is not None:
                return self.wrapper(value, xsd_type, item, path)
            return self.complex(value, xsd_type, path)
        found = self.enumerations.for_element(owner, name, xsd_type)
        if found is not None:
            return self.enumeration(value, found, xsd_type, path)
        return self.simple(value, xsd_type, path)

    # --- lists and complex types ---------------------------------------------------------------

    def wrapper(self, value: Any, xsd_type: Any, item: tuple[str, Any], path: str) -> dict[str, Any]:
        item_name, item_element = item
        items = self._wrapper_items(value, xsd_type, item_name, item_element.type, path)
        owner = type_label(xsd_type)
        return {item_name: [self.typed(v, item_element.type, owner, item_name, f"{path}[{i}]")
                            for i, v in enumerate(items)]}

    def _wrapper_items(self, value: Any, xsd_type: Any, item_name: str, item_type: Any, path: str) -> list[Any]:
        if isinstance(value, CompoundValue) and list_item(value._xsd_type) is not None:
            return list(value[item_name] or [])
        if isinstance(value, Mapping):
            if list(value) == [item_name]:  # zeep's own shape: {"int": [1, 2]}
                return self._sequence(value[item_name] or [], xsd_type, path)
            if key_value_item(item_type):
                return [{"Key": k, "Value": v} for k, v in value.items()]
        return self._sequence(value, xsd_type, path)

    def _sequence(self, value: Any, xsd_type: Any, path: str) -> list[Any]:
        if isinstance(value, (list, tuple)):
            return list(value)
        if self.options.text and isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        raise self.invalid(path, f"{expected(xsd_type)}: a list or tuple", value)

    def complex(self, value: Any, xsd_type: Any, path: str) -> Any:
        if isinstance(value, CompoundValue):
            actual = value._xsd_type
            items = dict(value.__values__)
            if actual is not xsd_type and isinstance(actual, ComplexType) and actual.name != xsd_type.name:
                return actual(**self._fields_of(items, actual, path))  # a derived type keeps its xsi:type
            return self._fields_of(items, actual, path)
        if isinstance(value, Mapping):
            return self._fields_of(value, xsd_type, path)
        raise self.invalid(path, expected(xsd_type), value)

    def _fields_of(self, value: Mapping[str, Any], xsd_type: Any, path: str) -> dict[str, Any]:
        fields = self.fields(xsd_type)
        converted: dict[str, Any] = {}
        for key, item in value.items():
            name = self._field_name(str(key), fields, xsd_type, path)
            if name in converted:
                raise self.invalid(f"{path}.{key}", f"{name} given once", item, hint=f"{name} is given twice.")
            converted[name] = self.element(item, fields.by_name[name], fields.owner, f"{path}.{name}")
        missing = [name for name in fields.required if name not in converted]
        if missing:  # zeep would only find out while writing the envelope, outside soapkit's errors
            raise InvalidValue(
                f"{type_label(xsd_type)} needs {', '.join(missing)} (at {path}, in {self.operation}).",
                operation=self.operation, path=f"{path}.{missing[0]}", expected=f"a value for {missing[0]}",
                hint=f"The schema requires {', '.join(missing)} in every {type_label(xsd_type)}; give "
                     f"{'them' if len(missing) > 1 else 'it'} a value.")
        return converted

    def _field_name(self, key: str, fields: Fields, xsd_type: Any, path: str) -> str:
        if key in fields.by_name:
            return key
        folded = fields.by_lower.get(key.lower())
        if folded is not None:
            return folded
        close = difflib.get_close_matches(key, list(fields.by_name), n=3, cutoff=0.6)
        names = list(fields.by_name)
        raise InvalidValue(
            f"{type_label(xsd_type)} has no field {key!r} (at {path}.{key}, in {self.operation}).",
            operation=self.operation, path=f"{path}.{key}", expected=f"a field of {type_label(xsd_type)}",
            suggestions=close,
            hint=None if close else f"Its fields: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''}.",
        )

    def fields(self, xsd_type: Any) -> Fields:
        found = self._fields.get(id(xsd_type))
        if found is None:
            by_name = dict(xsd_type.elements)
            required = tuple(name for name, element in by_name.items() if is_required(element))
            found = Fields(by_name, {name.lower(): name for name in by_name}, type_label(xsd_type), required)
            self._fields[id(xsd_type)] = found
        return found

    # --- simple types --------------------------------------------------------------------------

    def enumeration(self, value: Any, allowed: Enumeration, xsd_type: Any, path: str) -> Any:
        if allowed.flags:
            names = value.replace(",", " ").split() if isinstance(value, str) else value
            if not isinstance(names, (list, tuple, set, frozenset)):
                raise self.invalid(path, f"a list of names from {', '.join(allowed.values)}", value)
            return [self._enum_name(v, allowed, f"{path}[{i}]") for i, v in enumerate(names)]
        return self._enum_name(value, allowed, path)

    def _enum_name(self, value: Any, allowed: Enumeration, path: str) -> str:
        name = value.name if isinstance(value, enum.Enum) else value
        if isinstance(name, str):
            if name in allowed.values:
                return name
            folded = {v.lower(): v for v in allowed.values}.get(name.strip().lower())
            if folded is not None:
                return folded
        close = difflib.get_close_matches(str(name), list(allowed.values), n=3, cutoff=0.5)
        listed = ", ".join(allowed.values[:12]) + (", ..." if len(allowed.values) > 12 else "")
        raise self.invalid(path, f"one of {listed}", value, suggestions=close)

    def simple(self, value: Any, xsd_type: Any, path: str) -> Any:
        base = builtin_name(xsd_type)
        if self.options.text and isinstance(value, str) and base not in (None, "string", "anyType"):
            try:
                value = parse_text(value, base)
            except BadText:
                raise self.invalid(path, expected(xsd_type), value) from None
        checker = _CHECKS.get(base or "")
        if checker is None:
            return value
        converted = checker(self, value, base or "", path)
        if converted is _WRONG:
            raise self.invalid(path, expected(xsd_type), value)
        return converted

    def datetime(self, value: dt.datetime, path: str) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            return value
        if self.options.aware_datetimes == "refuse":
            raise self.invalid(path, "a naive datetime (tenant wall time)", value,
                               hint="This client refuses timezone-aware datetimes (aware_datetimes='refuse'); "
                               "pass the tenant's wall time without tzinfo.")
        return value.astimezone(dt.timezone.utc)

    # --- errors --------------------------------------------------------------------------------

    def invalid(self, path: str, wanted: str, value: Any, *, suggestions: list[str] | None = None,
                hint: str | None = None) -> InvalidValue:
        top = "." not in path and "[" not in path
        return InvalidValue(
            f"{'Parameter ' if top else ''}{path} expects {wanted}, got {shown(value)} (in {self.operation}).",
            operation=self.operation, path=path, expected=wanted, suggestions=suggestions, hint=hint,
        )


def shown(value: Any) -> str:
    """A short, safe picture of a wrong value for a message (never more than 60 characters)."""
    if isinstance(value, (dict, list, tuple)):
        try:
            text = json.dumps(value, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    else:
        text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})" if not isinstance(value, str) else text


_WRONG = object()


def _integer(converter: ValueConverter, value: Any, base: str, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        return _WRONG
    low, high = INTEGER_RANGES[base]
    if (low is not None and value < low) or (high is not None and value > high):
        raise converter.invalid(path, f"xsd:{base} (a whole number from {low} to {high})", value)
    return int(value)


def _boolean(_converter: ValueConverter, value: Any, _base: str, _path: str) -> Any:
    return value if isinstance(value, bool) else _WRONG


def _number(_converter: ValueConverter, value: Any, _base: str, _path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        return _WRONG
    return float(value)


def _decimal(_converter: ValueConverter, value: Any, _base: str, _path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        return _WRONG
    return value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))


def _datetime(converter: ValueConverter, value: Any, _base: str, path: str) -> Any:
    if isinstance(value, dt.datetime):
        return converter.datetime(value, path)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return _WRONG


def _date(_converter: ValueConverter, value: Any, _base: str, _path: str) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else _WRONG
    return value if isinstance(value, dt.date) else _WRONG


def _time(_converter: ValueConverter, value: Any, _base: str, _path: str) -> Any:
    return value if isinstance(value, dt.time) else _WRONG


def _binary(_converter: ValueConverter, value: Any, _base: str, _path: str) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return _WRONG


def _duration(_converter: ValueConverter, value: Any, _base: str, _path: str) -> Any:
    """xsd:duration: a timedelta, a number of seconds (what :func:`~soapkit.values.plain` writes for one, also
    as text), or ISO 8601 text (``PT5M``)."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.timedelta(seconds=float(text))
        except ValueError:
            pass
        try:
            isodate.parse_duration(text)
        except (isodate.ISO8601Error, ValueError):
            return _WRONG
        return text
    return _WRONG


def _string(_converter: ValueConverter, value: Any, _base: str, _path: str) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    return _WRONG


_CHECKS: dict[str, Any] = {
    **dict.fromkeys(INTEGER_RANGES, _integer), "boolean": _boolean, "double": _number, "float": _number,
    "decimal": _decimal, "dateTime": _datetime, "date": _date, "time": _time, "base64Binary": _binary,
    "hexBinary": _binary, "duration": _duration, "string": _string, "anyURI": _string,
    "normalizedString": _string, "token": _string,
}

__all__ = ["InputOptions", "ValueConverter"]
