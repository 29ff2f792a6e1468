"""PKCE (RFC 7636), ``state`` and ``nonce``: the random values one authorization request needs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

ChallengeMethod = Literal["S256", "plain"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def challenge_for(verifier: str, method: ChallengeMethod = "S256") -> str:
    if method == "plain":
        return verifier
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True, repr=False)
class Pkce:
    """A code verifier (secret until the code is redeemed) and its challenge."""

    verifier: str
    method: ChallengeMethod = "S256"

    @classmethod
    def new(cls, method: ChallengeMethod = "S256") -> Pkce:
        return cls(secrets.token_urlsafe(48)[:64], method)  # 64 characters of [A-Za-z0-9-_]

    @property
    def challenge(self) -> str:
        return challenge_for(self.verifier, self.method)

    def __repr__(self) -> str:
        return f"Pkce(method={self.method!r}, verifier=***)"


def new_state() -> str:
    return secrets.token_urlsafe(24)


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def same(expected: str | None, received: str | None) -> bool:
    """Constant-time equality of two values that must both be present."""
    return bool(expected) and bool(received) and hmac.compare_digest(str(expected), str(received))
