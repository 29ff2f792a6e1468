"""The whole shipped contract against the sandbox: every operation answers a SOAP envelope zeep parses strictly,
and every entity family of the generic store keeps what is saved.

Requests are built by soapkit's own catalog (zeep's model of each operation, parameters at their schema
defaults) and sent over real HTTP; answers are read with the same strict model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import helpers

from soapkit.catalog import PARTNER_SERVICE, Catalog, default_catalog
from soapkit.sandbox import Sandbox, soap
from soapkit.sandbox.agents import entities, schema
from soapkit.sandbox.agents.generic import GenericAgents
from soapkit.sandbox.agents.registry import handler_for

XSI = "http://www.w3.org/2001/XMLSchema-instance"


class ContractClient:
    """Sends any operation of the shipped contract to a sandbox, as soapkit's catalog models it."""

    def __init__(self, sandbox: Sandbox, catalog: Catalog) -> None:
        self.sandbox, self.catalog = sandbox, catalog
        self.ticket = sandbox.issue_ticket()
        self.http = requests.Session()

    def defaults(self, service: str, operation: str) -> dict[str, Any]:
        described = self.catalog.describe(service)
        return schema.default_parameters(described.operation(operation), schema.enumerations(described.path))

    def post(self, service: str, operation: str, params: dict[str, Any] | None = None) -> requests.Response:
        model = self.catalog.describe(service).operation(operation)
        declared = soap.declared_headers(model.input)
        headers: dict[str, Any] = {}
        if "ApplicationToken" in declared:
            headers["ApplicationToken"] = self.sandbox.config["client_secret"]
        if "Credentials" in declared:
            headers["Credentials"] = {"Ticket": self.ticket}
        values = self.defaults(service, operation) if params is None else params
        message = model.input.serialize(**values, _soapheaders=headers)
        return self.http.post(f"{self.sandbox.config['netserver_url']}{service}.svc",
                              data=etree.tostring(message.content),
                              headers={**message.headers, "Content-Type": soap.CONTENT_TYPE}, timeout=30)

    def call(self, service: str, operation: str, params: dict[str, Any] | None = None) -> Any:
        """The parsed answer (header and body); fails the test on anything but HTTP 200 and a strict parse."""
        response = self.post(service, operation, params)
        assert response.status_code == 200, f"{service}.{operation}: HTTP {response.status_code} {response.text[:200]}"
        assert response.headers["Content-Type"].startswith("text/xml")
        model = self.catalog.describe(service).operation(operation)
        return model.output.deserialize(etree.fromstring(response.content))

    def answers_nil(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        """Succeeded with ``<Response xsi:nil="true"/>`` (zeep reads a nil carrier as one with every member None)."""
        self.call(service, operation, params)  # parses strictly
        document = etree.fromstring(self.post(service, operation, params).content)
        succeeded = document.find(".//{*}Succeeded")
        response = document.find(".//{*}Response")
        return (succeeded is not None and succeeded.text == "true" and response is not None
                and response.get(f"{{{XSI}}}nil") == "true")


def agents(catalog: Catalog) -> list[str]:
    return [name for name in catalog.services() if name != PARTNER_SERVICE]


@pytest.fixture(scope="module")
def contract(own_sandbox: Sandbox) -> Iterator[ContractClient]:
    client = ContractClient(own_sandbox, default_catalog())
    yield client
    client.http.close()


def test_every_shipped_operation_answers_a_soap_envelope_zeep_parses_strictly(contract: ContractClient) -> None:
    catalog = contract.catalog
    outcomes: dict[str, int] = {}
    operations = 0
    for service in agents(catalog):
        for operation in catalog.describe(service).operation_names:
            header = contract.call(service, operation).header
            operations += 1
            outcome = "ok" if header.Succeeded else header.ExceptionInfo.ExceptionType
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if not header.Succeeded:
                assert header.ExceptionInfo.Message, f"{service}.{operation} failed without a message"
            if header.Succeeded is False and outcome == "NotImplementedException":
                assert operation in header.ExceptionInfo.Message
                assert "not emulated by the soapkit sandbox" in header.ExceptionInfo.Message
    assert operations == 1964
    assert "SandboxInternalError" not in outcomes, outcomes


# --- the generic entity store -------------------------------------------------------------------

def all_families(catalog: Catalog) -> list[entities.EntityFamily]:
    generic = GenericAgents(catalog)
    return [family for service in agents(catalog) for family in generic.families(service).values()]


FAMILIES = all_families(default_catalog())
# Contact and Person are hand-written (with their own validation, tested in test_sandbox.py).
GENERIC = [f for f in FAMILIES if handler_for(f.service, f.operations.get("Save", "")) is None]
SAVED_AND_READ = [f for f in GENERIC if {"Save", "Get"} <= set(f.operations)]


def test_the_contract_has_54_entity_families_34_with_all_four_verbs() -> None:
    assert len(FAMILIES) == 54
    assert sum(1 for family in FAMILIES if set(family.operations) == set(entities.VERBS)) == 34
    by_key = {family.key: family for family in FAMILIES}
    assert by_key["Sale.Sale"].id_member == "SaleId"
    assert by_key["Ticket.TicketMessage"].id_member == "EjMessageId"
    assert by_key["Relation.ContactRelation"].id_member == "RelationId"
    assert "Dash.TileFor" not in by_key and "Document.DocumentStreamFrom" not in by_key


def plain(value: Any) -> Any:
    return helpers.serialize_object(value, dict)


def sample_entity(contract: ContractClient, family: entities.EntityFamily) -> tuple[dict[str, Any], dict[str, Any]]:
    """A default entity with every text member and the first date member given a value; and those values."""
    if "CreateDefault" in family.operations:
        header_body = contract.call(family.service, family.operations["CreateDefault"])
        entity = plain(header_body.body.Response)
        assert entity[family.id_member] == 0
    else:
        entity = family.default()
    text = [m for m, e in family.entity_type.elements
            if isinstance(schema.simple_default(e.type, family.enums), str) and e.type.name == "string"]
    given: dict[str, Any] = {member: f"{family.name} {member}" for member in text}
    dates = [m for m, e in family.entity_type.elements if e.type.name == "dateTime" and m not in entities.STAMPED]
    if dates:
        given[dates[0]] = dt.datetime(2024, 5, 17, 9, 30)
    return {**entity, **given}, given


@pytest.mark.parametrize("family", SAVED_AND_READ, ids=[f.key for f in SAVED_AND_READ])
def test_saved_entity_reads_back_equal(contract: ContractClient, family: entities.EntityFamily) -> None:
    entity, given = sample_entity(contract, family)
    assert given, f"{family.key} has no text or date member to check"
    save_param = next(iter(contract.defaults(family.service, family.operations["Save"])))
    saved = contract.call(family.service, family.operations["Save"],
                          {**contract.defaults(family.service, family.operations["Save"]), save_param: entity})
    assert saved.header.Succeeded, saved.header.ExceptionInfo
    stored = plain(saved.body.Response)
    entity_id = stored[family.id_member]
    assert entity_id > 0
    get_param = next(iter(contract.defaults(family.service, family.operations["Get"])))
    read = contract.call(family.service, family.operations["Get"], {get_param: entity_id})
    assert read.header.Succeeded
    assert plain(read.body.Response) == stored
    assert {member: stored[member] for member in given} == given

    changed = {**stored, next(iter(given)): "changed" if isinstance(next(iter(given.values())), str) else
               dt.datetime(2025, 1, 2, 3, 4)}
    again = contract.call(family.service, family.operations["Save"], {save_param: changed})
    assert plain(again.body.Response)[family.id_member] == entity_id
    reread = plain(contract.call(family.service, family.operations["Get"], {get_param: entity_id}).body.Response)
    assert reread == plain(again.body.Response)
    unstamped = [m for m in changed if m not in entities.STAMPED]
    assert {m: reread[m] for m in unstamped} == {m: changed[m] for m in unstamped}
    if "Delete" in family.operations:
        delete_param = next(iter(contract.defaults(family.service, family.operations["Delete"])))
        assert contract.call(family.service, family.operations["Delete"], {delete_param: entity_id}).header.Succeeded
        assert contract.answers_nil(family.service, family.operations["Get"], {get_param: entity_id})
        again_gone = contract.call(family.service, family.operations["Delete"], {delete_param: entity_id}).header
        assert again_gone.Succeeded is False and again_gone.ExceptionInfo.ExceptionType == "EntityNotFoundException"


def test_unknown_entity_is_nil_and_saving_an_unknown_id_fails(contract: ContractClient) -> None:
    assert contract.answers_nil("Sale", "GetSaleEntity", {"SaleEntityId": 999_999})
    assert contract.answers_nil("Sale", "GetSale", {"SaleId": 999_999})
    unknown = contract.call("Sale", "SaveSaleEntity", {"SaleEntity": {"SaleId": 999_999, "Heading": "x"}}).header
    assert unknown.Succeeded is False and unknown.ExceptionInfo.ExceptionType == "EntityNotFoundException"


def test_sale_links_to_a_real_contact_and_person_and_lists_from_the_store(contract: ContractClient) -> None:
    saved = contract.call("Sale", "SaveSaleEntity", {"SaleEntity": {
        "Heading": "Ten licences", "Amount": 1200.0, "Contact": {"ContactId": 2}, "Person": {"PersonId": 1}}})
    assert saved.header.Succeeded, saved.header.ExceptionInfo
    sale = saved.body.Response
    assert sale.Contact.ContactId == 2 and sale.Contact.Name  # read from the CRM, not echoed
    assert sale.Person.PersonId == 1 and sale.Person.Firstname
    item = contract.call("Sale", "GetSale", {"SaleId": sale.SaleId}).body.Response
    assert item.SaleId == sale.SaleId and item.Amount == 1200.0  # same name, same type
    assert item.ContactId == 2 and item.ContactName == sale.Contact.Name  # read through the Contact link
    assert item.PersonId == 1 and item.PersonFullName == sale.Person.FullName
    listed = contract.call("Sale", "GetSaleList", {"SaleIds": {"int": [sale.SaleId, 999_999]}}).body.Response
    assert [s.SaleId for s in listed.Sale] == [sale.SaleId]
    dangling = contract.call("Sale", "SaveSaleEntity", {"SaleEntity": {"Contact": {"ContactId": 999_999}}}).header
    assert dangling.Succeeded is False and dangling.ExceptionInfo.ExceptionType == "ValidationException"


def test_docs_list_what_is_emulated_as_the_code_does() -> None:
    from soapkit.sandbox import docs

    # the repository's docs (an installed wheel carries no docs/ folder; CI tests an installed package)
    text = (Path(__file__).resolve().parent.parent / "docs" / "sandbox.md").read_text(encoding="utf-8")
    assert docs.emulated_section() in text, "docs/sandbox.md is stale: run python -m soapkit.sandbox.docs --write"
    assert "| Sale | " in docs.emulated_section() and "SaleEntity" in docs.emulated_section()


# --- hand-written behaviour on top of the store ------------------------------------------------------

def test_appointments_are_listed_for_their_contact_and_person_and_move_keeping_their_length(
        contract: ContractClient) -> None:
    def book(title: str, start: dt.datetime, contact: int, person: int) -> Any:
        answer = contract.call("Appointment", "SaveAppointmentEntity", {"AppointmentEntity": {
            "Title": title, "StartDate": start, "EndDate": start + dt.timedelta(hours=1),
            "Contact": {"ContactId": contact}, "Person": {"PersonId": person}, "Associate": {"AssociateId": 2}}})
        assert answer.header.Succeeded, answer.header.ExceptionInfo
        return answer.body.Response

    later = book("Follow-up", dt.datetime(2024, 6, 3, 14, 0), 3, 5)
    first = book("Kick-off", dt.datetime(2024, 6, 1, 9, 0), 3, 6)
    book("Elsewhere", dt.datetime(2024, 6, 2, 9, 0), 4, 7)
    window = {"StartTime": dt.datetime(2024, 1, 1), "EndTime": dt.datetime(2025, 1, 1), "Count": 0}
    of_contact = contract.call("Appointment", "GetContactAppointments", {"ContactId": 3, **window}).body.Response
    assert [a.AppointmentId for a in of_contact.Appointment] == [first.AppointmentId, later.AppointmentId]
    assert of_contact.Appointment[0].ContactName == first.Contact.Name
    of_person = contract.call("Appointment", "GetPersonAppointments",
                              {"PersonId": 5, "IncludeProjectAppointments": False, **window}).body.Response
    assert [a.Title for a in of_person.Appointment] == ["Follow-up"]
    narrow = {**window, "EndTime": dt.datetime(2024, 6, 2)}
    assert len(contract.call("Appointment", "GetContactAppointments",
                             {"ContactId": 3, **narrow}).body.Response.Appointment) == 1

    moved = contract.call("Appointment", "Move", {"AppointmentId": first.AppointmentId,
                                                  "NewStartTime": dt.datetime(2024, 7, 1, 10, 0),
                                                  "UpdateMode": "OnlyThis"}).body.Response
    assert (moved.StartDate, moved.EndDate) == (dt.datetime(2024, 7, 1, 10, 0), dt.datetime(2024, 7, 1, 11, 0))
    read = contract.call("Appointment", "GetAppointmentEntity", {"AppointmentEntityId": first.AppointmentId})
    assert read.body.Response.StartDate == dt.datetime(2024, 7, 1, 10, 0)
    missing = contract.call("Appointment", "Move", {"AppointmentId": 999_999,
                                                    "NewStartTime": dt.datetime(2024, 7, 1), "UpdateMode": "OnlyThis"})
    assert missing.header.ExceptionInfo.ExceptionType == "EntityNotFoundException"


@pytest.mark.parametrize(("name", "expected"), [("category", "Customer"), ("Business", "IT"), ("country", "Norge"),
                                                ("associate", "SYSTEM"), ("priority", "High")])
def test_mdo_lists_come_from_the_seed_data(contract: ContractClient, name: str, expected: str) -> None:
    items = contract.call("MDO", "GetList", {"Name": name, "ForceFlatList": True, "AdditionalInfo": "",
                                             "OnlyHistory": False}).body.Response.MDOListItem
    assert expected in [item.Name for item in items] and all(item.Id > 0 for item in items)
    found = contract.call("MDO", "GetListWithRestriction", {"Name": name, "AdditionalInfo": "",
                                                            "SearchValue": expected[1:3].lower()}).body.Response
    assert expected in [item.Name for item in found.MDOListItem] and len(found.MDOListItem) <= len(items)


def test_unknown_mdo_list_names_the_known_ones(contract: ContractClient) -> None:
    header = contract.call("MDO", "GetList", {"Name": "nope", "ForceFlatList": True, "AdditionalInfo": "",
                                              "OnlyHistory": False}).header
    assert header.ExceptionInfo.ExceptionType == "ArgumentException" and "category" in header.ExceptionInfo.Message


def test_associates_of_the_tenant(contract: ContractClient) -> None:
    system = contract.call("Associate", "GetAssociate", {"AssociateId": 1}).body.Response
    assert system.AssociateId == 1 and system.Type == "SystemAssociate"
    listed = contract.call("Associate", "GetAssociateList", {"AssociateIds": {"int": [1, 2, 999]}}).body.Response
    assert [a.AssociateId for a in listed.Associate] == [1, 2]
    assert contract.answers_nil("Associate", "GetAssociate", {"AssociateId": 999})


def test_svc_paths_are_matched_case_insensitively_as_iis_does(contract: ContractClient) -> None:
    model = contract.catalog.describe("Contact").operation("GetContactEntity")
    message = model.input.serialize(ContactEntityId=1, _soapheaders={
        "ApplicationToken": contract.sandbox.config["client_secret"], "Credentials": {"Ticket": contract.ticket}})
    url = f"{contract.sandbox.base_url}/{contract.sandbox.context_identifier}/remote/services88/contact.svc"
    response = contract.http.post(url, data=etree.tostring(message.content),
                                  headers={**message.headers, "Content-Type": soap.CONTENT_TYPE}, timeout=30)
    assert response.status_code == 200
    assert model.output.deserialize(etree.fromstring(response.content)).body.Response.ContactId == 1
