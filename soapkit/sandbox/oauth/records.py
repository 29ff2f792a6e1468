"""What the sandbox's OAuth 2.0 / OIDC service remembers, beside the shared credential table.

* ``oauth_client``: per registered application, its redirect URIs and whether it may use its System User
  through ``client_credentials``. An application without a row gets :data:`DEFAULT_REDIRECT_URIS` (the
  loopback addresses of native apps, any port) and may use its System User.
* ``oauth_code``: authorization codes (hashed), with the request they answer; 10 minutes, single use.
* ``oauth_grant_token``: which access tokens a code or refresh token produced, so that replaying a code
  or revoking a refresh token also revokes what they issued (RFC 6749 section 4.1.2, RFC 7009 section 2.1).
* ``sandbox_password``: sign-in passwords of sandbox users (hashed). A user without a row signs in with
  :data:`DEFAULT_USER_PASSWORD`.

Access tokens, refresh tokens and sign-in sessions themselves live in the sandbox's
:class:`~soapkit.sandbox.credentials.CredentialStore`, each with its own kind.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from soapkit.sandbox.store import Store, secret_hash

#: The password of every seeded sandbox user (``EVA``, ``JOHAN``, ...) until one is set.
DEFAULT_USER_PASSWORD = "sandbox"
#: Registered for applications that have no explicit redirect URIs: native apps on loopback.
DEFAULT_REDIRECT_URIS = ("http://127.0.0.1/", "http://[::1]/")
_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS oauth_client (
        client_id TEXT PRIMARY KEY, redirect_uris TEXT NOT NULL, system_user_allowed INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS oauth_code (
        code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, ctx TEXT NOT NULL COLLATE NOCASE,
        associate_id INTEGER NOT NULL, redirect_uri TEXT NOT NULL, code_challenge TEXT,
        code_challenge_method TEXT, nonce TEXT, issued_at REAL NOT NULL, expires_at REAL NOT NULL,
        used INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS oauth_grant_token (
        grant_hash TEXT NOT NULL, value_hash TEXT NOT NULL, PRIMARY KEY (grant_hash, value_hash))""",
    """CREATE TABLE IF NOT EXISTS sandbox_password (
        ctx TEXT NOT NULL COLLATE NOCASE, associate_id INTEGER NOT NULL, password_hash TEXT NOT NULL,
        PRIMARY KEY (ctx, associate_id))""",
)


def ensure_schema(store: Store) -> None:
    for statement in SCHEMA:
        store.execute(statement)


def redirect_uri_matches(registered: str, given: str) -> bool:
    """Exact match; a registered loopback URI without a port accepts any port (RFC 8252 section 7.3)."""
    if given == registered:
        return True
    reg, giv = urlsplit(registered), urlsplit(given)
    if reg.scheme != "http" or reg.port is not None or reg.netloc not in _LOOPBACK_HOSTS:
        return False
    try:
        port = giv.port
    except ValueError:
        return False
    if port is None or giv.scheme != "http" or giv.hostname is None:
        return False
    host = f"[{giv.hostname}]" if ":" in giv.hostname else giv.hostname
    return host == reg.netloc and (giv.path or "/") == (reg.path or "/") and giv.query == reg.query \
        and not giv.fragment and not giv.username and not giv.password


@dataclass(frozen=True)
class ClientPolicy:
    client_id: str
    redirect_uris: tuple[str, ...]
    system_user_allowed: bool

    def accepts_redirect(self, redirect_uri: str | None) -> bool:
        return bool(redirect_uri) and any(redirect_uri_matches(r, redirect_uri or "") for r in self.redirect_uris)


class OAuthClients:
    def __init__(self, store: Store) -> None:
        self._store = store

    def policy(self, client_id: str) -> ClientPolicy:
        row = self._store.one("SELECT * FROM oauth_client WHERE client_id = ?", (client_id,))
        if row is None:
            return ClientPolicy(client_id, DEFAULT_REDIRECT_URIS, True)
        return ClientPolicy(client_id, tuple(json.loads(row["redirect_uris"])), bool(row["system_user_allowed"]))

    def configure(self, client_id: str, *, redirect_uris: tuple[str, ...] | list[str] | None = None,
                  system_user_allowed: bool | None = None) -> ClientPolicy:
        """Set an application's redirect URIs and/or whether it may use its System User."""
        current = self.policy(client_id)
        uris = tuple(redirect_uris) if redirect_uris is not None else current.redirect_uris
        allowed = current.system_user_allowed if system_user_allowed is None else system_user_allowed
        self._store.execute(
            "INSERT INTO oauth_client (client_id, redirect_uris, system_user_allowed) VALUES (?, ?, ?) "
            "ON CONFLICT (client_id) DO UPDATE SET redirect_uris = excluded.redirect_uris, "
            "system_user_allowed = excluded.system_user_allowed",
            (client_id, json.dumps(list(uris)), int(allowed)),
        )
        return ClientPolicy(client_id, uris, allowed)


@dataclass(frozen=True)
class AuthorizationCode:
    code_hash: str
    client_id: str
    ctx: str
    associate_id: int
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    expires_at: float


class Codes:
    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, code: str, *, client_id: str, ctx: str, associate_id: int, redirect_uri: str,
            code_challenge: str | None, code_challenge_method: str | None, nonce: str | None,
            now: dt.datetime, lifetime: dt.timedelta) -> None:
        self._store.insert("oauth_code", {
            "code_hash": secret_hash(code), "client_id": client_id, "ctx": ctx, "associate_id": associate_id,
            "redirect_uri": redirect_uri, "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method, "nonce": nonce, "issued_at": now.timestamp(),
            "expires_at": (now + lifetime).timestamp(), "used": 0,
        })

    def consume(self, code: str) -> tuple[AuthorizationCode | None, bool]:
        """The code's record and whether this call was its first use (it is marked used either way)."""
        with self._store.transaction():
            row = self._store.one("SELECT * FROM oauth_code WHERE code_hash = ?", (secret_hash(code),))
            if row is None:
                return None, False
            first = self._store.execute("UPDATE oauth_code SET used = 1 WHERE code_hash = ? AND used = 0",
                                        (row["code_hash"],)) == 1
        return AuthorizationCode(
            row["code_hash"], row["client_id"], row["ctx"], row["associate_id"], row["redirect_uri"],
            row["code_challenge"], row["code_challenge_method"], row["nonce"], row["expires_at"],
        ), first


class Grants:
    """Which tokens a code or refresh token produced (by hash), for revoking them together."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def link(self, grant_hash: str, value: str) -> None:
        self._store.execute("INSERT OR IGNORE INTO oauth_grant_token (grant_hash, value_hash) VALUES (?, ?)",
                            (grant_hash, secret_hash(value)))

    def revoke_issued(self, grant_hash: str) -> int:
        return self._store.execute(
            "UPDATE credential SET revoked = 1 WHERE value_hash IN "
            "(SELECT value_hash FROM oauth_grant_token WHERE grant_hash = ?)", (grant_hash,))


class Passwords:
    def __init__(self, store: Store) -> None:
        self._store = store

    def set(self, ctx: str, associate_id: int, password: str) -> None:
        self._store.execute(
            "INSERT INTO sandbox_password (ctx, associate_id, password_hash) VALUES (?, ?, ?) "
            "ON CONFLICT (ctx, associate_id) DO UPDATE SET password_hash = excluded.password_hash",
            (ctx, associate_id, secret_hash(password)),
        )

    def matches(self, ctx: str, associate_id: int, password: str) -> bool:
        row = self._store.one("SELECT password_hash FROM sandbox_password WHERE ctx = ? AND associate_id = ?",
                              (ctx, associate_id))
        expected = row["password_hash"] if row else secret_hash(DEFAULT_USER_PASSWORD)
        return hmac.compare_digest(expected, secret_hash(password or ""))
