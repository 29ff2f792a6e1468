"""The sandbox's REST Agents API (``POST /{ctx}/api/v1/Agents/{Agent}/{Operation}``) with plain ``requests``.

Answers are compared with what soapkit's SOAP client reads for the same call, and every operation of the
shipped contract is sent once with its schema defaults, mapped the REST way.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_rest_client import Rest, error_of

import soapkit
from soapkit.catalog import PARTNER_SERVICE, default_catalog
from soapkit.sandbox import Sandbox
from soapkit.sandbox.agents import schema
from soapkit.sandbox.credentials import CredentialKind
from soapkit.sandbox.rest import mapping_of, soap_only
from soapkit.sandbox.seed import SYSTEM_ASSOCIATE_ID
from soapkit.values.codec import codec_for


@pytest.fixture(scope="module")
def rest(own_sandbox: Sandbox) -> Iterator[Rest]:
    client = Rest(own_sandbox)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def so(own_sandbox: Sandbox) -> Any:
    cfg = own_sandbox.config
    return soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                           credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_pem"]))


# --- the mapping ------------------------------------------------------------------------------------

def test_mapping_is_derived_from_the_wsdl() -> None:
    contact = codec_for(default_catalog().describe("Contact"))
    assert mapping_of(contact.inputs("CreateDefaultContactEntity")).kind == "none"
    query = mapping_of(contact.inputs("GetContactEntity"))
    assert query.kind == "query" and query.query_name == "contactEntityId"
    assert mapping_of(contact.inputs("GetContactList")).kind == "body"
    assert mapping_of(contact.inputs("SaveContactEntity")).kind == "body"
    archive = codec_for(default_catalog().describe("Archive"))
    several = mapping_of(archive.inputs("GetArchiveListByColumns2"))
    assert several.kind == "object" and several.parameters[:2] == ("ProviderName", "Columns")


def test_no_parameters_no_body(rest: Rest, so: Any) -> None:
    assert rest.ok("Contact/CreateDefaultContactEntity") == soapkit.plain(so.ContactAgent.CreateDefaultContactEntity())
    assert rest.ok("List/GetCountries") == soapkit.plain(so.ListAgent.GetCountries())


def test_one_primitive_is_a_camel_case_query_parameter(rest: Rest, so: Any) -> None:
    got = rest.ok("Contact/GetContactEntity", params={"contactEntityId": 2})
    assert got["ContactId"] == 2 and got == soapkit.plain(so.ContactAgent.GetContactEntity(2))
    # the agent may be spelt ContactAgent, in any case; the parameter name in any case too
    assert rest.ok("contactagent/getcontactentity", params={"ContactEntityId": "2"}) == got


def test_one_array_is_the_body(rest: Rest, so: Any) -> None:
    got = rest.ok("Contact/GetContactList", json=[1, 3])
    assert [c["ContactId"] for c in got] == [1, 3]
    assert got == soapkit.plain(so.ContactAgent.GetContactList([1, 3]))


def test_contact_save_and_get_round_trip_equal_to_soap(rest: Rest, so: Any) -> None:
    entity = rest.ok("Contact/CreateDefaultContactEntity")
    entity.update(Name="REST Fjord AS", Department="Tromsø", OrgNr="987654321")
    saved = rest.ok("Contact/SaveContactEntity", json=entity)
    assert saved["ContactId"] > 0 and saved["Name"] == "REST Fjord AS" and saved["Department"] == "Tromsø"
    read = rest.ok("Contact/GetContactEntity", params={"contactEntityId": saved["ContactId"]})
    assert read == saved
    assert read == soapkit.plain(so.ContactAgent.GetContactEntity(saved["ContactId"]))
    dt.datetime.fromisoformat(read["UpdatedDate"])  # dates are ISO 8601
    assert rest.ok("Contact/GetContactEntity", params={"contactEntityId": 999_999}) is None  # nil is null
    gone = rest.post("Contact/SaveContactEntity", json={"ContactId": 999_999, "Name": "x"})
    assert error_of(gone, 500, "EntityNotFoundException")


def test_several_parameters_are_one_object_by_soap_name(rest: Rest, so: Any) -> None:
    args = {"ProviderName": "Contact", "Columns": "contactId,name", "SortOrder": "contactId", "Restrictions": "",
            "Entities": "", "Page": 0, "PageSize": 3}
    got = rest.ok("Archive/GetArchiveListByColumns2", json=args)
    assert [item["PrimaryKey"] for item in got] == [1, 2, 3]
    assert got == soapkit.plain(so.ArchiveAgent.GetArchiveListByColumns2(**args))


# --- bad requests -----------------------------------------------------------------------------------

def test_bad_parameters_are_400_naming_the_parameter(rest: Rest) -> None:
    bad = error_of(rest.post("Contact/GetContactEntity", params={"contactEntityId": "five"}), 400,
                   "BadRequestException")
    assert bad["Parameter"] == "ContactEntityId" and "ContactEntityId" in bad["Message"]
    unknown = error_of(rest.post("Archive/GetArchiveListByColumns2", json={"Provider": "Contact"}), 400,
                       "BadRequestException")
    assert unknown["Parameter"] == "Provider" and "ProviderName" in unknown["Message"]
    wrong = error_of(rest.post("Contact/SaveContactEntity", json={"ContactId": "x"}), 400, "BadRequestException")
    assert wrong["Parameter"] == "ContactEntity" and "ContactId" in wrong["Message"]
    error_of(rest.post("Contact/GetContactList", data=b"{not json"), 400, "BadRequestException")
    error_of(rest.post("Archive/GetArchiveListByColumns2", json=[1]), 400, "BadRequestException")


def test_unknown_tenant_agent_and_operation_are_404(rest: Rest) -> None:
    error_of(rest.post("Nope/GetContactEntity"), 404, "UnknownAgentException")
    error_of(rest.post("Contact/GetNothing"), 404, "UnknownOperationException")
    error_of(rest.post("PartnerSystemUserService/Authenticate"), 404, "UnknownAgentException")
    response = rest.http.post(f"{rest.sb.base_url}/Cust00000/api/v1/Agents/Contact/GetContactEntity", timeout=30)
    error_of(response, 404, "TenantNotFoundException")


def test_a_tenant_that_is_not_running_is_503(rest: Rest) -> None:
    rest.sb.add_tenant("Cust77001", state="Suspended")
    response = rest.http.post(f"{rest.sb.base_url}/Cust77001/api/v1/Agents/Contact/GetContactEntity", timeout=30)
    assert "Suspended" in error_of(response, 503, "TenantNotRunningException")["Message"]


def test_soap_only_operations_are_404(rest: Rest) -> None:
    for path in ("BlobManager/Anything", "FileManager/x", "messagingagent/y", "SoPrincipal/AuthenticateImplicit"):
        assert "SOAP only" in error_of(rest.post(path), 404, "SoapOnlyException")["Message"]
    catalog = default_catalog()
    streams = [(service, name) for service in catalog.services() for name in catalog.describe(service).operation_names
               if name.endswith(("AsStream", "FromStream")) and service not in ("BlobManager", "FileManager")]
    assert streams
    for service, name in streams[:3]:
        assert "SOAP only" in error_of(rest.post(f"{service}/{name}"), 404, "SoapOnlyException")["Message"]


def test_not_emulated_is_501_with_the_soap_sides_exception(rest: Rest) -> None:
    document = error_of(rest.post("Document/GetDocumentStream", json={}), 501, "NotImplementedException")
    assert "not emulated by the soapkit sandbox" in document["Message"]


# --- credentials ------------------------------------------------------------------------------------

def test_credential_failures_are_401(rest: Rest) -> None:
    secret = rest.sb.config["client_secret"]
    path = "Contact/GetContactEntity?contactEntityId=1"
    error_of(rest.post(path, headers={}), 401, "ApplicationTokenInvalidException")
    error_of(rest.post(path, headers={"SO-AppToken": secret}), 401, "CredentialsMissingException")
    error_of(rest.post(path, headers={"Authorization": f"SOTicket {rest.ticket}"}), 401,
             "ApplicationTokenInvalidException")
    error_of(rest.post(path, headers={"Authorization": f"SOTicket {rest.ticket}", "SO-AppToken": "wrong"}), 401,
             "ApplicationTokenInvalidException")
    error_of(rest.post(path, headers={"Authorization": "SOTicket 7T:nope", "SO-AppToken": secret}), 401,
             "CredentialsInvalidException")
    error_of(rest.post(path, headers={"Authorization": f"Basic {rest.ticket}", "SO-AppToken": secret}), 401,
             "CredentialsInvalidException")
    expired = rest.sb.issue_ticket()
    assert rest.sb.expire_credential(expired)
    error_of(rest.post(path, headers={"Authorization": f"SOTicket {expired}", "SO-AppToken": secret}), 401,
             "CredentialsExpiredException")
    other = rest.sb.issue_ticket()
    assert rest.sb.revoke_credential(other)
    error_of(rest.post(path, headers={"Authorization": f"SOTicket {other}", "SO-AppToken": secret}), 401,
             "CredentialsInvalidException")


def test_bearer_access_token(rest: Rest) -> None:
    sb = rest.sb
    backend = sb.backend
    application = backend.apps.first()
    assert application is not None
    token = f"8A:{sb.context_identifier}.rest-test-token"
    backend.credentials.add(token, CredentialKind.ACCESS_TOKEN, sb.context_identifier, application.client_id,
                            SYSTEM_ASSOCIATE_ID, backend.now(), expires_at=backend.now() + dt.timedelta(hours=1))
    path = "Contact/GetContactEntity?contactEntityId=1"
    assert rest.ok(path, headers={"Authorization": f"Bearer {token}"})["ContactId"] == 1
    assert rest.ok(path, headers={"Authorization": f"Bearer {token}",
                                  "SO-AppToken": sb.config["client_secret"]})["ContactId"] == 1
    error_of(rest.post(path, headers={"Authorization": f"Bearer {token}", "SO-AppToken": "wrong"}), 401,
             "ApplicationTokenInvalidException")
    error_of(rest.post(path, headers={"Authorization": "Bearer 8A:unknown"}), 401, "CredentialsInvalidException")


# --- the whole contract -----------------------------------------------------------------------------

def rest_request(service: str, operation: str) -> dict[str, Any]:
    """The schema-default parameters of an operation, sent the REST way (query, body or one object)."""
    described = default_catalog().describe(service)
    defaults = soapkit.plain(schema.default_parameters(described.operation(operation),
                                                       schema.enumerations(described.path)))
    mapping = mapping_of(codec_for(described).inputs(operation))
    if mapping.kind == "none":
        return {}
    if mapping.kind == "query":
        value = defaults.get(mapping.parameters[0])
        if value is None:
            return {}
        text = value if isinstance(value, str) else json.dumps(value)
        return {"params": {mapping.query_name: text}}
    if mapping.kind == "body":
        return {"json": defaults.get(mapping.parameters[0])}
    return {"json": defaults}


def test_every_rest_operation_answers_json_without_crashing(rest: Rest) -> None:
    catalog = default_catalog()
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    operations = 0
    for service in catalog.services():
        if service == PARTNER_SERVICE:
            continue
        for operation in catalog.describe(service).operation_names:
            if soap_only(service, operation):
                continue
            response = rest.post(f"{service}/{operation}", **rest_request(service, operation))
            operations += 1
            document = response.json()
            if response.status_code == 200:
                outcome = "ok"
            else:
                assert response.status_code in (500, 501), f"{service}.{operation}: {response.text[:300]}"
                assert document["Error"] is True and document["Message"], document
                outcome = document["ErrorType"]
                assert (response.status_code == 501) == (outcome == "NotImplementedException")
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert operations > 1800
    assert "SandboxInternalError" not in outcomes, outcomes
    assert outcomes["ok"] > 140 and outcomes["NotImplementedException"] < 1750, outcomes
    assert time.monotonic() - started < 60
