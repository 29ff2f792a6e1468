"""The sandbox end to end over real HTTP: state, identity metadata, the partner exchange, agents, files."""

from __future__ import annotations

import datetime as dt
import json
import logging
import stat
from pathlib import Path

import pytest
import requests
import zeep
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from soapkit.credentials.jwt_validation import JwksCache, claim, validate_system_user_jwt
from soapkit.credentials.signing import sign_system_token
from soapkit.headers import SuperOfficeHeaders
from soapkit.sandbox import Sandbox
from soapkit.tenant import Environment, TenantDirectory, TenantState

PARTNER_NS = "http://www.superoffice.com/superid/partnersystemuser/0.1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def exchange_rest(sb: Sandbox, signed: str, **overrides: str) -> dict:
    config = sb.config
    body = {"SignedSystemToken": signed, "ApplicationToken": config["client_secret"],
            "ContextIdentifier": config["context_identifier"], "ReturnTokenType": "JWT", **overrides}
    response = requests.post(config["partner_rest_url"], json=body, timeout=10)
    assert response.status_code == 200
    return response.json()


def partner_envelope(signed: str, app_token: str, ctx: str, token_type: str = "Jwt") -> bytes:
    """A PartnerSystemUserService request written by hand, as the official samples send it."""
    return f"""<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:p="{PARTNER_NS}">
      <s:Header><p:ApplicationToken>{app_token}</p:ApplicationToken>
        <p:ContextIdentifier>{ctx}</p:ContextIdentifier></s:Header>
      <s:Body><p:AuthenticationRequest><p:SignedSystemToken>{signed}</p:SignedSystemToken>
        <p:ReturnTokenType>{token_type}</p:ReturnTokenType></p:AuthenticationRequest></s:Body>
    </s:Envelope>""".encode()


def exchange_soap(sb: Sandbox, signed: str, *, app_token: str | None = None, ctx: str | None = None,
                  token_type: str = "Jwt") -> dict:
    config = sb.config
    response = requests.post(
        config["partner_service_url"],
        data=partner_envelope(signed, app_token or config["client_secret"], ctx or config["context_identifier"],
                              token_type),
        headers={"Content-Type": "text/xml; charset=utf-8",
                 "SOAPAction": f'"{PARTNER_NS}/IPartnerSystemUserService/Authenticate"'},
        timeout=10,
    )
    assert response.status_code == 200
    answer = etree.fromstring(response.content).find(f".//{{{PARTNER_NS}}}AuthenticationResponse")
    assert [etree.QName(child).localname for child in answer] == ["IsSuccessful", "Token", "ErrorMessage"]
    return {etree.QName(child).localname: child.text for child in answer}


def agent(sb: Sandbox, service: str, ticket: str | None, app_token: str | None = None) -> zeep.proxy.ServiceProxy:
    """A zeep client on the sandbox's own ?wsdl for ``service``."""
    url = f"{sb.config['netserver_url']}{service}.svc"
    plugin = SuperOfficeHeaders(app_token or sb.config["client_secret"],
                                ticket=(lambda: ticket) if ticket else None)
    return zeep.Client(url + "?wsdl", plugins=[plugin]).service


@pytest.fixture(scope="module")
def ticket(sandbox: Sandbox) -> str:
    answer = exchange_rest(sandbox, sign_system_token(sandbox.config["system_user_token"],
                                                      sandbox.config["private_key_pem"]))
    assert answer["IsSuccessful"] is True, answer["ErrorMessage"]
    claims = validate_system_user_jwt(answer["Token"], JwksCache(sandbox.config["jwks_url"]))
    return str(claims[claim("ticket")])


# --- tenant state and identity metadata -----------------------------------------------------------


def test_state_of_a_known_tenant(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.base_url}/api/state/Cust12345", timeout=10)
    assert response.status_code == 200
    data = response.json()
    assert list(data) == ["ContextIdentifier", "Endpoint", "State", "IsRunning", "ValidUntil", "Api"]
    assert data["ContextIdentifier"] == "Cust12345"
    assert data["Endpoint"] == f"{sandbox.base_url}/Cust12345"
    assert data["State"] == "Running" and data["IsRunning"] is True
    assert data["Api"] == f"{sandbox.base_url}/Cust12345/api"
    assert data["ValidUntil"].endswith("Z")
    assert dt.datetime.fromisoformat(data["ValidUntil"].replace("Z", "+00:00")) > dt.datetime.now(dt.timezone.utc)


def test_state_of_an_unknown_tenant_is_404_with_state_unknown(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.base_url}/api/state/Cust99999", timeout=10)
    assert response.status_code == 404
    data = response.json()
    assert data["State"] == "Unknown" and data["IsRunning"] is False and data["Endpoint"] is None


def test_the_projects_tenant_directory_reads_the_state(sandbox: Sandbox) -> None:
    directory = TenantDirectory(Environment.resolve(sandbox.base_url))
    location = directory.locate("Cust12345")
    assert location.state is TenantState.Running
    assert location.services_url() == sandbox.config["netserver_url"]


def test_jwks_publishes_the_identity_certificate(sandbox: Sandbox) -> None:
    keys = requests.get(sandbox.config["jwks_url"], timeout=10).json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
    identity = sandbox.backend.identity
    assert key["kid"] == identity.kid and key["kid"] == key["kid"].upper() and len(key["kid"]) == 40
    assert key["x5t"] == identity.x5t
    certificate_pem = Path(sandbox.config["identity_certificate"]).read_bytes()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    certificate = x509.load_pem_x509_certificate(certificate_pem)
    assert certificate.fingerprint(hashes.SHA1()).hex().upper() == key["kid"]


def test_openid_configuration_uses_superoffices_paths(sandbox: Sandbox) -> None:
    data = requests.get(sandbox.config["openid_configuration_url"], timeout=10).json()
    base = sandbox.base_url
    assert data["issuer"] == base
    assert data["authorization_endpoint"] == f"{base}/login/common/oauth/authorize"
    assert data["token_endpoint"] == f"{base}/login/common/oauth/tokens"
    assert data["jwks_uri"] == f"{base}/login/.well-known/jwks"
    assert data["end_session_endpoint"] == f"{base}/login/logout"
    assert data["id_token_signing_alg_values_supported"] == ["RS256"]


# --- PartnerSystemUserService ---------------------------------------------------------------------


@pytest.mark.parametrize("key_field", ["private_key_pem", "private_key_xml"])
def test_rest_exchange_returns_a_valid_jwt_with_the_documented_claims(sandbox: Sandbox, key_field: str) -> None:
    config = sandbox.config
    answer = exchange_rest(sandbox, sign_system_token(config["system_user_token"], config[key_field]))
    assert answer["IsSuccessful"] is True and answer["ErrorMessage"] is None
    claims = validate_system_user_jwt(answer["Token"], JwksCache(config["jwks_url"]))
    assert claims["iss"] == "SuperOffice AS"
    assert claims["aud"] == config["jwt_audience"] == f"spn:{claims[claim('serial')]}"
    assert claims["nbf"] <= claims["iat"] < claims["exp"]
    assert str(claims[claim("ticket")]).startswith("7T:")
    assert claims[claim("ctx")] == "Cust12345"
    assert claims[claim("netserver_url")] == config["netserver_url"]
    assert claims[claim("webapi_url")] == f"{config['tenant_endpoint']}/api/"
    assert claims[claim("associateid")] == "1"
    assert claims[claim("is_administrator")] in ("True", "False")
    assert claims[claim("system_token")] == config["system_user_token"]
    for name in ("email", "upn", "company_name", "initials"):
        assert claims[claim(name)], name


def test_jwt_header_names_the_key_by_thumbprint(sandbox: Sandbox) -> None:
    import jwt

    config = sandbox.config
    token = exchange_rest(sandbox, sign_system_token(config["system_user_token"], config["private_key_pem"]))["Token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == sandbox.backend.identity.kid
    assert header["x5t"] == sandbox.backend.identity.x5t


def test_soap_exchange_happy_path(sandbox: Sandbox) -> None:
    config = sandbox.config
    answer = exchange_soap(sandbox, sign_system_token(config["system_user_token"], config["private_key_pem"]))
    assert answer["IsSuccessful"] == "true" and answer["ErrorMessage"] is None
    claims = validate_system_user_jwt(answer["Token"], JwksCache(config["jwks_url"]))
    assert str(claims[claim("ticket")]).startswith("7T:")


def test_soap_exchange_with_zeep_on_the_served_wsdl(sandbox: Sandbox) -> None:
    config = sandbox.config
    plugin = SuperOfficeHeaders(config["client_secret"], context_identifier=config["context_identifier"])
    client = zeep.Client(config["partner_service_url"] + "?wsdl", plugins=[plugin])
    answer = client.service.Authenticate(
        SignedSystemToken=sign_system_token(config["system_user_token"], config["private_key_xml"]),
        ReturnTokenType="Jwt",
    )
    assert answer.IsSuccessful is True and answer.ErrorMessage is None
    assert validate_system_user_jwt(answer.Token, JwksCache(config["jwks_url"]))


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("transport", ["rest", "soap"])
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong signature", "InvalidSignature (7)"),
        ("stale timestamp", "InvalidTimestamp (6)"),
        ("future timestamp", "InvalidTimestamp (6)"),
        ("wrong client secret", "Denied (4): unknown application token"),
        ("unknown tenant", "Denied (4): unknown context identifier"),
        ("wrong system-user token", "Denied (4): the system-user token"),
        ("garbage", "InvalidSignature (7)"),
    ],
)
def test_exchange_failures(sandbox: Sandbox, transport: str, case: str, expected: str) -> None:
    config = sandbox.config
    token, key = config["system_user_token"], config["private_key_pem"]
    now = dt.datetime.now(dt.timezone.utc)
    overrides: dict[str, str] = {}
    signed = sign_system_token(token, key)
    if case == "wrong signature":
        signed = sign_system_token(token, _other_key())
    elif case == "stale timestamp":
        signed = sign_system_token(token, key, now=now - dt.timedelta(minutes=10))
    elif case == "future timestamp":
        signed = sign_system_token(token, key, now=now + dt.timedelta(minutes=10))
    elif case == "wrong client secret":
        overrides["ApplicationToken"] = "0" * 32
    elif case == "unknown tenant":
        overrides["ContextIdentifier"] = "Cust99999"
    elif case == "wrong system-user token":
        signed = sign_system_token("someone else-abc123", key)
    elif case == "garbage":
        signed = "not a signed token"
    if transport == "rest":
        answer = exchange_rest(sandbox, signed, **overrides)
        assert answer["IsSuccessful"] is False and answer["Token"] is None
    else:
        answer = exchange_soap(sandbox, signed, app_token=overrides.get("ApplicationToken"),
                               ctx=overrides.get("ContextIdentifier"),
                               token_type=overrides.get("ReturnTokenType", "Jwt"))
        assert answer["IsSuccessful"] == "false" and answer["Token"] is None
    assert expected in answer["ErrorMessage"]


def test_timestamp_within_tolerance_is_accepted(sandbox: Sandbox) -> None:
    config = sandbox.config
    signed = sign_system_token(config["system_user_token"], config["private_key_pem"],
                               now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=3))
    assert exchange_rest(sandbox, signed)["IsSuccessful"] is True


def test_app_not_installed_in_tenant_is_denied(sandbox: Sandbox) -> None:
    sandbox.add_tenant("Cust20001", install=False)
    config = sandbox.config
    answer = exchange_rest(sandbox, sign_system_token(config["system_user_token"], config["private_key_pem"]),
                           ContextIdentifier="Cust20001")
    assert answer["IsSuccessful"] is False
    assert answer["ErrorMessage"].startswith("Denied (4): application") and "not installed" in answer["ErrorMessage"]


def test_suspended_tenant_is_denied(sandbox: Sandbox) -> None:
    token = sandbox.add_tenant("Cust20002", state="Suspended")
    assert token is not None
    answer = exchange_rest(sandbox, sign_system_token(token, sandbox.config["private_key_pem"]),
                           ContextIdentifier="Cust20002")
    assert answer["IsSuccessful"] is False and "Suspended" in answer["ErrorMessage"]


def test_rest_rejects_a_body_that_is_not_json(sandbox: Sandbox) -> None:
    response = requests.post(sandbox.config["partner_rest_url"], data=b"nope", timeout=10)
    assert response.status_code == 400 and response.json()["IsSuccessful"] is False


def test_malformed_partner_envelope_gets_a_soap_fault(sandbox: Sandbox) -> None:
    response = requests.post(sandbox.config["partner_service_url"], data=b"<not-xml",
                             headers={"Content-Type": "text/xml"}, timeout=10)
    assert response.status_code == 500
    fault = etree.fromstring(response.content).find(f".//{{{SOAP_ENV}}}Fault")
    assert fault is not None and fault.findtext("faultcode") == "s:Client"


def test_xml_entities_are_not_expanded(sandbox: Sandbox) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&a;</s:Body></s:Envelope>')
    response = requests.post(sandbox.config["partner_service_url"], data=bomb,
                             headers={"Content-Type": "text/xml"}, timeout=10)
    assert response.status_code == 500 and b"DTD" in response.content


# --- agents ----------------------------------------------------------------------------------------


def test_wsdl_is_served_with_the_sandbox_address_and_its_schema(sandbox: Sandbox) -> None:
    url = f"{sandbox.config['netserver_url']}Contact.svc"
    wsdl = requests.get(url + "?wsdl", timeout=10)
    assert wsdl.status_code == 200
    document = etree.fromstring(wsdl.content)
    addresses = [a.get("location") for a in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")]
    assert addresses and set(addresses) == {url}
    locations = [i.get("schemaLocation") for i in document.iter("{http://www.w3.org/2001/XMLSchema}import")
                 if i.get("schemaLocation")]
    assert locations and all(loc.startswith(url + "?xsd=") for loc in locations)
    for location in locations:
        assert requests.get(location, timeout=10).status_code == 200
    assert requests.get(url + "?xsd=../../etc/passwd", timeout=10).status_code == 404


def test_partner_wsdl_is_served(sandbox: Sandbox) -> None:
    response = requests.get(sandbox.config["partner_service_url"] + "?wsdl", timeout=10)
    assert response.status_code == 200 and b"AuthenticationRequest" in response.content


def test_seeded_data(sandbox: Sandbox, ticket: str) -> None:
    contacts = agent(sandbox, "Contact", ticket).GetContactList({"int": [1, 2, 3, 4, 5]})
    assert contacts.header.Succeeded is True
    names = [c.Name for c in contacts.body.Response.Contact]
    assert len(names) == 5 and all(names)
    entity = agent(sandbox, "Contact", ticket).GetContactEntity(1).body.Response
    assert entity.OrgNr and entity.Address.Postal.City and entity.Phones.EntityElement[0].Value
    assert entity.Business.Value and entity.Category.Value and entity.Country.Name and entity.Associate.FullName
    assert len(entity.Persons.Person) == 2
    person = agent(sandbox, "Person", ticket).GetPersonEntity(1).body.Response
    assert person.Firstname and person.Lastname and person.Emails.EntityElement[0].Value
    assert person.Contact.ContactId == 1 and person.Position.Value


def test_contact_and_person_round_trip(sandbox: Sandbox, ticket: str) -> None:
    contact_agent, person_agent = agent(sandbox, "Contact", ticket), agent(sandbox, "Person", ticket)
    draft = contact_agent.CreateDefaultContactEntity().body.Response
    assert draft.ContactId == 0 and draft.Country.CountryId == 578
    draft.Name = "Round Trip AS"
    draft.OrgNr = "987654321"
    draft.Phones = {"EntityElement": [{"Value": "+47 11 22 33 44", "Description": "Switchboard"}]}
    draft.Address.Postal.Address1 = "Postboks 1"
    draft.Address.Postal.Zipcode = "0101"
    draft.Address.Postal.City = "Oslo"
    saved = contact_agent.SaveContactEntity(draft).body.Response
    contact_id = saved.ContactId
    assert contact_id > 5 and saved.CreatedDate.year > 2000
    assert saved.Phones.EntityElement[0].StrippedValue == "+4711223344"

    saved.Department = "Sales"
    updated = contact_agent.SaveContactEntity(saved).body.Response
    assert updated.ContactId == contact_id and updated.Department == "Sales"
    assert updated.UpdatedDate.year > 2000 and updated.UpdatedBy.AssociateId == 1

    person = person_agent.CreateDefaultPersonEntity().body.Response
    person.Firstname, person.Lastname = "Rita", "Rundtur"
    person.Contact = {"ContactId": contact_id}
    person.Emails = {"EntityElement": [{"Value": "rita@roundtrip.example"}]}
    person_id = person_agent.SavePersonEntity(person).body.Response.PersonId

    read = contact_agent.GetContactEntity(contact_id).body.Response
    assert read.Name == "Round Trip AS" and read.Address.Postal.City == "Oslo"
    assert [p.PersonId for p in read.Persons.Person] == [person_id]
    listed = contact_agent.GetPersons(contact_id).body.Response.Person
    assert [(p.PersonId, p.Email, p.ContactName) for p in listed] == [
        (person_id, "rita@roundtrip.example", "Round Trip AS")]
    assert person_agent.GetPersonsFromContact(contact_id).body.Response.Person[0].FullName == "Rita Rundtur"
    assert person_agent.GetPerson(person_id).body.Response.ContactId == contact_id
    assert contact_agent.GetContact(contact_id).body.Response.DirectPhone == "+47 11 22 33 44"

    assert person_agent.DeletePersonEntity(person_id).header.Succeeded is True
    assert contact_agent.DeleteContactEntity(contact_id).header.Succeeded is True
    gone = contact_agent.DeleteContactEntity(contact_id).header
    assert gone.Succeeded is False and gone.ExceptionInfo.ExceptionType == "EntityNotFoundException"


def test_get_of_an_unknown_id_is_nil_and_succeeds(sandbox: Sandbox, ticket: str) -> None:
    url = f"{sandbox.config['netserver_url']}Contact.svc"
    client = zeep.Client(url + "?wsdl")
    envelope = client.create_message(
        client.service, "GetContactEntity", 424242,
        _soapheaders={"ApplicationToken": sandbox.config["client_secret"], "Credentials": {"Ticket": ticket}},
    )
    response = requests.post(url, data=etree.tostring(envelope), timeout=10, headers={
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": '"http://www.superoffice.net/ws/crm/NetServer/Services88/Contact/GetContactEntity"'})
    document = etree.fromstring(response.content)
    ns = "http://www.superoffice.net/ws/crm/NetServer/Services88"
    assert document.findtext(f".//{{{ns}}}Succeeded") == "true"
    nil = document.find(f".//{{{ns}}}Response")
    assert nil is not None and nil.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


def test_invalid_save_fails_with_validation_exception(sandbox: Sandbox, ticket: str) -> None:
    contact_agent = agent(sandbox, "Contact", ticket)
    draft = contact_agent.CreateDefaultContactEntity().body.Response
    draft.Name = "  "
    header = contact_agent.SaveContactEntity(draft).header
    assert header.Succeeded is False and header.ExceptionInfo.ExceptionType == "ValidationException"
    draft.Name = "Bad Business AS"
    draft.Business = {"Id": 999}
    info = contact_agent.SaveContactEntity(draft).header.ExceptionInfo
    assert info.ExceptionType == "ValidationException" and "Business 999" in info.Message


def test_soprincipal(sandbox: Sandbox, ticket: str) -> None:
    principal = agent(sandbox, "SoPrincipal", None)
    info = principal.GetSystemInfo()
    assert info.header.Succeeded is True and info.body.SystemInfo.CompanyName
    answer = principal.AuthenticateWithAccessToken(ticket)
    assert answer.body.AuthenticationSucceeded is True
    assert answer.body.Credentials.Ticket == ticket
    assert answer.body.Response.AssociateId == 1 and answer.body.Response.DatabaseContextIdentifier == "Cust12345"
    assert principal.AuthenticateWithAccessToken("7T:unknown").body.AuthenticationSucceeded is False


def test_unknown_action_and_unknown_tenant_and_soap12(sandbox: Sandbox) -> None:
    url = f"{sandbox.config['netserver_url']}Contact.svc"
    empty = f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body/></s:Envelope>'.encode()
    fault = requests.post(url, data=empty, headers={"Content-Type": "text/xml", "SOAPAction": '"urn:nope"'},
                          timeout=10)
    assert fault.status_code == 500 and b"ActionNotSupported" in fault.content
    missing = requests.post(f"{sandbox.base_url}/Cust99999/Remote/Services88/Contact.svc", data=empty, timeout=10)
    assert missing.status_code == 404
    soap12 = requests.post(url, data=empty, headers={"Content-Type": "application/soap+xml"}, timeout=10)
    assert soap12.status_code == 415
    assert requests.get(f"{sandbox.config['netserver_url']}Nope.svc?wsdl", timeout=10).status_code == 404


def test_operation_in_the_wsdl_but_not_in_the_sandbox(sandbox: Sandbox, ticket: str) -> None:
    from soapkit.sandbox.agents import registry

    removed = registry.HANDLERS.pop(("Contact", "GetMyContact"))
    try:
        header = agent(sandbox, "Contact", ticket).GetMyContact().header
    finally:
        registry.HANDLERS[("Contact", "GetMyContact")] = removed
    assert header.Succeeded is False
    assert header.ExceptionInfo.ExceptionType == "NotImplementedException"
    assert header.ExceptionInfo.Message.startswith("ContactAgent.GetMyContact is not emulated by the soapkit sandbox")


def test_oversized_body_is_refused(sandbox: Sandbox) -> None:
    limit = sandbox.settings.max_request_bytes
    response = requests.post(sandbox.config["partner_service_url"], data=b"x" * (limit + 1), timeout=10)
    assert response.status_code == 413


# --- files, restart, logging -----------------------------------------------------------------------


def test_sandbox_json_and_key_files(sandbox: Sandbox) -> None:
    path = sandbox.config_path
    on_disk = json.loads(path.read_text())
    assert on_disk == sandbox.config
    for key in ("base_url", "context_identifier", "client_id", "client_secret", "system_user_token",
                "private_key_pem", "private_key_xml", "identity_certificate", "netserver_url"):
        assert on_disk[key], key
    assert " " in on_disk["system_user_token"]
    assert Path(on_disk["private_key_xml"]).read_text().startswith("<RSAKeyValue>")
    for secret in (path, on_disk["private_key_pem"], on_disk["private_key_xml"], sandbox.data.identity_key):
        assert stat.S_IMODE(Path(secret).stat().st_mode) == 0o600, secret


def test_restart_keeps_keys_app_tickets_and_data(tmp_path) -> None:
    with Sandbox(tmp_path, port=0) as first:
        config = first.config
        ticket = first.issue_ticket()
        contact_agent = agent(first, "Contact", ticket)
        draft = contact_agent.CreateDefaultContactEntity().body.Response
        draft.Name = "Persistent AS"
        contact_id = contact_agent.SaveContactEntity(draft).body.Response.ContactId
        kid = first.backend.identity.kid
    with Sandbox(tmp_path, port=0) as second:
        again = second.config
        for key in ("client_id", "client_secret", "system_user_token", "private_key_pem", "context_identifier"):
            assert again[key] == config[key], key
        assert second.backend.identity.kid == kid
        assert agent(second, "Contact", ticket).GetContactEntity(contact_id).body.Response.Name == "Persistent AS"
        answer = exchange_rest(second, sign_system_token(again["system_user_token"], again["private_key_pem"]))
        assert answer["IsSuccessful"] is True
    with Sandbox(tmp_path, port=0, reset=True) as fresh:
        assert fresh.config["client_secret"] != config["client_secret"]
        assert fresh.backend.identity.kid != kid


def test_lost_sandbox_json_issues_new_secrets(tmp_path) -> None:
    with Sandbox(tmp_path, port=0) as first:
        old = first.config
    (tmp_path / "sandbox.json").unlink()
    with Sandbox(tmp_path, port=0) as second:
        new = second.config
        assert new["client_id"] == old["client_id"]
        assert new["client_secret"] != old["client_secret"]
        answer = exchange_rest(second, sign_system_token(new["system_user_token"], new["private_key_pem"]))
        assert answer["IsSuccessful"] is True


def test_request_log_is_structured_and_redacted(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    config = sandbox.config
    with caplog.at_level(logging.INFO, logger="soapkit.sandbox.requests"):
        signed = sign_system_token(config["system_user_token"], config["private_key_pem"])
        token = exchange_rest(sandbox, signed)["Token"]
        ticket = str(validate_system_user_jwt(token, JwksCache(config["jwks_url"]))[claim("ticket")])
        agent(sandbox, "Contact", ticket).GetContactEntity(1)
    lines = [r.getMessage() for r in caplog.records if r.name == "soapkit.sandbox.requests"]
    records = [json.loads(line) for line in lines]
    calls = [r for r in records if r.get("operation") == "Contact.GetContactEntity"]
    assert calls and calls[0]["status"] == 200 and calls[0]["ctx"] == "Cust12345" and calls[0]["method"] == "POST"
    assert all({"method", "path", "status", "duration_ms"} <= set(r) for r in records)
    text = "\n".join(lines)
    for secret in (config["client_secret"], config["system_user_token"], signed, token, ticket):
        assert secret not in text


def test_cli_run_prints_where_it_listens_and_stops_on_ctrl_c(tmp_path, monkeypatch) -> None:
    import io

    from soapkit.sandbox import cli

    def interrupt(self: Sandbox) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Sandbox, "serve_forever", interrupt)
    out = io.StringIO()
    assert cli.run("127.0.0.1", 0, tmp_path, out=out, request_log=False) == 0
    text = out.getvalue()
    assert "listening on http://127.0.0.1:" in text and str(tmp_path / "sandbox.json") in text
    assert "stopped" in text
