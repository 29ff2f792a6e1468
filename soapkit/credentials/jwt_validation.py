"""Strict validation of the JWTs SuperOffice issues, with keys from the environment's JWKS.

Rules: RS256 only; issuer and audience checked; expiry with a small leeway; the key is chosen by
``kid`` from the JWKS. An unknown ``kid`` triggers one JWKS refresh (key rotation), never a storm: a kid
not seen before may refresh the keys once ``new_kid_refresh_interval`` (1 s) has passed since the last
fetch, so a rotation is picked up at once; a kid already looked for in vain waits for
``min_refresh_interval`` (30 s). A flood of made-up kids therefore costs at most one fetch a second.

Everything about a token is hostile until its signature verifies: a token longer than :data:`MAX_TOKEN_CHARS`,
a header or payload that is not a JSON object, a ``kid`` that is not a short string, a ``crit`` header, or
``exp``/``nbf``/``iat`` that are not numbers are refused, and every error pyjwt raises becomes a
:class:`~soapkit.errors.TokenValidationError`. A system-user token must also carry a ticket that is a string
starting ``7T:`` and a ``ctx`` claim naming the tenant it was asked for (:func:`check_system_user_claims`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from soapkit.errors import CredentialError, HttpError, SoapkitError, TokenValidationError
from soapkit.flow import Flow, Hold, Release, request
from soapkit.http import json_object

if TYPE_CHECKING:  # PyJWT (and cryptography under it) load when a token is validated, not when a client is built
    import jwt
    import requests

T = TypeVar("T")

ALLOWED_ALGORITHMS = ("RS256",)
SYSTEM_USER_ISSUER = "SuperOffice AS"
CLAIM_PREFIX = "http://schemes.superoffice.net/identity/"
TICKET_CLAIM = CLAIM_PREFIX + "ticket"
SERIAL_CLAIM = CLAIM_PREFIX + "serial"
CTX_CLAIM = CLAIM_PREFIX + "ctx"
DEFAULT_LEEWAY = 60.0
#: Longest token looked at (characters); real SuperOffice JWTs are 1-3 KB.
MAX_TOKEN_CHARS = 16 * 1024
#: Longest ``kid`` accepted (SuperOffice's are 40 hex digits).
MAX_KID_CHARS = 128
_NUMERIC_CLAIMS = ("exp", "nbf", "iat")


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
        if session is None:
            import requests

            session = requests.Session()
        self._session = session
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
        """The key named ``kid``, fetching the JWKS (synchronously) when it is not known yet."""
        from soapkit.drivers.sync import SyncDriver

        return SyncDriver(self._session).run(self.key_flow(kid))

    def key_flow(self, kid: str) -> Flow[Any]:
        """:meth:`key` as a flow: the JWKS request is yielded to the driver, never sent from here. One fetch
        at a time (a :class:`~soapkit.flow.Hold` on this cache), so concurrent callers wait for it."""
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
        yield Hold("jwks", None, self)
        try:
            yield from self._refresh_for(kid)
        except Exception:
            yield Release("jwks", self)
            raise
        yield Release("jwks", self)
        return self.known(kid)

    def _refresh_for(self, kid: str) -> Flow[None]:
        with self._lock:
            if kid in self._keys or not self._may_refresh(kid):
                return
            self.fetches += 1
            self._fetched_at = self._clock()
            self._missed.clear()
        response = yield from request("GET", self.url, purpose="jwks", timeout=self._timeout)
        if response.status_code != 200:
            raise HttpError(response.status_code, f"Fetching JWKS {self.url} failed: HTTP {response.status_code}.")
        entries = (json_object(response) or {}).get("keys")
        if not isinstance(entries, list):
            raise CredentialError(f"{self.url} did not return a JWKS document.",
                                  hint="Check the environment: its /login/.well-known/jwks must list the keys.")
        keys = {entry["kid"]: key for entry in entries if (key := _rsa_key(entry)) is not None}
        with self._lock:
            self._keys = keys

    def known(self, kid: str) -> Any:
        """The key named ``kid`` if it is already known; otherwise :class:`TokenValidationError` (no I/O)."""
        with self._lock:
            try:
                return self._keys[kid]
            except KeyError:
                self._missed.add(kid)
        raise TokenValidationError(
            f"No key with kid {kid!r} in {self.url}.",
            hint="The token was signed by a key this environment does not publish: wrong environment, "
            "or a forged token.",
        )

    def _may_refresh(self, kid: str) -> bool:
        if self._fetched_at is None:
            return True
        elapsed = self._clock() - self._fetched_at
        if elapsed >= self._min_refresh_interval:
            return True
        return kid not in self._missed and elapsed >= self._new_kid_refresh_interval


class SigningKeys(Protocol):
    """Where validators look signing keys up by ``kid``: a :class:`JwksCache` or :class:`KnownKeys`."""

    def key(self, kid: str) -> Any: ...


class KnownKeys:
    """A JWKS cache seen without I/O: validators ask it for keys; a kid it lacks is noted in ``wanted``."""

    def __init__(self, jwks: JwksCache) -> None:
        self.jwks = jwks
        self.wanted: str | None = None

    def key(self, kid: str) -> Any:
        with self.jwks._lock:
            key = self.jwks._keys.get(kid)
        if key is None:
            self.wanted = kid
            raise TokenValidationError(f"No key with kid {kid!r} in {self.jwks.url}.")
        return key


def validated(jwks: JwksCache, validate: Callable[[Any], T]) -> Flow[T]:
    """``validate(keys)`` with the JWKS fetched (by the driver) when the token names a key not known yet.

    ``validate`` is any validator that asks ``keys.key(kid)`` for its key (JWT or SAML): it runs on the keys
    already known; when it wanted another one, that key is fetched as a flow and it runs once more.
    """
    known = KnownKeys(jwks)
    try:
        return validate(known)
    except SoapkitError:
        if known.wanted is None:
            raise
    yield from jwks.key_flow(known.wanted)  # fetches, or raises "no key with kid ..." itself
    return validate(KnownKeys(jwks))


def _rsa_key(entry: Any) -> Any:
    """The public key of one JWKS entry; None for anything that is not a usable RSA key with a short kid."""
    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return None
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_CHARS:
        return None
    import jwt
    from jwt.algorithms import RSAAlgorithm

    try:
        return RSAAlgorithm.from_jwk(entry)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


def validate_jwt(
    token: str,
    jwks: SigningKeys,
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
    import jwt

    if not isinstance(token, str) or not token:
        raise TokenValidationError("The token is empty or not text.")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenValidationError(f"The token is longer than {MAX_TOKEN_CHARS} characters.")
    try:
        kid = _checked_header_kid(jwt.get_unverified_header(token))
        if callable(audience):
            audience = audience(jwt.decode(token, options={"verify_signature": False}))
        claims = jwt.decode(
            token,
            jwks.key(kid),
            algorithms=list(ALLOWED_ALGORITHMS),
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": list(required)},
        )
    except jwt.PyJWTError as error:
        raise _validation_error(error, issuer, audience) from None
    except (ValueError, TypeError, RecursionError) as error:  # a malformed part pyjwt did not classify
        raise TokenValidationError(f"The JWT is malformed ({type(error).__name__}).") from None
    _check_numeric_claims(claims)
    return claims


def _checked_header_kid(header: Any) -> str:
    if not isinstance(header, dict):
        raise TokenValidationError("The JWT header is not a JSON object.")
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise TokenValidationError(f"JWT algorithm {str(algorithm)[:40]!r} is not allowed; only RS256 is accepted.")
    if "crit" in header:
        raise TokenValidationError("The JWT header lists critical extensions (crit), which soapkit does not support.")
    kid = header.get("kid")
    if not kid:
        raise TokenValidationError("The JWT header has no kid, so its signing key cannot be chosen.")
    if not isinstance(kid, str) or len(kid) > MAX_KID_CHARS or not kid.isprintable():
        raise TokenValidationError(f"The JWT kid is not a short printable string (at most {MAX_KID_CHARS}).")
    return kid


def _check_numeric_claims(claims: dict[str, Any]) -> None:
    for name in _NUMERIC_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TokenValidationError(f"The JWT claim {name!r} is not a number.")


def _validation_error(error: jwt.PyJWTError, issuer: str, audience: Any) -> TokenValidationError:
    import jwt
    if isinstance(error, jwt.ExpiredSignatureError):
        return TokenValidationError("The JWT has expired.")
    if isinstance(error, jwt.InvalidIssuerError):
        return TokenValidationError(f"The JWT issuer is not {issuer!r}.")
    if isinstance(error, jwt.InvalidAudienceError):
        return TokenValidationError(f"The JWT audience is not {audience!r}.")
    if isinstance(error, jwt.InvalidSignatureError):
        return TokenValidationError("The JWT signature does not verify: the token was altered or forged.")
    if isinstance(error, jwt.DecodeError):
        return TokenValidationError(f"The token is not a well-formed JWT: {str(error)[:200]}")
    return TokenValidationError(f"The JWT is invalid: {str(error)[:200]}")


def system_user_audience(claims: dict[str, Any]) -> str:
    serial = claims.get(SERIAL_CLAIM)
    if not serial or not isinstance(serial, (str, int)) or isinstance(serial, bool):
        raise TokenValidationError(f"The system-user JWT has no {SERIAL_CLAIM} claim to derive its audience from.")
    return f"spn:{serial}"


def validate_system_user_jwt(token: str, jwks: SigningKeys, *, context_identifier: str | None = None,
                             leeway: float = DEFAULT_LEEWAY) -> dict[str, Any]:
    """Validate a PartnerSystemUserService JWT: RS256, issuer ``SuperOffice AS``, audience ``spn:{serial}``,
    a ``7T:`` ticket and a ``ctx`` claim, equal to ``context_identifier`` (the tenant it was asked for) when
    given; :class:`~soapkit.credentials.system_user.SystemUser` always gives it."""
    claims = validate_jwt(token, jwks, issuer=SYSTEM_USER_ISSUER, audience=system_user_audience, leeway=leeway)
    check_system_user_claims(claims, context_identifier)
    return claims


def check_system_user_claims(claims: dict[str, Any], context_identifier: str | None) -> str:
    """The ticket of verified system-user claims (JWT or SAML), after checking it and the tenant they name."""
    ticket = claims.get(TICKET_CLAIM)
    if not isinstance(ticket, str) or not ticket.startswith("7T:") or len(ticket) <= 3:
        raise TokenValidationError(f"The system-user token carries no {TICKET_CLAIM} claim that is a 7T: ticket.")
    tenant = claims.get(CTX_CLAIM)
    if not isinstance(tenant, str) or not tenant:
        raise TokenValidationError(f"The system-user token has no {CTX_CLAIM} claim naming its tenant.")
    if context_identifier is not None and tenant.lower() != context_identifier.lower():
        raise TokenValidationError(f"The token was issued for {tenant[:64]!r}, not {context_identifier}.",
                                   hint="The answer belongs to another tenant: check the context identifier.")
    return ticket
