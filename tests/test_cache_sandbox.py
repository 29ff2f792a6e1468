"""End to end against the sandbox: real system-user exchanges, counted by the sandbox itself.

* 1000 calls from 16 threads in each of 4 processes, two tenants, clients built by ``soapkit.config``
  from settings naming a shared cache (a folder, then Redis): exactly one exchange per tenant.
* A ticket the server expires or revokes is dropped from the shared cache and replaced once; the other
  "processes" sharing the cache pick up the replacement without exchanging again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from soapkit.config import build_client, load_settings
from soapkit.credentials.caches import FileCache
from soapkit.sandbox import Sandbox

REPO = Path(__file__).resolve().parent.parent
PROCESSES, THREADS, CALLS = 4, 16, 1000
SECOND_TENANT = "Cust54321"

WORKER = textwrap.dedent("""
    import json, os, sys, threading, time
    from soapkit.config import build_client, load_settings

    job = json.loads(sys.argv[1])
    clients = [build_client(load_settings(tenant, use_config_file=False, environ={})) for tenant in job["tenants"]]
    errors, lock, names = [], threading.Lock(), set()

    def work(index):
        try:
            client = clients[index % len(clients)]
            names.add(client.ContactAgent.GetContactEntity(1).Name)  # one real agent call per thread
            for call in range(index + job["threads"], job["calls"], job["threads"]):
                clients[call % len(clients)].ticket()
        except BaseException as error:
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(job["threads"])]
    open(job["ready"], "w").close()
    while not os.path.exists(job["go"]):
        time.sleep(0.005)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"fetches": sum(c.credentials.fetch_count for c in clients), "errors": errors,
                      "names": sorted(n for n in names if n)}))
""")


class ExchangeCounter(logging.Handler):
    """Counts successful PartnerSystemUserService exchanges per tenant from the sandbox's request log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.ok: Counter[str] = Counter()
        self._lock_counts = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        entry = json.loads(record.getMessage())
        if str(entry.get("operation", "")).startswith("PartnerSystemUserService.Authenticate"):
            with self._lock_counts:
                self.ok[f"{entry.get('ctx')} {entry.get('outcome')}"] += 1


SYSTEM_USER_TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("sandbox"), port=0) as running:
        token = running.add_tenant(SECOND_TENANT)
        assert token is not None
        SYSTEM_USER_TOKENS.update({running.context_identifier: running.config["system_user_token"],
                                   SECOND_TENANT: token})
        yield running


@pytest.fixture
def exchanges() -> Iterator[ExchangeCounter]:
    logger = logging.getLogger("soapkit.sandbox.requests")
    counter, level = ExchangeCounter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.INFO)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(level)


def tenant_settings(sandbox: Sandbox, cache: str) -> list[dict[str, str]]:
    config = sandbox.config
    return [{"env": sandbox.base_url, "context_identifier": ctx, "app_token": config["client_secret"],
             "system_user_token": token, "private_key": config["private_key_pem"], "cache": cache}
            for ctx, token in SYSTEM_USER_TOKENS.items()]


def run_fleet(sandbox: Sandbox, cache: str, folder: Path) -> list[dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOAPKIT_")}
    env["PYTHONPATH"] = str(REPO)
    go = folder / "go"
    jobs = [json.dumps({"tenants": tenant_settings(sandbox, cache), "calls": CALLS // PROCESSES,
                        "threads": THREADS, "ready": str(folder / f"ready-{n}"), "go": str(go)})
            for n in range(PROCESSES)]
    processes = [subprocess.Popen([sys.executable, "-c", WORKER, job], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for job in jobs]
    deadline = time.monotonic() + 90
    while len(list(folder.glob("ready-*"))) < PROCESSES:
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), \
            [p.communicate() for p in processes]
        time.sleep(0.01)
    go.touch()
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def assert_one_exchange_per_tenant(sandbox: Sandbox, exchanges: ExchangeCounter,
                                   reports: list[dict[str, object]]) -> None:
    assert not [r["errors"] for r in reports if r["errors"]]
    assert exchanges.ok == Counter({f"{sandbox.context_identifier} ok": 1, f"{SECOND_TENANT} ok": 1})
    assert sum(int(r["fetches"]) for r in reports) == 2  # type: ignore[call-overload]
    assert all(r["names"] for r in reports)  # the agent calls worked with the shared tickets


def test_file_cache_fleet_against_the_sandbox(sandbox: Sandbox, exchanges: ExchangeCounter, tmp_path: Path) -> None:
    reports = run_fleet(sandbox, f"file:{tmp_path / 'credentials'}", tmp_path)
    assert_one_exchange_per_tenant(sandbox, exchanges, reports)


def test_redis_cache_fleet_against_the_sandbox(sandbox: Sandbox, exchanges: ExchangeCounter, tmp_path: Path) -> None:
    pytest.importorskip("redis", reason="the redis package is not installed (pip install 'soapkit[test]')")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
    from test_cache_redis import start_redis

    server, url = start_redis(tmp_path)
    try:
        reports = run_fleet(sandbox, url, tmp_path)
    finally:
        server.terminate()
        server.wait(10)
    assert_one_exchange_per_tenant(sandbox, exchanges, reports)


# --- the server says the ticket is no longer valid ------------------------------------------------------


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_rejected_ticket_is_replaced_once_for_everyone_sharing_the_cache(
    sandbox: Sandbox, exchanges: ExchangeCounter, tmp_path: Path, how: str
) -> None:
    folder = tmp_path / "credentials"
    first, second = (build_client(load_settings(tenant_settings(sandbox, f"file:{folder}")[0],
                                                use_config_file=False, environ={})) for _ in range(2))
    with first, second:
        assert first.ContactAgent.GetContactEntity(1) is not None
        stale = first.ticket()
        assert second.ticket() == stale and second.credentials.fetch_count == 0  # shared through the folder
        if how == "expired":
            assert sandbox.expire_credential(stale)
        else:
            assert sandbox.revoke_credential(stale)
        assert first.ContactAgent.GetContactEntity(1) is not None  # rejected, invalidated, retried once
        fresh = first.ticket()
        assert fresh != stale and first.credentials.fetch_count == 2
        assert second.ContactAgent.GetContactEntity(1) is not None  # sees the replacement, no exchange
        assert second.ticket() == fresh and second.credentials.fetch_count == 0
    assert exchanges.ok[f"{sandbox.context_identifier} ok"] == 2
    assert FileCache(folder).get(first.credentials.cache_key(first.context)).value == fresh  # type: ignore[union-attr]


def test_sixteen_threads_holding_an_expired_ticket_cause_one_new_exchange(
    sandbox: Sandbox, exchanges: ExchangeCounter, tmp_path: Path
) -> None:
    client = build_client(load_settings(tenant_settings(sandbox, f"file:{tmp_path / 'c'}")[0],
                                        use_config_file=False, environ={}))
    with client:
        stale = client.ticket()
        sandbox.expire_credential(stale)
        barrier, errors = threading.Barrier(16), []

        def call() -> None:
            barrier.wait()
            try:
                client.ContactAgent.GetContactEntity(1)
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=call) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors
    assert client.credentials.fetch_count == 2
    assert exchanges.ok[f"{sandbox.context_identifier} ok"] == 2
