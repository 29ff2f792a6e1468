"""A credential cache in Redis, shared by a fleet of workers on many machines.

Needs the optional ``redis`` package (``pip install 'soapkit[redis]'``). Entries are the codec's JSON
(optionally encrypted) under ``{prefix}credential:{cache key}`` with a time-to-live equal to the
credential's remaining lifetime, so Redis forgets expired tickets by itself. ``lock(key)`` is a
distributed lock: ``SET {prefix}lock:{cache key} <random token> NX PX <ttl>``, released only by the
holder (a Lua script compares the token before deleting), and expiring by itself if the holder dies.

Redis is shared, so what it holds is not trusted to be well formed: an entry of the wrong type is a missing
entry, and a lock without a time-to-live (left by a crashed or foreign client) counts as expired and is
taken over. When Redis cannot be reached, the process keeps using the credential it already holds (the last
one it read or stored; logged once) and fails with :class:`CacheUnavailable` only when it holds none.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

from soapkit.credentials.base import IssuedCredential
from soapkit.credentials.caches.codec import EncryptionKey, EntryCodec, as_cipher
from soapkit.errors import CacheCorrupted, CacheError, CacheLockTimeout, CacheUnavailable, ConfigurationError

logger = logging.getLogger("soapkit.credentials.cache")

# Deletes the lock only if it still holds our token: an expired lock re-taken by another worker is kept.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

# Takes a lock that has no time-to-live (it would never expire by itself): returns 1 when taken.
_TAKE_OVER = """
if redis.call('pttl', KEYS[1]) == -1 then
    redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""


def safe_url(url: str) -> str:
    """A Redis URL for messages: the password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class RedisCache:
    """Cached credentials in Redis, with a distributed lock for single flight across machines."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "soapkit:",
        encryption_key: EncryptionKey | None = None,
        lock_ttl: float = 60.0,
        lock_timeout: float = 75.0,
        clock: Callable[[], float] = time.time,
        name: str = "Redis",
    ) -> None:
        self._redis = client
        self.prefix = prefix
        self._codec = EntryCodec(as_cipher(encryption_key))
        self.lock_ttl = lock_ttl
        self.lock_timeout = lock_timeout
        self._clock = clock
        self._name = name
        self._release = client.register_script(_RELEASE)
        self._take_over = client.register_script(_TAKE_OVER)
        self._held: dict[str, IssuedCredential] = {}  # what this process last read or stored, per key
        self._outage_logged = False

    @classmethod
    def from_url(cls, url: str, *, connect_timeout: float = 5.0, **options: Any) -> RedisCache:
        """``redis://[:password@]host[:port][/db]``, ``rediss://...`` (TLS) or ``unix:///path/redis.sock``."""
        try:
            import redis
        except ImportError:
            raise ConfigurationError("The Redis credential cache needs the redis package.",
                                     hint="pip install 'soapkit[redis]'") from None
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=connect_timeout,
                                          socket_timeout=connect_timeout)
        except ValueError as error:
            raise ConfigurationError(f"Invalid Redis URL {safe_url(url)}: {error}",
                                     hint="Use redis://host:6379/0, rediss://... or unix:///path.sock") from None
        return cls(client, name=f"Redis at {safe_url(url)}", **options)

    def __repr__(self) -> str:
        return f"RedisCache({self._name!r}, prefix={self.prefix!r}, encrypted={self._codec.encrypted})"

    def entry_key(self, key: str) -> str:
        return f"{self.prefix}credential:{key}"

    # --- CredentialCache ---------------------------------------------------------------------------

    def get(self, key: str) -> IssuedCredential | None:
        try:
            with self._errors():
                data = self._redis.get(self.entry_key(key))
        except CacheUnavailable:
            return self._held_or_fail(key)
        except CacheError as error:  # e.g. WRONGTYPE: something else is stored under the entry's name
            logger.warning("%s Treating it as empty.", error.message)
            return None
        self._back_online()
        if data is None:
            self._held.pop(key, None)
            return None
        try:
            issued = self._codec.decode(key, data, f"Credential cache entry {self.entry_key(key)} in {self._name}")
        except CacheCorrupted as error:
            logger.warning("%s Treating it as empty. (hint: %s)", error.message, error.hint)
            return None
        self._held[key] = issued
        return issued

    def set(self, key: str, issued: IssuedCredential) -> None:
        self._held[key] = issued
        remaining = issued.expires_at - self._clock()
        with self._errors():
            if remaining <= 0:
                self._redis.delete(self.entry_key(key))
                return
            px = None if math.isinf(remaining) else max(1, int(remaining * 1000))
            self._redis.set(self.entry_key(key), self._codec.encode(key, issued), px=px)

    def delete(self, key: str) -> None:
        self._held.pop(key, None)
        with self._errors():
            self._redis.delete(self.entry_key(key))

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """A lock every worker sharing this Redis respects; it expires after ``lock_ttl`` if the holder dies."""
        name, token = f"{self.prefix}lock:{key}", secrets.token_hex(16)
        self._acquire(name, token)
        try:
            yield
        finally:
            self._release_quietly(name, token)

    # --- helpers -----------------------------------------------------------------------------------

    def _acquire(self, name: str, token: str) -> None:
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.005
        while True:
            ttl_ms = max(1, int(self.lock_ttl * 1000))
            with self._errors():
                if self._redis.set(name, token, nx=True, px=ttl_ms):
                    return
                if self._take_over(keys=[name], args=[token, ttl_ms]):
                    logger.warning("Took over the credential lock %s in %s: it had no time-to-live.", name, self._name)
                    return
            if time.monotonic() >= deadline:
                raise CacheLockTimeout(
                    f"Waited {self.lock_timeout:g} s for the credential lock {name} in {self._name}."
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def _release_quietly(self, name: str, token: str) -> None:
        """Release the lock; if Redis went away meanwhile, the lock expires by itself after ``lock_ttl``."""
        try:
            with self._errors():
                self._release(keys=[name], args=[token])
        except CacheError as error:
            logger.warning("%s Its lock %s expires by itself.", error.message, name)

    def _held_or_fail(self, key: str) -> IssuedCredential | None:
        held = self._held.get(key)
        if held is None or not held.usable(self._clock()):
            self._fail(CacheUnavailable, f"{self._name} cannot be reached and this process holds no usable "
                       "credential for this identity.")
        if not self._outage_logged:
            self._outage_logged = True
            logger.warning("%s cannot be reached; using the credential this process already holds until it "
                           "expires or Redis is back.", self._name)
        return held

    def _back_online(self) -> None:
        if self._outage_logged:
            self._outage_logged = False
            logger.warning("%s is reachable again.", self._name)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        import redis.exceptions

        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            self._fail(CacheUnavailable, f"{self._name} cannot be reached: {type(error).__name__}.")
        except redis.exceptions.RedisError as error:
            self._fail(CacheError, f"{self._name} refused a credential cache operation: {error}")

    @staticmethod
    def _fail(kind: type[CacheError], message: str) -> NoReturn:
        raise kind(message) from None
