"""Text as typed values: how a command-line word (or a JSON string) becomes an int, a date, a boolean, ...

Used by the value layer when it is told its input is text (the command line); Python callers pass typed
values and get an error for a string where a number belongs.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import re
from typing import Any

from soapkit.values.schema import INTEGER_RANGES, builtin_name, list_item, type_label

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}
_DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadText(ValueError):
    """The text does not spell a value of the type."""


def parse_text(text: str, base: str | None) -> Any:
    """``text`` as the Python value of the XSD built-in ``base``; strings and unknown types stay text."""
    value = text.strip()
    try:
        return _parse(value, base, text)
    except (ValueError, decimal.InvalidOperation, binascii.Error):
        raise BadText(text) from None


def _parse(value: str, base: str | None, original: str) -> Any:
    if base in INTEGER_RANGES:
        return int(value)
    if base == "boolean":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise BadText(value)
    if base in ("double", "float"):
        return float(value)
    if base == "decimal":
        return decimal.Decimal(value)
    if base == "dateTime":
        return parse_datetime(value)
    if base == "date":
        return dt.date.fromisoformat(value)
    if base == "time":
        return dt.time.fromisoformat(value)
    if base == "base64Binary":
        return base64.b64decode(value, validate=True)
    return original


def parse_datetime(value: str) -> dt.datetime:
    """ISO 8601 (``2024-05-01``, ``2024-05-01T12:00``, ``...Z``, ``...+02:00``) as a datetime."""
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    if _DAY_ONLY.fullmatch(text):
        text += "T00:00:00"
    return dt.datetime.fromisoformat(text)


_EXPECTED = {
    "boolean": "true or false", "dateTime": "a datetime (ISO 8601 such as 2024-05-01T12:00:00 on the command line)",
    "date": "a date (2024-05-01)", "time": "a time (14:30)", "decimal": "a decimal number", "double": "a number",
    "float": "a number", "base64Binary": "bytes", "string": "a string",
}


def expected(xsd_type: Any) -> str:
    """What a value of ``xsd_type`` looks like, for error messages: ``xsd:int (a whole number)``."""
    base = builtin_name(xsd_type) or ""
    label = type_label(xsd_type)
    if base in INTEGER_RANGES:
        return f"{label} (a whole number)"
    if list_item(xsd_type) is not None:
        return f"{label} (a list, or comma-separated values on the command line)"
    if hasattr(xsd_type, "elements"):
        return f"{label} (a dict of its fields, or JSON inline or @file.json on the command line)"
    return f"{label} ({_EXPECTED[base]})" if base in _EXPECTED else label
