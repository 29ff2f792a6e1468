"""Agent proxies end to end: results, typed errors, retry once on a rejected ticket, routing, timeouts.

Every test runs twice: through the sync client and through the async one (tests/both_drivers.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from soapkit import connect
from soapkit.credentials.system_user import SystemUser
from soapkit.errors import (
    AgentError,
    AuthenticationFailed,
    ConfigurationError,
    CredentialRejected,
    HttpError,
    RequestTimeout,
    SoapFault,
    TenantNotFound,
    TenantNotRunning,
    UnknownOperationError,
)
from soapkit.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

@pytest.fixture(scope="module")
def sandbox(own_sandbox: Sandbox) -> Sandbox:
    return own_sandbox  # these tests expire, revoke and rotate: they get a sandbox of their own


@pytest.fixture()
def cfg(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.config


def _system_user_client(cfg: dict[str, Any], **options: Any) -> Any:
    credential = SystemUser(cfg["system_user_token"], cfg["private_key_xml"])
    return connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                   credentials=credential, **options)


def test_get_contact_entity_returns_the_response_value(cfg: dict[str, Any]) -> None:
    so = _system_user_client(cfg)
    company = so.ContactAgent.GetContactEntity(1)
    assert company.ContactId == 1 and company.Name
    assert so.Contact.GetContactEntity(ContactEntityId=1).Name == company.Name  # by name, service alias


def test_create_save_read_and_delete_round_trip(cfg: dict[str, Any]) -> None:
    so = _system_user_client(cfg)
    entity = so.ContactAgent.CreateDefaultContactEntity()
    entity.Name = "Round Trip AS"
    saved = so.ContactAgent.SaveContactEntity(entity)
    assert saved.ContactId > 0
    assert so.ContactAgent.GetContactEntity(saved.ContactId).Name == "Round Trip AS"
    so.ContactAgent.DeleteContactEntity(saved.ContactId)
    assert so.ContactAgent.GetContactEntity(saved.ContactId) is None


def test_array_responses_are_plain_lists(cfg: dict[str, Any]) -> None:
    persons = _system_user_client(cfg).ContactAgent.GetPersons(1)
    assert isinstance(persons, list) and persons and all(p.ContactId == 1 for p in persons)


def test_operations_are_generated_from_the_wsdl(cfg: dict[str, Any]) -> None:
    so = _system_user_client(cfg)
    assert "GetContactEntity" in dir(so.ContactAgent)
    assert "ContactEntityId" in so.ContactAgent.GetContactEntity.signature
    with pytest.raises(UnknownOperationError, match="GetContactEntity"):
        _ = so.ContactAgent.GetContactEntty
    with pytest.raises(UnknownOperationError, match="ContactAgent"):
        _ = so.ContactAgnt
    def unwrapped(value: Any) -> Any:  # the async run sees the operation through a blocking view
        return getattr(value, "_target", value)

    operation = unwrapped(so.ContactAgent.GetContactEntity)  # built once per agent (its signature walks zeep)
    assert unwrapped(so.ContactAgent.GetContactEntity) is operation
    assert operation.with_options(idempotent=False) is not operation
    with pytest.raises(UnknownOperationError):  # a misspelling is refused every time, never remembered
        _ = so.ContactAgent.GetContactEntty


def test_succeeded_false_becomes_agent_error(cfg: dict[str, Any]) -> None:
    so = _system_user_client(cfg)
    with pytest.raises(AgentError) as caught:
        so.ContactAgent.DeleteContactEntity(987654)
    assert caught.value.exception_type and "NotFound" in caught.value.exception_type
    assert "987654" in str(caught.value)


def test_wrong_argument_type_is_a_clear_error(cfg: dict[str, Any]) -> None:
    with pytest.raises((ConfigurationError, TypeError)):
        _system_user_client(cfg).ContactAgent.GetContactEntity(NoSuchParameter=1)


def test_expired_ticket_is_replaced_and_the_call_retried_once(sandbox: Sandbox, cfg: dict[str, Any]) -> None:
    so = _system_user_client(cfg)
    so.ContactAgent.GetContactEntity(1)
    sandbox.expire_credential(so.ticket())
    assert so.ContactAgent.GetContactEntity(1).ContactId == 1
    assert so.credentials.fetch_count == 2


def test_a_given_ticket_that_is_rejected_is_not_retried(sandbox: Sandbox, cfg: dict[str, Any]) -> None:
    ticket = sandbox.issue_ticket()
    so = connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"], ticket=ticket)
    assert so.ContactAgent.GetContactEntity(1).ContactId == 1
    sandbox.revoke_credential(ticket)
    with pytest.raises(CredentialRejected) as caught:
        so.ContactAgent.GetContactEntity(1)
    assert ticket not in str(caught.value)
    assert "cannot renew" in caught.value.hint


def test_the_recorder_sees_the_sign_in_exchange_too(cfg: dict[str, Any]) -> None:
    from soapkit import Recorder

    recorder = Recorder()
    _system_user_client(cfg, recorder=recorder).ContactAgent.GetContactEntity(1)
    exchanges = recorder.exchanges
    assert [(e.method, e.operation) for e in exchanges] == [
        ("GET", "Cust12345"), ("POST", "Authenticate"), ("GET", "jwks"), ("POST", "GetContactEntity")]
    assert "/api/state/" in exchanges[0].url.lower() or "state" in exchanges[0].url.lower()


def test_unknown_ticket_and_wrong_app_token(cfg: dict[str, Any]) -> None:
    stranger = connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                       ticket="7T:not-a-ticket-the-sandbox-issued")
    with pytest.raises(CredentialRejected):
        stranger.ContactAgent.GetContactEntity(1)
    wrong_app = connect(cfg["context_identifier"], env=cfg["base_url"], app_token="wrong", ticket="7T:x")
    with pytest.raises(AuthenticationFailed, match="ApplicationToken"):
        wrong_app.ContactAgent.GetContactEntity(1)


def test_tenant_not_running_names_its_state(sandbox: Sandbox, cfg: dict[str, Any]) -> None:
    sandbox.add_tenant("Cust70001", state="Suspended")
    so = connect("Cust70001", env=cfg["base_url"], app_token=cfg["client_secret"], ticket="7T:x")
    with pytest.raises(TenantNotRunning, match="Suspended") as caught:
        so.ContactAgent.GetContactEntity(1)
    assert caught.value.state == "Suspended"


def test_unknown_tenant(cfg: dict[str, Any]) -> None:
    so = connect("Cust70404", env=cfg["base_url"], app_token=cfg["client_secret"], ticket="7T:x")
    with pytest.raises(TenantNotFound):
        so.ContactAgent.GetContactEntity(1)


# --- HTTP-level behaviour, with a scripted server ------------------------------------------------------

Script = Callable[[BaseHTTPRequestHandler, int], tuple[int, str, bytes]]


@pytest.fixture()
def scripted() -> Iterator[Callable[[Script], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(script: Script) -> str:
        calls = {"n": 0}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path.startswith("/api/state/"):
                    port = self.server.server_address[1]
                    ctx = self.path.rsplit("/", 1)[1]
                    host = "127.0.0.1" if calls["n"] == 0 else "localhost"  # the tenant "moves" after a 421
                    body = json.dumps({"ContextIdentifier": ctx, "Endpoint": f"http://{host}:{port}/{ctx}",
                                       "State": "Running", "IsRunning": True}).encode()
                    status, ctype = 200, "application/json"
                else:
                    calls["n"] += 1
                    status, ctype, body = script(self, calls["n"])
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


FAULT = b"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
<faultcode>s:Server</faultcode><faultstring>Database is on fire</faultstring></s:Fault></s:Body></s:Envelope>"""
OK = b"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>
<Succeeded xmlns="http://www.superoffice.net/ws/crm/NetServer/Services88">true</Succeeded></s:Header><s:Body>
<GetContactEntityResponse xmlns="http://www.superoffice.net/ws/crm/NetServer/Services88"><Response>
<ContactId>7</ContactId><Name>Moved AS</Name></Response></GetContactEntityResponse></s:Body></s:Envelope>"""


def _client(base_url: str, **options: Any) -> Any:
    return connect("Cust1", env=base_url, app_token="secret", ticket="7T:t", **options)


def test_soap_fault_becomes_soap_fault(scripted: Callable[[Script], str]) -> None:
    base = scripted(lambda handler, n: (500, "text/xml; charset=utf-8", FAULT))
    with pytest.raises(SoapFault, match="Database is on fire") as caught:
        _client(base).ContactAgent.GetContactEntity(1)
    assert caught.value.code and "Server" in caught.value.code


def test_http_error_without_soap_becomes_http_error(scripted: Callable[[Script], str]) -> None:
    base = scripted(lambda handler, n: (502, "text/html", b"<html>Bad gateway</html>"))
    with pytest.raises(HttpError) as caught:
        _client(base).ContactAgent.GetContactEntity(1)
    assert caught.value.status == 502 and "502" in str(caught.value)


def test_timeout_becomes_request_timeout(scripted: Callable[[Script], str]) -> None:
    def slow(handler: BaseHTTPRequestHandler, n: int) -> tuple[int, str, bytes]:
        time.sleep(1.5)
        return 200, "text/xml", OK

    with pytest.raises(RequestTimeout, match="timed out"):
        _client(scripted(slow), timeout=0.5).ContactAgent.GetContactEntity(1)


def test_421_looks_the_tenant_up_again_and_retries_once_on_the_new_host(scripted: Callable[[Script], str]) -> None:
    hosts: list[str] = []

    def moved(handler: BaseHTTPRequestHandler, n: int) -> tuple[int, str, bytes]:
        hosts.append(handler.headers["Host"].split(":")[0])
        if n == 1:
            return 421, "text/plain", b"Wrong subdomain used to access tenant"
        return 200, "text/xml; charset=utf-8", OK

    so = _client(scripted(moved))
    assert so.ContactAgent.GetContactEntity(1).Name == "Moved AS"
    assert hosts == ["127.0.0.1", "localhost"]
    assert so.tenants.lookups == 2


def test_persistent_421_is_raised_after_one_retry(scripted: Callable[[Script], str]) -> None:
    from soapkit.errors import WrongSubdomain

    base = scripted(lambda handler, n: (421, "text/plain", b"Wrong subdomain used to access tenant"))
    with pytest.raises(WrongSubdomain):
        _client(base).ContactAgent.GetContactEntity(1)
