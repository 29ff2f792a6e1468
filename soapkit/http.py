"""HTTP helpers shared by every non-SOAP request soapkit makes (state, JWKS, REST exchange, OAuth).

One place maps ``requests`` failures to soapkit's exception hierarchy.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import requests

from soapkit.errors import ConnectionFailed, RateLimited, RequestTimeout

if TYPE_CHECKING:
    from soapkit.flow import HttpResponse

USER_AGENT = "soapkit/0.1 (+python)"


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    # A SuperOffice client never wants the machine's proxy settings to see its secrets by surprise,
    # but corporate networks need them: keep requests' default (trust_env) and document it.
    return session


def send(
    session: requests.Session, method: str, url: str, *, timeout: float = 30.0, **kwargs: Any
) -> requests.Response:
    """Send one request; transport failures and HTTP 429 become soapkit errors."""
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise RequestTimeout(f"{method} {url} timed out after {timeout:g} s.") from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:  # incl. a cut body
        raise ConnectionFailed(f"{method} {url} failed: {type(error).__name__}: {error}") from None
    if response.status_code == 429:
        raise RateLimited(f"{method} {url} was rate limited (HTTP 429).", retry_after=retry_after(response),
                          body=response.text)
    return response


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


#: The deepest nesting of arrays and objects a JSON answer may have (SuperOffice's answers use a handful).
MAX_JSON_DEPTH = 64
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def too_deep(content: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``content`` nests arrays and objects deeper than ``limit`` (strings skipped; one linear pass)."""
    if content.count(b"[") + content.count(b"{") <= limit:
        return False
    depth = 0
    for token in _JSON_TOKENS.finditer(content):
        mark = token.group()
        if mark in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif mark in (b"]", b"}"):
            depth -= 1
    return False


def json_object(response: requests.Response | HttpResponse) -> dict[str, Any] | None:
    """The answer's JSON object, or None when it is not one (not JSON, not UTF-8, nested too deeply, a list).

    Every JSON answer from the network is read through here, so a hostile body yields None for the caller to
    turn into its own typed error, never a ``ValueError`` or ``RecursionError``. Nesting deeper than
    :data:`MAX_JSON_DEPTH` is refused by a linear scan before parsing, so the parser never recurses deeply.
    """
    if too_deep(response.content):
        return None
    try:
        data = response.json()
    except (ValueError, UnicodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
