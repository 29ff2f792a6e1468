"""A catalog that gives each zeep document only the types its operations need (``Catalog(types="needed")``, what
``soapkit call`` uses) means exactly what the shared-schema catalog means, for every operation of the contract:
the same signatures, the same answers read and the same requests written."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import zeep.exceptions
from codec_messages import AnswerMaker, ArgumentMaker
from lxml import etree

from soapkit import wsdl_index
from soapkit.catalog import Catalog
from soapkit.codec import CodecFallback, compiled
from soapkit.codec.reference import zeep_reply, zeep_request
from soapkit.values.codec import codec_for

HEADERS = {"ApplicationToken": "app-secret", "Credentials": {"Ticket": "7T:ticket"}}


@pytest.fixture(scope="module")
def shared() -> Catalog:
    return Catalog(index_cache=False)


@pytest.fixture(scope="module")
def needed() -> Catalog:
    return Catalog(index_cache=False, chunk=1, types="needed")


def _tree(value: Any) -> Any:
    """A decoded value as plain data with its classes' names (two schemas' classes are different objects)."""
    if isinstance(value, list):
        return [_tree(item) for item in value]
    if hasattr(value, "__values__"):
        return type(value).__name__, {key: _tree(item) for key, item in value.__values__.items()}
    return type(value), value


def _read(description: Any, name: str, content: bytes) -> Any:
    """The answer as the compiled codec and as zeep read it."""
    try:
        reply = compiled(description, name).decode(content)
        mine: Any = _tree(reply.header), _tree(reply.value)
    except CodecFallback as fallback:
        mine = "fallback", fallback.reason
    try:
        theirs = zeep_reply(description, name, content)
        zeeps: Any = _tree(theirs.header), _tree(theirs.value)
    except zeep.exceptions.Error as error:
        zeeps = type(error), str(error)
    return mine, zeeps


def _written(description: Any, name: str, arguments: dict[str, Any]) -> Any:
    """The request as the compiled codec and as zeep write it."""
    values = codec_for(description).inputs(name).bind((), arguments)
    return compiled(description, name).encode(values, HEADERS), zeep_request(description, name, values, HEADERS)


def test_every_operation_means_the_same_with_only_the_types_it_needs(shared: Catalog, needed: Catalog) -> None:
    pruned = whole = 0
    for service in shared.services():
        ours, theirs = needed.describe(service), shared.describe(service)
        for name in theirs.operation_names:
            small, full = ours.operation(name), theirs.operation(name)
            assert small.input.signature() == full.input.signature(), f"{service}.{name}"
            assert small.output.signature() == full.output.signature(), f"{service}.{name}"
            if not ours.per_operation:
                continue  # a self-contained WSDL: one document of its own either way
            if _type_count(small) < _type_count(full):
                pruned += 1
            else:
                whole += 1
            rng = random.Random(f"needed/{service}/{name}")
            answer = AnswerMaker(theirs, name, rng, siblings=False).envelope()  # schema-valid xsi:types
            assert _read(ours, name, answer) == _read(theirs, name, answer), f"{service}.{name}: {answer!r}"
            arguments = ArgumentMaker(theirs, name, random.Random(f"needed-args/{service}/{name}")).arguments()
            assert _written(ours, name, arguments) == _written(theirs, name, arguments), f"{service}.{name}"
    assert pruned > 1900, (pruned, whole)  # all but the few whose types hold xs:anyType
    assert 0 < whole < 20, (pruned, whole)


def _type_count(operation: Any) -> int:
    return sum(len(document._types) for document in operation.binding.wsdl.types.documents)


def test_a_document_gets_the_types_it_references_their_subtypes_and_no_others(needed: Catalog) -> None:
    schema = needed.describe("Contact").operation("GetContactEntity").binding.wsdl.types
    namespace = "http://www.superoffice.net/ws/crm/NetServer/Services88"
    for present in ("ContactEntity", "Person", "Carrier", "SoExceptionInfo", "SoTimeZone"):
        assert schema.get_type(f"{{{namespace}}}{present}") is not None
    with pytest.raises(Exception, match="ArchiveListItem"):  # a type no part of the operation uses
        schema.get_type(f"{{{namespace}}}ArchiveListItem")


def _components(text: str) -> wsdl_index.SchemaComponents:
    return wsdl_index.SchemaComponents(etree.fromstring(text.encode()))


SCHEMA = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t">
  <xs:import namespace="urn:other" schemaLocation="Other.xsd"/>
  <xs:element name="Header" type="t:Base"/>
  <xs:complexType name="Base"><xs:sequence><xs:element name="Kind" type="t:Kind"/></xs:sequence></xs:complexType>
  <xs:complexType name="Derived"><xs:complexContent><xs:extension base="t:Base"><xs:sequence>
    <xs:element name="More" type="t:Leaf"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
  <xs:complexType name="Leaf"><xs:sequence><xs:element name="Text" type="xs:string"/></xs:sequence></xs:complexType>
  <xs:complexType name="Sibling"><xs:complexContent><xs:extension base="t:Root"/></xs:complexContent></xs:complexType>
  <xs:complexType name="Root"><xs:sequence/></xs:complexType>
  <xs:complexType name="Child"><xs:complexContent><xs:extension base="t:Root"><xs:sequence>
    <xs:element name="Anything"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
  <xs:simpleType name="Kind"><xs:restriction base="xs:string"><xs:enumeration value="A"/></xs:restriction>
  </xs:simpleType>
  <xs:complexType name="Unused"><xs:sequence/></xs:complexType>
</xs:schema>"""


def test_the_closure_takes_subtypes_of_used_types_only_and_gives_up_on_any_type() -> None:
    components = _components(SCHEMA)
    assert components.closure(iter([("element", "Header", True)])) == {
        ("element", "Header"), ("type", "Base"), ("type", "Derived"), ("type", "Leaf"), ("type", "Kind")}
    # a type reached only as a base brings its own members, not its other subtypes
    assert components.closure(iter([("type", "Sibling", True)])) == {("type", "Sibling"), ("type", "Root")}
    # an element of xs:anyType (no type at all) may carry any xsi:type: no closure is exact
    assert components.closure(iter([("type", "Child", True)])) is None
    assert components.closure(iter([("type", "Nowhere", True)])) is None
    pruned = etree.fromstring(components.pruned({("type", "Leaf")}))
    assert [child.get("name") or child.get("namespace") for child in pruned] == ["urn:other", "Leaf"]


def test_the_shared_schema_is_used_where_the_closure_is_not_exact(needed: Catalog, shared: Catalog) -> None:
    answer = needed.describe("AI").operation("Answer").binding.wsdl.types
    full = shared.describe("AI").operation("Answer").binding.wsdl.types
    assert _count(answer) == _count(full)


def _count(schema: Any) -> int:
    return sum(len(document._types) for document in schema.documents)


def test_a_changed_schema_file_is_read_again(tmp_path: Path) -> None:
    from soapkit.catalog import ZEEP_SETTINGS, NeededSchemas, SharedSchemas

    schemas = NeededSchemas(ZEEP_SETTINGS, SharedSchemas(ZEEP_SETTINGS))
    path = tmp_path / "Types.xsd"
    path.write_text(SCHEMA)
    first = schemas.components(path)
    assert schemas.components(path) is first
    path.write_text(SCHEMA.replace('<xs:complexType name="Unused"><xs:sequence/></xs:complexType>', ""))
    again = schemas.components(path)
    assert again is not first and ("type", "Unused") not in again.components


def test_an_unknown_types_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="needed"):
        Catalog(index_cache=False, types="some")  # type: ignore[arg-type]


def test_an_xsi_type_outside_the_declared_types_family_is_refused_loudly_never_misread(
        needed: Catalog, shared: Catalog) -> None:
    """What a schema-valid answer never holds: ``xsi:type`` naming a type that does not derive from the element's
    declared type (here a sibling under Carrier). The shared schema reads it as that type; a document with only
    the needed types cannot, and the call fails with ResponseRejected instead of giving a different value."""
    from soapkit.calls import reading_error
    from soapkit.errors import ResponseRejected

    namespace = "http://www.superoffice.net/ws/crm/NetServer/Services88"
    answer = (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
              f'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><s:Body>'
              f'<GetContactEntityResponse xmlns="{namespace}" xmlns:so="{namespace}"><Response><ContactId>5</ContactId>'
              '<UpdatedBy i:type="so:PreferenceDescriptionLine"><PrefDescLineId>3</PrefDescLineId></UpdatedBy>'
              "</Response></GetContactEntityResponse></s:Body></s:Envelope>").encode()
    full = shared.describe("Contact")
    assert type(compiled(full, "GetContactEntity").decode(answer).value.UpdatedBy).__name__ == \
        "PreferenceDescriptionLine"
    small = needed.describe("Contact")
    with pytest.raises(CodecFallback, match="PreferenceDescriptionLine"):
        compiled(small, "GetContactEntity").decode(answer)
    with pytest.raises(zeep.exceptions.Error) as refused:
        zeep_reply(small, "GetContactEntity", answer)
    assert isinstance(reading_error(refused.value), ResponseRejected)
