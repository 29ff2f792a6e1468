"""Redaction of secrets: the one place that knows what a secret looks like.

Used by exceptions, reprs, logs, the recorder and the command line. Redaction is on by default;
only an explicit ``show_secrets=True`` (``--show-secrets`` on the command line) turns it off.

Everything here runs over text an attacker may control (a server's fault string, a request path), so
every pass is linear in the length of the text: patterns start at a distinctive anchor, repeat only
classes that cannot overlap what follows them, and bound every run of optional whitespace. The two
shapes a regular expression cannot match in linear time with Python's backtracking engine (a PEM block
and a signed system-user token, whose start is found by looking back from its timestamp) are found with
plain string searches instead. ``benchmarks/bench_redaction.py`` measures the cost per megabyte.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

MASK = "***"

#: Longest message, hint or server text an exception keeps (characters); longer text is cut before it is
#: redacted, so hostile server text costs bounded time and memory (see :func:`clip`).
MAX_MESSAGE_CHARS = 4000

# Characters secrets are made of (base64, base64url, tickets, JWT dots): a cut never leaves a tail of these.
_SECRET_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=._-:")
# How far back from a cut :func:`clip` drops a partial secret (longer than any ticket, JWT or signature).
_CUT_LOOKBACK = 8192

# Values that are secret wherever they appear; each is linear-time (see the module docstring).
_PATTERNS: list[re.Pattern[str]] = [
    # private parts of .NET RSA XML keys ([^<]+ stops at the next tag, so openers never rescan)
    re.compile(r"(<(P|Q|DP|DQ|InverseQ|D)>)[^<]+(</\2>)"),
    # JWTs (base64url segments, header starting with eyJ), only where a run of such characters starts;
    # the third segment is optional so that a cut JWT still loses its payload
    re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?"),
    # tickets 7T:..., access tokens 8A:..., reference tokens (PAT/SAT) and refresh tokens with a prefix
    re.compile(r"\b(?:7T|8A|8R|8P|8S|7C):[A-Za-z0-9+/][A-Za-z0-9+/=._\-:]*"),  # "8P:," is prose
    # Authorization and SO-AppToken HTTP headers, key=value forms of well-known secret names
    re.compile(r"(?i)(authorization[ \t]{0,8}[:=][ \t]{0,8})(?:(?:bearer|sotoken|soticket|basic)[ \t]{1,8})?"
               r"[^\s,;\"'<]+"),
    re.compile(r"(?i)(so-apptoken[ \t]{0,8}[:=][ \t]{0,8})[^\s,;\"'<]+"),
    # (``name: value`` may have blanks after the colon; ``name=value`` none after the sign, and the value must
    # start like a secret, so prose such as "pass ticket=." or "client_secret= to the provider" stays as it is)
    re.compile(
        r"(?i)((?:client_secret|refresh_token|access_token|id_token|code_verifier|password|"
        r"applicationtoken|signedsystemtoken|ticket)\"?(?:[ \t]{0,8}:[ \t]{0,8}|[ \t]{0,8}=)\"?)"
        r"(?=[A-Za-z0-9+/_\-])[^\s,;&\"'<]+"
    ),
]

_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z ]{0,40}PRIVATE KEY-----")
# the middle and end of a signed system-user token: <token>.<yyyyMMddHHmm>.<base64 signature>
_SIGNED_TAIL = re.compile(r"\.\d{12}\.[A-Za-z0-9+/]{40,}={0,2}")
_SIGNED_TOKEN_STOPS = frozenset(" \t\r\n\f\v<>\"'")

# XML elements whose text is secret (local names; namespaces vary between services).
SECRET_ELEMENTS = frozenset(
    {"ApplicationToken", "Ticket", "SignedSystemToken", "Token", "Password", "AccessToken", "RefreshToken"}
)
SECRET_HTTP_HEADERS = frozenset({"authorization", "so-apptoken", "cookie", "set-cookie"})


def redact_text(text: str | None, extra_secrets: Iterable[str] = ()) -> str:
    """Replace every secret-looking value in ``text`` with ``***`` (linear in ``len(text)``)."""
    if not text:
        return text or ""
    for secret in extra_secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    text = _mask_pem_blocks(text)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_match, text)
    return _mask_signed_tokens(text)


def clip(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, marked as cut.

    A secret straddling the cut would lose the end that makes it recognisable (a JWT without its last dot,
    a signed token without its signature), so the run of secret-alphabet characters touching the cut is
    dropped as well. Use it on server text before :func:`redact_text`.
    """
    if not text or len(text) <= limit:
        return text or ""
    kept = text[:limit]
    stop = max(0, limit - _CUT_LOOKBACK)
    end = limit
    while end > stop and kept[end - 1] in _SECRET_ALPHABET:
        end -= 1
    if end == stop and stop > 0:
        end = stop
    return f"{kept[:end]}... [{len(text) - end} characters cut]"


def _mask_match(match: re.Match[str]) -> str:
    if match.re.groups >= 3 and match.group(3) is not None and match.group(1).startswith("<"):
        return f"{match.group(1)}{MASK}{match.group(3)}"
    if match.re.groups >= 1 and match.group(1) is not None:
        return f"{match.group(1)}{MASK}"
    return MASK


def _mask_pem_blocks(text: str) -> str:
    """PEM private keys of any flavour; an unterminated block is masked to the end of the text."""
    if "-----BEGIN" not in text:
        return text
    pieces, position = [], 0
    while True:
        begin = _PEM_BEGIN.search(text, position)
        if begin is None:
            break
        end = _PEM_END.search(text, begin.end())
        pieces += [text[position:begin.start()], MASK]
        if end is None:
            return "".join(pieces)
        position = end.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _mask_signed_tokens(text: str) -> str:
    """``<token>.<yyyyMMddHHmm>.<signature>``: found by its tail, then extended back to where the token starts."""
    return _mask_with_lookback(text, _SIGNED_TAIL, lambda char: char not in _SIGNED_TOKEN_STOPS)


def _mask_with_lookback(text: str, tail: re.Pattern[str], belongs: Callable[[str], bool]) -> str:
    pieces, position = [], 0
    for match in tail.finditer(text):
        start = match.start()
        while start > position and belongs(text[start - 1]):  # never back past the previous match: linear
            start -= 1
        if start == match.start():
            continue  # a tail with no token before it
        pieces += [text[position:start], MASK]
        position = match.end()
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy of HTTP headers with secret values masked."""
    return {k: (MASK if k.lower() in SECRET_HTTP_HEADERS else redact_text(v)) for k, v in headers.items()}


def mask(value: str | None, keep: int = 0) -> str:
    """Mask one known secret for display, optionally keeping its first ``keep`` characters."""
    if not value:
        return "<none>"
    return (value[:keep] if keep else "") + MASK
