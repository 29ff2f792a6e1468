"""The input side offline: what soapkit writes for Python values (dates, enums, flags, dictionaries, nesting)."""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

import pytest
from lxml import etree

from soapkit import Catalog, InvalidValue
from soapkit.values.codec import codec_for
from soapkit.values.inputs import InputOptions


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog()


def envelope(catalog: Catalog, service: str, operation: str, *args: Any, options: InputOptions | None = None,
             **kwargs: Any) -> str:
    values = codec_for(catalog.describe(service)).inputs(operation, options).bind(args, kwargs)
    client, proxy = catalog.bind(service, "http://127.0.0.1:9/x.svc", operation)
    return etree.tostring(client.create_message(proxy, operation, **values), encoding="unicode")


def closed(xml: str, tag: str) -> int:
    """How many elements named ``tag`` (any prefix) the envelope has."""
    return len(re.findall(rf"</\w+:{tag}>", xml))


def test_naive_datetimes_are_sent_as_written_and_aware_ones_in_utc(catalog: Catalog) -> None:
    naive = envelope(catalog, "Contact", "SaveContactEntity", {"Name": "x", "UpdatedDate": dt.datetime(2024, 5, 1, 12)})
    assert ">2024-05-01T12:00:00<" in naive
    oslo = dt.timezone(dt.timedelta(hours=2))
    aware = envelope(catalog, "Contact", "SaveContactEntity", {"Name": "x",
                                                               "UpdatedDate": dt.datetime(2024, 5, 1, 12, tzinfo=oslo)})
    assert ">2024-05-01T10:00:00Z<" in aware or ">2024-05-01T10:00:00+00:00<" in aware
    day = envelope(catalog, "Contact", "SaveContactEntity", {"Name": "x", "UpdatedDate": dt.date(2024, 5, 1)})
    assert ">2024-05-01T00:00:00<" in day


def test_aware_datetimes_can_be_refused(catalog: Catalog) -> None:
    with pytest.raises(InvalidValue, match="naive datetime"):
        envelope(catalog, "Contact", "SaveContactEntity",
                 {"Name": "x", "UpdatedDate": dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)},
                 options=InputOptions(aware_datetimes="refuse"))
    with pytest.raises(InvalidValue, match=r"ContactEntity\.UpdatedDate expects xsd:dateTime"):
        envelope(catalog, "Contact", "SaveContactEntity", {"Name": "x", "UpdatedDate": "2024-05-01"})


class Direction(enum.Enum):
    ASC = 1
    DESC = 2


def test_enums_by_name_flags_as_lists_and_dicts_for_dictionaries(catalog: Catalog) -> None:
    sent = envelope(catalog, "Archive", "GetArchiveListByColumns", "Contact", ["contactId", "name"],
                    [{"Name": "name", "Direction": Direction.DESC}],
                    [{"Name": "name", "Operator": "begins", "Values": ["A", "B"], "InterOperator": "or",
                      "SubRestrictions": [{"Name": "contactId", "Operator": "=", "Values": ["[I:1]"]}]}],
                    ["contact"], 0, 10)
    assert closed(sent, "string") == 2 + 2 + 1 + 1  # columns, values, sub-values and entities
    assert ">DESC<" in sent and ">Or<" in sent and ">[I:1]<" in sent
    saved = envelope(catalog, "Contact", "SaveContactEntity", {
        "Name": "x", "TableRight": {"Mask": ["Select", "update"]}, "UserDefinedFields": {"SuperOffice:1": "v"}})
    assert ">Select Update<" in saved and ">SuperOffice:1<" in saved and ">v<" in saved
    with pytest.raises(InvalidValue, match=r"TableRight\.Mask\[1\] expects one of") as caught:
        envelope(catalog, "Contact", "SaveContactEntity", {"Name": "x", "TableRight": {"Mask": ["Select", "Updte"]}})
    assert caught.value.suggestions == ["Update"]


def test_the_old_zeep_shapes_and_zeep_objects_are_accepted_too(catalog: Catalog) -> None:
    assert closed(envelope(catalog, "Contact", "GetContactList", {"int": [4, 5]}), "int") == 2
    described = catalog.describe("Contact")
    entity_type = described.types.get_type("{http://www.superoffice.net/ws/crm/NetServer/Services88}"
                                                    "ContactEntity")
    entity = entity_type(Name="Zeep AS")
    entity.Emails = [{"Value": "z@example.com"}]
    assert ">z@example.com<" in envelope(catalog, "Contact", "SaveContactEntity", entity)


def test_text_mode_parses_words_and_python_mode_does_not(catalog: Catalog) -> None:
    text = InputOptions(text=True)
    assert ">5<" in envelope(catalog, "Contact", "GetContactEntity", "5", options=text)
    assert closed(envelope(catalog, "Contact", "GetContactList", "1,2,3", options=text), "int") == 3
    with pytest.raises(InvalidValue, match="expects xsd:int"):
        envelope(catalog, "Contact", "GetContactEntity", "5")
    with pytest.raises(InvalidValue, match="a list or tuple"):
        envelope(catalog, "Contact", "GetContactList", "1,2,3")


def test_wrong_types_in_nested_places_name_their_path(catalog: Catalog) -> None:
    cases = [({"Name": 5}, "ContactEntity.Name expects xsd:string"),
             ({"Name": "x", "Emails": {"Value": "a"}}, "ContactEntity.Emails expects"),
             ({"Name": "x", "Emails": ["a@example.com"]}, r"ContactEntity.Emails\[0\] expects EntityElement"),
             ({"Name": "x", "NoMailing": "yes"}, "ContactEntity.NoMailing expects xsd:boolean"),
             ({"Name": "x", "Deleted": 40000}, "from -32768 to 32767"),
             ({"Name": "x", "Address": {"Wgs84Latitude": "60"}}, "Wgs84Latitude expects xsd:double")]
    for entity, message in cases:
        with pytest.raises(InvalidValue, match=message):
            envelope(catalog, "Contact", "SaveContactEntity", entity)


def test_an_empty_inner_list_of_a_list_of_lists_reads_as_an_empty_list(catalog: Catalog) -> None:
    from soapkit.values.outputs import shape

    described = catalog.describe("Contact")
    address = described.types.get_type("{http://www.superoffice.net/ws/crm/NetServer/Services88}Address")
    xml = etree.fromstring('<a xmlns:so="http://www.superoffice.net/ws/crm/NetServer/Services88"><so:LocalizedAddress>'
                           "<so:ArrayOfLocalizedField/></so:LocalizedAddress></a>")
    read = shape(address.parse_xmlelement(xml, described.types))
    assert read.LocalizedAddress == [[]] and read.Street is None


def test_a_missing_required_member_is_refused_before_sending_for_every_input_type() -> None:
    """Every complex type reachable from any operation's input that has required, non-nillable members: leaving
    one out raises InvalidValue naming it (zeep would only fail while writing the envelope)."""
    catalog, seen, checked = Catalog(index_cache=False), set(), 0

    def walk(converter: Any, xsd_type: Any, depth: int) -> None:
        nonlocal checked
        if depth > 6 or id(xsd_type) in seen or not hasattr(xsd_type, "elements"):
            return
        seen.add(id(xsd_type))
        fields = converter.fields(xsd_type)
        if fields.required:
            with pytest.raises(InvalidValue) as caught:
                converter.complex({}, xsd_type, "X")
            assert caught.value.path == f"X.{fields.required[0]}" and fields.required[0] in str(caught.value)
            checked += 1
        for _, element in xsd_type.elements:
            walk(converter, element.type, depth + 1)

    for service in catalog.services():
        described = catalog.describe(service)
        for name in described.operation_names:
            walk(codec_for(described).inputs(name).converter, described.operation(name).input.body.type, 0)
    assert checked >= 2


def test_durations_are_timedeltas_seconds_or_iso_text(catalog: Catalog) -> None:
    for value in (dt.timedelta(minutes=5), 300, 300.0, "300", "PT5M"):
        assert ">PT5M<" in envelope(catalog, "ErpSync", "ChangeEngineInterval", value)
    with pytest.raises(InvalidValue, match="Interval"):
        envelope(catalog, "ErpSync", "ChangeEngineInterval", "five minutes")
    with pytest.raises(InvalidValue, match="Interval"):
        envelope(catalog, "ErpSync", "ChangeEngineInterval", True)
