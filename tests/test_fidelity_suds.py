"""Fidelity with SOAP clients soapkit did not write: suds (suds-community) and plain bytes over ``requests``.

suds is a different SOAP stack from zeep (its own WSDL reader, marshaller and header handling), so these
tests catch a sandbox that only works with the client it was built next to. Each suds client is built
both from the sandbox's own ``?wsdl`` and from SuperOffice's published WSDL (the reference copy), pointed
at the sandbox, with the headers set the way a suds user would set them. The raw test sends the envelope
a .NET WCF client puts on the wire (``s:`` prefixes, ``h:`` headers, no WS-Addressing) as bytes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from lxml import etree

from soapkit.credentials.signing import sign_system_token
from soapkit.sandbox import Sandbox

suds_client = pytest.importorskip("suds.client", reason="suds-community is part of the [test] extra")
from suds import WebFault  # noqa: E402
from suds.cache import NoCache  # noqa: E402
from suds.sax.element import Element  # noqa: E402

pytest_plugins = ["soapkit.testing"]

PARTNER_NS = "http://www.superoffice.com/superid/partnersystemuser/0.1"
NS88 = "http://www.superoffice.net/ws/crm/NetServer/Services88"
TICKET_CLAIM = "http://schemes.superoffice.net/identity/ticket"
CTX_CLAIM = "http://schemes.superoffice.net/identity/ctx"
# The reference Contact.wsdl is 170 kB; suds reads it in well under a second. A generous bound that
# still catches a pathological slowdown (e.g. the sandbox's ?xsd imports being fetched in a loop).
MAX_WSDL_LOAD_SECONDS = 5.0


def _contact_url(sandbox: Sandbox) -> str:
    return str(sandbox.config["netserver_url"]).rstrip("/") + "/Contact.svc"


def _wsdl_source(which: str, sandbox: Sandbox, reference_wsdl_dir: Path | None, service: str) -> str:
    if which == "sandbox":
        if service == "PartnerSystemUserService":
            return str(sandbox.config["partner_service_url"]) + "?wsdl"
        return _contact_url(sandbox) + "?wsdl"
    assert reference_wsdl_dir is not None
    if service == "PartnerSystemUserService":
        return (reference_wsdl_dir / "PartnerSystemUserService.wsdl").as_uri()
    return (reference_wsdl_dir / "Services88" / f"{service}.wsdl").as_uri()


def _suds(source: str, location: str) -> Any:
    """A suds client without its on-disk WSDL cache, sending to ``location`` (the sandbox)."""
    return suds_client.Client(source, cache=NoCache(), location=location, timeout=10)


@pytest.fixture(params=["sandbox", "reference"])
def wsdl_from(request: pytest.FixtureRequest) -> tuple[str, Path | None]:
    """Where suds reads the WSDL: the sandbox's ``?wsdl`` or the published reference copy (skipped if absent)."""
    if request.param == "reference":
        return request.param, request.getfixturevalue("reference_wsdl_dir")
    return request.param, None


# --- (a) PartnerSystemUserService -----------------------------------------------------------------


def _headers_by_part_name(secret: str, ctx: str) -> object:
    return {"ApplicationToken": secret, "ContextIdentifier": ctx}


def _headers_positional(secret: str, ctx: str) -> object:
    return [secret, ctx]  # suds maps values to the operation's declared header parts, in order


def _headers_raw_elements(secret: str, ctx: str) -> object:
    return [Element("ApplicationToken", ns=("p", PARTNER_NS)).setText(secret),
            Element("ContextIdentifier", ns=("p", PARTNER_NS)).setText(ctx)]


HEADER_STYLES: dict[str, Callable[[str, str], object]] = {
    "by-part-name": _headers_by_part_name,
    "positional": _headers_positional,
    "raw-elements": _headers_raw_elements,
}


@pytest.mark.parametrize("style", sorted(HEADER_STYLES))
def test_suds_partner_authenticate_returns_a_jwt_with_a_ticket(
    soapkit_sandbox: Sandbox, wsdl_from: tuple[str, Path | None], style: str
) -> None:
    cfg = soapkit_sandbox.config
    client = _suds(_wsdl_source(wsdl_from[0], soapkit_sandbox, wsdl_from[1], "PartnerSystemUserService"),
                   cfg["partner_service_url"])
    client.set_options(soapheaders=HEADER_STYLES[style](cfg["client_secret"], cfg["context_identifier"]))
    signed = sign_system_token(cfg["system_user_token"], cfg["private_key_pem"])

    answer = client.service.Authenticate(SignedSystemToken=signed, ReturnTokenType="Jwt")

    assert answer.IsSuccessful is True, answer.ErrorMessage
    assert answer.ErrorMessage is None
    signing_key = jwt.PyJWKClient(cfg["jwks_url"]).get_signing_key_from_jwt(answer.Token)
    claims = jwt.decode(answer.Token, signing_key.key, algorithms=["RS256"], audience=cfg["jwt_audience"],
                        issuer=cfg["jwt_issuer"])
    assert claims[CTX_CLAIM] == cfg["context_identifier"]
    assert str(claims[TICKET_CLAIM]).startswith("7T:")
    sent = str(client.last_sent())
    assert "ApplicationToken" in sent and "ContextIdentifier" in sent


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("app_token", "Denied (4)"),
        ("signature", "InvalidSignature (7)"),
    ],
)
def test_suds_partner_refusals_are_readable(soapkit_sandbox: Sandbox, change: str, expected: str) -> None:
    cfg = soapkit_sandbox.config
    client = _suds(_wsdl_source("sandbox", soapkit_sandbox, None, "PartnerSystemUserService"),
                   cfg["partner_service_url"])
    secret = "not-the-client-secret" if change == "app_token" else cfg["client_secret"]
    client.set_options(soapheaders={"ApplicationToken": secret, "ContextIdentifier": cfg["context_identifier"]})
    signed = sign_system_token(cfg["system_user_token"], cfg["private_key_pem"])
    if change == "signature":
        token, stamp, signature = signed.rsplit(".", 2)
        signed = f"{token}.{stamp}.{signature[::-1]}"

    answer = client.service.Authenticate(SignedSystemToken=signed, ReturnTokenType="Jwt")

    assert answer.IsSuccessful is False
    assert answer.Token is None
    assert answer.ErrorMessage.startswith(expected)


# --- (b) the Contact agent --------------------------------------------------------------------------


@pytest.fixture
def contact(soapkit_sandbox: Sandbox, wsdl_from: tuple[str, Path | None]) -> Any:
    """A suds Contact client with ApplicationToken and Credentials/Ticket set, as a suds user would."""
    started = time.perf_counter()
    client = _suds(_wsdl_source(wsdl_from[0], soapkit_sandbox, wsdl_from[1], "Contact"), _contact_url(soapkit_sandbox))
    assert time.perf_counter() - started < MAX_WSDL_LOAD_SECONDS
    credentials = client.factory.create("Credentials")
    credentials.Ticket = soapkit_sandbox.issue_ticket()
    client.set_options(soapheaders={"ApplicationToken": soapkit_sandbox.config["client_secret"],
                                    "Credentials": credentials})
    return client


def test_suds_get_contact_entity_agrees_with_soapkit(contact: Any, soapkit_client: Any) -> None:
    company = contact.service.GetContactEntity(1)
    expected = soapkit_client.ContactAgent.GetContactEntity(1)
    assert company.ContactId == 1
    assert company.Name == expected.Name
    assert company.Name


def test_suds_unknown_id_reads_as_none(contact: Any) -> None:
    assert contact.service.GetContactEntity(987654) is None


def test_suds_save_contact_entity_round_trip(contact: Any, soapkit_client: Any) -> None:
    name = f"Suds Round Trip {uuid.uuid4().hex[:8]} AS"
    fresh = contact.service.CreateDefaultContactEntity()
    fresh.Name = name
    created = contact.service.SaveContactEntity(fresh)
    assert created.ContactId > 0
    assert created.Name == name

    read = contact.service.GetContactEntity(created.ContactId)  # everything the server sent, sent back
    read.Department = "Changed by suds"
    updated = contact.service.SaveContactEntity(read)
    assert (updated.ContactId, updated.Name, updated.Department) == (created.ContactId, name, "Changed by suds")

    seen_by_zeep = soapkit_client.ContactAgent.GetContactEntity(created.ContactId)
    assert (seen_by_zeep.Name, seen_by_zeep.Department) == (name, "Changed by suds")


def test_suds_system_user_flow_end_to_end(soapkit_sandbox: Sandbox) -> None:
    """Only suds: sign, Authenticate, take the ticket from the JWT, call the Contact agent with it."""
    cfg = soapkit_sandbox.config
    partner = _suds(_wsdl_source("sandbox", soapkit_sandbox, None, "PartnerSystemUserService"),
                    cfg["partner_service_url"])
    partner.set_options(soapheaders=[cfg["client_secret"], cfg["context_identifier"]])
    answer = partner.service.Authenticate(
        SignedSystemToken=sign_system_token(cfg["system_user_token"], cfg["private_key_pem"]), ReturnTokenType="Jwt")
    ticket = jwt.decode(answer.Token, options={"verify_signature": False})[TICKET_CLAIM]

    client = _suds(_wsdl_source("sandbox", soapkit_sandbox, None, "Contact"), _contact_url(soapkit_sandbox))
    credentials = client.factory.create("Credentials")
    credentials.Ticket = ticket
    client.set_options(soapheaders={"ApplicationToken": cfg["client_secret"], "Credentials": credentials})
    assert client.service.GetContactEntity(1).Name


def test_suds_rejected_ticket_is_an_exception_info_header(contact: Any) -> None:
    credentials = contact.factory.create("Credentials")
    credentials.Ticket = "7T:not-a-ticket-this-sandbox-issued"
    contact.set_options(soapheaders={"ApplicationToken": contact.options.soapheaders["ApplicationToken"],
                                     "Credentials": credentials})

    assert contact.service.GetContactEntity(1) is None  # suds returns the empty body; the verdict is a header
    received = etree.fromstring(contact.last_received().str().encode())
    assert received.findtext(f".//{{{NS88}}}Succeeded") == "false"
    assert received.findtext(f".//{{{NS88}}}ExceptionInfo/{{{NS88}}}ExceptionType") == "CredentialsInvalidException"


def test_suds_reads_a_soap_fault(contact: Any) -> None:
    contact.set_options(headers={"SOAPAction": '"http://www.superoffice.net/ws/crm/NetServer/Services88/Contact/Nope"'})
    with pytest.raises(WebFault) as raised:
        contact.service.GetContactEntity(1)
    assert raised.value.fault.faultcode == "a:ActionNotSupported"
    assert "Nope" in raised.value.fault.faultstring


# --- (c) nothing but bytes ----------------------------------------------------------------------------

# What a .NET Framework WCF client (BasicHttpBinding, MessageContract headers) writes for
# ContactAgent.GetContactEntity: an s: envelope, h: headers each declaring their own namespace, a nil
# TimeZone header, the body element in a default namespace, no WS-Addressing.
DOTNET_GET_CONTACT_ENTITY = """\
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>\
<h:ApplicationToken xmlns:h="{ns}" xmlns="{ns}">{secret}</h:ApplicationToken>\
<h:Credentials xmlns:h="{ns}" xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xmlns:xsd="http://www.w3.org/2001/XMLSchema"><Ticket>{ticket}</Ticket></h:Credentials>\
<h:TimeZone i:nil="true" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:h="{ns}"/>\
</s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">\
<GetContactEntity xmlns="{ns}"><ContactEntityId>{contact_id}</ContactEntityId></GetContactEntity>\
</s:Body></s:Envelope>"""


def _post_dotnet_envelope(sandbox: Sandbox, ticket: str, contact_id: int, **headers: str) -> requests.Response:
    body = DOTNET_GET_CONTACT_ENTITY.format(ns=NS88, secret=sandbox.config["client_secret"], ticket=ticket,
                                            contact_id=contact_id)
    return requests.post(
        _contact_url(sandbox),
        data=body.encode("utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8",
                 "SOAPAction": f'"{NS88}/Contact/GetContactEntity"', **headers},
        timeout=10,
    )


@pytest.mark.parametrize("extra", [{}, {"Expect": "100-continue"}], ids=["plain", "expect-100-continue"])
def test_raw_dotnet_envelope_get_contact_entity(soapkit_sandbox: Sandbox, soapkit_client: Any,
                                                extra: dict[str, str]) -> None:
    response = _post_dotnet_envelope(soapkit_sandbox, soapkit_sandbox.issue_ticket(), 1, **extra)

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    envelope = etree.fromstring(response.content)
    assert envelope.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    assert envelope.findtext(f".//{{{NS88}}}Succeeded") == "true"
    result = envelope.find(f".//{{{NS88}}}GetContactEntityResponse/{{{NS88}}}Response")
    assert result is not None
    assert result.findtext(f"{{{NS88}}}ContactId") == "1"
    assert result.findtext(f"{{{NS88}}}Name") == soapkit_client.ContactAgent.GetContactEntity(1).Name


def test_raw_dotnet_envelope_with_a_bad_ticket(soapkit_sandbox: Sandbox) -> None:
    response = _post_dotnet_envelope(soapkit_sandbox, "7T:forged", 1)

    assert response.status_code == 200
    envelope = etree.fromstring(response.content)
    assert envelope.findtext(f".//{{{NS88}}}Succeeded") == "false"
    assert envelope.findtext(f".//{{{NS88}}}ExceptionType") == "CredentialsInvalidException"
    assert envelope.findtext(f".//{{{NS88}}}Name") is None
