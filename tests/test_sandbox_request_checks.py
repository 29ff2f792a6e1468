"""The sandbox refuses request values that are not of their schema type, as WCF does (not as nil)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from soapkit.sandbox import Sandbox

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"


def _get_contact_entity(sandbox: Sandbox, value: str) -> requests.Response:
    cfg: dict[str, Any] = sandbox.config
    envelope = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>
<h:ApplicationToken xmlns:h="{NS}">{cfg["client_secret"]}</h:ApplicationToken>
<h:Credentials xmlns:h="{NS}"><Ticket xmlns="{NS}">{sandbox.issue_ticket()}</Ticket></h:Credentials>
</s:Header><s:Body><GetContactEntity xmlns="{NS}"><ContactEntityId>{value}</ContactEntityId></GetContactEntity>
</s:Body></s:Envelope>"""
    return requests.post(f"{cfg['netserver_url']}Contact.svc", data=envelope.encode(), timeout=10, headers={
        "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}/Contact/GetContactEntity"'})


@pytest.mark.parametrize("value", ["abc", "1.5", "12x"])
def test_a_value_of_the_wrong_type_is_a_client_fault(sandbox: Sandbox, value: str) -> None:
    response = _get_contact_entity(sandbox, value)
    assert response.status_code == 500
    assert "Fault" in response.text and "does not match the contract" in response.text


def test_a_valid_value_still_works(sandbox: Sandbox) -> None:
    response = _get_contact_entity(sandbox, "1")
    assert response.status_code == 200 and "<ns0:ContactId>1</ns0:ContactId>" in response.text
