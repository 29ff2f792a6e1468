"""Reference tokens: personal (PAT, ``8P:``) and service (SAT, ``8S:``) access tokens, issued by hand.

They are static (long-lived, revocable, never refreshed) but tagged by kind, so a person's token and a
service's token never share a cache entry, not even in a hybrid application that holds both. A
rejected reference token raises :class:`~soapkit.errors.CredentialRejected`: it cannot be renewed.
"""

from __future__ import annotations

from typing import Literal

from soapkit.credentials.base import AuthContext, Credential, IssuedCredential, fingerprint
from soapkit.errors import ConfigurationError

ReferenceKind = Literal["pat", "sat"]
PREFIXES: dict[str, ReferenceKind] = {"8P:": "pat", "8S:": "sat"}
KIND_NAMES: dict[ReferenceKind, str] = {"pat": "personal_access_token", "sat": "service_access_token"}


def reference_kind(value: str) -> ReferenceKind | None:
    """``pat`` or ``sat`` from the token's prefix, or None when it has neither."""
    return PREFIXES.get(value[:3])


class ReferenceToken(Credential):
    """A PAT or SAT given as is; ``kind`` comes from its prefix unless given (and must agree with it)."""

    can_refresh = False

    def __init__(self, value: str, *, kind: ReferenceKind | None = None, expires_at: float | None = None) -> None:
        super().__init__(refresh_margin=0.0)
        value = (value or "").strip()
        if not value:
            raise ConfigurationError("The reference token is empty.")
        detected = reference_kind(value)
        if kind is not None and kind not in KIND_NAMES:
            raise ConfigurationError(f"Unknown reference token kind {kind!r}.", hint="Use 'pat' or 'sat'.")
        if kind is not None and detected is not None and kind != detected:
            raise ConfigurationError(f"The token's prefix says {detected.upper()}, not {kind.upper()}.",
                                     hint="Personal tokens start with 8P:, service tokens with 8S:.")
        resolved = kind or detected
        if resolved is None:
            raise ConfigurationError("Cannot tell whether this reference token is personal or a service's.",
                                     hint="Pass kind='pat' or kind='sat'.")
        self.reference_kind: ReferenceKind = resolved
        self._value = value
        self._expires_at = expires_at if expires_at is not None else float("inf")

    @property
    def kind(self) -> str:  # type: ignore[override]
        return KIND_NAMES[self.reference_kind]

    def identity(self) -> str:
        return fingerprint(self._value)

    def fetch(self, context: AuthContext) -> IssuedCredential:
        return IssuedCredential(self._value, self._expires_at)


class PersonalAccessToken(ReferenceToken):
    """A PAT: acts as the person who created it."""

    def __init__(self, value: str, *, expires_at: float | None = None) -> None:
        super().__init__(value, kind="pat", expires_at=expires_at)


class ServiceAccessToken(ReferenceToken):
    """A SAT: acts as a service identity (a System User)."""

    def __init__(self, value: str, *, expires_at: float | None = None) -> None:
        super().__init__(value, kind="sat", expires_at=expires_at)
