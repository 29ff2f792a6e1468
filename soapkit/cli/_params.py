"""Operation arguments on the command line, typed by the WSDL.

``soapkit call ContactAgent.GetContactEntity 5`` maps positional arguments to the operation's parameters in
order; ``Name=value`` names one. Values are converted by the parameter's XSD type (int, boolean, dateTime,
decimal, ...); complex values are JSON, inline or from a file (``Entity=@company.json``), checked field by
field against the schema. Arrays of simple values may also be given as ``1,2,3``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeep.xsd import AnySimpleType, ComplexType

from soapkit.catalog import DEFAULT_VERSION, Catalog, ServiceDescription
from soapkit.errors import ConfigurationError

XSD = "http://www.w3.org/2001/XMLSchema"
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
_INTEGERS = {"int", "long", "short", "byte", "integer", "unsignedInt", "unsignedShort", "unsignedLong",
             "unsignedByte", "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger"}
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


@dataclass(frozen=True)
class Target:
    """``ContactAgent.GetContactEntity`` parsed and resolved against the catalog."""

    service: ServiceDescription
    operation_name: str
    operation: Any

    @property
    def label(self) -> str:
        return f"{agent_name(self.service.name)}.{self.operation_name}"


def agent_name(service: str) -> str:
    """The .NET name of a service: ``Contact`` -> ``ContactAgent`` (PartnerSystemUserService stays as is)."""
    return service if service.endswith("Service") else f"{service}Agent"


def split_target(text: str) -> tuple[str, str | None]:
    """``ContactAgent.GetContactEntity`` -> (``ContactAgent``, ``GetContactEntity``); ``ContactAgent`` -> (.., None)."""
    service, _, operation = text.strip().partition(".")
    if not service:
        raise ConfigurationError(f"{text!r} names no service.",
                                 hint="Write Agent.Operation, e.g. ContactAgent.GetContactEntity.")
    return service, operation or None


def resolve_target(catalog: Catalog, text: str, version: str = DEFAULT_VERSION) -> Target:
    service_text, operation_name = split_target(text)
    if not operation_name:
        described = catalog.describe(service_text, version)
        raise ConfigurationError(
            f"{text!r} names a service but no operation.",
            hint=f"Write {agent_name(described.name)}.Operation; `soapkit describe {agent_name(described.name)}` "
            "lists the operations.",
        )
    described = catalog.describe(service_text, version)
    return Target(described, operation_name, described.operation(operation_name))


# --- describing types --------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    element: Any

    @property
    def xsd_type(self) -> Any:
        return self.element.type

    @property
    def type_name(self) -> str:
        return type_name(self.xsd_type)

    @property
    def many(self) -> bool:
        return self.element.max_occurs == "unbounded" or (isinstance(self.element.max_occurs, int)
                                                          and self.element.max_occurs > 1)

    @property
    def required(self) -> bool:
        return bool(self.element.min_occurs) and not self.element.nillable


def parameters(operation: Any) -> list[Parameter]:
    """The body parameters of an operation's input, in WSDL order."""
    body = operation.input.body
    if body is None or not isinstance(body.type, ComplexType):
        return []
    return [Parameter(name, element) for name, element in body.type.elements]


def result_parameter(operation: Any) -> Parameter | None:
    """The ``Response`` element of an operation's output (or its first element)."""
    body = operation.output.body
    if body is None or not isinstance(body.type, ComplexType) or not body.type.elements:
        return None
    for name, element in body.type.elements:
        if name == "Response":
            return Parameter(name, element)
    name, element = body.type.elements[0]
    return Parameter(name, element)


def type_name(xsd_type: Any) -> str:
    qname = getattr(xsd_type, "qname", None)
    if qname is None:
        return getattr(xsd_type, "name", None) or type(xsd_type).__name__
    return f"xsd:{qname.localname}" if qname.namespace == XSD else qname.localname


def builtin_name(xsd_type: Any) -> str | None:
    """The XSD built-in a simple type is (or derives from): ``int``, ``dateTime``, ... or None."""
    for cls in type(xsd_type).__mro__:
        qname = getattr(cls, "_default_qname", None)
        if qname is not None and qname.namespace == XSD:
            return str(qname.localname)
    return None


def array_item(xsd_type: Any) -> tuple[str, Any] | None:
    """For a WCF ``ArrayOfX`` wrapper (one repeated element), that element's name and element."""
    if not isinstance(xsd_type, ComplexType):
        return None
    elements = xsd_type.elements
    if len(elements) == 1 and Parameter(*elements[0]).many:
        return elements[0][0], elements[0][1]
    return None


_EXPECTED = {
    "boolean": "true or false", "dateTime": "an ISO 8601 date-time such as 2024-05-01T12:00:00",
    "date": "an ISO 8601 date such as 2024-05-01", "decimal": "a decimal number", "double": "a number",
    "float": "a number",
}


def expected(xsd_type: Any) -> str:
    base = builtin_name(xsd_type) or ""
    if base in _INTEGERS:
        return f"{type_name(xsd_type)} (a whole number)"
    if isinstance(xsd_type, ComplexType):
        item = array_item(xsd_type)
        if item:
            return f"{type_name(xsd_type)} (a JSON list, or comma-separated values)"
        return f"{type_name(xsd_type)} (JSON, inline or @file.json)"
    return f"{type_name(xsd_type)} ({_EXPECTED[base]})" if base in _EXPECTED else type_name(xsd_type)


# --- converting values -------------------------------------------------------------------------


class _BadValue(ValueError):
    pass


def convert_simple(text: str, xsd_type: Any) -> Any:
    """A command-line text as the Python value zeep expects for a simple XSD type."""
    base = builtin_name(xsd_type)
    value = text.strip()
    try:
        if base in _INTEGERS:
            return int(value)
        if base == "boolean":
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
            raise _BadValue(value)
        if base in ("double", "float"):
            return float(value)
        if base == "decimal":
            return decimal.Decimal(value)
        if base == "dateTime":
            return _datetime(value)
        if base == "date":
            return dt.date.fromisoformat(value)
    except (ValueError, decimal.InvalidOperation):
        raise _BadValue(value) from None
    return text


def _datetime(value: str) -> dt.datetime:
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.datetime.fromisoformat(text + "T00:00:00")
    return dt.datetime.fromisoformat(text)


def convert_argument(raw: str, parameter: Parameter) -> Any:
    """One ``Name=value`` value, converted by the parameter's type; a clear error naming both otherwise."""
    xsd_type = parameter.xsd_type
    if raw.strip() == "null":
        return None
    try:
        if isinstance(xsd_type, ComplexType):
            return adapt_json(_complex_text(raw, parameter), xsd_type, parameter.name)
        if parameter.many:
            return [convert_simple(v, xsd_type) for v in _list_text(raw)]
        return convert_simple(raw, xsd_type)
    except _BadValue as bad:
        raise ConfigurationError(
            f"Parameter {parameter.name} expects {expected(xsd_type)}, got {str(bad)!r}.",
            hint="`soapkit describe` shows each parameter's type.",
        ) from None


def _list_text(raw: str) -> list[str]:
    text = raw.strip()
    if text.startswith("["):
        values = _json(text, "list")
        return [str(v) for v in values] if isinstance(values, list) else [text]
    return [v.strip() for v in text.split(",") if v.strip()]


def _complex_text(raw: str, parameter: Parameter) -> Any:
    text = raw.strip()
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise ConfigurationError(f"Cannot read {path} for parameter {parameter.name}: {error.strerror}.") from None
    elif not text.startswith(("{", "[")) and array_item(parameter.xsd_type):
        return _list_text(text)
    return _json(text, parameter.name)


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(
            f"The value of {name} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
            hint="Give complex values as JSON, inline ('{\"Name\": \"Acme\"}') or from a file (Name=@file.json).",
        ) from None


def adapt_json(value: Any, xsd_type: Any, path: str) -> Any:
    """Check a JSON value against the schema type and shape it for zeep (lists into ``ArrayOfX`` wrappers)."""
    if value is None:
        return None
    if isinstance(xsd_type, ComplexType):
        item = array_item(xsd_type)
        if item is not None and isinstance(value, list):
            name, element = item
            return {name: [adapt_json(v, element.type, f"{path}[{i}]") for i, v in enumerate(value)]}
        if not isinstance(value, dict):
            raise ConfigurationError(f"{path} expects {expected(xsd_type)}, got {json.dumps(value)[:60]}.")
        return _adapt_object(value, xsd_type, path)
    if isinstance(xsd_type, AnySimpleType):
        return _adapt_simple(value, xsd_type, path)
    return value


def _adapt_object(value: dict[str, Any], xsd_type: ComplexType, path: str) -> dict[str, Any]:
    fields = dict(xsd_type.elements)
    by_lower = {name.lower(): name for name in fields}
    adapted: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in fields else by_lower.get(key.lower())
        if name is None:
            close = difflib.get_close_matches(key, list(fields), n=3, cutoff=0.6)
            raise ConfigurationError(
                f"{type_name(xsd_type)} has no field {key!r} (at {path}).",
                hint=("Did you mean " + " or ".join(close) + "?") if close else
                f"Its fields: {', '.join(list(fields)[:12])}{', ...' if len(fields) > 12 else ''}.",
            )
        element = fields[name]
        if Parameter(name, element).many and isinstance(item, list):
            adapted[name] = [adapt_json(v, element.type, f"{path}.{name}[{i}]") for i, v in enumerate(item)]
        else:
            adapted[name] = adapt_json(item, element.type, f"{path}.{name}")
    return adapted


def _adapt_simple(value: Any, xsd_type: Any, path: str) -> Any:
    base = builtin_name(xsd_type)
    wrong = isinstance(value, (dict, list))
    wrong = wrong or (base in _INTEGERS and isinstance(value, (bool, float)))
    wrong = wrong or (base == "boolean" and isinstance(value, (int, float)) and not isinstance(value, bool))
    if wrong:
        raise ConfigurationError(f"{path} expects {expected(xsd_type)}, got {json.dumps(value)[:60]}.")
    if isinstance(value, str):
        try:
            return convert_simple(value, xsd_type)
        except _BadValue:
            raise ConfigurationError(f"{path} expects {expected(xsd_type)}, got {value!r}.") from None
    return value


def convert_arguments(operation: Any, argv: Sequence[str], label: str = "the operation") -> dict[str, Any]:
    """Positional and ``Name=value`` arguments as keyword arguments for the operation."""
    params = parameters(operation)
    by_name = {p.name: p for p in params}
    by_lower = {p.name.lower(): p for p in params}
    values: dict[str, Any] = {}
    position = 0
    for raw in argv:
        match = _NAMED.match(raw)
        if match and (match.group(1) in by_name or match.group(1).lower() in by_lower):
            parameter = by_name.get(match.group(1)) or by_lower[match.group(1).lower()]
            text = match.group(2)
        elif match and not _positional_string(params, position):
            raise _unknown_parameter(match.group(1), params, label)
        else:
            if position >= len(params):
                raise ConfigurationError(
                    f"Too many arguments: {label} takes {len(params)} "
                    f"({', '.join(p.name for p in params) or 'none'}), got {len(argv)}.")
            parameter, text = params[position], raw
            position += 1
        if parameter.name in values:
            raise ConfigurationError(f"Parameter {parameter.name} is given twice.")
        values[parameter.name] = convert_argument(text, parameter)
    return values


def _positional_string(params: list[Parameter], position: int) -> bool:
    """Whether the next positional parameter takes free text (so ``a=b`` may be its value)."""
    return position < len(params) and builtin_name(params[position].xsd_type) == "string" \
        and not params[position].many


def _unknown_parameter(name: str, params: list[Parameter], label: str) -> ConfigurationError:
    close = difflib.get_close_matches(name, [p.name for p in params], n=3, cutoff=0.5)
    names = ", ".join(p.name for p in params) or "none"
    return ConfigurationError(
        f"{label} has no parameter {name!r}.",
        hint=("Did you mean " + " or ".join(close) + "? " if close else "") + f"Its parameters: {names}.",
    )
