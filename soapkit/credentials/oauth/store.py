"""Where a user's sign-in (the refresh token) is kept between runs.

A :class:`SignInStore` keeps one refresh token per (environment, tenant, client id) in any
:class:`~soapkit.credentials.base.CredentialCache`. The default is a
:class:`~soapkit.credentials.caches.FileCache` in ``sign-ins`` under soapkit's per-user folder
(``$SOAPKIT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/soapkit`` or ``~/.config/soapkit``): a 0700 folder of 0600
files written atomically, optionally encrypted at rest (``encryption_key=``). A refresh token never expires
by itself here; the server decides, and :class:`~soapkit.errors.SignInRequired` tells the user to sign in again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soapkit.credentials.base import CredentialCache, IssuedCredential
from soapkit.credentials.caches import EncryptionKey, FileCache
from soapkit.tenant import Environment

_KEPT_CLAIMS = ("sub", "iss", "aud")


def default_sign_in_directory() -> Path:
    """``sign-ins`` in soapkit's per-user folder (``$SOAPKIT_CONFIG_DIR``, ``$XDG_CONFIG_HOME/soapkit``, ...).

    The rule is :func:`soapkit.config.layers.default_sign_in_directory`'s (light to import: the configuration
    asks it whether anyone signed in without loading this package)."""
    from soapkit.config.layers import default_sign_in_directory as rule

    return rule()


@dataclass(frozen=True, repr=False)
class StoredSignIn:
    refresh_token: str
    claims: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"StoredSignIn(refresh_token=***, subject={self.claims.get('sub')!r})"


class SignInStore:
    """The refresh token of one (environment, tenant, client id), in a credential cache."""

    def __init__(self, environment: Environment | str, context_identifier: str, client_id: str, *,
                 cache: CredentialCache | None = None, directory: str | os.PathLike[str] | None = None,
                 encryption_key: EncryptionKey | None = None) -> None:
        self.environment = Environment.resolve(environment)
        self.context_identifier = context_identifier
        self.client_id = client_id
        self.cache: CredentialCache = cache if cache is not None else FileCache(
            directory or default_sign_in_directory(), encryption_key=encryption_key)
        self.key = "|".join(("soapkit-sign-in", self.environment.base_url, context_identifier.lower(), client_id))

    def __repr__(self) -> str:
        return (f"SignInStore({self.environment.name!r}, {self.context_identifier!r}, {self.client_id!r}, "
                f"cache={self.cache!r})")

    def load(self) -> StoredSignIn | None:
        entry = self.cache.get(self.key)
        if entry is None or not entry.refresh_token:
            return None
        return StoredSignIn(entry.refresh_token, dict(entry.claims))

    def save(self, refresh_token: str, claims: Mapping[str, Any] | None = None) -> None:
        kept = {name: (claims or {})[name] for name in _KEPT_CLAIMS if name in (claims or {})}
        # The entry's value is a placeholder: what matters is the refresh token, which never expires here.
        self.cache.set(self.key, IssuedCredential("sign-in", float("inf"), kept, refresh_token))

    def clear(self) -> None:
        self.cache.delete(self.key)
