"""Fault injection against soapkit's own client and raw HTTP: latency, 5xx, drops, truncation, expiry, 429."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import soapkit
from soapkit.errors import ConnectionFailed, HttpError, RateLimited, RequestTimeout
from soapkit.sandbox import Sandbox
from soapkit.sandbox.faults import Fault, FaultSpecError, parse_faults

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(data_dir=tmp_path_factory.mktemp("faults"), port=0) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def no_rules(sb: Sandbox) -> Iterator[None]:
    sb.faults.clear()
    yield
    sb.faults.clear()


def connect(sb: Sandbox, **options: Any) -> Any:
    cfg = sb.config
    return soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                           credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_pem"]),
                           **options)


def raw_call(sb: Sandbox, ticket: str, fault: str | None = None, timeout: float = 10) -> requests.Response:
    envelope = (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:n="{NS}"><s:Header>'
                f'<n:ApplicationToken>{sb.config["client_secret"]}</n:ApplicationToken><n:Credentials>'
                f'<n:Ticket>{ticket}</n:Ticket></n:Credentials></s:Header><s:Body><n:GetContactEntity>'
                '<n:ContactEntityId>1</n:ContactEntityId></n:GetContactEntity></s:Body></s:Envelope>')
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}/Contact/GetContactEntity"'}
    if fault:
        headers["X-Sandbox-Fault"] = fault
    return requests.post(f"{sb.config['netserver_url']}Contact.svc", data=envelope, headers=headers,
                         timeout=timeout)


def test_parse() -> None:
    assert parse_faults("latency=200ms, status=503; drop") == [Fault("latency", 0.2), Fault("status", 503),
                                                              Fault("drop")]
    assert parse_faults("rate-limit=2s,truncate=10,expire-credential,latency=1.5s") == [
        Fault("rate-limit", 2.0), Fault("truncate", 10), Fault("expire-credential"), Fault("latency", 1.5)]
    assert parse_faults("rate-limit") == [Fault("rate-limit", 1.0)]
    for bad in ("nope", "status=200", "status=x", "latency", "drop=1", "latency=fast"):
        with pytest.raises(FaultSpecError):
            parse_faults(bad)


def test_per_request_header(sb: Sandbox) -> None:
    ticket = sb.issue_ticket()
    assert raw_call(sb, ticket).status_code == 200
    answer = raw_call(sb, ticket, "status=502")
    assert answer.status_code == 502 and "Injected" in answer.text
    limited = raw_call(sb, ticket, "rate-limit=2s")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    started = time.perf_counter()
    assert raw_call(sb, ticket, "latency=150ms").status_code == 200
    assert time.perf_counter() - started >= 0.15
    assert raw_call(sb, ticket, "bogus").status_code == 400
    with pytest.raises(requests.ConnectionError):
        raw_call(sb, ticket, "drop")
    with pytest.raises(requests.RequestException):
        raw_call(sb, ticket, "truncate")
    expired = raw_call(sb, ticket, "expire-credential")
    assert expired.status_code == 200 and "CredentialsExpiredException" in expired.text
    # faults apply to any path when asked per request; the sandbox still answers normally afterwards
    injected = requests.get(sb.config["state_url"], headers={"X-Sandbox-Fault": "status=500"}, timeout=10)
    assert injected.status_code == 500
    assert requests.get(sb.config["state_url"], timeout=10).status_code == 200


def test_client_sees_503(sb: Sandbox) -> None:
    so = connect(sb, retries=0)  # retries would hide the fault (see below)
    sb.faults.add("status=503", times=1)
    with pytest.raises(HttpError) as caught:
        so.Contact.GetContactEntity(1)
    assert caught.value.status == 503
    assert so.Contact.GetContactEntity(1).ContactId == 1


def test_client_sees_a_dropped_connection(sb: Sandbox) -> None:
    so = connect(sb, retries=0)  # retries would hide the fault (see below)
    sb.faults.add("drop", times=1)
    with pytest.raises(ConnectionFailed):
        so.Contact.GetContactEntity(1)
    assert so.Contact.GetContactEntity(1).ContactId == 1


def test_client_sees_a_truncated_body_as_an_error_not_a_hang(sb: Sandbox) -> None:
    so = connect(sb, timeout=5, retries=0)
    sb.faults.add("truncate", times=1)
    started = time.perf_counter()
    with pytest.raises(ConnectionFailed, match="cut short"):
        so.Contact.GetContactEntity(1)
    assert time.perf_counter() - started < 3
    assert so.Contact.GetContactEntity(1).ContactId == 1


def test_client_replaces_an_expired_ticket_once(sb: Sandbox) -> None:
    so = connect(sb)
    assert so.Contact.GetContactEntity(1).ContactId == 1
    [rule] = sb.faults.add("expire-credential", times=1)
    assert so.Contact.GetContactEntity(2).ContactId == 2  # expired now -> new ticket -> retried
    assert rule.fired == 1


def test_client_sees_rate_limiting(sb: Sandbox) -> None:
    so = connect(sb, retries=0)  # retries would hide the fault (see below)
    sb.faults.add("rate-limit=3s", times=1)
    with pytest.raises(RateLimited) as caught:
        so.Contact.GetContactEntity(1)
    assert caught.value.retry_after == 3


def test_latency_against_a_client_timeout(sb: Sandbox) -> None:
    so = connect(sb, timeout=0.3, retries=0)
    assert so.Contact.GetContactEntity(1).ContactId == 1
    sb.faults.add("latency=800ms", times=1)
    with pytest.raises(RequestTimeout):
        so.Contact.GetContactEntity(1)
    time.sleep(0.6)  # let the delayed answer finish before the module's sandbox stops


@pytest.mark.parametrize("fault", ["status=503", "drop", "truncate", "rate-limit=1s", "latency=800ms"])
def test_a_read_rides_out_one_fault_of_each_kind_by_default(sb: Sandbox, fault: str) -> None:
    so = connect(sb, timeout=0.5, retries=soapkit.RetryPolicy(max_retry_after=0.05, backoff=0.01))
    assert so.Contact.GetContactEntity(1).ContactId == 1  # signed in, state looked up
    [rule] = sb.faults.add(fault, times=1)
    assert so.Contact.GetContactEntity(1).ContactId == 1
    assert rule.fired == 1
    time.sleep(0.4 if fault.startswith("latency") else 0)  # let a delayed answer finish


@pytest.mark.parametrize("fault", ["status=503", "drop", "truncate"])
def test_a_write_that_may_have_arrived_is_not_repeated(sb: Sandbox, fault: str, driver: str) -> None:
    so = connect(sb, retries=soapkit.RetryPolicy(backoff=0.01))
    entity = so.ContactAgent.CreateDefaultContactEntity()
    entity.Name = f"Written once {fault} {driver}"
    sb.faults.add(fault, times=1)
    with pytest.raises(soapkit.OutcomeUnknown, match="may or may not have been applied"):
        so.ContactAgent.SaveContactEntity(entity)
    rows = sb.backend.store.all("SELECT count(*) AS n FROM contact WHERE name = ?", (entity.Name,))
    assert rows[0]["n"] == (1 if fault == "truncate" else 0)  # the handler ran only when the answer was cut


def test_seeded_probability_repeats(sb: Sandbox) -> None:
    ticket = sb.issue_ticket()

    def run() -> list[int]:
        sb.faults.clear()
        sb.faults.seed(1234)
        sb.faults.add("status=503", probability=0.5)
        return [raw_call(sb, ticket).status_code for _ in range(16)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 503}
    # state lookups and the exchange are outside the default path of per-sandbox rules
    assert requests.get(sb.config["state_url"], timeout=10).status_code == 200
