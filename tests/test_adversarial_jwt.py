"""Forged and broken system-user JWTs: every one is a TokenValidationError, quickly, whatever its shape.

Tokens are built byte by byte and signed with the environment's real key unless the case is about the
signature, so each one fails for its own defect only. No network: the JWKS is preloaded.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from soapkit.credentials.jwt_validation import (
    CLAIM_PREFIX,
    SYSTEM_USER_ISSUER,
    TICKET_CLAIM,
    JwksCache,
    validate_system_user_jwt,
)
from soapkit.errors import TokenValidationError
from soapkit.sandbox.identity import Identity, _self_signed, new_rsa_key

NOW = dt.datetime.now(dt.timezone.utc)
_KEY = new_rsa_key()
REAL = Identity(_KEY, _self_signed(_KEY, NOW))
_FOREIGN_KEY = new_rsa_key()
TENANT = "Cust12345"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def part(value: Any) -> str:
    return b64(value if isinstance(value, bytes) else json.dumps(value).encode())


def claims(**changes: Any) -> dict[str, Any]:
    issued = int(time.time())
    base: dict[str, Any] = {
        "iss": SYSTEM_USER_ISSUER, "aud": "spn:42", "iat": issued, "nbf": issued, "exp": issued + 600,
        TICKET_CLAIM: "7T:genuine-looking-ticket", CLAIM_PREFIX + "ctx": TENANT, CLAIM_PREFIX + "serial": "42",
    }
    for name, value in changes.items():
        name = {"ticket": TICKET_CLAIM, "ctx": CLAIM_PREFIX + "ctx", "serial": CLAIM_PREFIX + "serial"}.get(name, name)
        if value is _DROP:
            base.pop(name, None)
        else:
            base[name] = value
    return base


_DROP = object()


def forge(header: Any = None, payload: Any = None, *, key: Any = _KEY, signature: bytes | None = None) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": REAL.kid} if header is None else header
    signing_input = f"{part(header)}.{part(claims() if payload is None else payload)}"
    if signature is None:
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def hs256_with_public_key() -> str:
    public_pem = REAL.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{part({'alg': 'HS256', 'kid': REAL.kid})}.{part(claims())}"
    mac = hmac.HMAC(public_pem, hashes.SHA256())
    mac.update(signing_input.encode())
    return f"{signing_input}.{b64(mac.finalize())}"


def header(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": REAL.kid}
    for name, change in changes.items():
        if change is _DROP:
            value.pop(name, None)
        else:
            value[name] = change
    return value


FORGERIES: dict[str, Any] = {
    "alg none, unsigned": lambda: f"{part({'alg': 'none', 'kid': REAL.kid})}.{part(claims())}.",
    "HS256 keyed with the public key": hs256_with_public_key,
    "RS512 not on the allow-list": lambda: forge(header(alg="RS512")),
    "no alg": lambda: forge(header(alg=_DROP)),
    "no kid": lambda: forge(header(kid=_DROP)),
    "kid is a dict": lambda: forge(header(kid={"a": 1})),
    "kid is a list": lambda: forge(header(kid=["x"])),
    "kid is an int": lambda: forge(header(kid=12345)),
    "kid of 100 KB": lambda: forge(header(kid="K" * 100_000)),
    "unknown kid": lambda: forge(header(kid="0" * 40)),
    "crit header": lambda: forge(header(crit=["exp"])),
    "header not JSON": lambda: forge(b"{not json"),
    "header is a list": lambda: forge([1, 2]),
    "payload not UTF-8": lambda: forge(payload=b"\xff\xfe\x00garbage"),
    "payload not JSON": lambda: forge(payload=b"{'single': quotes}"),
    "payload is a list": lambda: forge(payload=[1, 2, 3]),
    "payload 10,000 deep": lambda: forge(payload=b"[" * 10_000 + b"]" * 10_000),
    "signed by a foreign key": lambda: forge(key=_FOREIGN_KEY),
    "signature of another payload": lambda: forge(signature=_KEY.sign(b"x.y", padding.PKCS1v15(), hashes.SHA256())),
    "expired": lambda: forge(payload=claims(exp=int(time.time()) - 3600)),
    "exp as a string": lambda: forge(payload=claims(exp=str(int(time.time()) + 600))),
    "exp missing": lambda: forge(payload=claims(exp=_DROP)),
    "nbf in the future": lambda: forge(payload=claims(nbf=int(time.time()) + 3600)),
    "nbf as a string": lambda: forge(payload=claims(nbf="0")),
    "iat as a list": lambda: forge(payload=claims(iat=[1])),
    "wrong issuer": lambda: forge(payload=claims(iss="Evil AS")),
    "audience of another serial": lambda: forge(payload=claims(aud="spn:43")),
    "no serial claim": lambda: forge(payload=claims(serial=_DROP)),
    "no ticket": lambda: forge(payload=claims(ticket=_DROP)),
    "ticket 12345": lambda: forge(payload=claims(ticket=12345)),
    "ticket a list": lambda: forge(payload=claims(ticket=["7T:a"])),
    "ticket a dict": lambda: forge(payload=claims(ticket={"7T": "a"})),
    "ticket without 7T:": lambda: forge(payload=claims(ticket="8A:Cust12345.token")),
    "no ctx claim": lambda: forge(payload=claims(ctx=_DROP)),
    "ctx of another tenant": lambda: forge(payload=claims(ctx="Cust99999")),
    "empty": lambda: "",
    "two segments": lambda: forge().rsplit(".", 1)[0],
    "four segments": lambda: forge() + ".extra",
    "segments not base64": lambda: "!!!.@@@.###",
    "1 MB of A": lambda: "A" * 1_000_000,
}


@pytest.fixture(scope="module")
def jwks() -> JwksCache:
    cache = JwksCache("http://127.0.0.1:9/never-fetched", min_refresh_interval=1e9, new_kid_refresh_interval=1e9)
    cache._keys = {REAL.kid: REAL.key.public_key()}
    cache._fetched_at = time.monotonic()
    return cache


def test_the_genuine_token_passes(jwks: JwksCache) -> None:
    claims_ = validate_system_user_jwt(forge(), jwks, context_identifier=TENANT)
    assert claims_[TICKET_CLAIM] == "7T:genuine-looking-ticket"


def test_there_are_at_least_25_forgeries() -> None:
    assert len(FORGERIES) >= 25


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", list(FORGERIES))
def test_each_forgery_is_a_typed_refusal(name: str, jwks: JwksCache) -> None:
    token = FORGERIES[name]()
    started = time.perf_counter()
    with pytest.raises(TokenValidationError) as refused:
        validate_system_user_jwt(token, jwks, context_identifier=TENANT)
    assert time.perf_counter() - started < 5
    assert refused.value.hint  # says what to do
    assert len(str(refused.value)) < 2000 and "genuine-looking-ticket" not in str(refused.value)
