"""The sandbox's data directory: where each file lives, and writing files that hold secrets (mode 0600)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_NAME = "sandbox.json"
DATABASE_NAME = "sandbox.sqlite3"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def database(self) -> Path:
        return self.root / DATABASE_NAME

    @property
    def identity_key(self) -> Path:
        return self.root / "identity-key.pem"

    @property
    def identity_certificate(self) -> Path:
        return self.root / "identity-certificate.pem"

    @property
    def partner_private_key_pem(self) -> Path:
        return self.root / "partner-private-key.pem"

    @property
    def partner_private_key_xml(self) -> Path:
        return self.root / "partner-private-key.xml"

    @property
    def partner_public_key_pem(self) -> Path:
        return self.root / "partner-public-key.pem"

    @property
    def onsite_password(self) -> Path:
        """The password of the onsite user (``sandbox.json`` ``onsite.user``), one line, mode 0600."""
        return self.root / "onsite-password.txt"

    def owned_files(self) -> list[Path]:
        """Every file the sandbox creates (``reset`` removes these and nothing else)."""
        database = self.database
        return [
            self.config,
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
            database.with_name(database.name + "-journal"),
            self.identity_key,
            self.identity_certificate,
            self.partner_private_key_pem,
            self.partner_private_key_xml,
            self.partner_public_key_pem,
            self.onsite_password,
        ]

    def create(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def reset(self) -> None:
        for path in self.owned_files():
            path.unlink(missing_ok=True)


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600), replacing the file atomically."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, raw)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def write_public(path: Path, data: str | bytes) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.write_bytes(raw)


def write_json_private(path: Path, data: dict[str, Any]) -> None:
    write_private(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None
