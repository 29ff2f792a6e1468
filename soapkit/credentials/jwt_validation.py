"""Strict validation of the JWTs SuperOffice issues, with keys from the environment's JWKS.

Rules: RS256 only; issuer and audience checked; expiry with a small leeway; the key is chosen by
``kid`` from the JWKS. An unknown ``kid`` triggers one JWKS refresh (key rotation), never a storm: a kid
not seen before may refresh the keys once ``new_kid_refresh_interval`` (1 s) has passed since the last
fetch, so a rotation is picked up at once; a kid already looked for in vain waits for
``min_refresh_interval`` (30 s). A flood of made-up kids therefore costs at most one fetch a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests
from jwt.algorithms import RSAAlgorithm

from soapkit.errors import CredentialError, HttpError, TokenValidationError
from soapkit.http import send

ALLOWED_ALGORITHMS = ("RS256",)
SYSTEM_USER_ISSUER = "SuperOffice AS"
CLAIM_PREFIX = "http://schemes.superoffice.net/identity/"
TICKET_CLAIM = CLAIM_PREFIX + "ticket"
SERIAL_CLAIM = CLAIM_PREFIX + "serial"
DEFAULT_LEEWAY = 60.0


def claim(name: str) -> str:
    """The full claim type of a SuperOffice identity claim (``ticket`` -> ``http://schemes.../ticket``)."""
    return name if name.startswith("http") else CLAIM_PREFIX + name


class JwksCache:
    """The signing keys of one environment, fetched from its JWKS URL and indexed by ``kid``. Thread-safe."""

    def __init__(
        self,
        url: str,
        session: requests.Session | None = None,
        *,
        min_refresh_interval: float = 30.0,
        new_kid_refresh_interval: float = 1.0,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._session = session or requests.Session()
        self._min_refresh_interval = min_refresh_interval
        self._new_kid_refresh_interval = new_kid_refresh_interval
        self._missed: set[str] = set()  # kids looked for in vain since the last fetch
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self.fetches = 0

    def key(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys and self._may_refresh(kid):
                self._refresh()
            try:
                return self._keys[kid]
            except KeyError:
                self._missed.add(kid)
                raise TokenValidationError(
                    f"No key with kid {kid!r} in {self.url}.",
                    hint="The token was signed by a key this environment does not publish: wrong environment, "
                    "or a forged token.",
                ) from None

    def _may_refresh(self, kid: str) -> bool:
        if self._fetched_at is None:
            return True
        elapsed = self._clock() - self._fetched_at
        if elapsed >= self._min_refresh_interval:
            return True
        return kid not in self._missed and elapsed >= self._new_kid_refresh_interval

    def _refresh(self) -> None:
        self.fetches += 1
        self._fetched_at = self._clock()
        self._missed.clear()
        response = send(self._session, "GET", self.url, timeout=self._timeout)
        if response.status_code != 200:
            raise HttpError(response.status_code, f"Fetching JWKS {self.url} failed: HTTP {response.status_code}.")
        try:
            entries = response.json()["keys"]
        except (ValueError, KeyError, TypeError):
            raise CredentialError(f"{self.url} did not return a JWKS document.") from None
        keys = {}
        for entry in entries:
            if entry.get("kty") == "RSA" and entry.get("kid"):
                keys[entry["kid"]] = RSAAlgorithm.from_jwk(entry)
        self._keys = keys


def validate_jwt(
    token: str,
    jwks: JwksCache,
    *,
    issuer: str,
    audience: str | Callable[[dict[str, Any]], str],
    leeway: float = DEFAULT_LEEWAY,
    required: tuple[str, ...] = ("exp", "iss", "aud"),
) -> dict[str, Any]:
    """Verify ``token`` and return its claims, or raise :class:`TokenValidationError`.

    ``audience`` may be a function of the (not yet trusted) claims, for tokens whose audience is
    derived from one of their own claims, like ``spn:{serial}`` on system-user tokens.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as error:
        raise TokenValidationError(f"The token is not a JWT: {error}") from None
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise TokenValidationError(f"JWT algorithm {algorithm!r} is not allowed; only RS256 is accepted.")
    kid = header.get("kid")
    if not kid:
        raise TokenValidationError("The JWT header has no kid, so its signing key cannot be chosen.")
    if callable(audience):
        unverified = jwt.decode(token, options={"verify_signature": False})
        audience = audience(unverified)
    key = jwks.key(kid)
    try:
        return jwt.decode(
            token,
            key,
            algorithms=list(ALLOWED_ALGORITHMS),
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": list(required)},
        )
    except jwt.ExpiredSignatureError:
        raise TokenValidationError("The JWT has expired.") from None
    except jwt.InvalidIssuerError:
        raise TokenValidationError(f"The JWT issuer is not {issuer!r}.") from None
    except jwt.InvalidAudienceError:
        raise TokenValidationError(f"The JWT audience is not {audience!r}.") from None
    except jwt.InvalidSignatureError:
        raise TokenValidationError("The JWT signature does not verify: the token was altered or forged.") from None
    except jwt.PyJWTError as error:
        raise TokenValidationError(f"The JWT is invalid: {error}") from None


def system_user_audience(claims: dict[str, Any]) -> str:
    serial = claims.get(SERIAL_CLAIM)
    if not serial:
        raise TokenValidationError(f"The system-user JWT has no {SERIAL_CLAIM} claim to derive its audience from.")
    return f"spn:{serial}"


def validate_system_user_jwt(token: str, jwks: JwksCache, *, leeway: float = DEFAULT_LEEWAY) -> dict[str, Any]:
    """Validate a PartnerSystemUserService JWT: RS256, issuer ``SuperOffice AS``, audience ``spn:{serial}``."""
    claims = validate_jwt(token, jwks, issuer=SYSTEM_USER_ISSUER, audience=system_user_audience, leeway=leeway)
    if not claims.get(TICKET_CLAIM):
        raise TokenValidationError(f"The system-user JWT carries no {TICKET_CLAIM} claim.")
    return claims
