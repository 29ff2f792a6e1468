"""The structured request log: one JSON object per request on logger ``soapkit.sandbox.requests``.

Fields: ``method``, ``path``, ``query`` (when present), ``status``, ``duration_ms``, and what the handler
adds: ``operation``, ``ctx``, ``outcome``. Bodies and headers are never logged, and every value passes
through :func:`soapkit.redaction.redact_text`, so no ticket, token, secret or signed token can leak.
Values are first cut to :data:`MAX_FIELD_CHARS` (a 60 KB path logs as its first 500 characters).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from soapkit.redaction import clip, redact_text

MAX_FIELD_CHARS = 500

logger = logging.getLogger("soapkit.sandbox.requests")


def request_record(method: str, path: str, query: str, status: int, duration_ms: float,
                   fields: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"method": _bounded(method), "path": _bounded(path)}
    if query:
        record["query"] = _bounded(query)
    record["status"] = status
    record["duration_ms"] = round(duration_ms, 2)
    for key, value in fields.items():
        if value is not None:
            record[key] = _bounded(str(value))
    return record


def _bounded(text: str) -> str:
    return redact_text(clip(text, MAX_FIELD_CHARS))


def log_request(method: str, path: str, query: str, status: int, duration_ms: float,
                fields: dict[str, Any]) -> None:
    if logger.isEnabledFor(logging.INFO):
        record = request_record(method, path, query, status, duration_ms, fields)
        logger.info(json.dumps(record, ensure_ascii=False, sort_keys=False))
