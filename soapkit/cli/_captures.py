"""Reading what `diff` and `replay` compare: capture files (``FILE#N`` picks an exchange) or raw envelopes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from soapkit.debug import CAPTURE_FORMAT, Exchange, parse_capture
from soapkit.errors import CaptureFormatError

_INDEXED = re.compile(r"^(?P<path>.+)#(?P<index>-?\d+)$")


def split_reference(reference: str) -> tuple[Path, int | None]:
    """``capture.json#2`` -> (capture.json, 2); ``a.xml`` -> (a.xml, None)."""
    match = _INDEXED.match(reference)
    if match and not Path(reference).exists():
        return Path(match.group("path")).expanduser(), int(match.group("index"))
    return Path(reference).expanduser(), None


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CaptureFormatError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CaptureFormatError(f"Cannot read {path}: {error}") from None


def is_capture(text: str) -> bool:
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return False
    try:
        document = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError):
        return True  # JSON-looking but broken: let parse_capture say precisely what is wrong
    return isinstance(document, dict) and (document.get("format") == CAPTURE_FORMAT or "exchanges" in document)


def pick(exchanges: list[Exchange], index: int | None, name: str) -> Exchange:
    if not exchanges:
        raise CaptureFormatError(f"{name} holds no exchanges.")
    if index is None:
        # A capture of one call also holds the sign-in and lookups that preceded it: the call is what is meant.
        calls = [exchange for exchange in exchanges if exchange.is_call] or exchanges
        if len(calls) > 1:
            raise CaptureFormatError(
                f"{name} holds {len(calls)} calls; say which one.",
                hint=f"Append #N to the file name (0 to {len(exchanges) - 1}, or -1 for the last), e.g. {name}#0.")
        return calls[0]
    try:
        return exchanges[index]
    except IndexError:
        raise CaptureFormatError(f"{name} has no exchange #{index} (it holds {len(exchanges)}: "
                                 f"0 to {len(exchanges) - 1}).") from None


def load_exchange(reference: str, index: int | None = None) -> Exchange:
    """One exchange of a capture file (``FILE`` or ``FILE#N``; ``index`` wins over ``#N``)."""
    path, from_name = split_reference(reference)
    text = read_text(path)
    if not is_capture(text):
        raise CaptureFormatError(f"{path} is not a soapkit capture file.")
    return pick(parse_capture(text, name=str(path)), index if index is not None else from_name, str(path))


def load_envelope(reference: str, *, response: bool = False) -> tuple[bytes, str]:
    """An envelope to diff: a raw XML file, or the request (or response) of a capture-file exchange."""
    path, index = split_reference(reference)
    text = read_text(path)
    if not is_capture(text):
        if index is not None:
            raise CaptureFormatError(f"{path} is not a capture file, so #{index} selects nothing.")
        return text.encode("utf-8"), str(path)
    exchange = pick(parse_capture(text, name=str(path)), index, str(path))
    label = f"{path}#{index if index is not None else 0} {'response' if response else 'request'}"
    body = exchange.response_body if response else exchange.request_body
    if not body.strip():
        raise CaptureFormatError(f"{label} is empty.")
    return body, label
