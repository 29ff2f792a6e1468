"""The sync driver looks the environment's proxy settings up once per origin, and again whenever anything changes.

``requests.Session.request`` reads every environment variable for every request (proxies, ``no_proxy``, CA
bundles); the driver keeps what requests found while ``os.environ`` and the session's settings stay the same.
These tests hold it to requests' own answers and to proxies really being used (loopback servers only).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests

from soapkit.drivers import sync
from soapkit.flow import HttpRequest, HttpResponse

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                   "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@contextmanager
def proxy(name: str) -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP proxy that answers every request itself with its ``name``, noting the URLs asked for."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.path)  # a proxy is asked for the absolute URL
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def post(session: requests.Session, url: str) -> HttpResponse:
    outcome = sync.send(session, HttpRequest("POST", url, {"Content-Type": "text/xml"}, b"<ask/>", timeout=10))
    assert isinstance(outcome, HttpResponse), outcome
    return outcome


def test_the_settings_are_requests_own_for_proxied_and_bypassed_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("no_proxy", "direct.example")
    session = requests.Session()
    for url in ("http://far.example/a", "http://direct.example/b", "http://far.example/c", "https://far.example/"):
        expected = dict(session.merge_environment_settings(url, {}, True, None, None))
        assert sync._environment_settings(session, url) == expected
        assert sync._environment_settings(session, url) == expected  # from the cache this time
    assert sync._environment_settings(session, "http://direct.example/b")["proxies"] == {}


def test_a_changed_environment_or_session_is_looked_up_again(monkeypatch: pytest.MonkeyPatch) -> None:
    session = requests.Session()
    url = "http://far.example/x"
    assert sync._environment_settings(session, url)["proxies"] == {}
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    assert sync._environment_settings(session, url)["proxies"] == {"http": "http://proxy.example:3128"}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    assert sync._environment_settings(session, url)["verify"] == "/etc/ssl/bundle.pem"
    session.proxies = {"https": "http://session.example:8080"}  # requests: the environment's win per scheme
    assert sync._environment_settings(session, url)["proxies"] == {"http": "http://proxy.example:3128",
                                                                   "https": "http://session.example:8080"}
    monkeypatch.delenv("http_proxy")
    session.proxies = {"http": "http://session.example:8080"}
    assert sync._environment_settings(session, url)["proxies"] == {"http": "http://session.example:8080"}
    session.trust_env = False
    assert sync._environment_settings(session, url) == \
        dict(session.merge_environment_settings(url, {}, True, None, None))
    settings = sync._environment_settings(session, url)
    settings["proxies"].clear()  # what a caller does with its copy never reaches the cache
    assert sync._environment_settings(session, url)["proxies"] == {"http": "http://session.example:8080"}


def test_requests_go_through_the_proxy_the_environment_names_now(monkeypatch: pytest.MonkeyPatch) -> None:
    session = requests.Session()
    target = "http://soapkit-proxied.invalid/Remote/Services88/Contact.svc"  # only the proxies resolve it
    with proxy("first") as (first, first_seen), proxy("second") as (second, second_seen):
        monkeypatch.setenv("http_proxy", first)
        assert post(session, target).content == b"first"
        assert post(session, target).content == b"first"
        monkeypatch.setenv("http_proxy", second)
        assert post(session, target).content == b"second"
    assert first_seen == [target, target] and second_seen == [target]


def test_a_session_subclass_with_its_own_request_is_still_called() -> None:
    class Counting(requests.Session):
        calls = 0

        def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            Counting.calls += 1
            return super().request(*args, **kwargs)

    with proxy("direct") as (address, seen):
        session = Counting()
        session.trust_env = False
        assert post(session, f"{address}/x").content == b"direct"
    assert Counting.calls == 1 and seen == ["/x"]


def test_the_cache_keeps_a_bounded_number_of_origins_and_forgets_a_closed_session() -> None:
    import gc

    session = requests.Session()
    for number in range(sync._ORIGINS_PER_SESSION * 2 + 1):
        sync._environment_settings(session, f"http://host{number}.example/")
    assert 0 < len(sync._settings_cache[session]) <= sync._ORIGINS_PER_SESSION
    gc.collect()
    before = len(sync._settings_cache)
    del session
    gc.collect()
    assert len(sync._settings_cache) == before - 1  # held weakly: a session that goes away takes its entries
