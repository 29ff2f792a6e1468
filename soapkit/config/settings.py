"""The effective settings, where each value came from, and reading a secret from its value or its file."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soapkit.config.keys import KEYS, SECRET_KEYS, describe, is_key_text
from soapkit.errors import ConfigurationError
from soapkit.redaction import MASK

logger = logging.getLogger("soapkit.config")


@dataclass
class Settings:
    """Effective settings (``values``), the source of each (``sources``) and the file that was read."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    config_file: Path | None = None

    def __repr__(self) -> str:
        shown = {name: value for name, value, _ in self.display()}
        return f"Settings({shown!r}, config_file={str(self.config_file) if self.config_file else None!r})"

    def apply(self, layer: Mapping[str, Any], source: str | Callable[[str], str]) -> None:
        """Lay ``layer`` over what is there.

        A secret's value and its file hide each other from lower layers; WSDL folders add up (this
        layer's first), since each names extra places to look.
        """
        for name, value in layer.items():
            if value is None or value == "" or value == []:
                continue
            if name == "wsdl_dirs":
                value = [*value, *[d for d in self.values.get("wsdl_dirs", []) if d not in value]]
            for secret in SECRET_KEYS:
                pair = (secret, f"{secret}_file")
                if name in pair:
                    other = pair[1] if name == secret else pair[0]
                    self.values.pop(other, None)
                    self.sources.pop(other, None)
            self.values[name] = value
            self.sources[name] = source(name) if callable(source) else source

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def has_secret(self, name: str) -> bool:
        """Whether secret ``name`` is configured, by value or by file (without reading the file)."""
        return bool(self.values.get(name) or self.values.get(f"{name}_file"))

    def secret_source(self, name: str) -> str:
        """Which key of a secret's pair is set, and where from, for messages."""
        key = name if self.values.get(name) else f"{name}_file"
        return describe(key, self.sources.get(key, ""))

    def secret(self, name: str) -> str | None:
        """A secret's value, given directly or read from its file; None when neither is configured."""
        if self.values.get(name):
            return str(self.values[name]).strip()
        file_key = f"{name}_file"
        path = self.values.get(file_key)
        if not path:
            return None
        return read_secret_file(Path(path), file_key, self.sources.get(file_key, ""))

    def display(self, *, show_secrets: bool = False) -> list[tuple[str, Any, str]]:
        """``(name, value, source)`` of every known setting, secrets masked unless asked for."""
        rows = []
        for name in KEYS:
            if name not in self.values:
                continue
            rows.append((name, display_value(name, self.values[name], show_secrets=show_secrets),
                         self.sources.get(name, "?")))
        return rows


def as_settings(settings: Settings | Mapping[str, Any]) -> Settings:
    """Settings as they are, or a plain mapping of values with unknown sources."""
    if isinstance(settings, Settings):
        return settings
    result = Settings()
    result.apply(settings, "")
    return result


def display_value(name: str, value: Any, *, show_secrets: bool = False) -> Any:
    """How a setting is shown: secrets, key text and cache passwords masked unless asked for."""
    if show_secrets:
        return value
    if name in SECRET_KEYS:
        return MASK
    if name == "private_key" and is_key_text(str(value)):
        return MASK + " (key text)"
    if name == "cache" and isinstance(value, str):
        from soapkit.credentials.caches.redis_cache import safe_url

        return safe_url(value)
    return value


def read_secret_file(path: Path, key: str, source: str) -> str:
    """The stripped text of a file holding a secret; a clear error naming the setting when it cannot be used."""
    where = describe(key, source)
    try:
        text = path.expanduser().read_text(encoding="utf-8-sig").strip()
    except FileNotFoundError:
        raise ConfigurationError(f"{where}: the file {path} does not exist.",
                                 hint=f"Create it (mode 0600) or point {key} at the right file.") from None
    except IsADirectoryError:
        raise ConfigurationError(f"{where}: {path} is a folder, not a file.") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigurationError(f"{where}: cannot read {path}: {reason}.",
                                 hint="Check the file's owner and permissions.") from None
    if not text:
        raise ConfigurationError(f"{where}: the file {path} is empty.")
    warn_if_readable_by_others(path, where)
    return text


def warn_if_readable_by_others(path: Path, where: str) -> None:
    """Log a warning when a file holding a secret (a client secret, a private key) is readable by others."""
    try:
        mode = stat.S_IMODE(path.expanduser().stat().st_mode)
    except OSError:
        return
    if mode & 0o077 and os.name == "posix":
        logger.warning("%s: %s holds a secret but other users may read it (mode %o); run chmod 600 %s.",
                       where, path, mode, path)
