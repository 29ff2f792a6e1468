"""Fault injection: make the sandbox misbehave the way production sometimes does, on purpose.

Two ways to ask for a fault (see ``docs/sandbox.md``):

* per request, with the header ``X-Sandbox-Fault: latency=200ms, status=503`` (comma-separated);
* per sandbox, with rules on :attr:`Sandbox.faults` (or the admin endpoint / ``soapkit sandbox admin fault``):
  ``sb.faults.add("status=503", probability=0.3, times=2)``. Rules draw from ``random.Random(seed)``, so
  a seeded sandbox answers the same sequence of requests with the same sequence of faults.

Faults: ``latency=200ms`` (or ``0.5s``) waits, then answers normally; ``status=503`` answers that HTTP
status (text/plain) without running the handler; ``drop`` closes the connection without an answer;
``truncate`` (or ``truncate=N`` bytes) announces the full Content-Length but sends only part of the body,
then closes; ``expire-credential`` expires the ticket or token the request carries (SOAP
``Credentials/Ticket`` or ``Authorization: Bearer``) before it is handled; ``rate-limit=2s`` answers
HTTP 429 with ``Retry-After: 2``.

A rule's ``path`` is a regular expression from whoever can reach the admin endpoint, searched in every
request path, so it must not be able to freeze the sandbox: at most :data:`MAX_PATH_PATTERN_CHARS`
characters, at most one quantifier (so no nested or adjacent ones that backtrack), no backreferences or
lookarounds; it is searched in the first :data:`MAX_SEARCHED_PATH_CHARS` characters of the path.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:
    import re._parser as _regex_parser  # Python 3.11+
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _regex_parser

from soapkit.sandbox.backend import Backend
from soapkit.sandbox.web import Request, Response

FAULT_HEADER = "x-sandbox-fault"
KINDS = ("latency", "status", "drop", "truncate", "expire-credential", "rate-limit")
# Per-sandbox rules apply to agent calls unless given another path pattern (state lookups and the
# ticket exchange keep working, so a client can recover).
DEFAULT_PATH = r"/Remote/"

MAX_PATH_PATTERN_CHARS = 200
MAX_SEARCHED_PATH_CHARS = 1024

_TICKET = re.compile(rb"<(?:[\w.-]+:)?Ticket(?:\s[^>]*)?>\s*([^<\s]+)\s*</", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$", re.IGNORECASE)


class FaultSpecError(ValueError):
    """A fault specification that cannot be understood."""


class DropConnection(Exception):
    """Raised to the HTTP server: close the connection without answering."""


@dataclass
class TruncatedResponse(Response):
    """A response whose body the server cuts after ``truncate_at`` bytes (with the full Content-Length)."""

    truncate_at: int = 0


@dataclass(frozen=True)
class Fault:
    kind: str
    value: float | None = None  # seconds (latency, rate-limit), status code, or bytes (truncate)

    def __str__(self) -> str:
        if self.value is None:
            return self.kind
        if self.kind in ("latency", "rate-limit"):
            return f"{self.kind}={self.value:g}s"
        return f"{self.kind}={int(self.value)}"


def _duration(text: str, default_unit: str) -> float:
    match = _DURATION.match(text)
    if match is None:
        raise FaultSpecError(f"{text!r} is not a duration such as 200ms or 2s.")
    number = float(match.group(1))
    return number / 1000 if (match.group(2) or default_unit).lower() == "ms" else number


def parse_fault(text: str) -> Fault:
    """``latency=200ms``, ``status=503``, ``drop``, ``truncate[=N]``, ``expire-credential``, ``rate-limit[=2s]``."""
    name, _, raw = text.strip().partition("=")
    kind = name.strip().lower().replace("_", "-")
    raw = raw.strip()
    if kind == "latency":
        if not raw:
            raise FaultSpecError("latency needs a duration: latency=200ms")
        return Fault(kind, _duration(raw, "ms"))
    if kind == "status":
        if not raw.isdigit() or not 400 <= int(raw) <= 599:
            raise FaultSpecError(f"status needs an HTTP error status (400-599), not {raw!r}.")
        return Fault(kind, int(raw))
    if kind in ("drop", "expire-credential"):
        if raw:
            raise FaultSpecError(f"{kind} takes no value.")
        return Fault(kind)
    if kind == "truncate":
        if raw and not raw.isdigit():
            raise FaultSpecError(f"truncate takes a byte count, not {raw!r}.")
        return Fault(kind, int(raw) if raw else None)
    if kind == "rate-limit":
        return Fault(kind, _duration(raw, "s") if raw else 1.0)
    raise FaultSpecError(f"Unknown fault {name.strip()!r}; known: {', '.join(KINDS)}.")


def check_path_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a rule's path pattern after checking it cannot backtrack badly (see the module docstring)."""
    if not isinstance(pattern, str) or len(pattern) > MAX_PATH_PATTERN_CHARS:
        raise FaultSpecError(f"the path pattern must be a string of at most {MAX_PATH_PATTERN_CHARS} characters.")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
        parsed = _regex_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        raise FaultSpecError(f"the path pattern is not a regular expression: {str(error)[:120]}") from None
    repeats = _count_repeats(parsed)
    if repeats > 1:
        raise FaultSpecError("the path pattern may use at most one quantifier (*, +, ?, {m,n}); "
                             "nested or repeated quantifiers can freeze the sandbox.")
    return compiled


def _count_repeats(parsed: Any) -> int:
    """Quantifiers in a parsed pattern; refuses what a backtracking matcher cannot bound."""
    count = 0
    for op, argument in parsed:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS", "ASSERT", "ASSERT_NOT", "ATOMIC_GROUP", "POSSESSIVE_REPEAT"):
            raise FaultSpecError(f"the path pattern may not use {name.lower().replace('_', ' ')}s.")
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            if "BRANCH" in str(list(argument[2])):  # (a|a)* backtracks exponentially
                raise FaultSpecError("the path pattern may not repeat a group with alternatives.")
            count += 1 + _count_repeats(argument[2])
        elif name == "SUBPATTERN":
            count += _count_repeats(argument[-1])
        elif name == "BRANCH":
            count += sum(_count_repeats(branch) for branch in argument[1])
    return count


def parse_faults(text: str) -> list[Fault]:
    return [parse_fault(part) for part in re.split(r"[,;]", text) if part.strip()]


@dataclass
class FaultRule:
    fault: Fault
    probability: float = 1.0
    path: str = DEFAULT_PATH  # regular expression searched in the request path
    times: int | None = None  # how many more times it may fire (None: no limit)
    fired: int = field(default=0)

    def as_json(self) -> dict[str, object]:
        return {"fault": str(self.fault), "probability": self.probability, "path": self.path,
                "times": self.times, "fired": self.fired}


class Faults:
    """The per-sandbox fault rules, drawn from a seeded ``random.Random`` (thread-safe)."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def add(self, spec: str | Fault, *, probability: float = 1.0, path: str = DEFAULT_PATH,
            times: int | None = None) -> list[FaultRule]:
        """Add one rule per fault in ``spec`` (``"latency=50ms, status=503"``); returns them."""
        if not 0.0 <= probability <= 1.0:
            raise FaultSpecError("probability must be between 0 and 1.")
        check_path_pattern(path)
        faults = [spec] if isinstance(spec, Fault) else parse_faults(spec)
        rules = [FaultRule(fault, probability, path, times) for fault in faults]
        with self._lock:
            self._rules.extend(rules)
        return rules

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def seed(self, seed: int | None) -> None:
        with self._lock:
            self._random = random.Random(seed)

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def draw(self, path: str) -> list[Fault]:
        """The faults that fire for a request on ``path`` (one random draw per matching rule, in order)."""
        chosen = []
        path = path[:MAX_SEARCHED_PATH_CHARS]
        with self._lock:
            for rule in self._rules:
                if rule.times is not None and rule.times <= 0:
                    continue
                if not re.search(rule.path, path, re.IGNORECASE):
                    continue
                if self._random.random() < rule.probability:
                    rule.fired += 1
                    if rule.times is not None:
                        rule.times -= 1
                    chosen.append(rule.fault)
        return chosen


def request_credential(request: Request) -> str | None:
    """The ticket or token a request carries: SOAP ``Credentials/Ticket`` or ``Authorization: Bearer``."""
    match = _TICKET.search(request.body[:65536]) if request.body else None
    if match:
        return match.group(1).decode("utf-8", "replace")
    authorization = request.header("authorization") or ""
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


class FaultInjector:
    """Wraps the sandbox's app: applies the request's ``X-Sandbox-Fault`` header and the sandbox's rules."""

    def __init__(self, app: Callable[[Request], Response], backend: Backend, faults: Faults,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.app = app
        self.backend = backend
        self.faults = faults
        self.sleep = sleep

    def __call__(self, request: Request) -> Response:
        header = request.header(FAULT_HEADER)
        try:
            requested = parse_faults(header) if header else []
        except FaultSpecError as error:
            return Response.text(400, f"Bad {FAULT_HEADER} header: {error}", outcome="fault-spec")
        faults = requested + self.faults.draw(request.path)
        if not faults:
            return self.app(request)
        label = ",".join(str(f) for f in faults)
        for fault in faults:
            if fault.kind == "latency" and fault.value:
                self.sleep(fault.value)
        for fault in faults:
            if fault.kind == "expire-credential":
                credential = request_credential(request)
                if credential:
                    self.backend.credentials.expire_now(credential, self.backend.now())
        for fault in faults:
            if fault.kind == "drop":
                raise DropConnection(label)
            if fault.kind == "status":
                return Response.text(int(fault.value or 503), f"Injected fault: HTTP {int(fault.value or 503)} "
                                     "from the soapkit sandbox.", fault=label)
            if fault.kind == "rate-limit":
                seconds = fault.value or 1.0
                response = Response.text(429, f"Too many requests (injected): retry after {seconds:g} s.",
                                         fault=label)
                response.headers["Retry-After"] = str(max(1, math.ceil(seconds)))
                return response
        response = self.app(request)
        response.log.setdefault("fault", label)
        for fault in faults:
            if fault.kind == "truncate":
                size = len(response.body)
                cut = int(fault.value) if fault.value is not None else size // 2
                return TruncatedResponse(response.status, response.body, response.content_type,
                                         dict(response.headers), dict(response.log),
                                         truncate_at=max(0, min(cut, size - 1)))
        return response
