"""A one-shot loopback receiver for the authorization code (RFC 8252, native apps).

Listens on ``http://127.0.0.1:{port}/`` (port 0: the system picks a free one), answers the first request
to its path that carries ``code`` or ``error`` with a small page, and hands the query to :meth:`wait`.
Other requests (``/favicon.ico``, ...) get 404. It serves on a daemon thread and stops after the callback
or the timeout.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from soapkit.errors import LoginFailed

_DONE_PAGE = (b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>soapkit</title></head><body>"
              b"<p>Sign-in received. You can close this window and return to the terminal.</p></body></html>")


@dataclass(frozen=True, repr=False)
class Callback:
    """The query of the redirect: ``code`` and ``state``, or ``error`` and ``error_description``."""

    parameters: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.parameters.get(name)

    def __repr__(self) -> str:
        return f"Callback(keys={sorted(self.parameters)})"


class _Server(HTTPServer):
    receiver: LoopbackReceiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        parameters = {k: v[0] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
        receiver = self.server.receiver
        if (target.path or "/") != receiver.path or not ({"code", "error"} & parameters.keys()):
            self._answer(404, b"Not found.")
            return
        self._answer(200, _DONE_PAGE)
        receiver.deliver(Callback(parameters))

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # never log: the query holds the code
        return


class LoopbackReceiver:
    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", path: str = "/") -> None:
        self.path = path
        self._server = _Server((host, port), _Handler)
        self._server.receiver = self
        self._received = threading.Event()
        self._callback: Callback | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def __enter__(self) -> LoopbackReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="soapkit-login-receiver", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def deliver(self, callback: Callback) -> None:
        if not self._received.is_set():
            self._callback = callback
            self._received.set()

    def wait(self, timeout: float) -> Callback:
        if not self._received.wait(timeout) or self._callback is None:
            raise LoginFailed(f"No sign-in arrived at {self.redirect_uri} within {timeout:g} s.",
                              hint="Finish the sign-in in the browser, or raise --timeout.")
        return self._callback
