"""Save*Entity then Get*Entity of a company and a person with every kind of field filled: nothing is lost.

The entities are written as plain Python (lists, dicts, datetimes); what comes back is compared field by
field through soapkit.plain, so a member the client drops or the sandbox's store forgets fails the test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import soapkit
from soapkit import connect
from soapkit.credentials.system_user import SystemUser
from soapkit.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

@pytest.fixture(scope="module")
def so(own_sandbox: Sandbox) -> Any:
    cfg = own_sandbox.config
    return connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                   credentials=SystemUser(cfg["system_user_token"], cfg["private_key_xml"]))


def elements(*values: str) -> list[dict[str, str]]:
    return [{"Value": value, "Description": f"about {value}"} for value in values]


def interests() -> list[dict[str, Any]]:
    return [{"Id": 3, "Name": "Golf", "ToolTip": "plays golf", "Deleted": False, "Rank": 1, "Type": "interest",
             "ColorBlock": 0, "IconHint": "star", "Selected": True, "LastChanged": dt.datetime(2024, 5, 1, 8, 30),
             "ChildItems": [], "ExtraInfo": "x", "StyleHint": "bold", "Hidden": False, "FullName": "Sport/Golf"},
            {"Id": 4, "Name": "Sailing", "Selected": False, "ChildItems": []}]


def address(kind_street: str, kind_postal: str) -> dict[str, Any]:
    def part(kind: str, city: str) -> dict[str, str]:
        return {"AtypeIdx": kind, "Address1": f"{city} gate 1", "Address2": "2nd floor", "Address3": "c/o desk",
                "City": city, "County": "Vestland", "State": "N/A", "Zipcode": "5003"}
    return {"Wgs84Latitude": 60.39, "Wgs84Longitude": 5.32, "Street": part(kind_street, "Bergen"),
            "Postal": part(kind_postal, "Oslo")}


def udfs() -> dict[str, str]:
    return {"SuperOffice:1": "first", "SuperOffice:2": "[I:42]", "SuperOffice:3": "æøå"}


def assert_kept(sent: dict[str, Any], read: Any) -> None:
    got = soapkit.plain(read)
    expected = soapkit.plain(sent)
    for name, value in expected.items():
        assert _subset(value, got[name]), f"{name}: sent {value!r}, read {got[name]!r}"


def _subset(sent: Any, read: Any) -> bool:
    """Everything sent is in what was read (a read also has computed members, such as StrippedValue)."""
    if isinstance(sent, dict):
        return isinstance(read, dict) and all(_subset(v, read.get(k)) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(read, list) and len(sent) == len(read) and all(map(_subset, sent, read))
    return bool(sent == read)


def pairs(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in values.items()]


def test_a_company_with_every_field_filled_comes_back_whole(so: Any) -> None:
    company = {
        "Name": "Fullt Utfylt AS", "Department": "Sales", "OrgNr": "912345678", "Number1": "A-1", "Number2": "B-2",
        "Description": "all fields", "Kananame": "kana", "NoMailing": True, "Xstop": True,
        "Category": {"Id": 1}, "Business": {"Id": 1}, "Country": {"CountryId": 578},
        "Emails": elements("a@example.com", "b@example.com"), "Phones": elements("+47 55 00 00 01", "+47 55 00 00 02"),
        "Faxes": elements("+47 55 00 00 09"), "Urls": elements("https://example.com", "https://example.org"),
        "Interests": interests(), "Address": address("ContactStreetAddress", "ContactPostalAddress"),
        "BounceEmails": ["bounced@example.com"], "Domains": ["example.com", "example.org"],
        "UserDefinedFields": udfs(), "ExtraFields": {"x_erp_id": "E-77"}, "CustomFields": {"custom": "yes"},
    }
    saved = so.ContactAgent.SaveContactEntity(company)
    read = so.ContactAgent.GetContactEntity(saved.ContactId)
    assert read.ActiveInterests == 1
    expected = {**company, "UserDefinedFields": pairs(udfs()), "ExtraFields": pairs({"x_erp_id": "E-77"}),
                "CustomFields": pairs({"custom": "yes"})}
    assert_kept(expected, read)
    assert_kept(expected, saved)
    again = so.ContactAgent.SaveContactEntity(read)  # read, save unchanged: still whole
    assert_kept(expected, so.ContactAgent.GetContactEntity(again.ContactId))


def test_a_person_with_every_field_filled_comes_back_whole(so: Any) -> None:
    person = {
        "Firstname": "Frida", "MiddleName": "F.", "Lastname": "Fyll", "Mrmrs": "Ms", "Title": "CTO",
        "Description": "all fields", "PersonNumber": "P-1", "Salutation": "Dear Frida", "Kanafname": "f",
        "Kanalname": "l", "BirthDate": dt.datetime(1980, 2, 29), "NoMailing": True, "UsePersonAddress": True,
        "Contact": {"ContactId": 1}, "Position": {"Id": 1}, "Country": {"CountryId": 578},
        "Emails": elements("frida@example.com"), "OfficePhones": elements("+47 1"), "MobilePhones": elements("+47 2"),
        "PrivatePhones": elements("+47 3"), "OtherPhones": elements("+47 4"), "Faxes": elements("+47 5"),
        "Urls": elements("https://frida.example"), "ChatEmails": elements("frida@chat.example"),
        "InternetPhones": elements("sip:frida@example.com"), "Interests": interests(),
        "Address": address("PersonPrivateAddress", "PersonPrivateAddress"), "BounceEmails": ["old@example.com"],
        "UserDefinedFields": udfs(), "ExtraFields": {"x": "1"}, "CustomFields": {"y": "2"},
    }
    saved = so.PersonAgent.SavePersonEntity(person)
    read = so.PersonAgent.GetPersonEntity(saved.PersonId)
    expected = {**person, "Contact": {"ContactId": 1}, "UserDefinedFields": pairs(udfs()),
                "ExtraFields": pairs({"x": "1"}), "CustomFields": pairs({"y": "2"})}
    assert_kept(expected, read)
    read.Emails.append({"Value": "second@example.com"})
    changed = so.PersonAgent.GetPersonEntity(so.PersonAgent.SavePersonEntity(read).PersonId)
    assert [e.Value for e in changed.Emails] == ["frida@example.com", "second@example.com"]


def test_an_empty_string_saved_reads_back_as_an_empty_string(so: Any) -> None:
    saved = so.ContactAgent.SaveContactEntity({"Name": "Empty AS", "Department": ""})
    assert saved.Department == ""
    assert so.ContactAgent.GetContactEntity(saved.ContactId).Department == ""


def _string_fields(xsd_type: Any) -> list[Any]:
    from zeep.xsd.types.builtins import String

    return [element for _, element in getattr(xsd_type, "elements", []) if isinstance(element.type, String)]


def test_every_operations_answer_keeps_empty_strings_and_nil() -> None:
    """For every operation of every shipped agent whose result has a string field: zeep, after the pass, reads
    that field's empty element as "" and its nil element as None."""
    from lxml import etree

    from soapkit.catalog import Catalog
    from soapkit.values.empty_strings import mark_empty_strings

    def read(wrapper: Any, result: Any, field: Any, schema: Any, nil: bool) -> Any:
        node = etree.Element(wrapper.qname)
        value = etree.SubElement(etree.SubElement(node, result.qname), field.qname)
        if nil:
            value.set("{http://www.w3.org/2001/XMLSchema-instance}nil", "true")
        mark_empty_strings(node, wrapper.type, schema)
        parsed = getattr(wrapper.parse(node, schema), result.name)
        got = getattr(parsed[0] if isinstance(parsed, list) else parsed, field.name)
        return got[0] if isinstance(got, list) else got  # a repeated field (ArrayOfstring) holds a list

    catalog, checked = Catalog(index_cache=False), 0
    for service in catalog.services():
        described = catalog.describe(service)
        for name in described.operation_names:
            wrapper = described.operation(name).output.body
            for _, result in getattr(wrapper.type, "elements", []):
                fields = _string_fields(result.type)
                if fields:
                    assert read(wrapper, result, fields[0], described.types, nil=False) == "", (service, name)
                    assert read(wrapper, result, fields[0], described.types, nil=True) is None, (service, name)
                    checked += 1
    assert checked > 500
