"""Tunable behaviour of the sandbox: lifetimes, tolerances, limits and the clock.

Every value here answers one of PROTOCOL.md's open questions (or makes a documented fact testable).
The object is mutable on purpose: tests may change a lifetime or move the clock of a running sandbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class SandboxSettings:
    # System-user tickets live 6 hours, sliding: each successful use extends them to now + lifetime.
    ticket_lifetime: dt.timedelta = dt.timedelta(hours=6)
    # A signed system-user token is accepted while the sandbox clock is within this distance of the
    # stamped minute [stamp, stamp + 1 min). SuperOffice does not publish its tolerance.
    timestamp_tolerance: dt.timedelta = dt.timedelta(minutes=5)
    # Lifetime of the JWT returned by PartnerSystemUserService (it only carries the ticket).
    jwt_lifetime: dt.timedelta = dt.timedelta(minutes=10)
    # How long a /api/state answer is valid (its ValidUntil).
    state_ttl: dt.timedelta = dt.timedelta(minutes=5)
    # Largest request body accepted (HTTP 413 above it).
    max_request_bytes: int = 4 * 1024 * 1024
    # Idle keep-alive connections are closed after this many seconds.
    idle_timeout: float = 30.0
    # A request head must be complete this long after the connection started waiting for it (on top of
    # idle_timeout), and a body this long after its head: a client trickling bytes cannot hold a thread.
    request_head_timeout: float = 10.0
    request_body_timeout: float = 30.0
    # Connections served at once; one more is answered 503 and closed (each connection holds a thread).
    max_connections: int = 128
    # JSON request bodies (REST exchange, admin): larger or deeper ones are answered HTTP 400.
    max_json_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    clock: Callable[[], dt.datetime] = field(default=utc_now)

    def now(self) -> dt.datetime:
        moment = self.clock()
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
