"""Hostile XML against the client and the sandbox: typed errors, bounded time and bounded memory.

Client side, a loopback server answers ``ContactAgent.GetContactEntity`` with entity bombs, external
entities and DTDs, 10,000-deep nesting, a 200 MB text node (streamed), invalid UTF-8, truncated and endless
bodies, huge faults and ExceptionInfo messages. Sandbox side, the same documents are posted to its SOAP
endpoints. Memory is checked in a child process (its peak RSS) so the pytest process's history does not count.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from hostile_server import ENVELOPE, NS, Answer, HostileServer, fixed, hostile_server, streamed, truncated

from soapkit import connect
from soapkit.errors import AgentError, ResponseRejected, SoapFault, SoapkitError, TransportError
from soapkit.redaction import MAX_MESSAGE_CHARS

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

LAUGHS = ('<!DOCTYPE s:Envelope [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
          '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>')


def _with_dtd(dtd: str, inner: str) -> bytes:
    return (dtd + ENVELOPE.format(body=f'<GetContactEntityResponse xmlns="{NS}"><Response><Name>{inner}</Name>'
                                  "</Response></GetContactEntityResponse>")).encode()


def _documents() -> dict[str, bytes]:
    """Hostile documents shared by the client and the sandbox cases."""
    blob = "x" * 50_000
    return {
        "billion laughs": _with_dtd(LAUGHS, "&f;"),
        "quadratic blowup": _with_dtd(f'<!DOCTYPE s:Envelope [<!ENTITY big "{blob}">]>', "&big;" * 20_000),
        "external entity to a file": _with_dtd('<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                                               "&x;"),
        "external entity to a URL": _with_dtd('<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>',
                                              "&x;"),
        "external DTD": _with_dtd('<!DOCTYPE s:Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">', "x"),
        "10,000-deep nesting": ENVELOPE.format(body="<a>" * 10_000 + "</a>" * 10_000).encode(),
        "invalid UTF-8": ENVELOPE.format(body="<a>@</a>").encode().replace(b"@", b"\xff\xfe\xfd"),
        "not XML at all (1 MB)": b"<html>" + b"oops " * 200_000,
    }


HUGE = 200 * 1024 * 1024
_HEAD = ENVELOPE.split("{body}")[0].encode() + f'<GetContactEntityResponse xmlns="{NS}"><Response><Name>'.encode()
_TAIL = b"</Name></Response></GetContactEntityResponse>" + ENVELOPE.split("{body}")[1].encode()
_FAULT = ('<s:Fault><faultcode>s:Server</faultcode><faultstring>{text}</faultstring></s:Fault>')
_AGENT_FAILURE = (f'<s:Header><ExceptionInfo xmlns="{NS}"><Message>{{text}}</Message><StackTrace/>'
                  "<FriendlyText>{text}</FriendlyText><ExceptionType>SoException</ExceptionType>"
                  f'<Source>x</Source></ExceptionInfo><Succeeded xmlns="{NS}">false</Succeeded></s:Header>')


def client_cases() -> dict[str, tuple[Answer, type[SoapkitError]]]:
    cases: dict[str, tuple[Answer, type[SoapkitError]]] = {
        name: (fixed(document), ResponseRejected if "XML at all" not in name else TransportError)
        for name, document in _documents().items()
    }
    cases["200 MB text node, streamed"] = (streamed(_HEAD, b"A", HUGE, _TAIL), ResponseRejected)
    cases["endless body"] = (streamed(_HEAD, b"<x>", None), ResponseRejected)
    cases["truncated body"] = (truncated(_HEAD + b"Acme" + _TAIL), TransportError)
    cases["100 KB faultstring"] = (fixed(ENVELOPE.format(body=_FAULT.format(text="F" * 100_000 + " 7T:leak"))
                                         .encode(), status=500), SoapFault)
    agent_failure = ENVELOPE.replace("<s:Body>", _AGENT_FAILURE.format(text="M" * 100_000 + " 7T:leak") + "<s:Body>")
    cases["100 KB ExceptionInfo message"] = (fixed(agent_failure.format(
        body=f'<GetContactEntityResponse xmlns="{NS}"/>').encode()), AgentError)
    return cases


CASES = client_cases()


def call_against(server: HostileServer, answer: Answer) -> SoapkitError:
    server.answer = answer
    so = connect("Cust1", env=server.url, app_token="app-secret", ticket="7T:static-ticket", timeout=20)
    try:
        so.ContactAgent.GetContactEntity(5)
    except SoapkitError as error:
        return error
    raise AssertionError("the hostile answer was accepted")


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with hostile_server() as running:
        yield running


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(CASES))
def test_the_client_refuses_each_hostile_answer_with_a_typed_error(server: HostileServer, name: str) -> None:
    answer, expected = CASES[name]
    error = call_against(server, answer)
    assert isinstance(error, expected), f"{type(error).__name__}: {error}"
    assert len(error.message) <= MAX_MESSAGE_CHARS + 40 and error.hint
    assert "root:" not in str(error) and "7T:leak" not in str(error)  # no file content, no secret


@pytest.mark.timeout(120)
@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc to read the peak memory")
def test_the_client_reads_every_hostile_answer_in_bounded_memory(tmp_path: Path) -> None:
    """All the cases again in a child whose address space is capped at 1.5 GB; its peak RSS must stay low."""
    script = textwrap.dedent("""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, resource.RLIM_INFINITY))
        sys.path.insert(0, sys.argv[1])
        from test_hostile_xml import CASES, call_against
        from hostile_server import hostile_server
        with hostile_server() as server:
            for name, (answer, expected) in CASES.items():
                error = call_against(server, answer)
                assert isinstance(error, expected), (name, type(error).__name__)
        # VmHWM belongs to this process's own address space; ru_maxrss would also count the pytest process this
        # child was forked from (Linux keeps that high-water mark across exec)
        status = open("/proc/self/status").read()
        print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    """)
    result = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], capture_output=True,
                            text=True, timeout=110, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr[-2000:]
    peak_mb = int(result.stdout.split()[-1]) / 1024
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB for a 200 MB answer capped at 64 MB"


# --- the sandbox -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from test_oauth_support import running_sandbox

    yield from running_sandbox(tmp_path_factory, "hostile-xml-sandbox")


SANDBOX_ENDPOINTS: dict[str, Callable[[object], str]] = {
    "agent": lambda sb: f"{sb.base_url}/{sb.context_identifier}/Remote/Services88/Contact.svc",  # type: ignore[attr-defined]
    "partner": lambda sb: f"{sb.base_url}/login/services/PartnerSystemUserService.svc",  # type: ignore[attr-defined]
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("endpoint", list(SANDBOX_ENDPOINTS))
@pytest.mark.parametrize("name", list(_documents()))
def test_the_sandbox_answers_each_hostile_request_with_a_fault(sandbox: object, endpoint: str, name: str) -> None:
    response = requests.post(SANDBOX_ENDPOINTS[endpoint](sandbox), data=_documents()[name], timeout=20,
                             headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
    fault = response.status_code == 500 and b"Fault>" in response.content
    assert fault or 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert b"Internal error" not in response.content and b"root:" not in response.content


@pytest.mark.timeout(30)
def test_the_sandbox_refuses_a_200_mb_body_without_reading_it(sandbox: object) -> None:
    answer = _raw_exchange(sandbox, f"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: {HUGE}\r\n\r\n<a>AAAA".encode())
    assert answer.startswith(b"HTTP/1.1 413")


@pytest.mark.timeout(30)
def test_a_trickled_request_head_is_cut_off_at_its_deadline(sandbox: object) -> None:
    settings = sandbox.settings  # type: ignore[attr-defined]
    previous = (settings.idle_timeout, settings.request_head_timeout)
    settings.idle_timeout, settings.request_head_timeout = 1.0, 0.5
    try:
        with _connect(sandbox) as sock:
            started = time.monotonic()
            sock.sendall(b"GET / HTTP/1.1\r\n")
            closed = False
            while not closed and time.monotonic() - started < 10:  # a slowloris: one header byte every 0.3 s
                time.sleep(0.3)
                try:
                    sock.sendall(b"X")
                    closed = sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
                except BlockingIOError:
                    continue  # still open, nothing to read
                except OSError:
                    closed = True
            assert closed and time.monotonic() - started < 5
    finally:
        settings.idle_timeout, settings.request_head_timeout = previous


@pytest.mark.timeout(30)
def test_connections_beyond_the_bound_are_answered_503(sandbox: object) -> None:
    settings = sandbox.settings  # type: ignore[attr-defined]
    previous, settings.max_connections = settings.max_connections, 3
    held = [_connect(sandbox) for _ in range(3)]
    try:
        server = sandbox._server  # type: ignore[attr-defined]
        waited_until = time.monotonic() + 10  # the accept loop may lag on a loaded machine
        while len(server._connections) < 3 and time.monotonic() < waited_until:
            time.sleep(0.02)
        assert _raw_exchange(sandbox, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").startswith(b"HTTP/1.1 503")
    finally:
        for sock in held:
            sock.close()
        settings.max_connections = previous


def _connect(sandbox: object) -> socket.socket:
    parts = urlsplit(sandbox.base_url)  # type: ignore[attr-defined]
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def _raw_exchange(sandbox: object, request: bytes) -> bytes:
    with _connect(sandbox) as sock:
        sock.sendall(request)
        return sock.recv(4096)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("path", ["/_sandbox/admin/faults", "/login/api/PartnerSystemUser/Authenticate"])
def test_deep_or_huge_json_is_http_400(sandbox: object, path: str) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    headers = {"X-Sandbox-Admin-Token": sandbox.admin_token, "Content-Type": "application/json"}  # type: ignore[attr-defined]
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                 json.dumps({"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}).encode()):
        response = requests.post(base + path, data=body, headers=headers, timeout=20)
        assert response.status_code == 400, (path, response.status_code, response.text[:200])


def test_resource_module_is_available() -> None:
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["billion laughs", "external DTD", "10,000-deep nesting", "invalid UTF-8",
                                  "endless body", "100 KB faultstring"])
def test_the_cli_never_exits_70_on_a_hostile_answer(server: HostileServer, name: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from soapkit.cli import EXIT_FAILED, EXIT_TRANSPORT, main

    (tmp_path / "ticket").write_text("7T:static-ticket")
    (tmp_path / "app").write_text("app-secret")
    server.answer = CASES[name][0]
    code = main(["call", "ContactAgent.GetContactEntity", "5", "--env", server.url, "--ctx", "Cust1",
                 "--ticket-file", str(tmp_path / "ticket"), "--app-token-file", str(tmp_path / "app")])
    err = capsys.readouterr().err
    assert code in (EXIT_TRANSPORT, EXIT_FAILED), err
    assert "unexpected" not in err and "hint:" in err


@pytest.mark.timeout(30)
def test_a_truncated_request_body_is_answered_408_at_its_deadline(sandbox: object) -> None:
    settings = sandbox.settings  # type: ignore[attr-defined]
    previous, settings.request_body_timeout = settings.request_body_timeout, 0.5
    try:
        started = time.monotonic()
        answer = _raw_exchange(sandbox, b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n<a>only this")
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 5
    finally:
        settings.request_body_timeout = previous


@pytest.mark.timeout(30)
def test_an_endless_chunked_request_body_is_refused_at_the_size_cap(sandbox: object) -> None:
    limit = sandbox.settings.max_request_bytes  # type: ignore[attr-defined]
    chunk = b"%x\r\n" % (1024 * 1024) + b"A" * (1024 * 1024) + b"\r\n"
    with _connect(sandbox) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        with contextlib.suppress(OSError):  # the sandbox closes the connection once past the cap
            for _ in range(limit // len(chunk) + 2):
                sock.sendall(chunk)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")
    one_huge_chunk = _raw_exchange(sandbox, b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   + b"%x\r\n" % (limit + 1) + b"A" * 4096)
    assert one_huge_chunk.startswith(b"HTTP/1.1 413")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("body", [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcX\r\n0\r\n\r\n",
                                  b"1" * 40 + b"\r\n", b"3;" + b"e" * 5000 + b"\r\n"])
def test_a_malformed_chunked_request_body_is_http_400(sandbox: object, body: bytes) -> None:
    answer = _raw_exchange(sandbox, b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]


@pytest.mark.timeout(30)
def test_an_unknown_transfer_encoding_is_http_501(sandbox: object) -> None:
    answer = _raw_exchange(sandbox, b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 501")


@pytest.mark.timeout(30)
def test_an_answer_that_stalls_after_its_headers_is_a_request_timeout(server: HostileServer) -> None:
    from soapkit.errors import RequestTimeout

    def stall(handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b"<s:Envelope")
        handler.wfile.flush()
        time.sleep(1.5)

    server.answer = stall
    so = connect("Cust1", env=server.url, app_token="app-secret", ticket="7T:static-ticket", timeout=0.5)
    with pytest.raises(RequestTimeout):
        so.ContactAgent.GetContactEntity(5)
