"""Issue 9's list of silent losses, each as a test against the sandbox: plain Python in, plain Python out."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from zeep.xsd.valueobjects import CompoundValue

import soapkit
from soapkit import InvalidValue, Recorder, SoapkitError, connect
from soapkit.credentials.system_user import SystemUser
from soapkit.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

@pytest.fixture(scope="module")
def sandbox(own_sandbox: Sandbox) -> Sandbox:
    return own_sandbox  # these tests save companies: a sandbox of their own


@pytest.fixture()
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture()
def so(sandbox: Sandbox, recorder: Recorder) -> Any:
    cfg = sandbox.config
    return connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                   credentials=SystemUser(cfg["system_user_token"], cfg["private_key_xml"]), recorder=recorder)


def test_a_list_of_ids_by_keyword_or_position_returns_every_contact(so: Any) -> None:
    by_keyword = so.ContactAgent.GetContactList(ContactIds=[1, 2, 3])
    by_position = so.ContactAgent.GetContactList((1, 2, 3))
    assert [c.ContactId for c in by_keyword] == [1, 2, 3]
    assert [c.ContactId for c in by_position] == [1, 2, 3]


def test_archive_columns_and_entities_given_as_lists_are_sent(so: Any) -> None:
    rows = so.ArchiveAgent.GetArchiveListByColumns("Contact", ["contactId", "name"], [], [], ["contact"], 0, 10)
    assert rows and all(isinstance(row.ColumnData, list) for row in rows)
    assert [pair.Key for pair in rows[0].ColumnData] == ["contactId", "name"]
    assert rows[0].ColumnData[0].Value.DisplayValue == f"[I:{rows[0].PrimaryKey}]"


def test_emails_given_as_a_list_of_dicts_are_stored(so: Any) -> None:
    entity = so.ContactAgent.CreateDefaultContactEntity()
    entity.Name = "Two Mails AS"
    entity.Emails = [{"Value": "a@example.com"}, {"Value": "b@example.com"}]
    saved = so.ContactAgent.SaveContactEntity(entity)
    again = so.ContactAgent.GetContactEntity(saved.ContactId)
    assert [e.Value for e in again.Emails] == ["a@example.com", "b@example.com"]


def test_a_result_can_be_changed_and_saved_again(so: Any) -> None:
    company = so.ContactAgent.GetContactEntity(1)
    assert company["Name"] == company.Name
    company.Phones = [*company.Phones, {"Value": "+47 22 00 00 00", "Description": "switchboard"}]
    company.Department = "Read-change-save"
    saved = so.ContactAgent.SaveContactEntity(company)
    assert saved.Department == "Read-change-save"
    assert saved.Phones[-1].Value == "+47 22 00 00 00" and saved.Phones[-1].Description == "switchboard"


def test_a_misspelt_field_is_refused_before_anything_is_sent(so: Any, recorder: Recorder) -> None:
    with pytest.raises(InvalidValue) as caught:
        so.ContactAgent.SaveContactEntity({"Nmae": "Acme"})
    error = caught.value
    assert error.operation == "ContactAgent.SaveContactEntity" and error.path == "ContactEntity.Nmae"
    assert "Nmae" in str(error) and error.suggestions == ["Name"] and "Did you mean Name?" in str(error)
    assert recorder.exchanges == []


def test_a_misspelt_field_deep_inside_a_list_names_its_path(so: Any) -> None:
    entity = {"Name": "Acme", "Emails": [{"Value": "a@example.com"}, {"Vaule": "b@example.com"}]}
    with pytest.raises(InvalidValue, match=r"ContactEntity\.Emails\[1\]\.Vaule") as caught:
        so.ContactAgent.SaveContactEntity(entity)
    assert caught.value.suggestions == ["Value"]


@pytest.mark.parametrize(("args", "kwargs", "message", "path"), [
    (("abc",), {}, "expects xsd:int (a whole number), got 'abc'", "ContactEntityId"),
    ((2**31,), {}, "from -2147483648 to 2147483647", "ContactEntityId"),
    ((1.5,), {}, "expects xsd:int", "ContactEntityId"),
    ((True,), {}, "expects xsd:int", "ContactEntityId"),
    ((1, 2), {}, "Too many arguments: ContactAgent.GetContactEntity takes 1 (ContactEntityId), got 2", None),
    ((), {"ContactId": 1}, "has no parameter 'ContactId'", "ContactId"),
    ((1,), {"ContactEntityId": 1}, "given twice", "ContactEntityId"),
])
def test_wrong_arguments_are_soapkit_errors_before_anything_is_sent(
        so: Any, recorder: Recorder, args: tuple[Any, ...], kwargs: dict[str, Any], message: str,
        path: str | None) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)) as caught:
        so.ContactAgent.GetContactEntity(*args, **kwargs)
    assert isinstance(caught.value, SoapkitError) and caught.value.path == path
    assert caught.value.operation == "ContactAgent.GetContactEntity"
    assert recorder.exchanges == []




def test_case_insensitive_names_are_accepted_and_misspelt_ones_suggested(so: Any) -> None:
    assert so.ContactAgent.GetContactEntity(contactentityid=1).ContactId == 1
    with pytest.raises(InvalidValue, match="Did you mean ContactEntityId"):
        so.ContactAgent.GetContactEntity(ContactEntityIdd=1)


def test_an_unknown_enum_name_is_refused_with_the_allowed_names(so: Any) -> None:
    entity = {"Name": "Acme", "Address": {"Street": {"AtypeIdx": "ContactStretAddress"}}}
    with pytest.raises(InvalidValue, match=r"ContactEntity\.Address\.Street\.AtypeIdx expects one of") as caught:
        so.ContactAgent.SaveContactEntity(entity)
    assert caught.value.suggestions[0] == "ContactStreetAddress"


def test_nested_wrappers_come_back_as_lists_everywhere(so: Any) -> None:
    company = so.ContactAgent.GetContactEntity(1)
    for name in ("Emails", "Phones", "Urls", "Faxes", "Interests", "Persons", "BounceEmails", "Domains",
                 "UserDefinedFields", "ExtraFields", "CustomFields"):
        assert isinstance(company[name], list), name
    assert all(isinstance(person, CompoundValue) for person in company.Persons)
    assert company.Address.Street.AtypeIdx == "ContactStreetAddress"


def test_plain_gives_json_ready_values_with_the_wsdl_names(so: Any) -> None:
    company = so.ContactAgent.GetContactEntity(1)
    value = soapkit.plain(company)
    assert json.loads(json.dumps(value)) == value
    assert value["ContactId"] == 1 and isinstance(value["Emails"], list) and isinstance(value["Persons"], list)
    assert value["CreatedDate"] == company.CreatedDate.isoformat()
    assert isinstance(company.CreatedDate, dt.datetime)  # plain() does not change the result itself


def test_archive_values_are_decoded_by_so_archive(so: Any) -> None:
    rows = list(so.archive("Contact", ["contactId", "name", "registeredDate"], page_size=3))
    assert rows and all(isinstance(r["contactId"], int) and r["contactId"] == r.primary_key for r in rows)
    assert all(isinstance(r["registeredDate"], dt.datetime) for r in rows)
