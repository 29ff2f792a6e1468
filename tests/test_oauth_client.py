"""soapkit's OAuth side against the sandbox: sign-in, OAuthUser, ClientCredentials, id_token checks, JWKS rotation."""

from __future__ import annotations

import datetime as dt
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
from test_oauth_support import ScriptedBrowser, client_for, code_tokens, query_of, running_sandbox, token_call

from soapkit.cli import main
from soapkit.credentials.base import AuthContext
from soapkit.credentials.jwt_validation import CLAIM_PREFIX, JwksCache
from soapkit.credentials.oauth import (
    ClientCredentials,
    ClientSecret,
    OAuthUser,
    SignInStore,
    TokenAnswer,
    sign_in,
    validate_id_token,
)
from soapkit.errors import LoginFailed, OAuthError, SignInRequired, TokenValidationError
from soapkit.sandbox import Sandbox
from soapkit.sandbox.identity import new_rsa_key


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from running_sandbox(tmp_path_factory, "oauth-client-sandbox")


def _client_secret(sb: Sandbox, auth: str = "basic") -> ClientSecret:
    return ClientSecret(sb.config["client_id"], sb.config["client_secret"], auth)  # type: ignore[arg-type]


def _store(sb: Sandbox, directory: Path) -> SignInStore:
    return SignInStore(sb.base_url, sb.context_identifier, sb.config["client_id"], directory=directory)


def _signed_in_user(sb: Sandbox, directory: Path, **browser: str) -> OAuthUser:
    sign_in(sb.base_url, _client_secret(sb), open_url=ScriptedBrowser(**browser), timeout=10,
            store_for=lambda ctx: SignInStore(sb.base_url, ctx, sb.config["client_id"], directory=directory))
    return OAuthUser(sb.config["client_id"], store=_store(sb, directory))


def _context(sb: Sandbox) -> AuthContext:
    return client_for(sb, ClientCredentials(sb.config["client_id"])).context


# --- sign-in -----------------------------------------------------------------------------------


def test_sign_in_stores_the_refresh_token_and_the_user_calls_agents(sandbox: Sandbox, tmp_path: Path) -> None:
    result = sign_in(sandbox.base_url, _client_secret(sandbox), open_url=ScriptedBrowser(), timeout=10,
                     store_for=lambda ctx: SignInStore(sandbox.base_url, ctx, sandbox.config["client_id"],
                                                       directory=tmp_path))
    assert result.context_identifier == sandbox.context_identifier
    assert result.claims[CLAIM_PREFIX + "upn"] == "EVA" and result.claims["aud"] == sandbox.config["client_id"]
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) & 0o077 == 0
    user = OAuthUser(sandbox.config["client_id"], store=_store(sandbox, tmp_path))
    client = client_for(sandbox, user)
    assert client.ContactAgent.GetContactEntity(1).ContactId == 1
    assert client.PersonAgent.GetPersonEntity(1).PersonId == 1
    assert user.fetch_count == 1  # one refresh, then the cache
    issued = user.current(client.context)
    stored = _store(sandbox, tmp_path).load()
    assert issued is not None and stored is not None
    assert stored.refresh_token not in repr(user) + repr(stored) and issued.value not in repr(issued)


def test_refresh_without_new_refresh_token_keeps_the_old_one(sandbox: Sandbox, tmp_path: Path) -> None:
    user = _signed_in_user(sandbox, tmp_path)
    stored = _store(sandbox, tmp_path).load()
    assert stored is not None
    client = client_for(sandbox, user)
    first = user.token(client.context)
    user.invalidate(client.context)
    second = user.token(client.context)
    assert first != second and user.fetch_count == 2
    assert _store(sandbox, tmp_path).load().refresh_token == stored.refresh_token  # type: ignore[union-attr]
    assert client.ContactAgent.GetContactEntity(2).ContactId == 2


def test_a_new_refresh_token_replaces_the_stored_one(sandbox: Sandbox, tmp_path: Path) -> None:
    user = _signed_in_user(sandbox, tmp_path)
    context = client_for(sandbox, user).context
    answer = TokenAnswer(f"8A:{sandbox.context_identifier}.x", time.time() + 60, refresh_token="8R:rotated")
    user.adopt(context, answer, claims={})
    assert _store(sandbox, tmp_path).load().refresh_token == "8R:rotated"  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_dead_refresh_token_asks_to_sign_in_again(sandbox: Sandbox, tmp_path: Path, how: str) -> None:
    user = _signed_in_user(sandbox, tmp_path)
    stored = _store(sandbox, tmp_path).load()
    assert stored is not None
    if how == "revoked":
        sandbox.revoke_credential(stored.refresh_token)
    else:
        sandbox.expire_credential(stored.refresh_token)
    client = client_for(sandbox, user)
    with pytest.raises(SignInRequired) as caught:
        client.ContactAgent.GetContactEntity(1)
    assert caught.value.error == "invalid_grant" and how in str(caught.value)
    assert "soapkit login" in str(caught.value) and stored.refresh_token not in str(caught.value)


def test_no_stored_sign_in_asks_to_sign_in(sandbox: Sandbox, tmp_path: Path) -> None:
    user = OAuthUser(sandbox.config["client_id"], store=_store(sandbox, tmp_path))
    with pytest.raises(SignInRequired, match="soapkit login"):
        user.token(_context(sandbox))


def test_state_mismatch_is_refused_and_nothing_is_stored(sandbox: Sandbox, tmp_path: Path) -> None:
    def forge_state(location: str) -> str:
        return location.replace("state=", "state=forged")

    with pytest.raises(LoginFailed, match="state"):
        sign_in(sandbox.base_url, _client_secret(sandbox), open_url=ScriptedBrowser(tamper=forge_state), timeout=10,
                store_for=lambda ctx: _store(sandbox, tmp_path))
    assert _store(sandbox, tmp_path).load() is None


def test_denied_sign_in_is_a_clear_error(sandbox: Sandbox) -> None:
    with pytest.raises(LoginFailed, match="access_denied"):
        sign_in(sandbox.base_url, _client_secret(sandbox), open_url=ScriptedBrowser(consent="deny"), timeout=10)


def test_no_answer_times_out(sandbox: Sandbox) -> None:
    started = time.monotonic()
    with pytest.raises(LoginFailed, match="within"):
        sign_in(sandbox.base_url, _client_secret(sandbox), open_url=lambda url: None, timeout=0.3)
    assert time.monotonic() - started < 5


def test_sign_in_to_a_named_tenant(sandbox: Sandbox) -> None:
    sandbox.add_tenant("Cust4242")
    result = sign_in(sandbox.base_url, _client_secret(sandbox, "post"), tenant="Cust4242",
                     open_url=ScriptedBrowser(username="johan.berg@sandbox.example"), timeout=10)
    assert result.context_identifier == "Cust4242" and result.answer.access_token.startswith("8A:Cust4242.")
    assert result.claims[CLAIM_PREFIX + "upn"] == "JOHAN"


def test_authorize_url_carries_pkce_s256_state_and_nonce(sandbox: Sandbox) -> None:
    seen: list[str] = []

    def browser(url: str) -> None:
        seen.append(url)
        ScriptedBrowser()(url)

    sign_in(sandbox.base_url, _client_secret(sandbox), open_url=browser, timeout=10)
    query = query_of(seen[0])
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"] and query["scope"] == "openid"
    assert query["redirect_uri"].startswith("http://127.0.0.1:")


# --- id_token validation -----------------------------------------------------------------------


def test_id_token_nonce_must_match(sandbox: Sandbox) -> None:
    tokens = code_tokens(sandbox)  # asked with nonce n-1
    context = _context(sandbox)
    options = {"issuer": sandbox.base_url, "client_id": sandbox.config["client_id"]}
    assert validate_id_token(tokens["id_token"], context.jwks, nonce="n-1", **options)["nonce"] == "n-1"
    with pytest.raises(TokenValidationError, match="nonce"):
        validate_id_token(tokens["id_token"], context.jwks, nonce="another", **options)


def test_id_token_issuer_and_audience_are_checked(sandbox: Sandbox) -> None:
    tokens = code_tokens(sandbox)
    jwks = _context(sandbox).jwks
    with pytest.raises(TokenValidationError, match="issuer"):
        validate_id_token(tokens["id_token"], jwks, issuer="https://sod.superoffice.com",
                          client_id=sandbox.config["client_id"], nonce=None)
    with pytest.raises(TokenValidationError, match="audience"):
        validate_id_token(tokens["id_token"], jwks, issuer=sandbox.base_url, client_id="another-app", nonce=None)


@pytest.mark.parametrize(("skew", "accepted"), [(dt.timedelta(seconds=30), True),
                                                 (dt.timedelta(minutes=10), False)])
def test_clock_skew_between_server_and_client(sandbox: Sandbox, skew: dt.timedelta, accepted: bool) -> None:
    real = sandbox.settings.clock
    sandbox.settings.clock = lambda: real() + skew  # the server's clock runs ahead of ours
    try:
        tokens = code_tokens(sandbox)
    finally:
        sandbox.settings.clock = real
    jwks = _context(sandbox).jwks
    options = {"issuer": sandbox.base_url, "client_id": sandbox.config["client_id"], "nonce": "n-1"}
    if accepted:
        assert validate_id_token(tokens["id_token"], jwks, **options)
    else:
        with pytest.raises(TokenValidationError, match=r"not yet valid|iat|nbf"):
            validate_id_token(tokens["id_token"], jwks, **options)


def test_jwks_rotation_costs_one_refresh_not_a_storm(sandbox: Sandbox) -> None:
    now = [1000.0]
    jwks = JwksCache(sandbox.config["jwks_url"], clock=lambda: now[0])
    options = {"issuer": sandbox.base_url, "client_id": sandbox.config["client_id"], "nonce": None}
    old = code_tokens(sandbox)["id_token"]
    validate_id_token(old, jwks, **options)
    assert jwks.fetches == 1
    new_kid = sandbox.rotate_identity_key()
    new = code_tokens(sandbox)["id_token"]
    assert jwt.get_unverified_header(new)["kid"] == new_kid != jwt.get_unverified_header(old)["kid"]
    now[0] += 31
    errors: list[BaseException] = []

    def validate() -> None:
        try:
            validate_id_token(new, jwks, **options)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=validate) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and jwks.fetches == 2
    validate_id_token(old, jwks, **options)  # the old key is still published during the rotation
    forged = jwt.encode({"iss": sandbox.base_url, "aud": sandbox.config["client_id"], "sub": "x", "iat": 1,
                         "exp": 2**31}, new_rsa_key(), algorithm="RS256", headers={"kid": "F" * 40})
    for _ in range(10):
        with pytest.raises(TokenValidationError, match="No key"):
            validate_id_token(forged, jwks, **options)
    assert jwks.fetches == 2  # unknown kids within the minimum interval cause no refresh


def test_oauth_user_follows_a_rotation(sandbox: Sandbox, tmp_path: Path) -> None:
    user = _signed_in_user(sandbox, tmp_path)
    client = client_for(sandbox, user)
    assert client.ContactAgent.GetContactEntity(1).ContactId == 1
    sandbox.rotate_identity_key()
    client.context.jwks._fetched_at = -1e9  # as if the minimum interval had passed
    user.invalidate(client.context)
    assert client.ContactAgent.GetContactEntity(1).ContactId == 1
    assert client.context.jwks.fetches == 2


# --- client credentials ------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_client_credentials_act_as_the_system_user(sandbox: Sandbox, auth: str) -> None:
    credential = ClientCredentials(sandbox.config["client_id"], client_auth=auth)  # type: ignore[arg-type]
    client = client_for(sandbox, credential)
    assert client.ContactAgent.GetContactEntity(1).ContactId == 1
    token = credential.token(client.context)
    assert token.startswith(f"8A:{sandbox.context_identifier}.") and credential.fetch_count == 1
    record = sandbox.backend.credentials.lookup(token)
    assert record is not None and record.associate_id == 1


def test_client_credentials_get_a_new_token_when_the_old_expires(sandbox: Sandbox) -> None:
    credential = ClientCredentials(sandbox.config["client_id"])
    client = client_for(sandbox, credential)
    first = credential.token(client.context)
    sandbox.expire_credential(first)
    assert client.ContactAgent.GetContactEntity(1).ContactId == 1  # rejected once, fetched again, retried
    assert credential.fetch_count == 2 and credential.token(client.context) != first


def test_client_credentials_refused_without_a_system_user(sandbox: Sandbox) -> None:
    assert sandbox.oauth is not None
    sandbox.oauth.clients.configure(sandbox.config["client_id"], system_user_allowed=False)
    try:
        with pytest.raises(OAuthError) as caught:
            ClientCredentials(sandbox.config["client_id"]).token(_context(sandbox))
    finally:
        sandbox.oauth.clients.configure(sandbox.config["client_id"], system_user_allowed=True)
    assert caught.value.error == "unauthorized_client" and caught.value.status == 400


def test_wrong_client_secret_is_invalid_client(sandbox: Sandbox) -> None:
    credential = ClientCredentials(sandbox.config["client_id"], client_secret="0" * 32)
    with pytest.raises(OAuthError) as caught:
        credential.token(_context(sandbox))
    assert caught.value.error == "invalid_client" and "0" * 32 not in str(caught.value)


def test_user_and_service_tokens_never_share_a_cache_entry(sandbox: Sandbox, tmp_path: Path) -> None:
    user = _signed_in_user(sandbox, tmp_path)
    service = ClientCredentials(sandbox.config["client_id"])
    context = _context(sandbox)
    assert user.cache_key(context) != service.cache_key(context)
    assert user.token(context) != service.token(context)


# --- the command line --------------------------------------------------------------------------


def test_soapkit_login_end_to_end(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", ScriptedBrowser())
    store = tmp_path / "sign-ins"
    assert main(["login", "--sandbox", str(sandbox.data.root), "--store", str(store)]) == 0
    out, err = capsys.readouterr()
    assert "Signed in as EVA" in out and "/login/common/oauth/authorize?" in err
    stored = _store(sandbox, store).load()
    assert stored is not None and stored.refresh_token not in out + err
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in store.glob("*.json"))
    user = OAuthUser(sandbox.config["client_id"], store=_store(sandbox, store))
    assert client_for(sandbox, user).ContactAgent.GetContactEntity(3).ContactId == 3

    assert main(["login", "--sandbox", str(sandbox.data.root), "--store", str(store), "--logout"]) == 0
    assert _store(sandbox, store).load() is None
    answer = token_call(sandbox, grant_type="refresh_token", refresh_token=stored.refresh_token)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_soapkit_login_no_browser_prints_the_url(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import webbrowser

    def must_not_open(url: str) -> None:
        raise AssertionError("--no-browser opened a browser")

    monkeypatch.setattr(webbrowser, "open", must_not_open)
    code = main(["login", "--sandbox", str(sandbox.data.root), "--store", str(tmp_path), "--no-browser",
                 "--login-timeout", "0.2"])
    err = capsys.readouterr().err
    assert code == 4 and "Open this URL to sign in" in err and "No sign-in arrived" in err
    assert os.listdir(tmp_path) == [] or not list(tmp_path.glob("*.json"))


def test_loopback_receiver_ignores_other_requests(sandbox: Sandbox) -> None:
    from soapkit.credentials.oauth import LoopbackReceiver

    with LoopbackReceiver() as receiver:
        assert requests.get(f"http://127.0.0.1:{receiver.port}/favicon.ico", timeout=5).status_code == 404
        assert requests.get(receiver.redirect_uri, timeout=5).status_code == 404  # no code, no error
        assert requests.get(receiver.redirect_uri + "?code=abc&state=s", timeout=5).status_code == 200
        assert receiver.wait(1).get("code") == "abc"


def test_sign_out_without_a_revocation_endpoint_only_forgets(sandbox: Sandbox, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from soapkit.credentials.oauth import flow
    from soapkit.flow import returns

    user = _signed_in_user(sandbox, tmp_path)
    stored = _store(sandbox, tmp_path).load()
    assert stored is not None
    monkeypatch.setattr(flow, "revocation_url_flow", lambda *args, **kwargs: returns(None))  # as SuperOffice today
    assert user.sign_out(_context(sandbox)) is False
    assert _store(sandbox, tmp_path).load() is None and not user.has_refresh_token
    assert token_call(sandbox, grant_type="refresh_token", refresh_token=stored.refresh_token).status_code == 200
