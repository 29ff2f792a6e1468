"""The sandbox's Archive agent through soapkit and through a strict zeep client on the real WSDL.

Seed (see soapkit.sandbox.seed): contacts 1-5, persons 1-10 (two per contact, in order), all created
and last updated in 2023-2024. Only ``test_sync_job`` changes data, on a sandbox of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zeep

import soapkit
from soapkit.errors import AgentError
from soapkit.sandbox import Sandbox
from soapkit.sandbox.agents import archive

NS = "{http://www.superoffice.net/ws/crm/NetServer/Services88}"


def connect(sb: Sandbox) -> Any:
    cfg = sb.config
    return soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                           credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_pem"]))


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(data_dir=tmp_path_factory.mktemp("archive"), port=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def so(sb: Sandbox) -> Any:
    return connect(sb)


def restriction(name: str, operator: str, *values: str, **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Operator": operator, "Values": {"string": list(values)}, "IsActive": True, **extra}


def archive_list(so: Any, provider: str, columns: list[str], restrictions: list[dict[str, Any]] | None = None,
                 sort: list[tuple[str, str]] | None = None, *, entities: list[str] | None = None, page: int = 0,
                 page_size: int = 50) -> list[Any]:
    return so.ArchiveAgent.GetArchiveListByColumns(
        ProviderName=provider, Columns={"string": columns},
        SortOrder={"ArchiveOrderByInfo": [{"Name": n, "Direction": d} for n, d in sort or []]},
        Restriction={"ArchiveRestrictionInfo": restrictions or []},
        Entities={"string": entities or []}, Page=page, PageSize=page_size) or []


def keys(items: list[Any]) -> list[int]:
    return [item["PrimaryKey"] for item in items]


def row(item: Any) -> dict[str, str | None]:
    return {pair["Key"]: pair["Value"]["DisplayValue"] for pair in item["ColumnData"]}  # a list since issue 9


def by_string(so: Any, provider: str, columns: str, restrictions: str = "", sort: str = "", entities: str = "",
              page: int = 0, page_size: int = 0) -> list[Any]:
    return so.ArchiveAgent.GetArchiveListByColumns2(
        ProviderName=provider, Columns=columns, SortOrder=sort, Restrictions=restrictions, Entities=entities,
        Page=page, PageSize=page_size) or []


# --- columns and values -------------------------------------------------------------------------------

def test_contact_columns_are_encoded_like_netserver(so: Any) -> None:
    items = archive_list(so, "Contact", ["contactId", "name", "department", "orgnr", "category", "business",
                                         "country", "associateId", "registeredDate", "updatedDate", "stop",
                                         "email/emailAddress", "postAddress/city"],
                         [restriction("contactId", "equals", "[I:2]")])
    assert len(items) == 1
    item = items[0]
    assert (item["EntityName"], item["PrimaryKey"], item["LinkHint"]) == ("contact", 2, "contact_id=2")
    assert row(item) == {
        "contactId": "[I:2]", "name": "Bergvik Rådgivning AS", "department": "Bergen", "orgnr": "923456781",
        "category": "Prospect", "business": "Consulting", "country": "Norge", "associateId": "JOHAN",
        "registeredDate": "[DT:05/02/2023 13:15:00.0000000]", "updatedDate": "[DT:05/02/2023 13:15:00.0000000]",
        "stop": "[I:0]", "email/emailAddress": "kontakt@bergvik.example", "postAddress/city": "Bergen",
    }
    # column data comes back in the requested order, with hints
    pairs = item["ColumnData"]
    assert [p["Key"] for p in pairs][:2] == ["contactId", "name"]
    assert pairs[0]["Value"]["LinkHint"] == "contact_id=2"
    assert pairs[7]["Value"]["TooltipHint"] == "Johan Berg"


def test_person_provider_entities_and_columns(so: Any) -> None:
    items = archive_list(so, "Person", ["personId", "firstName", "lastName", "fullName", "contactId", "title",
                                       "position", "retired", "personRegisteredDate"],
                         [restriction("contactId", "=", "3")])
    assert keys(items) == [5, 6]
    assert {item["EntityName"] for item in items} == {"person"}
    assert row(items[0])["fullName"] == "Anna Lindqvist"
    assert row(items[0])["contactId"] == "[I:3]"
    assert row(items[0])["position"] == "Sales Manager"
    assert items[0]["LinkHint"] == "person_id=5"
    assert len(archive_list(so, "simpleperson", ["personId"])) == 10
    assert archive_list(so, "Person", ["personId"], entities=["retiredPerson"]) == []
    assert len(archive_list(so, "Person", ["personId"], entities=["person"])) == 10


# --- restrictions -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "operator", "values", "expected"), [
    ("name", "begins", ["nord"], [1]),                       # strings compare case-insensitively
    ("name", "contains", ["AS"], [1, 2]),
    ("name", "is", ["kvarnby handel ab"], [3]),
    ("department", "isNot", [""], [2, 5]),
    ("department", "isNull", [], [1, 3, 4]),
    ("contactId", "between", ["2", "4"], [2, 3, 4]),
    ("contactId", ">", ["3"], [4, 5]),
    ("contactId", "<=", ["[I:2]"], [1, 2]),
    ("contactId", "oneOf", ["1", "5"], [1, 5]),
    ("contactId", "notOneOf", ["1", "5"], [2, 3, 4]),
    ("contactId", "<>", ["1"], [2, 3, 4, 5]),
    ("category", "equals", ["1"], [1, 3]),
    ("country", "oneOf", ["578"], [1, 2, 5]),
    ("associateId", "associateIsOneOf", ["3"], [2, 4]),
    ("registeredDate", "afterTime", ["2024-01-01"], [4, 5]),
    ("registeredDate", "afterTime", ["2024-01-09T10:45:00"], [4, 5]),   # at or after
    ("registeredDate", "afterTime", ["2024-01-09T11:45:00+01:00"], [4, 5]),
    ("registeredDate", "beforeTime", ["[DT:05/02/2023 13:15:00]"], [1]),
    ("registeredDate", "between", ["2023-05-01", "2023-08-21"], [2, 3]),  # whole days
    ("registeredDate", "date", ["[D:08/21/2023]"], [3]),
    ("registeredDate", "after", ["2024-01-09"], [5]),
    ("registeredDate", "before", ["2023-05-02"], [1]),
    ("stop", "set", ["0"], [1, 2, 3, 4, 5]),
    ("getNoRows", "set", ["1"], []),
])
def test_restriction_operators(so: Any, name: str, operator: str, values: list[str], expected: list[int]) -> None:
    assert keys(archive_list(so, "Contact", ["contactId"], [restriction(name, operator, *values)])) == expected


def test_restrictions_combine_with_and_or_and_inactive_ones_are_skipped(so: Any) -> None:
    both = [restriction("country", "oneOf", "578"), restriction("category", "equals", "1")]
    assert keys(archive_list(so, "Contact", ["contactId"], both)) == [1]
    either = [restriction("contactId", "=", "1", InterOperator="Or"), restriction("contactId", "=", "4")]
    assert keys(archive_list(so, "Contact", ["contactId"], either)) == [1, 4]
    # a or b and c == a or (b and c)
    mixed = [restriction("contactId", "=", "5", InterOperator="Or"), restriction("country", "oneOf", "578"),
             restriction("category", "equals", "2")]
    assert keys(archive_list(so, "Contact", ["contactId"], mixed)) == [2, 5]
    inactive = [restriction("contactId", "=", "1", IsActive=False)]
    assert keys(archive_list(so, "Contact", ["contactId"], inactive)) == [1, 2, 3, 4, 5]


# --- ordering and paging --------------------------------------------------------------------------------

def test_sort_order(so: Any) -> None:
    names = [str(row(i)["name"]) for i in archive_list(so, "Contact", ["name"], sort=[("name", "ASC")])]
    assert names == sorted(names, key=str.lower)
    assert keys(archive_list(so, "Contact", ["contactId"], sort=[("contactId", "DESC")])) == [5, 4, 3, 2, 1]
    # two keys: country name ascending, then registration newest first
    items = archive_list(so, "Contact", ["country", "registeredDate"], sort=[("country", "ASC"),
                                                                           ("registeredDate", "DESC")])
    assert keys(items) == [4, 5, 2, 1, 3]  # Danmark, Norge (newest first), Sverige
    persons = archive_list(so, "Person", ["lastName"], sort=[("lastName", "DESC")])
    assert [row(i)["lastName"] for i in persons][:3] == ["Svensson", "Solberg", "Olsen"]


def test_pages_do_not_overlap_and_cover_all_rows(so: Any) -> None:
    pages = [keys(archive_list(so, "Person", ["personId"], sort=[("lastName", "ASC")], page=page, page_size=3))
             for page in range(5)]
    assert [len(p) for p in pages] == [3, 3, 3, 1, 0]
    seen = [key for page in pages for key in page]
    assert sorted(seen) == list(range(1, 11)) and len(seen) == len(set(seen))
    assert len(archive_list(so, "Person", ["personId"], page_size=0)) == 10  # 0: all rows


# --- errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("provider", "columns", "restrictions", "sort", "message"), [
    ("FindEverything", ["contactId"], [], [], "Contact, SimpleContact, Person, SimplePerson"),
    ("Contact", ["contactid"], [], [], "Did you mean 'contactId'"),
    ("Contact", ["createdDate"], [], [], "registeredDate"),
    ("Person", ["personId"], [restriction("shoeSize", "=", "42")], [], "Unknown restriction column 'shoeSize'"),
    ("Contact", ["contactId"], [], [("nope", "ASC")], "Unknown sort column 'nope'"),
    ("Contact", ["contactId"], [restriction("name", "soundsLike", "x")], [], "Supported: is, equals"),
    ("Contact", ["contactId"], [restriction("contactId", "afterTime", "1")], [], "not supported for 'contactId'"),
    ("Contact", ["contactId"], [restriction("contactId", "=", "five")], [], "is not an integer"),
    ("Contact", ["contactId"], [restriction("updatedDate", "afterTime", "yesterday")], [], "is not a date"),
    ("Contact", ["contactId"], [restriction("contactId", "between", "1")], [], "needs 2 value(s)"),
    ("Contact", ["contactId"], [restriction("contactId", "=", "1", InterParenthesis=1)], [], "InterParenthesis"),
])
def test_errors_are_clear(so: Any, provider: str, columns: list[str], restrictions: list[dict[str, Any]],
                          sort: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(AgentError) as caught:
        archive_list(so, provider, columns, restrictions, sort)
    assert caught.value.exception_type == "ArgumentException"
    assert message in str(caught.value)


def test_unknown_entity_and_negative_page(so: Any) -> None:
    with pytest.raises(AgentError, match="person, retiredPerson"):
        archive_list(so, "Person", ["personId"], entities=["company"])
    with pytest.raises(AgentError, match="must not be negative"):
        archive_list(so, "Person", ["personId"], page=-1)


# --- GetArchiveListByColumns2: the string syntax ---------------------------------------------------------

def test_string_form(so: Any) -> None:
    items = by_string(so, "Contact", "contactId, name", "name begins 'nord' or contactId oneOf (4, 5)",
                      "contactId desc")
    assert keys(items) == [5, 4, 1]
    assert row(items[0]) == {"contactId": "[I:5]", "name": "Solberg & Dahl Regnskap"}
    assert keys(by_string(so, "Contact", "contactId", "contactId between 2 and 3")) == [2, 3]
    assert keys(by_string(so, "Contact", "contactId",
                          "registeredDate afterTime '2023-06-01' and (category = 1 or business = 6)")) == [3, 4]
    assert keys(by_string(so, "Contact", "contactId", "name = 'Solberg & Dahl Regnskap'")) == [5]
    assert keys(by_string(so, "Person", "personId", "lastName begins \"s\"", "lastName:desc",
                          page=0, page_size=1)) == [6]
    assert keys(by_string(so, "Person", "personId", "", "", "retiredPerson")) == []
    with pytest.raises(AgentError, match="syntax error at the end"):
        by_string(so, "Contact", "contactId", "contactId = (1")


def test_parser_units() -> None:
    parsed = archive.parse_restrictions("a = 1 or b begins 'it''s' and (c in (1, 2) or d isNull)")
    assert parsed == archive.Group("or", [
        archive.Condition("a", "=", ["1"]),
        archive.Group("and", [archive.Condition("b", "begins", ["it's"]),
                              archive.Group("or", [archive.Condition("c", "in", ["1", "2"]),
                                                   archive.Condition("d", "isNull", [])])]),
    ])
    assert archive.parse_restrictions("updatedDate afterTime [DT:01/31/2024 10:00:00]") == \
        archive.Condition("updatedDate", "afterTime", ["[DT:01/31/2024 10:00:00]"])
    assert archive.parse_restrictions("  ") is None
    assert archive.parse_sort_order("name asc, contactId DESC,x:descending, personUdef/SuperOffice:1") == [
        ("name", False), ("contactId", True), ("x", True), ("personUdef/SuperOffice:1", False)]
    column = archive.CONTACT_COLUMNS["updatedDate"]
    assert archive.parse_datetime(column, "[DT:01/31/2024 10:00:00.0000000]") == dt.datetime(2024, 1, 31, 10)
    assert archive.parse_datetime(column, "2024-01-31T11:00:00+01:00") == dt.datetime(2024, 1, 31, 10)


# --- a sync job: create, read, update, list by contact, updated-since, delete ----------------------------

def test_sync_job(tmp_path: Path) -> None:
    with Sandbox(data_dir=tmp_path, port=0) as sandbox:
        so = connect(sandbox)
        since = sandbox.backend.now().astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
        stamp = since.isoformat()

        def changed(provider: str, column: str = "updatedDate") -> list[int]:
            return keys(archive_list(so, provider, ["contactId"], [restriction(column, "afterTime", stamp)]))

        def new_or_changed(provider: str) -> list[int]:
            return keys(by_string(so, provider, "contactId",
                                  f"registeredDate afterTime '{stamp}' or updatedDate afterTime '{stamp}'"))

        assert changed("Contact") == [] and changed("Person") == []

        # update an existing contact and person: both show up as updated since
        contact = so.ContactAgent.GetContactEntity(ContactEntityId=2)
        contact["Department"] = "Bergen sentrum"
        saved = so.ContactAgent.SaveContactEntity(ContactEntity=contact)
        assert saved["UpdatedDate"] >= since
        person = so.PersonAgent.GetPersonEntity(PersonEntityId=7)
        person["Title"] = "Design Director"
        so.PersonAgent.SavePersonEntity(PersonEntity=person)
        assert changed("Contact") == [2]
        assert changed("Person") == [7] and changed("Person", "personUpdatedDate") == [7]

        # create: a new row is registered, not updated (as in SuperOffice)
        fresh = so.ContactAgent.CreateDefaultContactEntity()
        fresh["Name"] = "Fjord Sync AS"
        created = so.ContactAgent.SaveContactEntity(ContactEntity=fresh)
        new_id = created["ContactId"]
        assert new_id == 6
        default_person = so.PersonAgent.CreateDefaultPersonEntity()
        default_person["Firstname"], default_person["Lastname"] = "Siri", "Fjord"
        default_person["Contact"] = {"ContactId": new_id}
        new_person = so.PersonAgent.SavePersonEntity(PersonEntity=default_person)["PersonId"]
        assert changed("Contact") == [2]
        assert new_or_changed("Contact") == [2, new_id]
        assert sorted(new_or_changed("Person")) == [7, new_person]

        # read back and list by contact
        assert so.ContactAgent.GetContactEntity(ContactEntityId=new_id)["Name"] == "Fjord Sync AS"
        listed = so.PersonAgent.GetPersonsFromContact(ContactId=new_id)
        assert [p["PersonId"] for p in listed] == [new_person]
        listed_row = archive_list(so, "Person", ["fullName", "contactName"], [restriction("contactId", "=",
                                                                                          str(new_id))])
        assert [row(i) for i in listed_row] == [{"fullName": "Siri Fjord", "contactName": "Fjord Sync AS"}]

        # a later update of the new contact makes it "updated" too
        created["OrgNr"] = "999888777"
        so.ContactAgent.SaveContactEntity(ContactEntity=created)
        assert changed("Contact") == [2, new_id]

        # delete: the contact and its persons are gone from reads and from the archive
        so.ContactAgent.DeleteContactEntity(ContactEntityId=new_id)
        assert so.ContactAgent.GetContactEntity(ContactEntityId=new_id) is None
        assert so.PersonAgent.GetPersonEntity(PersonEntityId=new_person) is None
        assert so.PersonAgent.GetPersonsFromContact(ContactId=new_id) in (None, [])
        assert new_or_changed("Contact") == [2]
        assert new_or_changed("Person") == [7]


# --- fidelity: a strict zeep client on SuperOffice's own WSDL ---------------------------------------------

def test_reference_wsdl_client_parses_both_operations(sb: Sandbox, reference_wsdl_dir: Path) -> None:
    cfg = sb.config
    client = zeep.Client(str(reference_wsdl_dir / "Services88/Archive.wsdl"), settings=zeep.Settings(strict=True))
    service = client.create_service(f"{NS}BasicHttpBinding_Archive",
                                    f"{cfg['base_url']}/{cfg['context_identifier']}/Remote/Services88/Archive.svc")
    headers = {"ApplicationToken": cfg["client_secret"], "Credentials": {"Ticket": sb.issue_ticket()}}
    array_of_string = client.get_type("{http://schemas.microsoft.com/2003/10/Serialization/Arrays}ArrayOfstring")
    answer = service.GetArchiveListByColumns(
        ProviderName="Person", Columns=array_of_string(["personId", "fullName", "personRegisteredDate"]),
        SortOrder={"ArchiveOrderByInfo": [{"Name": "personId", "Direction": "DESC"}]},
        Restriction={"ArchiveRestrictionInfo": [{"Name": "contactId", "Operator": "=",
                                                 "Values": array_of_string(["1"]), "IsActive": True}]},
        Entities=array_of_string([]), Page=0, PageSize=10, _soapheaders=headers)
    assert answer.header.Succeeded is True
    items = answer.body.Response.ArchiveListItem
    assert [i.PrimaryKey for i in items] == [2, 1]
    pairs = items[1].ColumnData.ColumnDataKeyValuePair
    assert [(p.Key, p.Value.DisplayValue) for p in pairs] == [
        ("personId", "[I:1]"), ("fullName", "Ingrid Hansen"),
        ("personRegisteredDate", "[DT:02/14/2023 09:30:00.0000000]")]

    answer = service.GetArchiveListByColumns2(ProviderName="Contact", Columns="contactId,name",
                                              SortOrder="name desc", Restrictions="contactId < 3", Entities="",
                                              Page=0, PageSize=0, _soapheaders=headers)
    assert answer.header.Succeeded is True
    assert [i.PrimaryKey for i in answer.body.Response.ArchiveListItem] == [1, 2]

    failed = service.GetArchiveListByColumns2(ProviderName="Nope", Columns="x", SortOrder="", Restrictions="",
                                              Entities="", Page=0, PageSize=0, _soapheaders=headers)
    assert failed.header.Succeeded is False
    assert failed.header.ExceptionInfo.ExceptionType == "ArgumentException"


# --- pages read straight from SQL (unrestricted, in key order) are the pages the general path gives -------


@pytest.mark.parametrize("provider", ["Contact", "Person"])
def test_key_order_pages_from_sql_equal_the_filtered_and_sorted_ones(tmp_path: Path, provider: str) -> None:
    with Sandbox(data_dir=tmp_path, port=0) as sandbox:
        sandbox.load_seed(None, {"contacts": [{"Name": f"Extra {i:02d}"} for i in range(23)],
                                 "persons": [{"Firstname": f"P{i}", "Lastname": "Extra", "Contact": {"ContactId": 1}}
                                             for i in range(17)]})
        so = connect(sandbox)
        key = "contactId" if provider == "Contact" else "personId"
        columns = [key, "name" if provider == "Contact" else "fullName"]
        every_row = [restriction("getAllRows", "equals", "1")]  # no effect on the rows, but the general path
        for page_size in (7, 0):
            pages = range(6) if page_size else range(1)
            for sort in ([], [(key, "ASC")]):
                fast = [archive_list(so, provider, columns, sort=sort, page=p, page_size=page_size) for p in pages]
                general = [archive_list(so, provider, columns, every_row, sort=sort, page=p, page_size=page_size)
                           for p in pages]
                assert fast == general, (page_size, sort)
                assert sum(len(page) for page in fast) == (28 if provider == "Contact" else 27)
        assert archive_list(so, provider, columns, page=99, page_size=7) == []
