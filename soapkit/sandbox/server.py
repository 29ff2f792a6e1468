"""The HTTP server under the sandbox: stdlib threads, keep-alive, size limits, clean shutdown.

Each connection gets a daemon thread; idle keep-alive connections close after ``idle_timeout``; on
stop, open connections are shut down so no thread lingers. The listen backlog is large enough for
bursts of many clients at once.

Hostile clients are bounded: a request head must arrive within ``idle_timeout + request_head_timeout``
and its body within ``request_body_timeout`` however slowly the bytes trickle (a deadline, not a per-read
timeout), and at most ``max_connections`` connections are served at once; one more is answered 503.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from soapkit.sandbox.faults import DropConnection, TruncatedResponse
from soapkit.sandbox.requestlog import log_request
from soapkit.sandbox.settings import SandboxSettings
from soapkit.sandbox.web import Request, Response

log = logging.getLogger(__name__)

App = Callable[[Request], Response]

_MAX_CHUNK_LINE = 4096  # a chunk-size line (with extensions) or one trailer line
_MAX_TRAILER_LINES = 64
_HEX = frozenset(b"0123456789abcdefABCDEF")

_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 52\r\n"
         b"Connection: close\r\n\r\nThe soapkit sandbox has too many open connections.\r\n")


class DeadlineReader(socket.SocketIO):
    """A socket reader that gives up at an absolute deadline, however slowly the bytes trickle in."""

    def __init__(self, sock: socket.socket, idle_timeout: float) -> None:
        super().__init__(sock, "rb")
        self._socket = sock
        self._idle_timeout = idle_timeout
        self.deadline: float | None = None

    def readinto(self, buffer: Any) -> int | None:
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("request deadline passed")
            self._socket.settimeout(min(self._idle_timeout, remaining))
        return super().readinto(buffer)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: App, settings: SandboxSettings, *, ipv6: bool = False) -> None:
        self.address_family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.app = app
        self.settings = settings
        self.base_url = ""
        self._connections: set[Any] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SandboxRequestHandler)

    @property
    def connection_thread_name(self) -> str:
        return f"soapkit-sandbox-{self.server_address[1]}-connection"

    def process_request(self, request: Any, client_address: Any) -> None:
        """One daemon thread per connection, named after the port (so a test or a debugger can find them)."""
        with self._connections_lock:
            busy = len(self._connections) >= self.settings.max_connections
            if not busy:
                self._connections.add(request)
        if busy:
            self._refuse(request)
            return
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                                  name=self.connection_thread_name, daemon=True)
        thread.start()

    def _refuse(self, request: Any) -> None:
        log.warning("sandbox: refusing a connection: %d are open (max_connections)", self.settings.max_connections)
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(_BUSY)
        super().shutdown_request(request)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away before its answer (a timeout, an injected fault) is not an error."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            log.debug("sandbox: client %s went away before its answer", client_address)
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Wake every handler thread blocked on a keep-alive connection, so it ends."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "soapkit-sandbox/0.1"
    sys_version = ""
    server: SandboxHTTPServer
    # Buffer the response so headers and body leave in one segment: with separate small writes, Nagle's
    # algorithm and the client's delayed ACK add ~40 ms to every keep-alive request.
    wbufsize = -1

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.settings.idle_timeout)
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = DeadlineReader(self.connection, self.server.settings.idle_timeout)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        settings = self.server.settings
        self._reader.deadline = time.monotonic() + settings.idle_timeout + settings.request_head_timeout
        super().handle_one_request()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)

    def _handle(self) -> None:
        started = time.perf_counter()
        target = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        request = Request(self.command, target.path, target.query,
                          {k.lower(): v for k, v in self.headers.items()}, body, self.server.base_url,
                          str(self.client_address[0]))
        try:
            response = self.server.app(request)
        except DropConnection as dropped:  # injected fault: close without a word
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            log_request(self.command, target.path, target.query, 0, (time.perf_counter() - started) * 1000,
                        {"fault": str(dropped), "outcome": "dropped"})
            return
        except Exception:
            log.exception("sandbox: unhandled error on %s %s", self.command, target.path)
            response = Response.text(500, "Internal error in the soapkit sandbox (see its log).")
        # Logged before the answer leaves, so a client that has its answer can rely on the log entry.
        log_request(self.command, target.path, target.query, response.status,
                    (time.perf_counter() - started) * 1000, response.log)
        self._send(response)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 400/408/413/501 (the connection is then closed).

        A body comes with a Content-Length or chunked (``Transfer-Encoding: chunked``, as IIS accepts it);
        either way it is bounded by ``max_request_bytes`` and must arrive within ``request_body_timeout``.
        """
        limit = self.server.settings.max_request_bytes
        encoding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if encoding:
            if encoding != "chunked":
                return self._refuse_body(501, f"Transfer-Encoding {encoding!r} is not supported; send chunked or "
                                         "a Content-Length.")
            return self._read_chunked(limit)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > limit:
            return self._refuse_body(413, f"The request body is larger than {limit} bytes (or has a bad length).")
        if not length:
            return b""
        self._reader.deadline = time.monotonic() + self.server.settings.request_body_timeout
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            body = b""
        self._end_body_deadline()
        if len(body) < length:  # the client stopped sending, or sent too slowly
            return self._refuse_body(408, "The request body did not arrive in time.")
        return body

    def _read_chunked(self, limit: int) -> bytes | None:
        """A chunked body (RFC 9112 section 7.1): chunk extensions and trailers are read and ignored."""
        self._reader.deadline = time.monotonic() + self.server.settings.request_body_timeout
        pieces: list[bytes] = []
        total = 0
        try:
            while True:
                line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
                if not line.endswith(b"\n"):
                    if len(line) > _MAX_CHUNK_LINE:
                        return self._refuse_body(400, "A chunk-size line of the chunked body is too long.")
                    return self._refuse_body(408, "The request body did not arrive in time.")
                size_text = line.split(b";", 1)[0].strip()
                if not size_text or len(size_text) > 16 or any(c not in _HEX for c in size_text):
                    return self._refuse_body(400, "The chunked request body has a malformed chunk size.")
                size = int(size_text, 16)
                if size == 0:
                    break
                total += size
                if total > limit:
                    pieces.clear()
                    return self._refuse_body(413, f"The request body is larger than {limit} bytes.")
                piece = self.rfile.read(size)
                if len(piece) < size:
                    return self._refuse_body(408, "The request body did not arrive in time.")
                pieces.append(piece)
                if self.rfile.read(2) != b"\r\n":
                    return self._refuse_body(400, "A chunk of the chunked request body does not end with CRLF.")
            for _ in range(_MAX_TRAILER_LINES):  # trailer fields, up to the empty line
                line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
                if not line.endswith(b"\n"):
                    return self._refuse_body(400, "The chunked request body's trailer is malformed or too long.")
                if not line.strip():
                    return b"".join(pieces)
            return self._refuse_body(400, "The chunked request body has too many trailer lines.")
        except TimeoutError:
            return self._refuse_body(408, "The request body did not arrive in time.")
        finally:
            self._end_body_deadline()

    def _end_body_deadline(self) -> None:
        self._reader.deadline = None
        with contextlib.suppress(OSError):
            self.connection.settimeout(self.server.settings.idle_timeout)

    def _refuse_body(self, status: int, message: str) -> bytes | None:
        self.close_connection = True
        self._send(Response.text(status, message))
        return None

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            # An injected fault may cut the body: the full Content-Length, part of the body, then close.
            cut = response.truncate_at if isinstance(response, TruncatedResponse) else None
            truncated = cut is not None
            if truncated:
                self.close_connection = True
            if self.command != "HEAD":
                self.wfile.write(response.body[:cut])
            self.wfile.flush()
            if truncated:
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
