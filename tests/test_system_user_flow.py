"""The system-user flow end to end against a sandbox: sign, exchange (SOAP and REST), validate, ticket.

Every bad case the protocol knows is a clear, typed error.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from soapkit import connect
from soapkit.credentials.base import AuthContext
from soapkit.credentials.jwt_validation import CLAIM_PREFIX, TICKET_CLAIM, JwksCache, validate_system_user_jwt
from soapkit.credentials.keys import private_key_to_pem
from soapkit.credentials.signing import sign_system_token
from soapkit.credentials.system_user import SystemUser, exchange_signed_token
from soapkit.errors import AuthenticationFailed, TokenValidationError
from soapkit.flow import returns
from soapkit.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

@pytest.fixture(scope="module")
def sandbox(own_sandbox: Sandbox) -> Sandbox:
    return own_sandbox  # these tests expire, revoke and rotate: they get a sandbox of their own


@pytest.fixture()
def cfg(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.config


def _context(cfg: dict[str, Any], **changes: Any) -> AuthContext:
    values = {"context_identifier": cfg["context_identifier"], "app_token": cfg["client_secret"], **changes}
    client = connect(values["context_identifier"], env=cfg["base_url"], app_token=values["app_token"],
                     ticket="7T:unused")
    return client.context


@pytest.mark.parametrize("method", ["soap", "rest"])
@pytest.mark.parametrize("key_format", ["private_key_xml", "private_key_pem"])
def test_exchange_and_validate_gives_a_ticket(cfg: dict[str, Any], method: str, key_format: str) -> None:
    credential = SystemUser(cfg["system_user_token"], cfg[key_format], method=method)  # type: ignore[arg-type]
    issued = credential.issued(_context(cfg))
    assert issued.value.startswith("7T:")
    assert issued.claims[CLAIM_PREFIX + "ctx"] == cfg["context_identifier"]
    assert issued.claims[CLAIM_PREFIX + "netserver_url"].endswith(f"/{cfg['context_identifier']}/Remote/Services88/")
    assert issued.claims["aud"] == f"spn:{issued.claims[CLAIM_PREFIX + 'serial']}"


def test_the_cached_entry_holds_no_system_user_token(cfg: dict[str, Any], tmp_path: Path) -> None:
    from soapkit.credentials.caches import FileCache

    credential = SystemUser(cfg["system_user_token"], cfg["private_key_pem"], cache=FileCache(tmp_path / "cache"))
    issued = credential.issued(_context(cfg))
    assert CLAIM_PREFIX + "system_token" not in issued.claims and CLAIM_PREFIX + "ctx" in issued.claims
    stored = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert issued.value in stored  # the ticket is what the cache is for
    assert cfg["system_user_token"] not in stored


def test_ticket_is_cached_not_fetched_per_call(cfg: dict[str, Any]) -> None:
    credential = SystemUser(cfg["system_user_token"], cfg["private_key_pem"])
    so = connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                 credentials=credential)
    for _ in range(5):
        so.ContactAgent.GetContactEntity(1)
    assert credential.fetch_count == 1


def _refused(cfg: dict[str, Any], signed: str, **context: Any) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as caught:
        exchange_signed_token(_context(cfg, **context), signed)
    return caught.value


def test_wrong_signature_is_refused(cfg: dict[str, Any]) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    error = _refused(cfg, sign_system_token(cfg["system_user_token"], stranger))
    assert "InvalidSignature" in str(error) and "private key registered" in error.hint


def test_stale_timestamp_is_refused(cfg: dict[str, Any]) -> None:
    stale = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=30)
    error = _refused(cfg, sign_system_token(cfg["system_user_token"], cfg["private_key_pem"], now=stale))
    assert "InvalidTimestamp" in str(error) and "clock" in error.hint


def test_wrong_client_secret_is_refused(cfg: dict[str, Any]) -> None:
    signed = sign_system_token(cfg["system_user_token"], cfg["private_key_pem"])
    error = _refused(cfg, signed, app_token="not-the-secret")
    assert "Denied" in str(error)
    assert "not-the-secret" not in str(error)


def test_wrong_system_user_token_gets_a_hint_about_the_token(cfg: dict[str, Any]) -> None:
    error = _refused(cfg, sign_system_token("not-the-token", cfg["private_key_pem"]))
    assert "Denied" in str(error) and "system-user token" in str(error)
    assert error.hint.startswith("Check the system-user token") and "client secret" not in error.hint
    signed = sign_system_token(cfg["system_user_token"], cfg["private_key_pem"])  # the secret's hint is unchanged
    assert "client secret" in _refused(cfg, signed, app_token="not-the-secret").hint


def test_unknown_tenant_is_refused(cfg: dict[str, Any]) -> None:
    signed = sign_system_token(cfg["system_user_token"], cfg["private_key_pem"])
    error = _refused(cfg, signed, context_identifier="Cust99999")
    assert "Cust99999" in str(error)


def test_refusal_carries_the_server_message_without_secrets(cfg: dict[str, Any]) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signed = sign_system_token(cfg["system_user_token"], stranger)
    error = _refused(cfg, signed)
    assert error.server_message and "InvalidSignature" in error.server_message
    assert signed not in repr(error) and signed.rsplit(".", 1)[1] not in str(error)


# --- strict JWT validation ------------------------------------------------------------------------


@pytest.fixture()
def good_claims(sandbox: Sandbox, cfg: dict[str, Any]) -> dict[str, Any]:
    token = exchange_signed_token(_context(cfg), sign_system_token(cfg["system_user_token"], cfg["private_key_pem"]))
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture()
def jwks(cfg: dict[str, Any]) -> JwksCache:
    return JwksCache(f"{cfg['base_url']}/login/.well-known/jwks", min_refresh_interval=3600)


def test_a_genuine_token_validates(sandbox: Sandbox, good_claims: dict[str, Any], jwks: JwksCache) -> None:
    token = sandbox.backend.identity.sign_jwt(good_claims)
    assert validate_system_user_jwt(token, jwks)[TICKET_CLAIM].startswith("7T:")


def _mutated(claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**claims, **changes}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iss": "Evil AS"}, "issuer"),
        ({"aud": "spn:00000000"}, "audience"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200, "nbf": int(time.time()) - 7200},
         "expired"),
    ],
    ids=["wrong issuer", "wrong audience", "expired"],
)
def test_validly_signed_but_wrong_claims_are_rejected(sandbox: Sandbox, good_claims: dict[str, Any],
                                                      jwks: JwksCache, change: dict[str, Any], message: str) -> None:
    token = sandbox.backend.identity.sign_jwt(_mutated(good_claims, **change))
    with pytest.raises(TokenValidationError, match=message):
        validate_system_user_jwt(token, jwks)


def test_tampered_token_is_rejected(sandbox: Sandbox, good_claims: dict[str, Any], jwks: JwksCache) -> None:
    header, payload, signature = sandbox.backend.identity.sign_jwt(good_claims).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims[TICKET_CLAIM] = "7T:someone-elses-ticket"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenValidationError, match="signature"):
        validate_system_user_jwt(f"{header}.{forged}.{signature}", jwks)


def test_alg_none_is_rejected(sandbox: Sandbox, good_claims: dict[str, Any], jwks: JwksCache) -> None:
    token = jwt.encode(good_claims, None, algorithm="none", headers={"kid": sandbox.backend.identity.kid})
    with pytest.raises(TokenValidationError, match="not allowed"):
        validate_system_user_jwt(token, jwks)


def test_hs256_with_the_public_key_as_secret_is_rejected(sandbox: Sandbox, good_claims: dict[str, Any],
                                                         jwks: JwksCache) -> None:
    token = jwt.encode(good_claims, "a-shared-secret-guess-long-enough-for-hs256", algorithm="HS256",
                       headers={"kid": sandbox.backend.identity.kid})
    with pytest.raises(TokenValidationError, match="HS256"):
        validate_system_user_jwt(token, jwks)


def test_unknown_kid_is_rejected_after_one_jwks_refresh(good_claims: dict[str, Any], jwks: JwksCache) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(good_claims, private_key_to_pem(stranger), algorithm="RS256", headers={"kid": "ABCDEF"})
    for _ in range(3):
        with pytest.raises(TokenValidationError, match="kid"):
            validate_system_user_jwt(token, jwks)
    assert jwks.fetches == 1  # no storm: refreshes are rate limited


def test_token_signed_by_a_stranger_with_the_right_kid_is_rejected(sandbox: Sandbox, good_claims: dict[str, Any],
                                                                   jwks: JwksCache) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(good_claims, private_key_to_pem(stranger), algorithm="RS256",
                       headers={"kid": sandbox.backend.identity.kid})
    with pytest.raises(TokenValidationError, match="signature"):
        validate_system_user_jwt(token, jwks)


def test_system_user_rejects_a_token_for_another_tenant(sandbox: Sandbox, cfg: dict[str, Any], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    genuine = exchange_signed_token(_context(cfg), sign_system_token(cfg["system_user_token"], cfg["private_key_pem"]))
    other = sandbox.backend.identity.sign_jwt(
        {**jwt.decode(genuine, options={"verify_signature": False}), CLAIM_PREFIX + "ctx": "Cust54321"})
    monkeypatch.setattr("soapkit.credentials.system_user.exchange_flow", lambda *a, **k: returns(other))
    with pytest.raises(TokenValidationError, match="Cust54321"):
        SystemUser(cfg["system_user_token"], cfg["private_key_pem"]).issued(_context(cfg))


def test_a_rotated_key_is_picked_up_at_once_and_garbage_kids_stay_rate_limited(
        sandbox: Sandbox, good_claims: dict[str, Any], cfg: dict[str, Any]) -> None:
    now = [1000.0]
    jwks = JwksCache(cfg["jwks_url"], clock=lambda: now[0])
    validate_system_user_jwt(sandbox.backend.identity.sign_jwt(good_claims), jwks)
    assert jwks.fetches == 1
    sandbox.rotate_identity_key()
    now[0] += 2  # well inside the 30 s minimum interval
    assert validate_system_user_jwt(sandbox.backend.identity.sign_jwt(good_claims), jwks)[TICKET_CLAIM]
    assert jwks.fetches == 2
    stranger = private_key_to_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    for second in range(5):
        now[0] += 0.1
        for attempt in range(3):
            forged = jwt.encode(good_claims, stranger, algorithm="RS256", headers={"kid": f"K{second}{attempt}"})
            with pytest.raises(TokenValidationError, match="kid"):
                validate_system_user_jwt(forged, jwks)
    assert jwks.fetches == 2  # made-up kids within a second of the last fetch cost nothing
    now[0] += 1.5
    with pytest.raises(TokenValidationError, match="kid"):
        validate_system_user_jwt(jwt.encode(good_claims, stranger, algorithm="RS256", headers={"kid": "NEW"}), jwks)
    assert jwks.fetches == 3  # a new kid after a second: one fetch
    with pytest.raises(TokenValidationError, match="kid"):
        validate_system_user_jwt(jwt.encode(good_claims, stranger, algorithm="RS256", headers={"kid": "NEW"}), jwks)
    assert jwks.fetches == 3  # the same kid again: none
