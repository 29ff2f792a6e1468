"""The one credential interface.

A :class:`Credential` hands out a valid ticket or access token for an :class:`AuthContext` (which
environment, which tenant, which application). It caches what it obtained, refreshes a little before
expiry (``refresh_margin``), refreshes at most once at a time (single flight), falls back to the
still-valid cached value when a proactive refresh fails, and can be invalidated when the server says
the value is no longer good. Providers only implement :meth:`Credential.fetch`.
"""

from __future__ import annotations

import abc
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from soapkit.errors import CredentialRejected, SoapkitError
from soapkit.redaction import mask

if TYPE_CHECKING:
    import requests

    from soapkit.catalog import Catalog
    from soapkit.credentials.jwt_validation import JwksCache
    from soapkit.tenant import Environment


@dataclass(frozen=True, repr=False)
class IssuedCredential:
    """A ticket or access token and when it stops being usable (epoch seconds)."""

    value: str
    expires_at: float
    claims: Mapping[str, Any] = field(default_factory=dict)
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return f"IssuedCredential(value={mask(self.value, 3)}, expires_at={self.expires_at:.0f})"

    def usable(self, now: float, margin: float = 0.0) -> bool:
        return self.expires_at - margin > now


@dataclass(frozen=True, repr=False)
class AuthContext:
    """Everything a provider needs to obtain a credential for one tenant of one environment."""

    environment: Environment
    context_identifier: str
    application_token: str | None
    session: requests.Session
    jwks: JwksCache
    catalog: Catalog
    client_id: str | None = None
    timeout: float = 30.0

    def __repr__(self) -> str:
        return (f"AuthContext(environment={self.environment.name!r}, "
                f"context_identifier={self.context_identifier!r}, application_token=***)")


class CredentialCache(Protocol):
    """Where issued credentials are kept between calls (memory, file, Redis, ...)."""

    def get(self, key: str) -> IssuedCredential | None: ...

    def set(self, key: str, issued: IssuedCredential) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryCache:
    """The default cache: a dictionary guarded by a lock, for one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, IssuedCredential] = {}

    def get(self, key: str) -> IssuedCredential | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, issued: IssuedCredential) -> None:
        with self._lock:
            self._entries[key] = issued

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


def fingerprint(secret: str) -> str:
    """A short, non-reversible identity for cache keys and logs: never the secret itself."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


class Credential(abc.ABC):
    """Base of every provider: system user, OAuth user, client credentials, reference and static tokens."""

    #: the kind of identity; user and service credentials never share a cache entry
    kind: ClassVar[str] = "credential"
    #: whether fetching again can give a different, valid value (a static token cannot)
    can_refresh: ClassVar[bool] = True

    def __init__(
        self,
        *,
        cache: CredentialCache | None = None,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache: CredentialCache = cache or MemoryCache()
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._flight = threading.Lock()
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(identity={self.identity()!r})"

    @abc.abstractmethod
    def identity(self) -> str:
        """A non-secret name for whose credential this is (part of the cache key)."""

    @abc.abstractmethod
    def fetch(self, context: AuthContext) -> IssuedCredential:
        """Obtain a fresh credential from the server. Called at most once at a time per credential."""

    def cache_key(self, context: AuthContext) -> str:
        return "|".join(
            ("soapkit", context.environment.base_url, context.context_identifier.lower(), self.kind, self.identity())
        )

    def current(self, context: AuthContext) -> IssuedCredential | None:
        """The cached credential, usable or not, without contacting the server."""
        return self.cache.get(self.cache_key(context))

    def token(self, context: AuthContext) -> str:
        """A valid ticket or access token, from the cache or freshly obtained."""
        return self.issued(context).value

    def issued(self, context: AuthContext) -> IssuedCredential:
        key = self.cache_key(context)
        cached = self.cache.get(key)
        if cached is not None and cached.usable(self._clock(), self.refresh_margin):
            return cached
        with self._flight:
            cached = self.cache.get(key)  # another thread may have refreshed while we waited
            now = self._clock()
            if cached is not None and cached.usable(now, self.refresh_margin):
                return cached
            try:
                fresh = self._fetch_counted(context)
            except SoapkitError:
                if cached is not None and cached.usable(self._clock()):
                    return cached  # proactive refresh failed, but what we hold is still good
                raise
            self.cache.set(key, fresh)
            return fresh

    def _fetch_counted(self, context: AuthContext) -> IssuedCredential:
        self.fetch_count += 1
        return self.fetch(context)

    def invalidate(self, context: AuthContext) -> None:
        """Forget the cached value: the server said it is no longer valid."""
        if not self.can_refresh:
            raise CredentialRejected(
                f"The server rejected the given {self.kind.replace('_', ' ')}, and it cannot be renewed.",
                hint="Obtain a new ticket or token and pass it again.",
            )
        self.cache.delete(self.cache_key(context))


class StaticToken(Credential):
    """A ticket (``7T:``) or access token (``8A:``) obtained elsewhere and given as is."""

    can_refresh = False

    def __init__(self, value: str, *, expires_at: float | None = None) -> None:
        super().__init__(refresh_margin=0.0)
        if not value or not value.strip():
            raise SoapkitError("The given ticket or access token is empty.")
        self._value = value.strip()
        self._expires_at = expires_at if expires_at is not None else float("inf")

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "ticket" if self._value.startswith("7T:") else "access_token"

    def identity(self) -> str:
        return fingerprint(self._value)

    def fetch(self, context: AuthContext) -> IssuedCredential:
        return IssuedCredential(self._value, self._expires_at)
