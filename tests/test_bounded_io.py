"""Bounded I/O on both drivers: a whole-call deadline, not only a per-read timeout, and a size cap.

A server that drips one byte every 0.2 s never lets a single read wait long, so a per-read timeout alone
would hold the call for as long as it drips; the call's deadline ends it in ``RequestTimeout``. An endless
body ends in ``ResponseTooLarge`` at the cap, and the server sees the client stop reading.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import soapkit
from soapkit import RequestTimeout, ResponseTooLarge, RetryPolicy

STATE = b'{"ContextIdentifier":"Cust1","Endpoint":"%s/Cust1","State":"Running","IsRunning":true,' \
    b'"ValidUntil":"2999-01-01T00:00:00Z","Api":"%s/Cust1/api"}'


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sent: dict[str, int] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # the tenant state lookup
        base = f"http://127.0.0.1:{self.server.server_address[1]}".encode()
        body = STATE % (base, base)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = self.server.mode  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        sent = 0
        try:
            if mode == "drip":
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                for _ in range(600):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    sent += 1
                    time.sleep(0.2)
            else:  # endless, as fast as the client reads
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
                for _ in range(100_000):
                    self.wfile.write(frame)
                    sent += len(chunk)
        except OSError:
            pass
        finally:
            _Hostile.sent[mode] = sent


@pytest.fixture()
def hostile() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _call(server: ThreadingHTTPServer, asynchronous: bool, **options: Any) -> float:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.monotonic()
    if asynchronous:
        async def run() -> None:
            async with soapkit.connect_async("Cust1", env=base, app_token="app", ticket="7T:t", **options) as so:
                await so.ContactAgent.GetContactEntity(1)
        asyncio.run(run())
    else:
        with soapkit.connect("Cust1", env=base, app_token="app", ticket="7T:t", **options) as so:
            so.ContactAgent.GetContactEntity(1)
    return time.monotonic() - started  # pragma: no cover - the calls above raise


@pytest.mark.timeout(60)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_slow_drip_ends_in_request_timeout_at_the_deadline(hostile: ThreadingHTTPServer,
                                                             asynchronous: bool) -> None:
    hostile.mode = "drip"  # type: ignore[attr-defined]
    started = time.monotonic()
    with pytest.raises(RequestTimeout, match="deadline"):
        _call(hostile, asynchronous, timeout=1.0, retries=RetryPolicy(deadline=2.0))
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 4.0  # the deadline (2 s), not the drip (120 s) and not the per-read timeout


@pytest.mark.timeout(60)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_an_endless_body_ends_in_response_too_large_at_the_cap(hostile: ThreadingHTTPServer,
                                                              asynchronous: bool) -> None:
    hostile.mode = "endless"  # type: ignore[attr-defined]
    cap = 4 * 1024 * 1024
    with pytest.raises(ResponseTooLarge, match=str(cap)) as caught:
        _call(hostile, asynchronous, timeout=10, max_response_bytes=cap)
    assert "max_response_bytes" in caught.value.hint
    deadline = time.monotonic() + 10
    while "endless" not in _Hostile.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    # the client stopped reading at the cap: what the server got out is the cap plus socket buffers
    assert _Hostile.sent["endless"] < cap + 16 * 1024 * 1024
    assert not isinstance(caught.value, RequestTimeout)


def test_bad_bounds_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(soapkit.ConfigurationError, match="max_response_bytes"):
        soapkit.connect("Cust1", env="http://127.0.0.1:9", ticket="7T:t", max_response_bytes=0)
    with pytest.raises(soapkit.ConfigurationError, match="timeout"):
        soapkit.connect("Cust1", env="http://127.0.0.1:9", ticket="7T:t", timeout=-1)
    with pytest.raises(soapkit.ConfigurationError, match=r"httpx\.AsyncClient"):
        soapkit.connect_async("Cust1", env="http://127.0.0.1:9", ticket="7T:t", http=object())
