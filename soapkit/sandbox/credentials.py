"""Tickets and tokens issued by the sandbox, kept as SHA-256 hashes with their kind, tenant and expiry.

One table holds every kind: system-user tickets (``7T:``, sliding lifetime) today; OAuth access tokens
(``8A:{ctx}.``, fixed lifetime) and reference tokens (until revoked) fit in the same rows.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

from soapkit.sandbox.store import Store, secret_hash


class CredentialKind(str, Enum):
    TICKET = "ticket"
    ACCESS_TOKEN = "access_token"
    REFERENCE_TOKEN = "reference_token"
    # OAuth refresh tokens and sign-in sessions: never accepted where a ticket or access token is expected.
    REFRESH_TOKEN = "refresh_token"
    SESSION = "session"


#: What ``check`` accepts unless told otherwise: the kinds an agent takes in ``Credentials/Ticket``.
BEARER_KINDS = frozenset({CredentialKind.TICKET, CredentialKind.ACCESS_TOKEN, CredentialKind.REFERENCE_TOKEN})


class Verdict(str, Enum):
    VALID = "valid"
    MISSING = "missing"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    WRONG_TENANT = "wrong_tenant"
    WRONG_APPLICATION = "wrong_application"


@dataclass(frozen=True)
class CredentialRecord:
    kind: CredentialKind
    ctx: str
    client_id: str | None
    associate_id: int
    issued_at: float
    expires_at: float | None
    sliding_seconds: float | None
    revoked: bool

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now.timestamp()


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    record: CredentialRecord | None = None

    @property
    def valid(self) -> bool:
        return self.verdict is Verdict.VALID


def new_ticket() -> str:
    return "7T:" + base64.b64encode(secrets.token_bytes(30)).decode("ascii")


class CredentialStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def issue_ticket(self, ctx: str, client_id: str | None, associate_id: int, lifetime: dt.timedelta,
                     now: dt.datetime) -> str:
        """A new system-user ticket; it expires ``lifetime`` after its last successful use."""
        ticket = new_ticket()
        self.add(ticket, CredentialKind.TICKET, ctx, client_id, associate_id, now,
                 expires_at=now + lifetime, sliding=lifetime)
        return ticket

    def add(self, value: str, kind: CredentialKind, ctx: str, client_id: str | None, associate_id: int,
            now: dt.datetime, *, expires_at: dt.datetime | None, sliding: dt.timedelta | None = None) -> None:
        self._store.insert("credential", {
            "value_hash": secret_hash(value), "kind": kind.value, "ctx": ctx, "client_id": client_id,
            "associate_id": associate_id, "issued_at": now.timestamp(),
            "expires_at": expires_at.timestamp() if expires_at else None,
            "sliding_seconds": sliding.total_seconds() if sliding else None, "revoked": 0,
        })

    def lookup(self, value: str) -> CredentialRecord | None:
        row = self._store.one("SELECT * FROM credential WHERE value_hash = ?", (secret_hash(value),))
        if row is None:
            return None
        return CredentialRecord(
            CredentialKind(row["kind"]), row["ctx"], row["client_id"], row["associate_id"], row["issued_at"],
            row["expires_at"], row["sliding_seconds"], bool(row["revoked"]),
        )

    def check(self, value: str | None, *, ctx: str, now: dt.datetime, client_id: str | None = None,
              kinds: Collection[CredentialKind] = BEARER_KINDS) -> Check:
        """Is ``value`` a live credential of tenant ``ctx`` (and of application ``client_id``, if given)?

        Only credentials of ``kinds`` count (by default those usable as a ticket); others are unknown here.
        """
        if not value or not value.strip():
            return Check(Verdict.MISSING)
        record = self.lookup(value.strip())
        if record is None or record.kind not in kinds:
            return Check(Verdict.UNKNOWN)
        if record.revoked:
            return Check(Verdict.REVOKED, record)
        if record.ctx.lower() != ctx.lower():
            return Check(Verdict.WRONG_TENANT, record)
        if client_id is not None and record.client_id is not None and record.client_id != client_id:
            return Check(Verdict.WRONG_APPLICATION, record)
        if record.expired(now):
            return Check(Verdict.EXPIRED, record)
        return Check(Verdict.VALID, record)

    def used(self, value: str, now: dt.datetime) -> None:
        """Record a successful use: a sliding credential now expires ``sliding_seconds`` from ``now``."""
        self._store.execute(
            "UPDATE credential SET expires_at = MAX(expires_at, ? + sliding_seconds) "
            "WHERE value_hash = ? AND sliding_seconds IS NOT NULL",
            (now.timestamp(), secret_hash(value.strip())),
        )

    def revoke(self, value: str) -> bool:
        return self.revoke_hash(secret_hash(value.strip()))

    def revoke_hash(self, value_hash: str) -> bool:
        """Revoke by stored hash (for listings that show hashes, never values)."""
        return self._store.execute("UPDATE credential SET revoked = 1 WHERE value_hash = ?", (value_hash,)) > 0

    def expire_now(self, value: str, now: dt.datetime) -> bool:
        return self._store.execute("UPDATE credential SET expires_at = ? WHERE value_hash = ?",
                                   (now.timestamp(), secret_hash(value.strip()))) > 0

    def purge_expired(self, before: dt.datetime) -> int:
        """Forget credentials that expired before ``before`` (so old ones become unknown, not expired)."""
        return self._store.execute("DELETE FROM credential WHERE expires_at IS NOT NULL AND expires_at < ?",
                                   (before.timestamp(),))
