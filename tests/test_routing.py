"""Tenant routing: environments and aliases, the state endpoint cached until ValidUntil, tenants that are
not running, HTTP 421 (look up again, retry once on the new host) and a rejected credential (invalidate,
retry once). A small stdlib HTTP server on loopback plays SuperOffice Online.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from soapkit.client import SuperOfficeClient
from soapkit.credentials.base import AuthContext, Credential, IssuedCredential, StaticToken
from soapkit.errors import (
    ConfigurationError,
    CredentialRejected,
    TenantError,
    TenantNotFound,
    TenantNotRunning,
    WrongSubdomain,
)
from soapkit.tenant import DEFAULT_STATE_TTL, Environment, TenantDirectory, TenantState

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
UTC = dt.timezone.utc
T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


# --- environments --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "name", "url"), [
    ("sod", "sod", "https://sod.superoffice.com"),
    ("SOD ", "sod", "https://sod.superoffice.com"),
    ("qaonline", "qaonline", "https://qaonline.superoffice.com"),
    ("stage", "qaonline", "https://qaonline.superoffice.com"),
    ("online", "online", "https://online.superoffice.com"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("https://sandbox.example.com", "https://sandbox.example.com", "https://sandbox.example.com"),
])
def test_environment_names_aliases_and_base_urls(given: str, name: str, url: str) -> None:
    environment = Environment.resolve(given)
    assert (environment.name, environment.base_url) == (name, url)
    assert environment.state_url("Cust1") == f"{url}/api/state/Cust1"


def test_unknown_environment_names_the_choices() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Environment.resolve("production")
    assert "'production'" in str(raised.value) and "qaonline (or stage)" in str(raised.value)


# --- a fake SuperOffice Online ---------------------------------------------------------------------------


@dataclass
class FakeOnline:
    """State endpoint + agents. ``states`` are served in turn (the last one repeats)."""

    states: list[dict[str, Any]] = field(default_factory=list)
    state_status: int = 200
    agent: Callable[[str, bytes], tuple[int, str]] = lambda path, body: (200, contact_response())
    state_calls: int = 0
    posts: list[tuple[str, bytes]] = field(default_factory=list)
    base_url: str = ""

    def state(self, ctx: str, path: str, *, state: str = "Running", valid_for: float = 300.0,
              now: dt.datetime = T0) -> dict[str, Any]:
        endpoint = f"{self.base_url}/{path}/{ctx}"
        return {"ContextIdentifier": ctx, "Endpoint": endpoint, "State": state,
                "IsRunning": state in ("Running", "OnlineMaintenance"),
                "ValidUntil": (now + dt.timedelta(seconds=valid_for)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "Api": f"{endpoint}/api"}


@pytest.fixture
def online() -> Iterator[FakeOnline]:
    fake = FakeOnline()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if not self.path.startswith("/api/state/"):
                return self._send(404, "", "text/plain")
            answer = fake.states[min(fake.state_calls, len(fake.states) - 1)] if fake.states else None
            fake.state_calls += 1
            self._send(fake.state_status, json.dumps(answer) if answer is not None else "<html>",
                       "application/json")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fake.posts.append((self.path, body))
            status, text = fake.agent(self.path, body)
            self._send(status, text, "text/xml; charset=utf-8" if text.startswith("<") else "text/plain")

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # 16 threads connecting at once must not overflow the listen backlog

    server = Server(("127.0.0.1", 0), Handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def envelope(header: str, body: str) -> str:
    return (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{header}</s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>")


def contact_response(contact_id: int = 5, name: str = "Nordlys Data AS") -> str:
    return envelope(f'<Succeeded xmlns="{NS}">true</Succeeded>',
                    f'<GetContactEntityResponse xmlns="{NS}"><Response><ContactId>{contact_id}</ContactId>'
                    f"<Name>{name}</Name></Response></GetContactEntityResponse>")


def credentials_invalid() -> str:
    return envelope(
        f'<ExceptionInfo xmlns="{NS}"><Message>The ticket is not valid</Message><StackTrace/><FriendlyText/>'
        f"<ExceptionType>CredentialsInvalidException</ExceptionType><Source>SoapKit.Fake</Source>"
        f'<InnerException i:nil="true" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"/>'
        f"<Parameters/></ExceptionInfo><Succeeded xmlns=\"{NS}\">false</Succeeded>",
        f'<GetContactEntityResponse xmlns="{NS}"/>',
    )


def ticket_of(body: bytes) -> str:
    text = body.decode()
    return text.split("Ticket>", 1)[1].split("<", 1)[0]


# --- the state endpoint ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def test_state_is_cached_until_valid_until(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", valid_for=300), online.state("Cust1", "sod3")]
    clock = Clock()
    directory = TenantDirectory(Environment.resolve(online.base_url), clock=clock)
    assert directory.locate("Cust1").endpoint.endswith("/sod2/Cust1")
    clock.now += dt.timedelta(seconds=299)
    assert directory.locate("Cust1").endpoint.endswith("/sod2/Cust1")
    assert directory.lookups == 1
    clock.now += dt.timedelta(seconds=1)  # ValidUntil reached: ask again
    assert directory.locate("Cust1").endpoint.endswith("/sod3/Cust1")
    assert directory.lookups == online.state_calls == 2


def test_answer_without_valid_until_is_trusted_for_the_default_ttl(online: FakeOnline) -> None:
    answer = online.state("Cust1", "sod2")
    del answer["ValidUntil"]
    online.states = [answer]
    clock = Clock()
    directory = TenantDirectory(Environment.resolve(online.base_url), clock=clock)
    directory.locate("Cust1")
    clock.now += dt.timedelta(seconds=DEFAULT_STATE_TTL - 1)
    directory.locate("Cust1")
    assert directory.lookups == 1
    clock.now += dt.timedelta(seconds=2)
    directory.locate("Cust1")
    assert directory.lookups == 2


def test_dotnet_seven_digit_fractions_are_read(online: FakeOnline) -> None:
    answer = online.state("Cust1", "sod2")
    answer["ValidUntil"] = "2030-01-01T12:10:00.1234567Z"
    online.states = [answer]
    location = TenantDirectory(Environment.resolve(online.base_url), clock=Clock()).locate("Cust1")
    assert location.valid_until == dt.datetime(2030, 1, 1, 12, 10, 0, 123456, tzinfo=UTC)


def test_threads_asking_at_once_look_up_once(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2")]
    directory = TenantDirectory(Environment.resolve(online.base_url), clock=Clock())
    threads = [threading.Thread(target=directory.locate, args=("Cust1",)) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert online.state_calls == 1


def test_forget_makes_the_next_call_ask_again(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2"), online.state("Cust1", "sod3")]
    directory = TenantDirectory(Environment.resolve(online.base_url), clock=Clock())
    directory.locate("Cust1")
    directory.forget("Cust1")
    assert directory.locate("Cust1").endpoint.endswith("/sod3/Cust1")


@pytest.mark.parametrize("state", ["Suspended", "OfflineMaintenance", "Provisioning", "Deleted", "MigrationPending"])
def test_tenant_not_running_names_its_state(online: FakeOnline, state: str) -> None:
    online.states = [online.state("Cust1", "sod2", state=state)]
    directory = TenantDirectory(Environment.resolve(online.base_url), clock=Clock())
    with pytest.raises(TenantNotRunning) as raised:
        directory.locate("Cust1")
    assert raised.value.state == state and state in str(raised.value) and "Cust1" in str(raised.value)
    assert directory.locate("Cust1", require_running=False).state is TenantState[state]


def test_online_maintenance_still_serves(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", state="OnlineMaintenance")]
    assert TenantDirectory(Environment.resolve(online.base_url), clock=Clock()).locate("Cust1").is_running


def test_unknown_tenant_and_bad_answers(online: FakeOnline) -> None:
    directory = TenantDirectory(Environment.resolve(online.base_url), clock=Clock())
    online.state_status = 404
    online.states = [{"ContextIdentifier": "Cust9", "Endpoint": None, "State": "Unknown", "IsRunning": False}]
    with pytest.raises(TenantNotFound, match="Cust9"):
        directory.locate("Cust9")
    online.state_status = 200
    online.states = []  # not JSON
    with pytest.raises(TenantError, match="not JSON"):
        directory.locate("Cust9")


def test_answer_for_another_tenant_is_refused(online: FakeOnline) -> None:
    online.states = [online.state("Cust2", "sod2")]
    with pytest.raises(TenantError, match="Cust2, not Cust1"):
        TenantDirectory(Environment.resolve(online.base_url), clock=Clock()).locate("Cust1")


# --- HTTP 421 through an agent call ---------------------------------------------------------------------


def client_for(online: FakeOnline, credentials: Credential) -> SuperOfficeClient:
    return SuperOfficeClient("Cust1", env=online.base_url, app_token="client-secret", credentials=credentials,
                             timeout=10)


def test_421_looks_the_tenant_up_again_and_retries_once_on_the_new_host(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", now=dt.datetime.now(UTC)),
                     online.state("Cust1", "sod3", now=dt.datetime.now(UTC))]
    online.agent = lambda path, body: ((421, "Wrong subdomain used to access tenant") if "/sod2/" in path
                                       else (200, contact_response()))
    with client_for(online, StaticToken("7T:ticket")) as so:
        contact = so.ContactAgent.GetContactEntity(5)
        assert (contact.ContactId, contact.Name) == (5, "Nordlys Data AS")
        assert [path for path, _ in online.posts] == ["/sod2/Cust1/Remote/Services88/Contact.svc",
                                                      "/sod3/Cust1/Remote/Services88/Contact.svc"]
        assert online.state_calls == 2
        so.ContactAgent.GetContactEntity(5)  # the new host is remembered
        assert online.state_calls == 2 and online.posts[-1][0].startswith("/sod3/")


def test_421_twice_gives_up_after_one_retry(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", now=dt.datetime.now(UTC))]
    online.agent = lambda path, body: (421, "Wrong subdomain used to access tenant")
    with client_for(online, StaticToken("7T:ticket")) as so, pytest.raises(WrongSubdomain) as raised:
        so.ContactAgent.GetContactEntity(5)
    assert len(online.posts) == 2 and online.state_calls == 2
    assert raised.value.status == 421


def test_tenant_not_running_stops_the_call_before_sending(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", state="Suspended", now=dt.datetime.now(UTC))]
    with client_for(online, StaticToken("7T:ticket")) as so, pytest.raises(TenantNotRunning, match="Suspended"):
        so.ContactAgent.GetContactEntity(5)
    assert online.posts == []


# --- a rejected credential through an agent call -----------------------------------------------------------


class FirstTicketIsStale(Credential):
    """Its first ticket is one the server no longer knows (say, revoked since it was cached)."""

    kind = "system_user"

    def identity(self) -> str:
        return "svc"

    def fetch(self, context: AuthContext) -> IssuedCredential:
        value = "7T:stale" if self.fetch_count == 1 else f"7T:fresh-{self.fetch_count}"
        return IssuedCredential(value, time.time() + 3600)


def test_rejected_credential_is_invalidated_and_the_call_retried_once(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", now=dt.datetime.now(UTC))]
    online.agent = lambda path, body: ((200, credentials_invalid()) if ticket_of(body) == "7T:stale"
                                       else (200, contact_response()))
    credential = FirstTicketIsStale()
    with client_for(online, credential) as so:
        assert so.ContactAgent.GetContactEntity(5).ContactId == 5
    assert [ticket_of(body) for _, body in online.posts] == ["7T:stale", "7T:fresh-2"]
    assert credential.fetch_count == 2


def test_credential_rejected_twice_is_raised_after_one_retry(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", now=dt.datetime.now(UTC))]
    online.agent = lambda path, body: (200, credentials_invalid())
    credential = FirstTicketIsStale()
    with client_for(online, credential) as so, pytest.raises(CredentialRejected):
        so.ContactAgent.GetContactEntity(5)
    assert len(online.posts) == 2 and credential.fetch_count == 2


def test_http_401_counts_as_rejected(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", now=dt.datetime.now(UTC))]
    online.agent = lambda path, body: ((401, "Unauthorized") if ticket_of(body) == "7T:stale"
                                       else (200, contact_response()))
    credential = FirstTicketIsStale()
    with client_for(online, credential) as so:
        assert so.ContactAgent.GetContactEntity(5).ContactId == 5
    assert credential.fetch_count == 2


def test_a_given_ticket_is_not_retried(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", now=dt.datetime.now(UTC))]
    online.agent = lambda path, body: (200, credentials_invalid())
    with client_for(online, StaticToken("7T:given")) as so, pytest.raises(CredentialRejected):
        so.ContactAgent.GetContactEntity(5)
    assert len(online.posts) == 1


def test_many_threads_rejected_at_once_cause_one_new_exchange(online: FakeOnline) -> None:
    online.states = [online.state("Cust1", "sod2", now=dt.datetime.now(UTC))]
    online.agent = lambda path, body: ((200, credentials_invalid()) if ticket_of(body) == "7T:stale"
                                       else (200, contact_response()))
    credential = FirstTicketIsStale()
    with client_for(online, credential) as so:
        so.ticket()  # everybody starts from the stale ticket
        barrier = threading.Barrier(16)
        errors: list[BaseException] = []

        def call() -> None:
            barrier.wait()
            try:
                so.ContactAgent.GetContactEntity(5)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=call) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert not errors
    assert credential.fetch_count == 2
