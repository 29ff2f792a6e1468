"""Property: a value built from plain Python for any complex type of the Contact, Person, Sale, Appointment and
Project operations, serialised by soapkit, reads back the same with plain zeep on SuperOffice's reference WSDL.

Values are generated from the schema itself (strings, bounded ints, doubles, booleans, naive datetimes, enum
names, lists for list wrappers, nested types to a small depth); soapkit's value layer shapes them, zeep on the
same reference WSDL writes the envelope, and an independent zeep parse of that XML is compared through plain().
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from zeep.xsd import ComplexType

from soapkit import Catalog
from soapkit.values.codec import codec_for
from soapkit.values.inputs import ValueConverter
from soapkit.values.outputs import plain
from soapkit.values.schema import INTEGER_RANGES, builtin_name, is_many, list_item

SERVICES = ("Contact", "Person", "Sale", "Appointment", "Project")
NS = "{http://www.superoffice.net/ws/crm/NetServer/Services88}"
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
DATETIMES = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0))


def complex_types(description: Any) -> list[Any]:
    """Every complex type reachable from the operations' inputs (the types a caller builds)."""
    found: dict[str, Any] = {}
    pending = [element.type for name in description.operation_names
               for _, element in description.operation(name).input.body.type.elements]
    while pending:
        xsd_type = pending.pop()
        if not isinstance(xsd_type, ComplexType):
            continue
        key = getattr(xsd_type, "name", None) or str(id(xsd_type))
        if key in found:
            continue
        found[key] = xsd_type
        pending.extend(element.type for _, element in xsd_type.elements)
    return [t for name, t in sorted(found.items()) if getattr(t, "qname", None) is not None and list_item(t) is None]


def simple_values(converter: ValueConverter, owner: str, name: str, xsd_type: Any) -> st.SearchStrategy[Any]:
    found = converter.enumerations.for_element(owner, name, xsd_type)
    if found is not None:
        names = st.sampled_from(found.values)
        return st.lists(names, min_size=1, max_size=2, unique=True) if found.flags else names
    base = builtin_name(xsd_type)
    if base in INTEGER_RANGES:
        low, high = INTEGER_RANGES[base]
        return st.integers(min_value=max(low or 0, -1000), max_value=min(high or 1000, 1000))
    return {"boolean": st.booleans(), "double": st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3)),
            "dateTime": DATETIMES, "string": TEXT}.get(base or "", st.nothing())


def values_for(converter: ValueConverter, xsd_type: Any, depth: int) -> st.SearchStrategy[Any]:
    """Plain Python for a complex type: a dict of some of its fields (lists for wrappers, nested dicts)."""
    owner = xsd_type.name
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, element in xsd_type.elements:
        strategy = field_values(converter, owner, name, element, max(depth, 1) if element.min_occurs else depth)
        if strategy is not None:
            (required if element.min_occurs else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def field_values(converter: ValueConverter, owner: str, name: str, element: Any,
                 depth: int) -> st.SearchStrategy[Any] | None:
    xsd_type = element.type
    item = list_item(xsd_type) if isinstance(xsd_type, ComplexType) else None
    if item is not None:
        inner = field_values(converter, xsd_type.name, item[0], item[1], depth) if depth > 0 else None
        return st.lists(inner, max_size=2) if inner is not None else None
    if isinstance(xsd_type, ComplexType):
        return values_for(converter, xsd_type, depth - 1) if depth > 0 and xsd_type.name else None
    strategy = simple_values(converter, owner, name, xsd_type)
    return None if strategy.is_empty or is_many(element) else strategy


def normal(value: Any) -> Any:
    """Sent and read values in one form: empty lists and None are both 'nothing', flags a list."""
    if isinstance(value, dict):
        kept = {k: normal(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [])} or None  # zeep reads <x/> as None
    if isinstance(value, list):  # inside a list, an empty inner list is read back as None (zeep)
        return [None if v == [] else normal(v) for v in value]
    return value


class Cases(dict):  # type: ignore[type-arg]
    def __repr__(self) -> str:  # hypothesis prints its arguments: keep that short
        return f"<{len(self)} types>"


@pytest.fixture(scope="module")
def cases(reference_wsdl_dir: Path) -> dict[str, tuple[Any, ValueConverter, Any]]:
    """``Service/TypeName`` -> (description, converter, type), for every type of the five services."""
    catalog = Catalog([reference_wsdl_dir / "Services88"], include_bundled=False)
    found = Cases()
    for service in SERVICES:
        described = catalog.describe(service)
        converter = codec_for(described).inputs(described.operation_names[0]).converter
        for xsd_type in complex_types(described):
            found[f"{service}/{xsd_type.name}"] = (described, converter, xsd_type)
    return found


def test_there_are_many_types_to_check(cases: dict[str, Any]) -> None:
    names = {key.split("/")[1] for key in cases}
    assert len(names) > 60 and {"ContactEntity", "PersonEntity", "SaleEntity", "AppointmentEntity",
                                 "ProjectEntity"} <= names


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_values_survive_soapkit_serialisation_and_an_independent_zeep_parse(cases: dict[str, Any], data: Any) -> None:
    described, converter, xsd_type = cases[data.draw(st.sampled_from(sorted(cases)), label="type")]
    value = data.draw(values_for(converter, xsd_type, depth=2), label=xsd_type.name)
    shaped = converter.typed(value, xsd_type, xsd_type.name, xsd_type.name, xsd_type.name)
    node = etree.Element("value")
    xsd_type.render(node, xsd_type(**shaped))
    xml = etree.fromstring(etree.tostring(node))  # the bytes on the wire, parsed afresh
    read = xsd_type.parse_xmlelement(xml, described.types)
    assert normal(plain(read)) == normal(plain(value)), etree.tostring(xml)[:2000]
