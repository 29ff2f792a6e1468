"""The one credential interface.

A :class:`Credential` hands out a valid ticket or access token for an :class:`AuthContext` (which
environment, which tenant, which application). It caches what it obtained, refreshes a little before
expiry (``refresh_margin``), refreshes at most once at a time (single flight), falls back to the
still-valid cached value when a proactive refresh fails, and can be invalidated when the server says
the value is no longer good. Providers only implement :meth:`Credential.fetch`.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from soapkit.errors import CacheError, CacheLockTimeout, CacheUnavailable, CredentialRejected, SoapkitError
from soapkit.flow import Flow, Hold, Release
from soapkit.redaction import mask

T = TypeVar("T")

if TYPE_CHECKING:
    import requests

    from soapkit.catalog import Catalog
    from soapkit.credentials.jwt_validation import JwksCache
    from soapkit.debug import Recorder
    from soapkit.tenant import Environment

logger = logging.getLogger("soapkit.credentials")


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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for shared caches (an endless lifetime is stored as ``null``)."""
        return {
            "value": self.value,
            "expires_at": self.expires_at if math.isfinite(self.expires_at) else None,
            "claims": dict(self.claims),
            "refresh_token": self.refresh_token,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IssuedCredential:
        """The inverse of :meth:`to_dict`; raises ``ValueError`` on anything malformed."""
        value, expires_at = data.get("value"), data.get("expires_at")
        claims, refresh_token = data.get("claims") or {}, data.get("refresh_token")
        if not isinstance(value, str) or not value:
            raise ValueError("entry has no credential value")
        if expires_at is not None and (isinstance(expires_at, bool) or not isinstance(expires_at, (int, float))):
            raise ValueError("entry has a non-numeric expiry")
        if not isinstance(claims, dict) or not (refresh_token is None or isinstance(refresh_token, str)):
            raise ValueError("entry has malformed claims or refresh token")
        return cls(value, float("inf") if expires_at is None else float(expires_at), claims, refresh_token)


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
    #: where credential exchanges are recorded too (the client's recorder), so traces show the sign-in
    recorder: Recorder | None = None
    #: the services folder the client calls (``Services88``): where an onsite sign-in goes too
    services_version: str = "Services88"

    def __repr__(self) -> str:
        return (f"AuthContext(environment={self.environment.name!r}, "
                f"context_identifier={self.context_identifier!r}, application_token=***)")


class CredentialCache(Protocol):
    """Where issued credentials are kept between calls (memory, file, Redis, ...).

    A cache may also offer ``lock(key)``, a context manager that excludes every other holder of the same
    key, in every thread and process that shares the cache (see :class:`LockingCache`).
    :meth:`Credential.issued` holds it around "look again, fetch, store", so a fleet sharing one cache
    fetches once. Caches without ``lock`` still work: single flight is then per process.
    """

    def get(self, key: str) -> IssuedCredential | None: ...

    def set(self, key: str, issued: IssuedCredential) -> None: ...

    def delete(self, key: str) -> None: ...


@runtime_checkable
class LockingCache(CredentialCache, Protocol):
    """A :class:`CredentialCache` with the optional cross-thread, cross-process ``lock(key)``."""

    def lock(self, key: str) -> AbstractContextManager[None]: ...


def cache_lock(cache: CredentialCache | None, key: str) -> AbstractContextManager[None]:
    """The cache's own lock for ``key`` when it has one; otherwise nothing to hold."""
    lock = getattr(cache, "lock", None)
    return lock(key) if callable(lock) else contextlib.nullcontext()


class KeyedLocks:
    """One lock per key, created on first use (keys are few: one per tenant and identity)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


class MemoryCache:
    """The default cache: a dictionary guarded by a lock, for one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, IssuedCredential] = {}
        self._key_locks = KeyedLocks()

    def __repr__(self) -> str:
        return f"MemoryCache(entries={len(self._entries)})"

    def lock(self, key: str) -> AbstractContextManager[None]:
        """Exclude other threads of this process working on ``key`` (other processes do not share it)."""
        return self._key_locks.hold(key)

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
        self._count_lock = threading.Lock()
        self._served = threading.local()
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(identity={self.identity()!r})"

    @abc.abstractmethod
    def identity(self) -> str:
        """A non-secret name for whose credential this is (part of the cache key)."""

    def cache_key(self, context: AuthContext) -> str:
        return "|".join(
            ("soapkit", context.environment.base_url, context.context_identifier.lower(), self.kind, self.identity())
        )

    def current(self, context: AuthContext) -> IssuedCredential | None:
        """The cached credential, usable or not, without contacting the server."""
        return self.cache.get(self.cache_key(context))

    def fetch_flow(self, context: AuthContext) -> Flow[IssuedCredential]:
        """Obtain a fresh credential, as a flow (:mod:`soapkit.flow`): yield the requests it needs and
        return the credential. Called at most once at a time per cache key. Providers implement this (or
        :meth:`fetch` when they need no network)."""
        if type(self).fetch is Credential.fetch:
            raise TypeError(f"{type(self).__name__} must implement fetch_flow() (or fetch(), for a provider "
                            "that needs no network).")
        return self.fetch(context)
        yield  # pragma: no cover - makes this a generator

    def fetch(self, context: AuthContext) -> IssuedCredential:
        """:meth:`fetch_flow` run by the synchronous driver."""
        return _sync_run(context, self.fetch_flow(context))

    def _provider_flow(self, context: AuthContext) -> Flow[IssuedCredential]:
        """:meth:`fetch_flow`, unless a subclass below the one that wrote it overrides :meth:`fetch` (a test
        double, or a provider that replaces the exchange): the most derived of the two wins."""
        mro = type(self).__mro__
        fetch_owner = next(k for k in mro if "fetch" in k.__dict__)
        flow_owner = next(k for k in mro if "fetch_flow" in k.__dict__)
        if fetch_owner is not Credential and mro.index(fetch_owner) < mro.index(flow_owner):
            return self.fetch(context)
        return (yield from self.fetch_flow(context))

    def token(self, context: AuthContext) -> str:
        """A valid ticket or access token, from the cache or freshly obtained."""
        return self.issued(context).value

    def issued(self, context: AuthContext) -> IssuedCredential:
        """:meth:`issued_flow` run by the synchronous driver (thread locks)."""
        return self._serve(self.cache_key(context), _sync_run(context, self.issued_flow(context)))

    def issued_flow(self, context: AuthContext) -> Flow[IssuedCredential]:
        """The cached credential while it is outside the refresh margin; otherwise a fresh one.

        Single flight on two levels, taken by the driver for the :class:`~soapkit.flow.Hold` step: a lock per
        cache key for this process (a thread lock, or an asyncio lock in the async driver), then the cache's
        own ``lock(key)`` (if it has one) for every process sharing the cache. Both are taken only when a
        refresh looks needed, and the cache is read again under them, so whoever waited finds the value the
        holder stored instead of fetching again.
        """
        key = self.cache_key(context)
        cached = self.cache.get(key)
        if not self._needs_refresh(cached):
            assert cached is not None
            return cached
        try:
            yield Hold(key, self.cache, self)
        except (CacheLockTimeout, CacheUnavailable) as error:
            if cached is not None and cached.usable(self._clock()):
                logger.warning("%s: the cache lock is busy or unreachable (%s); using the cached credential "
                               "until it expires.", self._label(context), type(error).__name__)
                return cached
            raise
        try:
            fresh = yield from self._refresh_held(context, key)
        except Exception:
            yield Release(key, self)
            raise
        yield Release(key, self)
        return fresh

    def _needs_refresh(self, cached: IssuedCredential | None) -> bool:
        return cached is None or not cached.usable(self._clock(), self.refresh_margin)

    def _refresh_held(self, context: AuthContext, key: str) -> Flow[IssuedCredential]:
        cached = self.cache.get(key)  # another thread, task or process may have refreshed while we waited
        if not self._needs_refresh(cached):
            assert cached is not None
            return cached
        with self._count_lock:
            self.fetch_count += 1
        try:
            fresh = yield from self._provider_flow(context)
        except SoapkitError as error:
            if cached is not None and cached.usable(self._clock()):
                logger.warning("%s: refreshing failed (%s: %s); using the cached credential until it expires.",
                               self._label(context), type(error).__name__, error.message)
                return cached  # proactive refresh failed, but what we hold is still good
            raise
        try:
            self.cache.set(key, fresh)
        except CacheError as error:  # the credential is good; only sharing it failed
            logger.warning("%s: could not store the fresh credential in the cache (%s: %s); using it anyway.",
                           self._label(context), type(error).__name__, error.message)
        return fresh

    def _serve(self, key: str, issued: IssuedCredential) -> IssuedCredential:
        served: dict[str, str] = self._served.__dict__.setdefault("values", {})
        served[key] = issued.value  # what this thread was given, so invalidate() drops only that value
        return issued

    def _label(self, context: AuthContext) -> str:
        return f"{self.kind} credential for {context.context_identifier} at {context.environment.name}"

    def invalidate(self, context: AuthContext, value: str | None = None) -> None:
        """Forget the cached value: the server said it is no longer valid.

        ``value`` is the rejected ticket or token; it defaults to the one this thread was last given by
        :meth:`issued`. When the cache already holds another value (a thread or process refreshed meanwhile),
        that value is kept: many callers rejected with the same stale ticket cause one refresh, not one each.
        """
        rejected = value if value is not None else self._served.__dict__.get("values", {}).get(
            self.cache_key(context))
        _sync_run(context, self.invalidate_flow(context, rejected))

    def invalidate_flow(self, context: AuthContext, value: str | None) -> Flow[None]:
        """:meth:`invalidate` as a flow, for the value ``value`` that was rejected (None: whatever is cached)."""
        if not self.can_refresh:
            raise CredentialRejected(
                f"The server rejected the given {self.kind.replace('_', ' ')}, and it cannot be renewed.",
                hint="Obtain a new ticket or token and pass it again.",
            )
        key = self.cache_key(context)
        yield Hold(key, self.cache, self)
        try:
            current = self.cache.get(key)
            if current is not None and (value is None or current.value == value):
                self.cache.delete(key)
        except Exception:
            yield Release(key, self)
            raise
        yield Release(key, self)


def _sync_run(context: AuthContext, flow: Flow[T]) -> T:
    from soapkit.drivers.sync import SyncDriver

    return SyncDriver(context.session, recorder=context.recorder).run(flow)


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
