"""Cross-process single flight: 1000 calls from 16 threads in each of 4 processes, one exchange per tenant.

Each worker process builds its own credential objects and its own connection to the shared cache (a
folder or a Redis server), waits for a common start signal, then its 16 threads call ``token()`` for two
tenants. Every exchange appends a line to a counter file (``O_APPEND`` writes are atomic), so the count
is independent of what any single process believes. The end-to-end version against the sandbox is in
``test_cache_sandbox.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROCESSES, THREADS, CALLS = 4, 16, 1000
TENANTS = ("Cust1", "Cust2")

WORKER = textwrap.dedent("""
    import json, os, sys, threading, time
    from soapkit.credentials.base import AuthContext, Credential, IssuedCredential
    from soapkit.credentials.caches import open_cache
    from soapkit.tenant import Environment

    spec, counter, ready, go, calls, threads, tenants = (sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4],
                                                         int(sys.argv[5]), int(sys.argv[6]), sys.argv[7].split(","))

    class SlowExchange(Credential):
        kind = "system_user"
        def identity(self):
            return "svc"
        def fetch(self, context):
            time.sleep(0.2)  # a slow exchange widens the window in which others could fetch too
            fd = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, f"{context.context_identifier} {os.getpid()}\\n".encode())
            os.close(fd)
            return IssuedCredential(f"7T:{context.context_identifier}-{os.getpid()}", time.time() + 3600)

    credential = SlowExchange(cache=open_cache(spec))
    contexts = [AuthContext(Environment.resolve("sod"), t, "s", None, None, None) for t in tenants]
    seen, errors, lock = set(), [], threading.Lock()

    def work(index):
        try:
            for call in range(index, calls, threads):
                value = credential.token(contexts[call % len(contexts)])
                with lock:
                    seen.add(value)
        except BaseException as error:
            errors.append(repr(error))

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.005)
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    print(json.dumps({"fetches": credential.fetch_count, "seen": sorted(seen), "errors": errors}))
""")


def run_fleet(spec: str, folder: Path) -> tuple[Counter[str], list[dict[str, object]]]:
    counter, go = folder / "exchanges.log", folder / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    per_process = CALLS // PROCESSES
    processes = [
        subprocess.Popen([sys.executable, "-c", WORKER, spec, str(counter), str(folder / f"ready-{n}"), str(go),
                          str(per_process), str(THREADS), ",".join(TENANTS)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while len(list(folder.glob("ready-*"))) < PROCESSES:
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        time.sleep(0.01)
    go.touch()
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    exchanges = Counter(line.split()[0] for line in counter.read_text().splitlines())
    return exchanges, reports


def assert_one_exchange_per_tenant(exchanges: Counter[str], reports: list[dict[str, object]]) -> None:
    assert exchanges == Counter({tenant: 1 for tenant in TENANTS})
    assert sum(int(r["fetches"]) for r in reports) == len(TENANTS)  # type: ignore[call-overload]
    assert not any(r["errors"] for r in reports)
    # every process saw exactly the one ticket per tenant that was fetched, whoever fetched it
    seen = {value for r in reports for value in r["seen"]}  # type: ignore[attr-defined]
    assert len(seen) == len(TENANTS)


def test_file_cache_fleet_exchanges_once_per_tenant(tmp_path: Path) -> None:
    exchanges, reports = run_fleet(f"file:{tmp_path / 'cache'}", tmp_path)
    assert_one_exchange_per_tenant(exchanges, reports)


def test_redis_cache_fleet_exchanges_once_per_tenant(tmp_path: Path) -> None:
    pytest.importorskip("redis", reason="the redis package is not installed (pip install 'soapkit[test]')")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
    from test_cache_redis import start_redis

    server, url = start_redis(tmp_path)
    try:
        exchanges, reports = run_fleet(url, tmp_path)
    finally:
        server.terminate()
        server.wait(10)
    assert_one_exchange_per_tenant(exchanges, reports)


def test_without_a_shared_cache_every_process_exchanges(tmp_path: Path) -> None:
    # The control: the same fleet with per-process memory caches fetches once per tenant per process,
    # which shows the counting above can see duplicates.
    exchanges, _ = run_fleet("memory", tmp_path)
    assert exchanges == Counter({tenant: PROCESSES for tenant in TENANTS})
