"""Where issued credentials are kept: in memory, in a folder shared by processes, or in Redis.

``open_cache(spec)`` turns the ``SOAPKIT_CACHE`` setting into a cache: ``memory``, ``file:PATH`` or a
Redis URL (``redis://``, ``rediss://``, ``unix://``).
"""

from __future__ import annotations

from soapkit.credentials.base import CredentialCache, LockingCache, MemoryCache
from soapkit.credentials.caches.codec import CacheCipher, EncryptionKey, new_cache_key
from soapkit.credentials.caches.file import FileCache
from soapkit.credentials.caches.redis_cache import RedisCache, safe_url
from soapkit.errors import ConfigurationError

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_cache(spec: str, *, encryption_key: EncryptionKey | None = None) -> CredentialCache:
    """A cache from its textual form: ``memory``, ``file:PATH`` or ``redis://host:6379/0``."""
    text = spec.strip()
    if text.lower() == "memory":
        if encryption_key is not None:
            raise ConfigurationError("A cache encryption key is set, but the cache is in memory.",
                                     hint="Encryption at rest applies to file: and redis:// caches; unset the key.")
        return MemoryCache()
    if text.lower().startswith("file:"):
        path = text[5:]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise ConfigurationError("The file cache needs a folder: file:PATH.",
                                     hint="For example SOAPKIT_CACHE=file:~/.cache/soapkit/credentials")
        return FileCache(path, encryption_key=encryption_key)
    if text.lower().startswith(REDIS_SCHEMES):
        return RedisCache.from_url(text, encryption_key=encryption_key)
    raise ConfigurationError(
        f"Unknown credential cache {safe_url(text)!r}.",
        hint="Use memory, file:PATH (processes of one machine) or redis://host:6379/0 (a fleet of workers).",
    )


__all__ = [
    "CacheCipher",
    "CredentialCache",
    "EncryptionKey",
    "FileCache",
    "LockingCache",
    "MemoryCache",
    "RedisCache",
    "new_cache_key",
    "open_cache",
]
