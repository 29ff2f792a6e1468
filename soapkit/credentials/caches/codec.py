"""How a cached credential is written down: versioned JSON, optionally encrypted with AES-256-GCM.

Both shared back-ends (file and Redis) store the same envelope, so an entry is readable by any of them:

``{"format": "soapkit-credential", "version": 1, "key": <cache key>, "credential": {...}}``

Encrypted, the ``key`` and ``credential`` move inside the ciphertext, the cache key is bound to it as
associated data (an entry copied under another key does not decrypt) and a non-reversible key id tells
"wrong key" apart from "damaged entry":

``{"format": "soapkit-credential", "version": 1, "alg": "A256GCM", "kid": ..., "nonce": ..., "ciphertext": ...}``

Errors never quote the entry: :class:`~soapkit.errors.CacheCorrupted` for anything unreadable (callers
treat the entry as missing), :class:`~soapkit.errors.CacheKeyError` when the configured key is not the
one the entry was written with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any

from soapkit.credentials.base import IssuedCredential
from soapkit.errors import CacheCorrupted, CacheKeyError

FORMAT = "soapkit-credential"
VERSION = 1
ALGORITHM = "A256GCM"
KEY_BYTES = 32


def new_cache_key() -> str:
    """A fresh random encryption key, as the base64 text ``SOAPKIT_CACHE_KEY`` expects."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


class CacheCipher:
    """AES-256-GCM with a key given as 32 bytes or their base64 (standard or URL-safe, padding optional)."""

    def __init__(self, key: str | bytes) -> None:
        # cryptography is imported by a cache that encrypts: a plain cache (the default) never loads it
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw = key if isinstance(key, bytes) and len(key) == KEY_BYTES else _key_bytes(key)
        self._aead = AESGCM(raw)
        self.key_id = hashlib.sha256(b"soapkit cache key id\0" + raw).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"CacheCipher(key_id={self.key_id!r})"

    def seal(self, plaintext: bytes, associated: bytes) -> dict[str, Any]:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext, associated)
        return {"alg": ALGORITHM, "kid": self.key_id, "nonce": _b64(nonce), "ciphertext": _b64(sealed)}

    def open(self, envelope: dict[str, Any], associated: bytes, where: str) -> bytes:
        if envelope.get("alg") != ALGORITHM:
            raise CacheCorrupted(f"{where}: unknown encryption {envelope.get('alg')!r}.")
        if envelope.get("kid") != self.key_id:
            raise CacheKeyError(f"{where} is encrypted with another key (key id {envelope.get('kid')!r}, "
                                f"configured {self.key_id!r}).")
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(_unb64(envelope.get("nonce")), _unb64(envelope.get("ciphertext")), associated)
        except (InvalidTag, ValueError, binascii.Error):
            raise CacheCorrupted(f"{where}: the encrypted entry is damaged or belongs to another entry.") from None


def _key_bytes(key: str | bytes) -> bytes:
    text = key.decode("ascii", "replace") if isinstance(key, bytes) else key
    text = "".join(text.split())
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise CacheKeyError(
            "The cache encryption key is not 32 bytes of base64.",
            hint="Create one with `soapkit config new-cache-key` and keep it in a file (SOAPKIT_CACHE_KEY_FILE).",
        )
    return raw


#: what the caches accept as ``encryption_key``: the key text or bytes, or a ready cipher
EncryptionKey = str | bytes | CacheCipher


def as_cipher(key: EncryptionKey | None) -> CacheCipher | None:
    if key is None or isinstance(key, CacheCipher):
        return key
    return CacheCipher(key)


class EntryCodec:
    """Turns an :class:`IssuedCredential` into bytes for a shared cache and back."""

    def __init__(self, cipher: CacheCipher | None = None) -> None:
        self.cipher = cipher

    @property
    def encrypted(self) -> bool:
        return self.cipher is not None

    def encode(self, key: str, issued: IssuedCredential) -> bytes:
        inner = {"key": key, "credential": issued.to_dict()}
        if self.cipher is None:
            document = {"format": FORMAT, "version": VERSION, **inner}
        else:
            plaintext = json.dumps(inner, separators=(",", ":")).encode("utf-8")
            document = {"format": FORMAT, "version": VERSION, **self.cipher.seal(plaintext, key.encode("utf-8"))}
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    def decode(self, key: str, data: bytes, where: str) -> IssuedCredential:
        """Read an entry written by :meth:`encode`; ``where`` names it in errors (a path, a Redis key)."""
        document = _json_object(data, where)
        if document.get("format") != FORMAT or document.get("version") != VERSION:
            raise CacheCorrupted(f"{where} is not a soapkit credential entry of version {VERSION}.")
        encrypted = "ciphertext" in document
        if encrypted and self.cipher is None:
            raise CacheKeyError(f"{where} is encrypted, but no cache encryption key is configured.")
        if not encrypted and self.cipher is not None:
            raise CacheCorrupted(f"{where} is not encrypted, but encryption is configured: ignoring it.")
        if self.cipher is not None:
            document = _json_object(self.cipher.open(document, key.encode("utf-8"), where), where)
        if document.get("key") != key:
            raise CacheCorrupted(f"{where} holds another entry than the one asked for.")
        credential = document.get("credential")
        try:
            return IssuedCredential.from_dict(credential if isinstance(credential, dict) else {})
        except ValueError as error:
            raise CacheCorrupted(f"{where}: {error}.") from None


def _json_object(data: bytes, where: str) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CacheCorrupted(f"{where} is not valid JSON (truncated or overwritten?).") from None
    if not isinstance(document, dict):
        raise CacheCorrupted(f"{where} is not a JSON object.")
    return document
