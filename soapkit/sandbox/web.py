"""A tiny request/response model and router, independent of the HTTP server that carries them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str
    client: str = ""  # the peer's IP address

    @property
    def url(self) -> str:
        """The request URL without its query string, as the client addressed this sandbox."""
        return self.base_url + self.path

    @property
    def query_params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    def query_flag(self, name: str) -> bool:
        """True for ``?wsdl`` style flags (case-insensitive, with or without a value)."""
        return any(key.lower() == name for key in self.query_params)

    def query_value(self, name: str) -> str | None:
        for key, values in self.query_params.items():
            if key.lower() == name and values:
                return values[0]
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # What the request log records besides method/path/status (operation, ctx, outcome).
    log: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, **log: Any) -> Response:
        return cls(status, json.dumps(data).encode("utf-8"), "application/json; charset=utf-8", log=log)

    @classmethod
    def text(cls, status: int, text: str, **log: Any) -> Response:
        return cls(status, (text + "\n").encode("utf-8"), log=log)

    @classmethod
    def xml(cls, status: int, data: bytes, **log: Any) -> Response:
        return cls(status, data, "text/xml; charset=utf-8", log=log)


Handler = Callable[..., Response]

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32


class BadJson(ValueError):
    """A JSON request body that is not UTF-8 JSON, or is too large or too deeply nested."""


def parse_json(data: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of a request body, refusing hostile shapes with :class:`BadJson` (answered HTTP 400)."""
    if len(data) > max_bytes:
        raise BadJson(f"the JSON body is larger than {max_bytes} bytes")
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadJson("the body is not UTF-8") from None
    except RecursionError:
        raise BadJson(f"the JSON body is nested more than {max_depth} levels deep") from None
    except ValueError as error:
        raise BadJson(f"the body is not JSON ({str(error)[:120]})") from None
    if _depth(value) > max_depth:
        raise BadJson(f"the JSON body is nested more than {max_depth} levels deep")
    return value


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        pending.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


class Router:
    """Maps (method, path pattern) to handlers; named groups of the pattern become keyword arguments."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(pattern + r"\Z", re.IGNORECASE), handler))

    def dispatch(self, request: Request) -> Response:
        allowed = []
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            if method != request.method and not (method == "GET" and request.method == "HEAD"):
                allowed.append(method)
                continue
            return handler(request, **match.groupdict())
        if allowed:
            response = Response.text(405, f"Method {request.method} is not allowed on {request.path}.")
            response.headers["Allow"] = ", ".join(sorted(set(allowed)))
            return response
        return Response.text(404, f"Nothing at {request.path} in the soapkit sandbox.")
