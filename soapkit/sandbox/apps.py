"""Partner applications registered with the sandbox and their installations in tenants.

An application has a client id, a client secret (sent as ``ApplicationToken``) and the public key that
verifies its signed system-user tokens. Installing it in a tenant creates the system-user token, a
constant per (tenant, application) that contains a space on purpose, like real ones may.
Only SHA-256 hashes of the secret and the system-user token are stored.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import string
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from soapkit.sandbox.store import Store, secret_hash

_ALPHANUMERIC = string.ascii_letters + string.digits


def new_client_secret() -> str:
    return secrets.token_hex(16)


def new_system_token(app_name: str) -> str:
    return f"{app_name}-" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(10))


@dataclass(frozen=True)
class Application:
    client_id: str
    name: str
    public_key: rsa.RSAPublicKey


@dataclass(frozen=True)
class Installation:
    ctx: str
    client_id: str
    system_associate_id: int
    system_token_hash: str

    def system_token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.system_token_hash, secret_hash(token))


class Applications:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _application(self, row: dict[str, object] | None) -> Application | None:
        if row is None:
            return None
        key = serialization.load_pem_public_key(str(row["public_key_pem"]).encode("ascii"))
        assert isinstance(key, rsa.RSAPublicKey)
        return Application(str(row["client_id"]), str(row["name"]), key)

    def get(self, client_id: str) -> Application | None:
        return self._application(self._store.one("SELECT * FROM application WHERE client_id = ?", (client_id,)))

    def by_secret(self, client_secret: str | None) -> Application | None:
        if not client_secret:
            return None
        row = self._store.one("SELECT * FROM application WHERE secret_hash = ?", (secret_hash(client_secret),))
        return self._application(row)

    def first(self) -> Application | None:
        return self._application(self._store.one("SELECT * FROM application ORDER BY created_at LIMIT 1"))

    def secret_matches(self, client_id: str, client_secret: str) -> bool:
        application = self.by_secret(client_secret)
        return application is not None and application.client_id == client_id

    def register(self, name: str, public_key: rsa.RSAPublicKey, now: dt.datetime) -> tuple[Application, str]:
        """Register an application; returns it and its client secret (shown once, stored hashed)."""
        client_id = uuid.uuid4().hex
        client_secret = new_client_secret()
        pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self._store.insert("application", {
            "client_id": client_id, "name": name, "secret_hash": secret_hash(client_secret),
            "public_key_pem": pem.decode("ascii"), "created_at": now.isoformat(),
        })
        return Application(client_id, name, public_key), client_secret

    def set_public_key(self, client_id: str, public_key: rsa.RSAPublicKey) -> None:
        pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self._store.update("application", {"public_key_pem": pem.decode("ascii")}, {"client_id": client_id})

    def rotate_secret(self, client_id: str) -> str:
        client_secret = new_client_secret()
        self._store.update("application", {"secret_hash": secret_hash(client_secret)}, {"client_id": client_id})
        return client_secret

    def installation(self, ctx: str, client_id: str) -> Installation | None:
        row = self._store.one("SELECT * FROM installation WHERE ctx = ? AND client_id = ?", (ctx, client_id))
        if row is None:
            return None
        return Installation(row["ctx"], row["client_id"], row["system_associate_id"], row["system_token_hash"])

    def install(self, ctx: str, application: Application, system_associate_id: int) -> str:
        """Install ``application`` in tenant ``ctx``; returns the new system-user token."""
        token = new_system_token(application.name)
        self._store.execute(
            "INSERT INTO installation (ctx, client_id, system_token_hash, system_associate_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ctx, client_id) DO UPDATE SET system_token_hash = excluded.system_token_hash",
            (ctx, application.client_id, secret_hash(token), system_associate_id),
        )
        return token

    def uninstall(self, ctx: str, client_id: str) -> None:
        self._store.execute("DELETE FROM installation WHERE ctx = ? AND client_id = ?", (ctx, client_id))
