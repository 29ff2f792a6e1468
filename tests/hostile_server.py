"""A loopback HTTP server that answers SOAP calls with hostile bodies (for the hostile-input tests).

``/api/state/{ctx}`` answers like SuperOffice, pointing the tenant at this server; every POST is answered
by the current ``answer`` callable, which writes whatever it likes (including streaming for ever).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[BaseHTTPRequestHandler], None]

ENVELOPE = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{body}</s:Body>'
            '</s:Envelope>')
NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"


def fixed(body: bytes, *, status: int = 200, content_type: str = "text/xml; charset=utf-8") -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return answer


def streamed(head: bytes, filler: bytes, total: int | None, tail: bytes = b"") -> Answer:
    """``head``, then ``filler`` repeated to ``total`` bytes (None: for ever, chunked), then ``tail``."""
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        if total is None:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(len(head) + total + len(tail)))
        handler.end_headers()
        block = filler * max(1, 65536 // len(filler))
        with contextlib.suppress(OSError):
            write = _chunk_writer(handler) if total is None else handler.wfile.write
            write(head)
            sent = 0
            while total is None or sent < total:
                piece = block if total is None else block[: total - sent]
                write(piece)
                sent += len(piece)
            write(tail)
    return answer


def truncated(body: bytes) -> Answer:
    """Announce the whole body, send half of it, close."""
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.close_connection = True
    return answer


def _chunk_writer(handler: BaseHTTPRequestHandler) -> Callable[[bytes], Any]:
    def write(data: bytes) -> None:
        if data:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    return write


class HostileServer:
    def __init__(self) -> None:
        self.answer: Answer = fixed(b"")
        self.get_answer: Answer | None = None  # answers GETs (tenant state, JWKS) instead of the tenant state
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if owner.get_answer is not None:
                    owner.get_answer(self)
                    return
                ctx = self.path.rsplit("/", 1)[1]
                port = self.server.server_address[1]
                fixed(json.dumps({"ContextIdentifier": ctx, "Endpoint": f"http://127.0.0.1:{port}/{ctx}",
                                  "State": "Running", "IsRunning": True}).encode(),
                      content_type="application/json")(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.close_connection = True
                owner.answer(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def hostile_server() -> Iterator[HostileServer]:
    server = HostileServer()
    try:
        yield server
    finally:
        server.close()
