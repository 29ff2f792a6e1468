"""Bounded fuzzing of the sandbox's entry points (SOAP agents and partner service, REST exchange, OAuth
token endpoint, tenant state, admin): whatever arrives, the app answers — a 4xx, or a SOAP fault — and
never raises (an exception would be HTTP 500 "internal error" with a traceback in its log).

Requests go straight to the app (no sockets), so a few hundred examples take seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soapkit.sandbox import Sandbox
from soapkit.sandbox.web import Request, Response

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("fuzz-sandbox"), port=0) as running:
        yield running


def answer(sandbox: Sandbox, method: str, path: str, body: bytes = b"", query: str = "",
           headers: dict[str, str] | None = None) -> Response:
    request = Request(method, path, query, {k.lower(): v for k, v in (headers or {}).items()}, body,
                      sandbox.base_url, "127.0.0.1")
    response = sandbox._server.app(request)  # type: ignore[union-attr]
    is_fault = response.status == 500 and b"Fault>" in response.body
    assert response.status < 500 or is_fault or response.status == 503, (path, response.status, response.body[:300])
    return response


def envelope(operation: str, inner: str, header: str = "") -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Header>{header}</s:Header><s:Body>'
            f'<{operation} xmlns="{NS}">{inner}</{operation}></s:Body></s:Envelope>').encode()


@FUZZ
@given(body=st.binary(max_size=3000), service=st.sampled_from(["Contact", "Person", "Archive", "NoSuch"]))
def test_soap_agents_survive_arbitrary_bytes(sandbox: Sandbox, body: bytes, service: str) -> None:
    answer(sandbox, "POST", f"/{sandbox.context_identifier}/Remote/Services88/{service}.svc", body,
           headers={"Content-Type": "text/xml"})


@FUZZ
@given(operation=st.sampled_from(["GetContactEntity", "GetPersonList", "SaveContactEntity", "Bogus"]),
       inner=st.lists(st.tuples(st.sampled_from(["contactId", "ContactEntity", "personIds", "int", "x"]), words),
                      max_size=4),
       ticket=st.sampled_from(["", "7T:forged", "<x/>", "7T:" + "A" * 5000]))
def test_soap_agents_survive_odd_envelopes(sandbox: Sandbox, operation: str, inner: list[tuple[str, str]],
                                           ticket: str) -> None:
    from xml.sax.saxutils import escape

    body = "".join(f"<{name}>{escape(text)}</{name}>" for name, text in inner)
    header = f'<Credentials xmlns="{NS}"><Ticket>{escape(ticket)}</Ticket></Credentials>'
    answer(sandbox, "POST", f"/{sandbox.context_identifier}/Remote/Services88/Contact.svc",
           envelope(operation, body, header), headers={"SOAPAction": f'"{NS}/{operation}"'})


@FUZZ
@given(data=json_values, raw=st.binary(max_size=500))
def test_the_rest_exchange_survives_any_json_or_bytes(sandbox: Sandbox, data: Any, raw: bytes) -> None:
    for body in (json.dumps(data).encode(), raw):
        answer(sandbox, "POST", "/login/api/PartnerSystemUser/Authenticate", body,
               headers={"Content-Type": "application/json"})


@FUZZ
@given(signed=words, token_type=words, ctx=words)
def test_the_partner_soap_exchange_survives_odd_values(sandbox: Sandbox, signed: str, token_type: str,
                                                       ctx: str) -> None:
    from xml.sax.saxutils import escape

    ns = "http://www.superoffice.com/superid/partnersystemuser/0.1"
    body = (f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Header><ApplicationToken xmlns="{ns}">x</ApplicationToken>'
            f'<ContextIdentifier xmlns="{ns}">{escape(ctx)}</ContextIdentifier></s:Header><s:Body>'
            f'<AuthenticationRequest xmlns="{ns}"><SignedSystemToken>{escape(signed)}</SignedSystemToken>'
            f"<ReturnTokenType>{escape(token_type)}</ReturnTokenType></AuthenticationRequest></s:Body></s:Envelope>")
    answer(sandbox, "POST", "/login/services/PartnerSystemUserService.svc", body.encode())


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["grant_type", "code", "client_id", "client_secret",
                                               "refresh_token", "redirect_uri", "code_verifier", "x"]),
                              words, max_size=6))
def test_the_oauth_token_endpoint_survives_any_form(sandbox: Sandbox, fields: dict[str, str]) -> None:
    from urllib.parse import urlencode

    answer(sandbox, "POST", "/login/common/oauth/tokens", urlencode(fields).encode(),
           headers={"Content-Type": "application/x-www-form-urlencoded"})


@FUZZ
@given(path=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="?#"), max_size=300),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]))
def test_any_path_is_answered(sandbox: Sandbox, path: str, method: str) -> None:
    answer(sandbox, method, "/" + path)
    answer(sandbox, "GET", f"/api/state/{path}")


@FUZZ
@given(data=json_values, route=st.sampled_from(["faults", "tenants", "tenants/Cust12345/state",
                                                "tenants/Cust12345/move", "clock", "seed"]),
       method=st.sampled_from(["GET", "POST", "DELETE"]))
def test_the_admin_endpoints_survive_any_json(sandbox: Sandbox, data: Any, route: str, method: str) -> None:
    headers = {"X-Sandbox-Admin-Token": sandbox.admin_token, "Content-Type": "application/json"}
    try:
        answer(sandbox, method, f"/_sandbox/admin/{route}", json.dumps(data).encode(), headers=headers)
    finally:
        sandbox.faults.clear()
        sandbox.set_tenant_state("Cust12345", "Running")
