"""The structured request log: one JSON object per request on logger ``soapkit.sandbox.requests``.

Fields: ``method``, ``path``, ``query`` (when present), ``status``, ``duration_ms``, and what the handler
adds: ``operation``, ``ctx``, ``outcome``. Bodies and headers are never logged, and every value passes
through :func:`soapkit.redaction.redact_text`, so no ticket, token, secret or signed token can leak.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from soapkit.redaction import redact_text

logger = logging.getLogger("soapkit.sandbox.requests")


def request_record(method: str, path: str, query: str, status: int, duration_ms: float,
                   fields: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"method": method, "path": redact_text(path)}
    if query:
        record["query"] = redact_text(query)
    record["status"] = status
    record["duration_ms"] = round(duration_ms, 2)
    for key, value in fields.items():
        if value is not None:
            record[key] = redact_text(str(value))
    return record


def log_request(method: str, path: str, query: str, status: int, duration_ms: float,
                fields: dict[str, Any]) -> None:
    if logger.isEnabledFor(logging.INFO):
        record = request_record(method, path, query, status, duration_ms, fields)
        logger.info(json.dumps(record, ensure_ascii=False, sort_keys=False))
