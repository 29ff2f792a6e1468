"""A credential cache in Redis, shared by a fleet of workers on many machines.

Needs the optional ``redis`` package (``pip install 'soapkit[redis]'``). Entries are the codec's JSON
(optionally encrypted) under ``{prefix}credential:{cache key}`` with a time-to-live equal to the
credential's remaining lifetime, so Redis forgets expired tickets by itself. ``lock(key)`` is a
distributed lock: ``SET {prefix}lock:{cache key} <random token> NX PX <ttl>``, released only by the
holder (a Lua script compares the token before deleting), and expiring by itself if the holder dies.
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
        with self._errors():
            data = self._redis.get(self.entry_key(key))
        if data is None:
            return None
        try:
            return self._codec.decode(key, data, f"Credential cache entry {self.entry_key(key)} in {self._name}")
        except CacheCorrupted as error:
            logger.warning("%s Treating it as empty. (hint: %s)", error.message, error.hint)
            return None

    def set(self, key: str, issued: IssuedCredential) -> None:
        remaining = issued.expires_at - self._clock()
        with self._errors():
            if remaining <= 0:
                self._redis.delete(self.entry_key(key))
                return
            px = None if math.isinf(remaining) else max(1, int(remaining * 1000))
            self._redis.set(self.entry_key(key), self._codec.encode(key, issued), px=px)

    def delete(self, key: str) -> None:
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
            with self._errors():
                self._release(keys=[name], args=[token])

    # --- helpers -----------------------------------------------------------------------------------

    def _acquire(self, name: str, token: str) -> None:
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.005
        while True:
            with self._errors():
                if self._redis.set(name, token, nx=True, px=max(1, int(self.lock_ttl * 1000))):
                    return
            if time.monotonic() >= deadline:
                raise CacheLockTimeout(
                    f"Waited {self.lock_timeout:g} s for the credential lock {name} in {self._name}."
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

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
