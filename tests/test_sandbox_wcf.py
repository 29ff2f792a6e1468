"""Fidelity with what WCF and IIS really do (issue 11, item 3), driven with plain bytes over HTTP.

Chunked request bodies, the DataContractSerializer's rules for reading a request, loopback host aliases,
``nbf`` on exchange JWTs, the layout of SAML assertions and WCF's ``s:`` envelope prefix.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from lxml import etree

from soapkit.credentials.signing import sign_system_token
from soapkit.sandbox import Sandbox
from soapkit.sandbox.saml import SAML_NS

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
PARTNER_NS = "http://www.superoffice.com/superid/partnersystemuser/0.1"
TICKET_CLAIM = "http://schemes.superoffice.net/identity/ticket"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("wcf-sandbox"), port=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def ticket(sb: Sandbox) -> str:
    return sb.issue_ticket()


def agent_envelope(sb: Sandbox, ticket: str, operation: str, body: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Header>'
            f'<h:ApplicationToken xmlns:h="{NS}">{sb.config["client_secret"]}</h:ApplicationToken>'
            f'<h:Credentials xmlns:h="{NS}"><Ticket xmlns="{NS}">{ticket}</Ticket></h:Credentials></s:Header>'
            f'<s:Body><{operation} xmlns="{NS}">{body}</{operation}></s:Body></s:Envelope>').encode()


def call(sb: Sandbox, service: str, operation: str, data: bytes | Iterator[bytes], *,
         base: str | None = None) -> requests.Response:
    return requests.post(f"{base or sb.base_url}/{sb.context_identifier}/Remote/Services88/{service}.svc", data=data,
                         timeout=10, headers={"Content-Type": "text/xml; charset=utf-8",
                                              "SOAPAction": f'"{NS}/{service}/{operation}"'})


def partner_envelope(sb: Sandbox, token_type: str) -> bytes:
    signed = sign_system_token(sb.config["system_user_token"], sb.config["private_key_pem"])
    return (f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:p="{PARTNER_NS}"><s:Header>'
            f'<p:ApplicationToken>{sb.config["client_secret"]}</p:ApplicationToken>'
            f'<p:ContextIdentifier>{sb.context_identifier}</p:ContextIdentifier></s:Header><s:Body>'
            f'<p:AuthenticationRequest><p:SignedSystemToken>{signed}</p:SignedSystemToken>'
            f'<p:ReturnTokenType>{token_type}</p:ReturnTokenType></p:AuthenticationRequest></s:Body></s:Envelope>'
            ).encode()


def exchange(sb: Sandbox, token_type: str) -> requests.Response:
    return requests.post(sb.config["partner_service_url"], data=partner_envelope(sb, token_type), timeout=10,
                         headers={"Content-Type": "text/xml; charset=utf-8",
                                  "SOAPAction": f'"{PARTNER_NS}/IPartnerSystemUserService/Authenticate"'})


def token_of(response: requests.Response) -> str:
    assert response.status_code == 200, response.text[:300]
    token = etree.fromstring(response.content).findtext(f".//{{{PARTNER_NS}}}Token")
    assert token, response.text[:300]
    return token


def in_pieces(data: bytes, size: int = 7) -> Iterator[bytes]:
    """A generator body: ``requests`` sends it with ``Transfer-Encoding: chunked``."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


# --- chunked request bodies -----------------------------------------------------------------------


def test_a_chunked_soap_request_is_answered(sb: Sandbox, ticket: str) -> None:
    envelope = agent_envelope(sb, ticket, "GetContactEntity", "<ContactEntityId>1</ContactEntityId>")
    answer = call(sb, "Contact", "GetContactEntity", in_pieces(envelope))
    assert answer.status_code == 200, answer.text[:300]
    assert etree.fromstring(answer.content).findtext(f".//{{{NS}}}ContactId") == "1"
    partner = requests.post(sb.config["partner_service_url"], data=in_pieces(partner_envelope(sb, "Jwt"), 100),
                            timeout=10, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction":
                                                 f'"{PARTNER_NS}/IPartnerSystemUserService/Authenticate"'})
    assert token_of(partner).count(".") == 2


def test_chunked_and_content_length_bodies_share_one_size_cap(sb: Sandbox, ticket: str) -> None:
    limit = sb.settings.max_request_bytes
    padding = " " * (limit // 2)
    fits = agent_envelope(sb, ticket, "GetContactEntity", "<ContactEntityId>1</ContactEntityId>" + padding)
    assert call(sb, "Contact", "GetContactEntity", in_pieces(fits, 65536)).status_code == 200
    too_big = agent_envelope(sb, ticket, "GetContactEntity", padding + padding + padding)
    assert call(sb, "Contact", "GetContactEntity", too_big).status_code == 413
    try:  # the sandbox answers 413 and closes while the client may still be sending
        status = call(sb, "Contact", "GetContactEntity", in_pieces(too_big, 65536)).status_code
    except requests.ConnectionError:
        status = 413
    assert status == 413


def test_a_chunked_body_with_extensions_and_trailers_is_read(sb: Sandbox, ticket: str) -> None:
    envelope = agent_envelope(sb, ticket, "GetContactEntity", "<ContactEntityId>2</ContactEntityId>")
    half = len(envelope) // 2
    raw = (f"POST /{sb.context_identifier}/Remote/Services88/Contact.svc HTTP/1.1\r\n"
           f"Host: {urlsplit(sb.base_url).netloc}\r\nContent-Type: text/xml; charset=utf-8\r\n"
           f'SOAPAction: "{NS}/Contact/GetContactEntity"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
           ).encode()
    raw += b"%x;name=value\r\n" % half + envelope[:half] + b"\r\n"
    raw += b"%X\r\n" % (len(envelope) - half) + envelope[half:] + b"\r\n0\r\nX-Trailer: yes\r\n\r\n"
    parts = urlsplit(sb.base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b"<ContactId>2</ContactId>" in answer or b":ContactId>2<" in answer


# --- JWT timing, SAML layout, prefixes -------------------------------------------------------------


def test_exchange_jwts_carry_nbf_sixty_seconds_before_iat(sb: Sandbox) -> None:
    claims = jwt.decode(token_of(exchange(sb, "Jwt")), options={"verify_signature": False})
    assert claims["nbf"] == claims["iat"] - 60
    assert claims["exp"] > claims["iat"]


def test_saml_assertions_are_laid_out_as_superoffice_issues_them(sb: Sandbox) -> None:
    xml = base64.b64decode(token_of(exchange(sb, "Saml")))
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>") or xml.startswith(b'<?xml version="1.0"')
    root = etree.fromstring(xml)
    assert root.tag == f"{{{SAML_NS}}}Assertion" and root.prefix is None  # the default namespace
    assert b"<Assertion " in xml and b"saml:" not in xml
    attributes = root.findall(f".//{{{SAML_NS}}}Attribute")
    assert attributes and all(set(attribute.attrib) == {"Name"} for attribute in attributes)
    ticket = next(a for a in attributes if a.get("Name") == TICKET_CLAIM).findtext(f"{{{SAML_NS}}}AttributeValue")
    assert ticket and ticket.startswith("7T:")


def test_soapkit_validates_the_superoffice_shaped_saml(sb: Sandbox) -> None:
    from soapkit import connect
    from soapkit.credentials.saml import validate_system_user_saml

    context = connect(sb.context_identifier, env=sb.base_url, app_token=sb.config["client_secret"],
                      ticket="7T:unused").context
    claims: Any = validate_system_user_saml(token_of(exchange(sb, "Saml")), context)
    assert "7T:" in str(claims)


def test_answers_and_faults_use_the_s_prefix(sb: Sandbox, ticket: str) -> None:
    ok = call(sb, "Contact", "GetContactEntity",
              agent_envelope(sb, ticket, "GetContactEntity", "<ContactEntityId>1</ContactEntityId>"))
    fault = call(sb, "Contact", "GetContactEntity", b"<not-soap/>")
    partner = exchange(sb, "Jwt")
    for answer in (ok, fault, partner):
        root = etree.fromstring(answer.content)
        assert root.prefix == "s" and root.nsmap == {"s": SOAP_ENV}, answer.text[:200]
        assert all(child.prefix == "s" for child in root)
        assert b"soap-env" not in answer.content
    assert fault.status_code == 500 and b"<s:Fault>" in fault.content


# --- loopback host aliases ------------------------------------------------------------------------


def test_localhost_and_127_0_0_1_both_reach_a_tenant_at_home(sb: Sandbox, ticket: str) -> None:
    port = urlsplit(sb.base_url).port
    envelope = agent_envelope(sb, ticket, "GetContactEntity", "<ContactEntityId>1</ContactEntityId>")
    for base in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        assert call(sb, "Contact", "GetContactEntity", envelope, base=base).status_code == 200, base
    moved = sb.move_tenant(sb.context_identifier, f"localhost:{port}")
    try:  # a moved tenant answers on its endpoint's host only: how a test provokes 421 on purpose
        assert call(sb, "Contact", "GetContactEntity", envelope, base=f"http://127.0.0.1:{port}").status_code == 421
        assert call(sb, "Contact", "GetContactEntity", envelope, base=moved.rsplit("/", 1)[0]).status_code == 200
    finally:
        sb.move_tenant(sb.context_identifier, None)


# --- the DataContractSerializer's rules ------------------------------------------------------------

DESERIALIZATION_FAILED = "DeserializationFailed"


def fault_text(answer: requests.Response) -> str:
    assert answer.status_code == 500, answer.text[:300]
    root = etree.fromstring(answer.content)
    code = root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode") or ""
    return code + " " + (root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultstring") or "")


def save_contact(sb: Sandbox, ticket: str, members: str) -> requests.Response:
    return call(sb, "Contact", "SaveContactEntity",
                agent_envelope(sb, ticket, "SaveContactEntity", f"<ContactEntity>{members}</ContactEntity>"))


def saved(answer: requests.Response) -> dict[str, str | None]:
    assert answer.status_code == 200, answer.text[:400]
    entity = etree.fromstring(answer.content).find(f".//{{{NS}}}Response")
    assert entity is not None, answer.text[:400]
    return {etree.QName(child).localname: child.text for child in entity}


def test_unknown_members_of_a_newer_contract_are_skipped(sb: Sandbox, ticket: str) -> None:
    answer = save_contact(sb, ticket, "<ContactId>0</ContactId><Name>Newer WSDL AS</Name>"
                          "<SomeFieldFrom2030>x</SomeFieldFrom2030><Department>Sales</Department>"
                          "<Nested><Deep>1</Deep></Nested>")
    values = saved(answer)
    assert values["Name"] == "Newer WSDL AS" and values["Department"] == "Sales"
    assert "SomeFieldFrom2030" not in values and int(values["ContactId"] or 0) > 0
    unknown_parameter = call(sb, "Contact", "GetContactEntity", agent_envelope(
        sb, ticket, "GetContactEntity", "<ContactEntityId>1</ContactEntityId><IncludeAll>true</IncludeAll>"))
    assert etree.fromstring(unknown_parameter.content).findtext(f".//{{{NS}}}ContactId") == "1"


def test_members_out_of_order_are_skipped_not_faulted(sb: Sandbox, ticket: str) -> None:
    # Schema order is ContactId, Name, Department, OrgNr, ...: Department after OrgNr is out of order, so WCF
    # skips it (its value is lost) and reads the rest; a lost required Name is then the agent's own failure.
    values = saved(save_contact(sb, ticket, "<ContactId>0</ContactId><Name>Out Of Order AS</Name>"
                                "<OrgNr>123</OrgNr><Department>Support</Department>"))
    assert values["Name"] == "Out Of Order AS" and values["OrgNr"] == "123"
    assert values["Department"] in (None, "")
    lost_name = save_contact(sb, ticket, "<ContactId>0</ContactId><Department>Support</Department><Name>x</Name>")
    assert lost_name.status_code == 200 and b"ValidationException" in lost_name.content
    in_order = saved(save_contact(sb, ticket, "<ContactId>0</ContactId><Name>In Order AS</Name>"))
    assert in_order["Name"] == "In Order AS"


@pytest.mark.parametrize(("operation", "body", "clr"), [
    ("GetContactEntity", "<ContactEntityId/>", "Int32"),
    ("GetContactEntity", "<ContactEntityId>  </ContactEntityId>", "Int32"),
])
def test_an_empty_int_parameter_is_a_deserialization_fault(sb: Sandbox, ticket: str, operation: str, body: str,
                                                           clr: str) -> None:
    text = fault_text(call(sb, "Contact", operation, agent_envelope(sb, ticket, operation, body)))
    assert DESERIALIZATION_FAILED in text and f"cannot be parsed as the type '{clr}'" in text
    assert "ContactEntityId" in text


def test_empty_int_and_datetime_members_are_deserialization_faults(sb: Sandbox, ticket: str) -> None:
    for members, clr in (("<ContactId></ContactId><Name>x</Name>", "Int32"),
                         ("<ContactId>0</ContactId><Name>x</Name><UpdatedDate/>", "DateTime")):
        text = fault_text(save_contact(sb, ticket, members))
        assert DESERIALIZATION_FAILED in text and f"'{clr}'" in text, text
    nil = save_contact(sb, ticket, '<ContactId>0</ContactId><Name>Nil AS</Name><UpdatedDate xmlns:i='
                       '"http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>')
    assert nil.status_code in (200, 500)  # xsi:nil is not "empty": zeep decides on nillability, not this rule
    if nil.status_code == 500:
        assert DESERIALIZATION_FAILED not in fault_text(nil)


def test_an_enum_value_outside_the_schema_is_a_fault(sb: Sandbox) -> None:
    for value in ("JWT", "jwt", "Token", ""):
        text = fault_text(exchange(sb, value))
        assert DESERIALIZATION_FAILED in text and f"Invalid enum value '{value}'" in text, (value, text)
    assert token_of(exchange(sb, "Jwt")).count(".") == 2
    assert token_of(exchange(sb, "Saml"))


def _int_parameters() -> list[tuple[str, str, str]]:
    """(service, operation, parameter): the first operation of each shipped agent with an xs:int parameter."""
    from zeep.xsd.types import builtins

    from soapkit.catalog import default_catalog

    catalog, found = default_catalog(), {}
    for service in catalog.services():
        described = catalog.describe(service)
        for name in described.operation_names:
            body = described.operation(name).input.body
            ints = [member for member, element in (body.type.elements if body is not None else [])
                    if isinstance(element.type, builtins.Int) and element.max_occurs == 1]
            if ints and service not in found:
                found[service] = (service, name, ints[0])
    return list(found.values())


def test_the_rules_hold_for_every_agent_derived_from_the_schema(sb: Sandbox, ticket: str) -> None:
    cases = _int_parameters()
    assert len(cases) >= 40
    for service, operation, parameter in cases:
        empty = call(sb, service, operation, agent_envelope(sb, ticket, operation, f"<{parameter}/>"))
        assert DESERIALIZATION_FAILED in fault_text(empty) and parameter in fault_text(empty), (service, operation)
        unknown = call(sb, service, operation,
                       agent_envelope(sb, ticket, operation, "<NotInAnyContract>1</NotInAnyContract>"))
        assert unknown.status_code == 200, (service, operation, unknown.text[:300])


def _enum_parameters() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(service, operation, parameter, allowed): the first operation of each agent with an enumeration parameter."""
    from soapkit.catalog import PARTNER_SERVICE, default_catalog
    from soapkit.sandbox.agents.schema import enumerations

    catalog, found = default_catalog(), {}
    for service in catalog.services():
        if service == PARTNER_SERVICE:  # not an agent: tested with ReturnTokenType above
            continue
        described = catalog.describe(service)
        enums = enumerations(described.path)
        for name in described.operation_names:
            body = described.operation(name).input.body
            for member, element in (body.type.elements if body is not None else []):
                allowed = enums.get(getattr(element.type, "name", None) or "")
                if allowed and element.max_occurs == 1 and service not in found:
                    found[service] = (service, name, member, allowed)
    return list(found.values())


def test_enum_values_are_checked_for_every_agent_derived_from_the_schema(sb: Sandbox, ticket: str) -> None:
    cases = _enum_parameters()
    assert len(cases) >= 10
    for service, operation, parameter, allowed in cases:
        wrong = allowed[0].upper() if allowed[0].upper() not in allowed else allowed[0] + "Nope"
        text = fault_text(call(sb, service, operation,
                               agent_envelope(sb, ticket, operation, f"<{parameter}>{wrong}</{parameter}>")))
        assert DESERIALIZATION_FAILED in text and f"Invalid enum value '{wrong}'" in text, (service, operation)
        right = call(sb, service, operation, agent_envelope(sb, ticket, operation,
                                                            f"<{parameter}>{allowed[0]}</{parameter}>"))
        assert right.status_code == 200, (service, operation, right.text[:300])


def test_many_unknown_members_are_skipped_quickly(sb: Sandbox, ticket: str) -> None:
    import time

    members = "<ContactId>0</ContactId>" + "<Zz>1</Zz><Department>d</Department>" * 60_000 + "<Name>late</Name>"
    started = time.monotonic()
    answer = save_contact(sb, ticket, members)
    assert time.monotonic() - started < 10
    # every Zz is unknown, every Department after the first a repeat, and Name (before Department in the
    # schema) is out of order: all skipped, so the contact has no name, which the agent refuses
    assert answer.status_code == 200 and b"ValidationException" in answer.content
