"""Redaction of secrets: the one place that knows what a secret looks like.

Used by exceptions, reprs, logs, the recorder and the command line. Redaction is on by default;
only an explicit ``show_secrets=True`` (``--show-secrets`` on the command line) turns it off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# Values that are secret wherever they appear.
_PATTERNS: list[re.Pattern[str]] = [
    # PEM private keys (any flavour)
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    # private parts of .NET RSA XML keys
    re.compile(r"(<(P|Q|DP|DQ|InverseQ|D)>)[^<]+(</\2>)"),
    # JWTs (three base64url segments, header starting with eyJ)
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # tickets 7T:..., access tokens 8A:..., reference tokens (PAT/SAT) and refresh tokens with a prefix
    re.compile(r"\b(?:7T|8A|8R|8P|8S|7C):[A-Za-z0-9+/=._\-:]+"),
    # Authorization and SO-AppToken HTTP headers, key=value forms of well-known secret names
    re.compile(r"(?i)(authorization\s*[:=]\s*)(?:bearer|sotoken|soticket|basic)?\s*[^\s,;\"'<]+"),
    re.compile(r"(?i)(so-apptoken\s*[:=]\s*)[^\s,;\"'<]+"),
    re.compile(
        r"(?i)((?:client_secret|refresh_token|access_token|id_token|code_verifier|password|"
        r"applicationtoken|signedsystemtoken|ticket)\"?\s*[:=]\s*\"?)[^\s,;&\"'<]+"
    ),
    # signed system-user token: <token>.<yyyyMMddHHmm>.<base64 signature>
    re.compile(r"[^\s<>\"']+\.\d{12}\.[A-Za-z0-9+/]{40,}={0,2}"),
]

# XML elements whose text is secret (local names; namespaces vary between services).
SECRET_ELEMENTS = frozenset(
    {"ApplicationToken", "Ticket", "SignedSystemToken", "Token", "Password", "AccessToken", "RefreshToken"}
)
SECRET_HTTP_HEADERS = frozenset({"authorization", "so-apptoken", "cookie", "set-cookie"})


def redact_text(text: str | None, extra_secrets: Iterable[str] = ()) -> str:
    """Replace every secret-looking value in ``text`` with ``***``."""
    if not text:
        return text or ""
    for secret in extra_secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_match, text)
    return text


def _mask_match(match: re.Match[str]) -> str:
    if match.re.groups >= 3 and match.group(3) is not None and match.group(1).startswith("<"):
        return f"{match.group(1)}{MASK}{match.group(3)}"
    if match.re.groups >= 1 and match.group(1) is not None:
        return f"{match.group(1)}{MASK}"
    return MASK


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy of HTTP headers with secret values masked."""
    return {k: (MASK if k.lower() in SECRET_HTTP_HEADERS else redact_text(v)) for k, v in headers.items()}


def mask(value: str | None, keep: int = 0) -> str:
    """Mask one known secret for display, optionally keeping its first ``keep`` characters."""
    if not value:
        return "<none>"
    return (value[:keep] if keep else "") + MASK
