"""Reference tokens: long-lived, revocable access tokens for scripts and CI.

Two kinds, told apart by their prefix so that neither a cache nor a log can confuse them:

* personal access token (PAT) ``8P:{ctx}.<43 url-safe characters>`` acts as one person (a user of the tenant);
* service access token (SAT) ``8S:{ctx}.<43 url-safe characters>`` acts as a service identity, by default the
  tenant's System User.

SuperOffice does not publish the shape of its reference tokens; this one mirrors the access tokens
(``8A:{ctx}.``), and soapkit's redaction masks all three. A token is shown once, when it is created; the
sandbox keeps only its SHA-256 (in the shared credential table, kind ``reference_token``) and, for
listing, an id, the kind, the identity and a description. Agents accept a token in ``Credentials/Ticket``
until it is revoked (or until its optional expiry).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from soapkit.catalog import default_catalog
from soapkit.errors import ConfigurationError
from soapkit.sandbox.backend import Backend
from soapkit.sandbox.credentials import CredentialKind
from soapkit.sandbox.files import DataDir
from soapkit.sandbox.identity import Identity
from soapkit.sandbox.settings import SandboxSettings
from soapkit.sandbox.store import Store, secret_hash

SCHEMA = """CREATE TABLE IF NOT EXISTS reference_token (
    token_id TEXT PRIMARY KEY, value_hash TEXT NOT NULL UNIQUE, token_kind TEXT NOT NULL,
    ctx TEXT NOT NULL COLLATE NOCASE, associate_id INTEGER NOT NULL, description TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT)"""


@contextmanager
def open_data_dir(directory: str | os.PathLike[str]) -> Iterator[Backend]:
    """The backend of the sandbox whose files are in ``directory`` (running or not; SQLite shares the file)."""
    data = DataDir(Path(directory).expanduser().resolve())
    if not data.config.is_file() or not data.database.is_file():
        raise ReferenceTokenError(f"no sandbox in {data.root}: start one there first "
                                  f"(soapkit sandbox --sandbox {data.root}).")
    settings = SandboxSettings()
    identity = Identity.load_or_create(data.identity_key, data.identity_certificate, settings.now())
    store = Store(data.database)
    try:
        yield Backend(settings, store, identity, default_catalog())
    finally:
        store.close()


class TokenKind(str, Enum):
    PAT = "pat"
    SAT = "sat"

    @property
    def prefix(self) -> str:
        return "8P:" if self is TokenKind.PAT else "8S:"


class ReferenceTokenError(ConfigurationError):
    """A reference token cannot be created or revoked as asked (unknown tenant, user or id)."""


@dataclass(frozen=True)
class ReferenceTokenInfo:
    token_id: str
    kind: TokenKind
    ctx: str
    associate_id: int
    user_name: str
    description: str
    created_at: str
    expires_at: str | None
    status: str  # active, revoked or expired

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.token_id, "kind": self.kind.value, "ctx": self.ctx, "associate_id": self.associate_id,
                "user": self.user_name, "description": self.description, "created_at": self.created_at,
                "expires_at": self.expires_at, "status": self.status}


class ReferenceTokens:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        backend.store.execute(SCHEMA)

    def create(self, ctx: str, kind: TokenKind, *, user: str | None = None, description: str = "",
               lifetime: dt.timedelta | None = None) -> tuple[str, ReferenceTokenInfo]:
        """A new token (shown only now) and its listing entry."""
        tenant = self.backend.tenants.get(ctx)
        if tenant is None:
            raise ReferenceTokenError(f"unknown tenant {ctx!r}.")
        associate = self._associate(tenant.ctx, kind, user)
        value = f"{kind.prefix}{tenant.ctx}.{secrets.token_urlsafe(32)}"
        now = self.backend.now()
        expires = now + lifetime if lifetime else None
        token_id = secrets.token_hex(4)
        with self.backend.store.transaction():
            self.backend.credentials.add(value, CredentialKind.REFERENCE_TOKEN, tenant.ctx, None,
                                         int(associate["associate_id"]), now, expires_at=expires)
            self.backend.store.insert("reference_token", {
                "token_id": token_id, "value_hash": secret_hash(value), "token_kind": kind.value, "ctx": tenant.ctx,
                "associate_id": associate["associate_id"], "description": description,
                "created_at": now.isoformat(timespec="seconds"),
                "expires_at": expires.isoformat(timespec="seconds") if expires else None,
            })
        return value, self.get(token_id)

    def _associate(self, ctx: str, kind: TokenKind, user: str | None) -> dict[str, Any]:
        if user:
            row = self.backend.store.one(
                "SELECT * FROM associate WHERE ctx = ? AND (associate_id = ? OR lower(user_name) = lower(?) "
                "OR lower(email) = lower(?))", (ctx, int(user) if user.isdigit() else -1, user, user))
            if row is None:
                raise ReferenceTokenError(f"no user {user!r} in tenant {ctx}.")
            return row
        if kind is TokenKind.PAT:
            raise ReferenceTokenError("a personal access token needs the person: give --user NAME.")
        row = self.backend.store.one("SELECT * FROM associate WHERE ctx = ? AND user_type = 'SystemAssociate' "
                                     "ORDER BY associate_id LIMIT 1", (ctx,))
        if row is None:
            raise ReferenceTokenError(f"tenant {ctx} has no System User; give --user NAME.")
        return row

    def get(self, token_id: str) -> ReferenceTokenInfo:
        found = [info for info in self.list() if info.token_id == token_id]
        if not found:
            raise ReferenceTokenError(f"no reference token with id {token_id!r}.")
        return found[0]

    def list(self, ctx: str | None = None) -> list[ReferenceTokenInfo]:
        rows = self.backend.store.all(
            "SELECT r.*, c.revoked, c.expires_at AS expires_epoch, a.user_name FROM reference_token r "
            "LEFT JOIN credential c ON c.value_hash = r.value_hash "
            "LEFT JOIN associate a ON a.ctx = r.ctx AND a.associate_id = r.associate_id "
            "WHERE (? IS NULL OR r.ctx = ?) ORDER BY r.created_at, r.token_id", (ctx, ctx))
        now = self.backend.now().timestamp()
        return [ReferenceTokenInfo(
            row["token_id"], TokenKind(row["token_kind"]), row["ctx"], row["associate_id"], row["user_name"] or "?",
            row["description"], row["created_at"], row["expires_at"], _status(row, now),
        ) for row in rows]

    def revoke(self, token_id: str) -> ReferenceTokenInfo:
        row = self.backend.store.one("SELECT value_hash FROM reference_token WHERE token_id = ?", (token_id,))
        if row is None:
            raise ReferenceTokenError(f"no reference token with id {token_id!r}.")
        self.backend.credentials.revoke_hash(row["value_hash"])
        return self.get(token_id)


def _status(row: dict[str, Any], now: float) -> str:
    if row["revoked"] is None:  # the credential row was purged after it expired
        return "expired"
    if row["revoked"]:
        return "revoked"
    expires = row["expires_epoch"]
    return "expired" if expires is not None and expires <= now else "active"
