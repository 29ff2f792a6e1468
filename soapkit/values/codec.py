"""One codec per service description: the checked, shaped arguments of each operation, built once.

``codec_for(description).inputs("GetContactList").bind((1, 2, 3), {})`` gives the keyword arguments zeep
serialises; everything is derived from the parsed WSDL at run time and cached per operation.
"""

from __future__ import annotations

import difflib
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from zeep.xsd import ComplexType

from soapkit._memo import PerObject
from soapkit.catalog import ServiceDescription
from soapkit.errors import InvalidValue
from soapkit.values.inputs import InputOptions, ValueConverter
from soapkit.values.schema import EnumerationIndex


def agent_label(service: str) -> str:
    """``Contact`` -> ``ContactAgent`` (PartnerSystemUserService stays as it is)."""
    return service if service.endswith("Service") else f"{service}Agent"


class OperationInputs:
    """The parameters of one operation and how to check arguments given for them."""

    def __init__(self, description: ServiceDescription, name: str, converter: ValueConverter) -> None:
        operation = description.operation(name)
        body = operation.input.body
        self.label = f"{agent_label(description.name)}.{name}"
        self.converter = converter
        self.owner = body.qname.localname if body is not None and body.qname is not None else name
        self.parameters: list[tuple[str, Any]] = (
            list(body.type.elements) if body is not None and isinstance(body.type, ComplexType) else [])
        self.names = [parameter for parameter, _ in self.parameters]
        self._by_lower = {parameter.lower(): parameter for parameter in self.names}

    def bind(self, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Positional and keyword arguments as checked keyword arguments for zeep."""
        if len(args) > len(self.parameters):
            raise InvalidValue(
                f"Too many arguments: {self.label} takes {len(self.parameters)} "
                f"({', '.join(self.names) or 'none'}), got {len(args)}.", operation=self.label)
        given: dict[str, Any] = dict(zip(self.names, args, strict=False))  # surplus checked above
        for key, value in kwargs.items():
            name = self.parameter_name(key)
            if name in given:
                raise InvalidValue(f"Parameter {name} is given twice (in {self.label}).", operation=self.label,
                                   path=name)
            given[name] = value
        elements = dict(self.parameters)
        return {name: self.converter.element(value, elements[name], self.owner, name)
                for name, value in given.items()}

    def parameter_name(self, key: str) -> str:
        """The parameter ``key`` names (exact or differing only in case); an error with close names otherwise."""
        if key in self.names:
            return key
        folded = self._by_lower.get(key.lower())
        if folded is not None:
            return folded
        close = difflib.get_close_matches(key, self.names, n=3, cutoff=0.5)
        listed = ", ".join(self.names) or "none"
        raise InvalidValue(
            f"{self.label} has no parameter {key!r}.", operation=self.label, path=key, suggestions=close,
            hint=("Did you mean " + " or ".join(close) + "? " if close else "") + f"Its parameters: {listed}.",
        )


class ServiceCodec:
    """The operation inputs of one service description, built on first use (thread-safe)."""

    def __init__(self, description: ServiceDescription) -> None:
        # held weakly: the codec is kept per description (soapkit._memo.PerObject), which a strong reference back
        # would keep alive for good, with every zeep model built for it
        self._description = weakref.ref(description)
        self.enumerations = EnumerationIndex(description.path, cache=description.index_cache)
        self._lock = threading.Lock()
        self._inputs: dict[tuple[str, InputOptions], OperationInputs] = {}

    @property
    def description(self) -> ServiceDescription:
        """The service description (alive as long as anyone asks this codec: they hold it)."""
        description = self._description()
        assert description is not None, "codec_for(description) is only reached through a living description"
        return description

    def inputs(self, operation: str, options: InputOptions | None = None) -> OperationInputs:
        key = (operation, options or InputOptions())
        found = self._inputs.get(key)
        if found is None:
            description = self.description
            label = f"{agent_label(description.name)}.{operation}"
            found = OperationInputs(description, operation, ValueConverter(self.enumerations, key[1], label))
            with self._lock:
                found = self._inputs.setdefault(key, found)
        return found


_codecs: PerObject[ServiceDescription, ServiceCodec] = PerObject(ServiceCodec)


def codec_for(description: ServiceDescription) -> ServiceCodec:
    """The codec of a service description (one per description; dropped with it)."""
    return _codecs(description)
