"""Operation arguments on the command line.

``soapkit call ContactAgent.GetContactEntity 5`` maps positional arguments to the operation's parameters in
order; ``Name=value`` names one. Complex values are JSON, inline or from a file (``Entity=@company.json``);
arrays of simple values may also be given as ``1,2,3``. The words become Python values here; converting and
checking them against the WSDL (int, boolean, dateTime, enums, field names) is done by :mod:`soapkit.values`,
the same code that serves Python callers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeep.xsd import ComplexType

from soapkit.catalog import DEFAULT_VERSION, Catalog, ServiceDescription
from soapkit.errors import ConfigurationError, InvalidValue
from soapkit.values.codec import agent_label, codec_for
from soapkit.values.inputs import InputOptions
from soapkit.values.schema import builtin_name, is_many, list_item, type_label
from soapkit.values.text import expected as describe_expected

XSD = "http://www.w3.org/2001/XMLSchema"
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
TEXT = InputOptions(text=True)


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
    return agent_label(service)


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
        return is_many(self.element)

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
    return type_label(xsd_type)


def array_item(xsd_type: Any) -> tuple[str, Any] | None:
    """For a list wrapper (``ArrayOfX``: one repeated element), that element's name and element."""
    return list_item(xsd_type)


def expected(xsd_type: Any) -> str:
    return describe_expected(xsd_type)


# --- reading arguments -------------------------------------------------------------------------
# The command line only turns words into Python values (text, JSON, @file, null); checking and shaping them
# against the WSDL is soapkit.values' job, the same as for Python callers.


def read_argument(raw: str, parameter: Parameter) -> Any:
    """One argument's text: ``null`` is None, complex values are JSON (inline or ``@file``), the rest text."""
    if raw.strip() == "null":
        return None
    if isinstance(parameter.xsd_type, ComplexType):
        return _complex_text(raw, parameter)
    if parameter.many:
        return _list_text(raw)
    return raw


def _list_text(raw: str) -> Any:
    text = raw.strip()
    if text.startswith("["):
        return _json(text, "list")
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


def read_arguments(target: Target, argv: Sequence[str]) -> dict[str, Any]:
    """Positional and ``Name=value`` words as keyword arguments (text or JSON values, not yet checked)."""
    params = parameters(target.operation)
    inputs = codec_for(target.service).inputs(target.operation_name, TEXT)
    values: dict[str, Any] = {}
    position = 0
    for raw in argv:
        match = _NAMED.match(raw)
        known = match is not None and match.group(1).lower() in {p.name.lower() for p in params}
        if match and known:
            parameter = next(p for p in params if p.name == inputs.parameter_name(match.group(1)))
            text = match.group(2)
        elif match and not _positional_string(params, position):
            inputs.parameter_name(match.group(1))  # raises, with close names
            raise AssertionError("unreachable")
        else:
            if position >= len(params):
                raise InvalidValue(
                    f"Too many arguments: {target.label} takes {len(params)} "
                    f"({', '.join(p.name for p in params) or 'none'}), got {len(argv)}.", operation=target.label)
            parameter, text = params[position], raw
            position += 1
        if parameter.name in values:
            raise InvalidValue(f"Parameter {parameter.name} is given twice.", operation=target.label)
        values[parameter.name] = read_argument(text, parameter)
    return values


def convert_arguments(target: Target, argv: Sequence[str]) -> dict[str, Any]:
    """The words of the command line as checked, shaped keyword arguments for zeep."""
    return codec_for(target.service).inputs(target.operation_name, TEXT).bind((), read_arguments(target, argv))


def _positional_string(params: list[Parameter], position: int) -> bool:
    """Whether the next positional parameter takes free text (so ``a=b`` may be its value)."""
    return position < len(params) and builtin_name(params[position].xsd_type) == "string" \
        and not params[position].many
