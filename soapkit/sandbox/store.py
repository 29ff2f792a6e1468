"""The sandbox's SQLite database: one connection, one lock, one schema.

SQLite is plenty for a sandbox: requests are short, so a single connection guarded by a lock serves
many concurrent clients. Rows belong to a tenant (``ctx``) wherever SuperOffice keeps data per
database, so more tenants can be added without changing the schema. Secrets are never stored raw:
client secrets, system-user tokens, tickets and access tokens are kept as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant (
    ctx TEXT PRIMARY KEY COLLATE NOCASE,
    endpoint TEXT,                 -- NULL: {base_url}/{ctx} on the sandbox's own host
    state TEXT NOT NULL,
    serial TEXT NOT NULL,
    company_name TEXT NOT NULL,
    default_country_id INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS application (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    public_key_pem TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS installation (
    ctx TEXT NOT NULL COLLATE NOCASE,
    client_id TEXT NOT NULL,
    system_token_hash TEXT NOT NULL,
    system_associate_id INTEGER NOT NULL,
    PRIMARY KEY (ctx, client_id)
);
CREATE TABLE IF NOT EXISTS credential (
    value_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- ticket (7T:), later access_token (8A:), pat, sat ...
    ctx TEXT NOT NULL COLLATE NOCASE,
    client_id TEXT,
    associate_id INTEGER NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL,               -- NULL: until revoked
    sliding_seconds REAL,          -- NULL: fixed lifetime; else each use extends to now + this
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS id_sequence (
    ctx TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, next_id INTEGER NOT NULL,
    PRIMARY KEY (ctx, name)
);
CREATE TABLE IF NOT EXISTS associate (
    ctx TEXT NOT NULL COLLATE NOCASE,
    associate_id INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    initials TEXT NOT NULL,
    email TEXT,
    user_type TEXT NOT NULL,
    group_id INTEGER NOT NULL,
    is_administrator INTEGER NOT NULL,
    PRIMARY KEY (ctx, associate_id)
);
CREATE TABLE IF NOT EXISTS list_item (
    list_name TEXT NOT NULL, id INTEGER NOT NULL, value TEXT NOT NULL, tooltip TEXT, rank INTEGER NOT NULL,
    PRIMARY KEY (list_name, id)
);
CREATE TABLE IF NOT EXISTS country (
    country_id INTEGER PRIMARY KEY, name TEXT NOT NULL, english_name TEXT NOT NULL,
    iso2 TEXT NOT NULL, iso3 TEXT NOT NULL, currency_id INTEGER NOT NULL, dial_prefix TEXT,
    domain TEXT, org_nr_text TEXT, zip_prefix TEXT, rank INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS contact (
    ctx TEXT NOT NULL COLLATE NOCASE,
    contact_id INTEGER NOT NULL,
    name TEXT NOT NULL, department TEXT, org_nr TEXT, number1 TEXT, number2 TEXT, kananame TEXT,
    description TEXT,
    associate_id INTEGER, business_id INTEGER, category_id INTEGER, country_id INTEGER,
    no_mailing INTEGER NOT NULL DEFAULT 0, xstop INTEGER NOT NULL DEFAULT 0,
    address TEXT, emails TEXT, phones TEXT, faxes TEXT, urls TEXT,   -- JSON
    extra TEXT,                    -- JSON: interests, user-defined/extra/custom fields, ... kept as sent
    created_at TEXT NOT NULL, updated_at TEXT, created_by INTEGER, updated_by INTEGER,
    PRIMARY KEY (ctx, contact_id)
);
CREATE INDEX IF NOT EXISTS contact_updated ON contact (ctx, updated_at);
CREATE TABLE IF NOT EXISTS person (
    ctx TEXT NOT NULL COLLATE NOCASE,
    person_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL DEFAULT 0,
    firstname TEXT, middlename TEXT, lastname TEXT, mrmrs TEXT, title TEXT, position_id INTEGER,
    description TEXT, birth_date TEXT, person_number TEXT, salutation TEXT, kanafname TEXT, kanalname TEXT,
    associate_id INTEGER, business_id INTEGER, category_id INTEGER, country_id INTEGER,
    rank INTEGER NOT NULL DEFAULT 0, use_person_address INTEGER NOT NULL DEFAULT 0,
    retired INTEGER NOT NULL DEFAULT 0, no_mailing INTEGER NOT NULL DEFAULT 0,
    address TEXT, emails TEXT, office_phones TEXT, mobile_phones TEXT, private_phones TEXT,
    other_phones TEXT, faxes TEXT, urls TEXT,   -- JSON
    extra TEXT,                    -- JSON: interests, user-defined/extra/custom fields, ... kept as sent
    created_at TEXT NOT NULL, updated_at TEXT, created_by INTEGER, updated_by INTEGER,
    PRIMARY KEY (ctx, person_id)
);
CREATE INDEX IF NOT EXISTS person_contact ON person (ctx, contact_id);
CREATE INDEX IF NOT EXISTS person_updated ON person (ctx, updated_at);
CREATE TABLE IF NOT EXISTS entity (   -- the generic entity store (soapkit.sandbox.agents.entities)
    ctx TEXT NOT NULL COLLATE NOCASE,
    family TEXT NOT NULL,          -- {Service}.{X} of Get{X}Entity
    entity_id INTEGER NOT NULL,
    data TEXT NOT NULL,            -- JSON of the entity's plain values
    PRIMARY KEY (ctx, family, entity_id)
);
"""


def secret_hash(value: str) -> str:
    """How the sandbox stores a secret it must recognise later: SHA-256, hex."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class Store:
    """A thread-safe SQLite database. Use :meth:`transaction` for anything that writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        path.chmod(0o600)  # CRM data: owner only, like every other file of the sandbox
        self._connection.row_factory = sqlite3.Row
        self._depth = 0
        with self._lock:
            self._connection.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a save costs no fsync (a sandbox
            # may lose its last writes to a power cut, never its consistency).
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.executescript(SCHEMA)
            self._add_missing_columns()
        if self.meta("schema_version") is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))

    def _add_missing_columns(self) -> None:
        """Columns added after a data folder was created (``CREATE TABLE IF NOT EXISTS`` leaves old tables)."""
        for table in ("contact", "person"):
            columns = {row[1] for row in self._connection.execute(f"PRAGMA table_info({table})")}
            if "extra" not in columns:
                self._connection.execute(f"ALTER TABLE {table} ADD COLUMN extra TEXT")

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock and run the block in one SQLite transaction (committed unless it raises).

        Nested blocks join the outer transaction.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            else:
                self._connection.execute("COMMIT")
            finally:
                self._depth = 0

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; returns the number of changed rows."""
        with self._lock:
            return self._connection.execute(sql, parameters).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self._connection.executemany(sql, rows)

    def all(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(row) for row in self._connection.execute(sql, parameters).fetchall()]

    def one(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        with self._lock:
            row = self._connection.execute(sql, parameters).fetchone()
        return dict(row) if row is not None else None

    def insert(self, table: str, values: dict[str, Any]) -> None:
        columns = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        self.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608 - names are ours

    def update(self, table: str, values: dict[str, Any], where: dict[str, Any]) -> int:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        condition = " AND ".join(f"{name} = :w_{name}" for name in where)
        parameters = {**values, **{f"w_{name}": value for name, value in where.items()}}
        return self.execute(f"UPDATE {table} SET {assignments} WHERE {condition}", parameters)  # noqa: S608

    def next_id(self, ctx: str, name: str) -> int:
        """The next id of a per-tenant sequence (ids are never reused, as in SuperOffice)."""
        with self.transaction():
            row = self.one("SELECT next_id FROM id_sequence WHERE ctx = ? AND name = ?", (ctx, name))
            value = row["next_id"] if row else 1
            self.execute(
                "INSERT INTO id_sequence (ctx, name, next_id) VALUES (?, ?, ?) "
                "ON CONFLICT (ctx, name) DO UPDATE SET next_id = excluded.next_id",
                (ctx, name, value + 1),
            )
        return value

    def meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
