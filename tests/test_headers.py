"""The header plugin writes exactly what each operation declares."""

from __future__ import annotations

import pytest
from lxml import etree

from soapkit.catalog import Catalog
from soapkit.errors import ConfigurationError
from soapkit.headers import SOAP11_ENV, SuperOfficeHeaders, TimeZoneHeader

NS88 = "http://www.superoffice.net/ws/crm/NetServer/Services88"
WSA = "http://www.w3.org/2005/08/addressing"


def _build(service: str, operation: str, plugin: SuperOfficeHeaders, **values: object) -> etree._Element:
    client, proxy = Catalog().bind(service, f"http://127.0.0.1:9/Cust1/Remote/Services88/{service}.svc",
                                   operation, plugins=[plugin])
    envelope, _ = proxy._binding._create(operation, (), values, client=client, options=proxy._binding_options)
    return envelope


def _header_names(envelope: etree._Element) -> list[str]:
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    return [] if header is None else [etree.QName(c).localname for c in header]


@pytest.mark.parametrize("ticket", ["7T:system-user-ticket", "8A:Cust1.access-token"])
def test_agent_gets_application_token_and_ticket(ticket: str) -> None:
    envelope = _build("Contact", "GetContactEntity", SuperOfficeHeaders("secret", ticket=lambda: ticket),
                      ContactEntityId=5)
    assert _header_names(envelope) == ["ApplicationToken", "Credentials"]
    assert envelope.findtext(f".//{{{NS88}}}ApplicationToken") == "secret"
    assert envelope.findtext(f".//{{{NS88}}}Credentials/{{{NS88}}}Ticket") == ticket


def test_time_zone_only_when_configured_and_in_declared_order() -> None:
    plugin = SuperOfficeHeaders("secret", ticket=lambda: "7T:t", time_zone=TimeZoneHeader(so_time_zone_id=44))
    envelope = _build("Contact", "GetContactEntity", plugin, ContactEntityId=5)
    assert _header_names(envelope) == ["ApplicationToken", "Credentials", "TimeZone"]
    assert envelope.findtext(f".//{{{NS88}}}TimeZone/{{{NS88}}}SoTimeZoneId") == "44"


def test_partner_service_gets_context_identifier_not_credentials() -> None:
    plugin = SuperOfficeHeaders("secret", ticket=lambda: "7T:t", context_identifier="Cust1")
    client, proxy = Catalog().bind("PartnerSystemUserService", "http://127.0.0.1:9/login/x.svc", "Authenticate",
                                   plugins=[plugin])
    envelope = client.create_message(proxy, "Authenticate", SignedSystemToken="s", ReturnTokenType="Jwt")
    assert _header_names(envelope) == ["ApplicationToken", "ContextIdentifier"]


def test_ws_addressing_is_stripped_by_default_and_kept_on_request() -> None:
    stripped = _build("Contact", "GetContactEntity", SuperOfficeHeaders("s", ticket=lambda: "7T:t"),
                      ContactEntityId=1)
    assert WSA not in etree.tostring(stripped).decode()
    kept = _build("Contact", "GetContactEntity", SuperOfficeHeaders("s", ticket=lambda: "7T:t", ws_addressing=True),
                  ContactEntityId=1)
    assert etree.tostring(kept).decode().count(WSA) >= 1
    assert "Action" in _header_names(kept)


def test_ticket_is_asked_for_on_every_request() -> None:
    tickets = iter(["7T:first", "7T:second"])
    plugin = SuperOfficeHeaders("s", ticket=lambda: next(tickets))
    first = _build("Contact", "GetContactEntity", plugin, ContactEntityId=1)
    second = _build("Contact", "GetContactEntity", plugin, ContactEntityId=1)
    assert first.findtext(f".//{{{NS88}}}Ticket") == "7T:first"
    assert second.findtext(f".//{{{NS88}}}Ticket") == "7T:second"


def test_missing_application_token_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="ApplicationToken"):
        _build("Contact", "GetContactEntity", SuperOfficeHeaders(None, ticket=lambda: "7T:t"), ContactEntityId=1)


def test_plugin_repr_hides_the_secret() -> None:
    assert "top-secret" not in repr(SuperOfficeHeaders("top-secret"))
