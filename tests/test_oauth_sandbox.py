"""The sandbox's OAuth 2.0 / OIDC endpoints, spoken to over raw HTTP (RFC 6749, 7636, 7009; OIDC core)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from test_oauth_support import (
    LOOPBACK,
    ScriptedBrowser,
    authorize_url,
    code_tokens,
    get_code,
    pkce_pair,
    query_of,
    read_form,
    running_sandbox,
    token_call,
)

from soapkit import connect
from soapkit.credentials.jwt_validation import CLAIM_PREFIX
from soapkit.errors import CredentialRejected
from soapkit.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from running_sandbox(tmp_path_factory)


def _contact_name(sb: Sandbox, token: str) -> str:
    client = connect(sb.context_identifier, env=sb.base_url, app_token=sb.config["client_secret"], ticket=token)
    return str(client.ContactAgent.GetContactEntity(1).Name)


def _id_claims(sb: Sandbox, id_token: str) -> dict[str, Any]:
    key = sb.backend.identity.key.public_key()
    return dict(jwt.decode(id_token, key, algorithms=["RS256"], audience=sb.config["client_id"],
                           issuer=sb.base_url))


# --- metadata and the sign-in page ----------------------------------------------------------------


def test_metadata_names_every_endpoint(sandbox: Sandbox) -> None:
    data = requests.get(sandbox.config["openid_configuration_url"], timeout=10).json()
    assert data["authorization_endpoint"] == f"{sandbox.base_url}/login/common/oauth/authorize"
    assert data["token_endpoint"] == f"{sandbox.base_url}/login/common/oauth/tokens"
    assert data["revocation_endpoint"] == f"{sandbox.base_url}/login/common/oauth/revoke"
    assert data["end_session_endpoint"] == f"{sandbox.base_url}/login/logout"


def test_sign_in_page_is_a_plain_form_carrying_the_request(sandbox: Sandbox) -> None:
    page = requests.get(authorize_url(sandbox, login_hint="EVA"), timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    action, fields = read_form(page.text)
    assert action.endswith("/login/common/oauth/authorize")
    assert fields["redirect_uri"] == LOOPBACK and fields["state"] == "st-1" and fields["username"] == "EVA"
    assert "<script" not in page.text


@pytest.mark.parametrize(("change", "message"), [
    ({"client_id": "no-such-client"}, "Unknown client_id"),
    ({"redirect_uri": "http://127.0.0.1:8123/other"}, "redirect_uri"),
    ({"redirect_uri": "https://evil.example/callback"}, "redirect_uri"),
])
def test_bad_client_or_redirect_uri_is_never_redirected_to(sandbox: Sandbox, change: dict[str, str],
                                                            message: str) -> None:
    answer = requests.get(authorize_url(sandbox, **change), allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert message in answer.text


def test_registered_redirect_uris_match_exactly(sandbox: Sandbox) -> None:
    assert sandbox.oauth is not None
    client_id = sandbox.config["client_id"]
    sandbox.oauth.clients.configure(client_id, redirect_uris=["https://app.example/cb"])
    try:
        assert requests.get(authorize_url(sandbox, redirect_uri="https://app.example/cb"), timeout=10).ok
        for near_miss in ("https://app.example/cb/", "https://app.example/CB", "https://app.example/cb?x=1"):
            answer = requests.get(authorize_url(sandbox, redirect_uri=near_miss), allow_redirects=False, timeout=10)
            assert answer.status_code == 400, near_miss
    finally:
        sandbox.oauth.clients.configure(client_id, redirect_uris=["http://127.0.0.1/"])


@pytest.mark.parametrize(("change", "error"), [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "profile"}, "invalid_scope"),
    ({"code_challenge": "x" * 43, "code_challenge_method": "S512"}, "invalid_request"),
    ({"acr_values": "tenant:Cust99999"}, "invalid_request"),
])
def test_bad_requests_are_answered_at_the_redirect_uri(sandbox: Sandbox, change: dict[str, str], error: str) -> None:
    answer = requests.get(authorize_url(sandbox, **change), allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert query_of(answer.headers["Location"]) | {"error_description": ""} == {
        "error": error, "state": "st-1", "error_description": ""}


def test_wrong_password_shows_the_form_again_without_a_code(sandbox: Sandbox) -> None:
    browser = ScriptedBrowser(password="wrong")
    with pytest.raises(AssertionError):
        browser.consent_redirect(authorize_url(sandbox))
    assert browser.pages[-1].status_code == 401 and "Wrong user name or password" in browser.pages[-1].text


def test_denied_consent_redirects_with_access_denied(sandbox: Sandbox) -> None:
    location = ScriptedBrowser(consent="deny").consent_redirect(authorize_url(sandbox))
    assert query_of(location)["error"] == "access_denied" and query_of(location)["state"] == "st-1"


# --- authorization code --------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["post", "basic"])
def test_code_flow_with_s256_gives_documented_tokens(sandbox: Sandbox, auth: str) -> None:
    verifier, challenge = pkce_pair("S256")
    code = get_code(sandbox, code_challenge=challenge, code_challenge_method="S256")
    answer = token_call(sandbox, auth, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK,
                        code_verifier=verifier)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    data = answer.json()
    assert data["token_type"] == "Bearer" and data["expires_in"] == 3600
    assert data["access_token"].startswith(f"8A:{sandbox.context_identifier}.")
    assert data["refresh_token"]
    header = jwt.get_unverified_header(data["id_token"])
    assert header["alg"] == "RS256" and header["kid"] == sandbox.backend.identity.kid
    claims = _id_claims(sandbox, data["id_token"])
    assert claims["nonce"] == "n-1" and claims["sub"]
    assert claims[CLAIM_PREFIX + "ctx"] == sandbox.context_identifier
    assert claims[CLAIM_PREFIX + "netserver_url"] == sandbox.config["netserver_url"]
    assert claims[CLAIM_PREFIX + "webapi_url"] == sandbox.config["webapi_url"]
    assert CLAIM_PREFIX + "ticket" not in claims
    assert _contact_name(sandbox, data["access_token"])


def test_code_flow_with_plain_pkce_and_without_pkce(sandbox: Sandbox) -> None:
    verifier, challenge = pkce_pair("plain")
    code = get_code(sandbox, code_challenge=challenge, code_challenge_method="plain")
    assert token_call(sandbox, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK,
                      code_verifier=verifier).status_code == 200
    code = get_code(sandbox)
    assert token_call(sandbox, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK).status_code == 200


def _grant_error(answer: requests.Response) -> str:
    assert answer.status_code in (400, 401), answer.text
    return str(answer.json()["error"])


def test_wrong_pkce_verifier_is_invalid_grant(sandbox: Sandbox) -> None:
    _, challenge = pkce_pair("S256")
    code = get_code(sandbox, code_challenge=challenge, code_challenge_method="S256")
    other, _ = pkce_pair("S256")
    answer = token_call(sandbox, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK, code_verifier=other)
    assert _grant_error(answer) == "invalid_grant" and "code_verifier" in answer.json()["error_description"]


def test_missing_pkce_verifier_is_invalid_grant(sandbox: Sandbox) -> None:
    _, challenge = pkce_pair("S256")
    code = get_code(sandbox, code_challenge=challenge, code_challenge_method="S256")
    answer = token_call(sandbox, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK)
    assert _grant_error(answer) == "invalid_grant"


def test_reused_code_is_refused_and_revokes_what_it_issued(sandbox: Sandbox) -> None:
    code = get_code(sandbox)
    first = token_call(sandbox, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK).json()
    again = token_call(sandbox, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK)
    assert _grant_error(again) == "invalid_grant" and "already used" in again.json()["error_description"]
    with pytest.raises(CredentialRejected):
        _contact_name(sandbox, first["access_token"])
    refresh = token_call(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert _grant_error(refresh) == "invalid_grant"


def test_code_expires_after_ten_minutes(sandbox: Sandbox) -> None:
    code = get_code(sandbox)
    real = sandbox.settings.clock
    later = real() + dt.timedelta(minutes=10, seconds=1)
    sandbox.settings.clock = lambda: later
    try:
        answer = token_call(sandbox, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK)
    finally:
        sandbox.settings.clock = real
    assert _grant_error(answer) == "invalid_grant" and "expired" in answer.json()["error_description"]


def test_redirect_uri_must_match_the_authorization_request(sandbox: Sandbox) -> None:
    code = get_code(sandbox)
    answer = token_call(sandbox, grant_type="authorization_code", code=code, redirect_uri=LOOPBACK + "x")
    assert _grant_error(answer) == "invalid_grant"


def test_code_of_another_client_is_unknown(sandbox: Sandbox) -> None:
    code = get_code(sandbox)
    assert sandbox.oauth is not None
    backend = sandbox.backend
    other, secret = backend.apps.register("other app", backend.apps.get(sandbox.config["client_id"]).public_key,
                                          backend.now())  # type: ignore[union-attr]
    answer = token_call(sandbox, client_id=other.client_id, secret=secret, grant_type="authorization_code",
                        code=code, redirect_uri=LOOPBACK)
    assert _grant_error(answer) == "invalid_grant"


@pytest.mark.parametrize("auth", ["post", "basic"])
def test_wrong_client_secret_is_invalid_client(sandbox: Sandbox, auth: str) -> None:
    answer = token_call(sandbox, auth, secret="0" * 32, grant_type="client_credentials")
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in answer.headers


def test_two_client_authentication_methods_at_once_are_refused(sandbox: Sandbox) -> None:
    answer = token_call(sandbox, "basic", grant_type="client_credentials", client_secret="x")
    assert _grant_error(answer) == "invalid_request"


def test_unknown_grant_type(sandbox: Sandbox) -> None:
    assert _grant_error(token_call(sandbox, grant_type="password")) == "unsupported_grant_type"


# --- refresh, client credentials, revocation --------------------------------------------------------


def test_refresh_answers_without_a_new_refresh_token(sandbox: Sandbox) -> None:
    tokens = code_tokens(sandbox)
    answer = token_call(sandbox, "basic", grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    data = answer.json()
    assert answer.status_code == 200 and "refresh_token" not in data
    assert data["access_token"] != tokens["access_token"] and data["expires_in"] == 3600
    assert "nonce" not in _id_claims(sandbox, data["id_token"])
    assert _contact_name(sandbox, data["access_token"])


def test_refresh_token_is_not_a_ticket(sandbox: Sandbox) -> None:
    tokens = code_tokens(sandbox)
    with pytest.raises(CredentialRejected):
        _contact_name(sandbox, tokens["refresh_token"])


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_dead_refresh_token_is_invalid_grant(sandbox: Sandbox, how: str) -> None:
    tokens = code_tokens(sandbox)
    if how == "revoked":
        sandbox.revoke_credential(tokens["refresh_token"])
    else:
        sandbox.expire_credential(tokens["refresh_token"])
    answer = token_call(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert _grant_error(answer) == "invalid_grant" and how in answer.json()["error_description"]


def test_client_credentials_uses_the_applications_system_user(sandbox: Sandbox) -> None:
    answer = token_call(sandbox, "basic", grant_type="client_credentials",
                        acr_values=f"tenant:{sandbox.context_identifier}")
    data = answer.json()
    assert answer.status_code == 200, data
    assert "refresh_token" not in data and "id_token" not in data
    assert data["access_token"].startswith(f"8A:{sandbox.context_identifier}.")
    record = sandbox.backend.credentials.lookup(data["access_token"])
    assert record is not None and record.associate_id == 1  # the seeded System User
    assert _contact_name(sandbox, data["access_token"])


def test_client_credentials_refused_for_an_app_without_system_user(sandbox: Sandbox) -> None:
    assert sandbox.oauth is not None
    client_id = sandbox.config["client_id"]
    sandbox.oauth.clients.configure(client_id, system_user_allowed=False)
    try:
        answer = token_call(sandbox, grant_type="client_credentials")
    finally:
        sandbox.oauth.clients.configure(client_id, system_user_allowed=True)
    assert _grant_error(answer) == "unauthorized_client"


def test_revoking_an_access_token(sandbox: Sandbox) -> None:
    tokens = code_tokens(sandbox)
    answer = requests.post(f"{sandbox.base_url}/login/common/oauth/revoke", timeout=10, data={
        "token": tokens["access_token"], "client_id": sandbox.config["client_id"],
        "client_secret": sandbox.config["client_secret"]})
    assert answer.status_code == 200
    with pytest.raises(CredentialRejected):
        _contact_name(sandbox, tokens["access_token"])


def test_revoking_a_refresh_token_revokes_its_access_tokens(sandbox: Sandbox) -> None:
    tokens = code_tokens(sandbox)
    refreshed = token_call(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    answer = requests.post(f"{sandbox.base_url}/login/common/oauth/revoke", timeout=10,
                           auth=(sandbox.config["client_id"], sandbox.config["client_secret"]),
                           data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"})
    assert answer.status_code == 200
    assert _grant_error(token_call(sandbox, grant_type="refresh_token",
                                   refresh_token=tokens["refresh_token"])) == "invalid_grant"
    with pytest.raises(CredentialRejected):
        _contact_name(sandbox, refreshed["access_token"])


def test_revocation_of_an_unknown_token_is_200_and_needs_client_auth(sandbox: Sandbox) -> None:
    url = f"{sandbox.base_url}/login/common/oauth/revoke"
    assert requests.post(url, data={"token": "8A:nothing"}, timeout=10,
                         auth=(sandbox.config["client_id"], sandbox.config["client_secret"])).status_code == 200
    assert requests.post(url, data={"token": "8A:nothing"}, timeout=10).status_code == 401


def test_access_token_at_soprincipal(sandbox: Sandbox) -> None:
    tokens = code_tokens(sandbox)
    client = connect(sandbox.context_identifier, env=sandbox.base_url, app_token=sandbox.config["client_secret"],
                     ticket="7T:unused")
    principal = client.SoPrincipalAgent.AuthenticateWithAccessToken(tokens["access_token"])
    assert principal is not None and principal.AssociateId == 2 and principal.Associate == "EVA"


def test_acr_values_selects_the_tenant(sandbox: Sandbox) -> None:
    sandbox.add_tenant("Cust777")
    tokens = code_tokens(sandbox, acr_values="tenant:Cust777")
    assert tokens["access_token"].startswith("8A:Cust777.")
    assert _id_claims(sandbox, tokens["id_token"])[CLAIM_PREFIX + "ctx"] == "Cust777"


# --- sessions and logout ------------------------------------------------------------------------


def test_prompt_none_needs_a_session_and_logout_ends_it(sandbox: Sandbox) -> None:
    browser = ScriptedBrowser()
    refused = browser.session.get(authorize_url(sandbox, prompt="none"), allow_redirects=False, timeout=10)
    assert query_of(refused.headers["Location"])["error"] == "login_required"
    get_code(sandbox, browser)  # signs in: the session cookie is set
    silent = browser.session.get(authorize_url(sandbox, prompt="none"), allow_redirects=False, timeout=10)
    assert "code" in query_of(silent.headers["Location"])
    out = browser.session.get(f"{sandbox.base_url}/login/logout", timeout=10, allow_redirects=False, params={
        "client_id": sandbox.config["client_id"], "post_logout_redirect_uri": LOOPBACK, "state": "bye"})
    assert out.status_code == 302 and query_of(out.headers["Location"]) == {"state": "bye"}
    after = browser.session.get(authorize_url(sandbox, prompt="none"), allow_redirects=False, timeout=10)
    assert query_of(after.headers["Location"])["error"] == "login_required"


def test_logout_refuses_an_unregistered_redirect(sandbox: Sandbox) -> None:
    out = requests.get(f"{sandbox.base_url}/login/logout", timeout=10, allow_redirects=False, params={
        "client_id": sandbox.config["client_id"], "post_logout_redirect_uri": "https://evil.example/"})
    assert out.status_code == 400 and "Location" not in out.headers


def test_request_log_carries_no_secret_of_the_flow(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="soapkit.sandbox.requests"):
        browser = ScriptedBrowser()
        code = get_code(sandbox, browser)
        tokens = token_call(sandbox, "basic", grant_type="authorization_code", code=code,
                            redirect_uri=LOOPBACK).json()
        token_call(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        browser.session.get(f"{sandbox.base_url}/login/logout", params={"id_token_hint": tokens["id_token"]},
                            timeout=10)
        time.sleep(0.2)  # the server logs a request after answering it
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "soapkit.sandbox.requests")
    assert "oauth.token" in text and "oauth.authorize" in text
    for secret in (code, tokens["access_token"], tokens["refresh_token"], tokens["id_token"],
                   sandbox.config["client_secret"], "password"):
        assert secret not in text


def test_logout_with_an_id_token_hint_signed_before_a_key_rotation(sandbox: Sandbox) -> None:
    hint = code_tokens(sandbox)["id_token"]
    sandbox.rotate_identity_key()
    out = requests.get(f"{sandbox.base_url}/login/logout", timeout=10, allow_redirects=False, params={
        "id_token_hint": hint, "post_logout_redirect_uri": LOOPBACK})
    assert out.status_code == 302 and out.headers["Location"] == LOOPBACK
