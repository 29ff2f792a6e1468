"""The figures of the I/O-free core, made deterministic by the sandbox's seeded faults.

* reads under mixed faults (503, dropped connections, cut bodies, 429 with Retry-After, latency spikes):
  no call fails;
* writes under the same faults: no write is applied twice, and every failure is a definite error or
  ``OutcomeUnknown`` (a write whose outcome is unknown is applied at most once);
* a ticket expiring and the tenant moving mid-run: no call fails, sync and async;
* 64 concurrent async calls on a cold cache: one ticket exchange.

The number of reads is ``SOAPKIT_RESILIENCE_READS`` (10,000 by default, as the issue asks; CI runs it).
Waits are capped small (``max_retry_after``) so the run takes seconds; that the server's ``Retry-After`` is
what is waited is checked on its own below, with the flow and a scripted answer.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import soapkit
from soapkit import RetryPolicy
from soapkit.calls import CallSettings, agent_call
from soapkit.credentials.caches import FileCache, RedisCache
from soapkit.credentials.system_user import SystemUser
from soapkit.errors import AgentError, ConnectionFailed, OutcomeUnknown, SoapkitError
from soapkit.flow import Headers, HttpRequest, HttpResponse, Sleep, TransportFailure
from soapkit.sandbox import Sandbox

READS = int(os.environ.get("SOAPKIT_RESILIENCE_READS", "10000"))
WRITES = 1000
MIXED_FAULTS = (("status=503", 0.03), ("drop", 0.02), ("truncate", 0.02), ("rate-limit=1s", 0.02),
                ("latency=20ms", 0.01))


def _policy(seed: int) -> RetryPolicy:
    return RetryPolicy(attempts=8, backoff=0.001, max_backoff=0.004, max_retry_after=0.002,
                       jitter=random.Random(seed).random)


@pytest.fixture()
def faulty(own_sandbox: Sandbox) -> Iterator[Sandbox]:
    own_sandbox.faults.clear()
    own_sandbox.faults.seed(20261201)
    for spec, probability in MIXED_FAULTS:
        own_sandbox.faults.add(spec, probability=probability)
    yield own_sandbox
    own_sandbox.faults.clear()


def _connect(sb: Sandbox, *, asynchronous: bool = False, **options: Any) -> Any:
    cfg = sb.config
    opener = soapkit.connect_async if asynchronous else soapkit.connect
    return opener(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                  credentials=SystemUser(cfg["system_user_token"], cfg["private_key_xml"]), **options)


def test_reads_under_mixed_faults_never_fail(faulty: Sandbox) -> None:
    so = _connect(faulty, retries=_policy(1), timeout=10)
    failures: list[BaseException] = []

    def read(index: int) -> None:
        try:
            assert so.ContactAgent.GetContactEntity(index % 5 + 1).ContactId == index % 5 + 1
        except SoapkitError as error:  # pragma: no cover - what the test counts
            failures.append(error)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(read, range(READS)))
    fired = {rule.fault.kind: rule.fired for rule in faulty.faults.rules}
    assert failures == []
    assert sum(fired.values()) > READS * 0.05  # the faults really happened, of every kind
    assert all(count > 0 for count in fired.values()) and len(fired) == len(MIXED_FAULTS), fired


def test_writes_under_mixed_faults_are_never_applied_twice(faulty: Sandbox) -> None:
    so = _connect(faulty, retries=_policy(2), timeout=10)
    outcomes: dict[str, str] = {}

    def write(index: int) -> None:
        name = f"Resilience write {index:04d}"
        entity = so.ContactAgent.CreateDefaultContactEntity()
        entity.Name = name
        try:
            so.ContactAgent.SaveContactEntity(entity)
            outcomes[name] = "saved"
        except OutcomeUnknown as unknown:
            assert unknown.operation == "ContactAgent.SaveContactEntity" and "Read the entity back" in unknown.hint
            outcomes[name] = "unknown"
        except (AgentError, ConnectionFailed) as definite:  # pragma: no cover - a definite error is allowed
            outcomes[name] = f"error:{type(definite).__name__}"

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(WRITES)))
    faulty.faults.clear()
    rows = faulty.backend.store.all(
        "SELECT name, count(*) AS n FROM contact WHERE ctx = ? AND name LIKE 'Resilience write %' GROUP BY name",
        (faulty.context_identifier,))
    applied = {row["name"]: row["n"] for row in rows}
    assert max(applied.values()) == 1  # never twice
    assert all(applied.get(name) == 1 for name, outcome in outcomes.items() if outcome == "saved")
    assert not [name for name, outcome in outcomes.items() if outcome.startswith("error") and name in applied]
    kinds = Counter(outcomes.values())
    assert kinds["unknown"] > 0 and kinds["saved"] > WRITES * 0.8  # faults hit writes, most still went through
    assert len(outcomes) == WRITES


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_ticket_expiring_and_the_tenant_moving_mid_run_fail_no_call(own_sandbox: Sandbox,
                                                                      asynchronous: bool) -> None:
    sb = own_sandbox
    sb.faults.clear()
    so = _connect(sb, asynchronous=asynchronous, retries=_policy(3))
    port = sb.base_url.rsplit(":", 1)[-1]
    hosts = [f"localhost:{port}", f"127.0.0.1:{port}"]  # each move names the sandbox another way

    async def run_async() -> list[int]:
        got = []
        async with so:
            for index in range(60):
                got.append((await so.ContactAgent.GetContactEntity(1)).ContactId)
                if index % 20 == 10:
                    sb.expire_credential(await so.ticket())
                if index % 20 == 15:
                    sb.move_tenant(sb.context_identifier, hosts[(index // 20) % 2])
        return got

    def run_sync() -> list[int]:
        got = []
        for index in range(60):
            got.append(so.ContactAgent.GetContactEntity(1).ContactId)
            if index % 20 == 10:
                sb.expire_credential(so.ticket())
            if index % 20 == 15:
                sb.move_tenant(sb.context_identifier, hosts[(index // 20) % 2])
        return got

    try:
        got = asyncio.run(run_async()) if asynchronous else run_sync()
    finally:
        sb.move_tenant(sb.context_identifier, None)
    assert got == [1] * 60
    assert so.credentials.fetch_count == 4  # the first ticket and one per expiry, no more
    assert so.tenants.lookups == 4  # looked up again after each of the three moves (each a 421)


@pytest.fixture(params=["memory", "file", "redis"])
def shared_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The credential caches the async driver must single-flight through (Redis: a throwaway server)."""
    if request.param == "memory":
        yield None
    elif request.param == "file":
        yield FileCache(tmp_path / "cache")
    else:
        from test_cache_redis import start_redis

        (tmp_path / "redis").mkdir()
        process, url = start_redis(tmp_path / "redis")
        try:
            yield RedisCache.from_url(url)
        finally:
            process.terminate()
            process.wait(10)


def test_64_concurrent_async_calls_on_a_cold_cache_make_one_exchange(own_sandbox: Sandbox, shared_cache: Any) -> None:
    own_sandbox.faults.clear()
    recorder = soapkit.Recorder(max_exchanges=1000)
    cfg = own_sandbox.config
    so = soapkit.connect_async(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                               credentials=SystemUser(cfg["system_user_token"], cfg["private_key_xml"],
                                                      cache=shared_cache), recorder=recorder)

    async def run() -> list[Any]:
        async with so:
            return await asyncio.gather(*(so.ContactAgent.GetContactEntity(i % 5 + 1) for i in range(64)))

    results = asyncio.run(run())
    assert [r.ContactId for r in results] == [i % 5 + 1 for i in range(64)]
    assert so.credentials.fetch_count == 1
    operations = Counter(exchange.operation for exchange in recorder.exchanges)
    assert operations["Authenticate"] == 1 and operations["GetContactEntity"] == 64
    assert so.tenants.lookups == 1 and so.context.jwks.fetches == 1


# --- the flow alone: what is waited, what is sent again --------------------------------------------


class _Scripted:
    """Answers the call flow's steps from a script, with no network: proves the decisions, not the I/O."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.sent: list[HttpRequest] = []
        self.slept: list[float] = []

    def run(self, flow: Any) -> Any:
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    self.slept.append(step.seconds)
                    step = flow.send(None)
                elif isinstance(step, HttpRequest):
                    self.sent.append(step)
                    step = flow.send(self.answers.pop(0))
                else:
                    step = flow.send(None)
        except StopIteration as stop:
            return stop.value


def _settings(retries: RetryPolicy) -> CallSettings:
    from soapkit.catalog import default_catalog
    from soapkit.credentials.base import StaticToken
    from soapkit.headers import HeaderValues

    so = soapkit.connect("Cust12345", env="http://127.0.0.1:9", app_token="app", ticket="7T:static")

    def services_url() -> Any:
        return "http://127.0.0.1:9/Cust12345/Remote/Services88/"
        yield  # pragma: no cover

    return CallSettings(catalog=default_catalog(), version="Services88", context=so.context,
                        credentials=StaticToken("7T:static"), services_url=services_url, forget_tenant=None,
                        header_values=lambda ticket: HeaderValues("app", ticket), timeout=5.0, retries=retries)


def _answer(status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, Headers(headers or {"Content-Type": "text/plain"}), b"busy")


def test_retry_after_is_what_a_read_waits_and_full_jitter_stays_under_the_ceiling() -> None:
    driver = _Scripted([_answer(429, {"Retry-After": "3"}), _answer(503), TransportFailure("dropped", True),
                        _answer(429, {"Retry-After": "120"})] + [_answer(503)] * 10)
    policy = RetryPolicy(attempts=5, backoff=0.5, max_backoff=2.0, max_retry_after=30.0, deadline=1000,
                         jitter=lambda: 0.999)
    with pytest.raises(soapkit.HttpError):
        driver.run(agent_call(_settings(policy), "Contact", "GetContactEntity", (5,), {}))
    assert len(driver.sent) == 5  # attempts, the first included
    assert driver.slept[0] == 3.0 and driver.slept[3] == 30.0  # Retry-After honoured, capped
    assert driver.slept[1] == pytest.approx(0.999 * 1.0) and driver.slept[2] == pytest.approx(0.999 * 2.0)


@pytest.mark.parametrize("answer", [_answer(503), TransportFailure("dropped", True),
                                    TransportFailure("truncated", True), TransportFailure("timeout", True)],
                         ids=["503", "dropped", "truncated", "timeout"])
def test_a_write_that_may_have_arrived_is_never_sent_again(answer: Any) -> None:
    driver = _Scripted([answer, _answer(200)])
    with pytest.raises(OutcomeUnknown) as caught:
        driver.run(agent_call(_settings(RetryPolicy()), "Contact", "SaveContactEntity", (), {}))
    assert len(driver.sent) == 1 and caught.value.operation == "ContactAgent.SaveContactEntity"


@pytest.mark.parametrize("answer", [TransportFailure("refused", False), _answer(429, {"Retry-After": "0"})],
                         ids=["refused", "429"])
def test_a_write_that_certainly_did_not_arrive_is_sent_again(answer: Any) -> None:
    driver = _Scripted([answer, TransportFailure("dropped", True)])
    with pytest.raises(OutcomeUnknown):
        driver.run(agent_call(_settings(RetryPolicy(backoff=0)), "Contact", "SaveContactEntity", (), {}))
    assert len(driver.sent) == 2


def test_per_call_and_per_client_overrides_of_the_idempotency_table() -> None:
    policy = RetryPolicy(backoff=0, idempotent={"ContactAgent.SaveContactEntity": True, "Ticket.*": False})
    assert policy.idempotent_call("Contact", "SaveContactEntity") is True
    assert policy.idempotent_call("Ticket", "GetTicketEntity") is False
    assert policy.idempotent_call("Contact", "GetContactEntity") is True
    assert policy.idempotent_call("Contact", "GetContactEntity", override=False) is False
    assert RetryPolicy().idempotent_call("Ticket", "GetNextInQueue") is False  # named like a read, is a write
    driver = _Scripted([_answer(503), TransportFailure("dropped", True), _answer(503), _answer(503)])
    with pytest.raises(soapkit.HttpError):  # declared idempotent: retried like a read, then the last error
        driver.run(agent_call(_settings(policy), "Contact", "SaveContactEntity", (), {}, idempotent=None))
    assert len(driver.sent) == policy.attempts


def test_the_deadline_bounds_the_whole_call_with_its_retries() -> None:
    clock = iter(range(0, 1000, 4))
    settings = _settings(RetryPolicy(attempts=50, backoff=0, deadline=10))
    settings.monotonic = lambda: float(next(clock))
    driver = _Scripted([_answer(503)] * 50)
    with pytest.raises(soapkit.HttpError):
        driver.run(agent_call(settings, "Contact", "GetContactEntity", (5,), {}))
    assert len(driver.sent) < 5
    assert all(request.deadline == driver.sent[0].deadline for request in driver.sent)


def test_bad_retry_settings_are_refused_clearly() -> None:
    with pytest.raises(soapkit.ConfigurationError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(soapkit.ConfigurationError, match=r"Agent\.Operation"):
        RetryPolicy(idempotent={"SaveContactEntity": True})
    with pytest.raises(soapkit.ConfigurationError, match="retries"):
        soapkit.connect("Cust12345", env="http://127.0.0.1:9", ticket="7T:x", retries=-1)


def _every_operation() -> list[tuple[str, str]]:
    from soapkit.catalog import PARTNER_SERVICE, default_catalog

    catalog = default_catalog()
    return [(service, operation) for service in catalog.services("Services88") if service != PARTNER_SERVICE
            for operation in catalog.describe(service, "Services88").operation_names]


def test_every_operation_of_every_agent_is_retried_or_reported_by_the_table() -> None:
    """Over the whole contract: a read is sent again on a 503, anything else is sent once and reported as
    OutcomeUnknown; the table's exceptions name real operations."""
    from soapkit.retry import NOT_IDEMPOTENT, READ_PREFIXES, is_read

    operations = _every_operation()
    assert len(operations) == 1964
    assert {f"{service}.{operation}" for service, operation in operations} >= NOT_IDEMPOTENT
    policy = RetryPolicy(attempts=2, backoff=0)
    reads = 0
    for service, operation in operations:
        read = is_read(service, operation)
        named_like_a_read = any((operation.startswith(prefix) and operation[len(prefix):len(prefix) + 1].isupper())
                                or operation == prefix for prefix in READ_PREFIXES)
        assert read == (named_like_a_read and f"{service}.{operation}" not in NOT_IDEMPOTENT), operation
        assert not (read and operation.startswith(("Save", "Delete", "Set", "Send", "Update", "Remove", "Add"))), \
            operation
        driver = _Scripted([_answer(503), _answer(503)])
        expected = soapkit.HttpError if read else OutcomeUnknown
        with pytest.raises(expected):
            driver.run(agent_call(_settings(policy), service, operation, (), {}))
        assert len(driver.sent) == (2 if read else 1), f"{service}.{operation}"
        assert all(request.headers.get("SOAPAction", "").strip('"').endswith(f"/{service}/{operation}")
                   for request in driver.sent)
        reads += read
    assert 900 < reads < 1300  # the table classifies about half the contract as reads
