"""The sandbox under load: server CPU per call, Archive pages, saves per second, 64 clients at once.

Run: ``python benchmarks/bench_sandbox.py [--quick]`` (or through ``python benchmarks/run.py``). The sandbox runs
in a process of its own, so its CPU time is read from ``/proc`` without the client's; the client replays
envelopes recorded once through soapkit with bare ``http.client`` (keep-alive), so it costs the server's
machine as little as possible. Each figure is measured twice in one run: with the sandbox as shipped, and
with ``SOAPKIT_SANDBOX_RENDER=zeep`` (zeep writing every response, as before the sandbox's own writer) as
the baseline.

The contact read is the issue's fully populated ``ContactEntity``: 6 persons, 3 e-mails, phones and faxes.
The Archive export is samples/05_export_changed_contacts.py's query (5 columns, ordered by contactId) over
20,100 companies in pages of 1,000 (2,100 with ``--quick``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import Figure, process_cpu_seconds

GROUP = "sandbox"
EXPORT_COLUMNS = ["contactId", "name", "department", "registeredDate", "updatedDate"]  # samples/05's columns
PAGE_SIZE = 1000

#: the sandbox process: seeds the tenant, prints what the client needs as one JSON line, serves until stdin ends
SERVER = r"""
import json, sys
from soapkit.sandbox import Sandbox
data_dir, companies = sys.argv[1], int(sys.argv[2])
sandbox = Sandbox(data_dir, port=0, reset=True).start()
element = lambda value: {"Value": value, "StrippedValue": value, "Description": "work"}
full = {"Name": "Fully Populated AS", "Department": "Sales", "OrgNr": "987654321",
        "Emails": [element(f"post{i}@full.example") for i in range(3)],
        "Phones": [element(f"+47 2222 000{i}") for i in range(3)],
        "Faxes": [element(f"+47 3333 000{i}") for i in range(3)]}
given = sandbox.load_seed(None, {"contacts": [full]})
contact_id = given["contacts"][0]
sandbox.load_seed(None, {"persons": [{"Firstname": f"Person{i}", "Lastname": "Populated",
                                      "Contact": {"ContactId": contact_id}} for i in range(6)]})
existing = 6  # the seed's companies and the populated one
batch = [{"Name": f"Company {i:05d}", "Department": "Dept", "OrgNr": str(100000 + i)}
         for i in range(max(companies - existing, 0))]
if batch:
    sandbox.load_seed(None, {"contacts": batch})
config = sandbox.config
print(json.dumps({"base_url": sandbox.base_url, "ctx": config["context_identifier"],
                  "app_token": config["client_secret"], "ticket": sandbox.issue_ticket(),
                  "contact_id": contact_id}), flush=True)
sys.stdin.read()
sandbox.stop()
"""


@dataclass
class Recorded:
    """One request as soapkit sent it, replayable byte for byte."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    process: subprocess.Popen[str]
    host: str
    port: int
    info: dict[str, Any]

    def cpu(self) -> float | None:
        return process_cpu_seconds(self.process.pid)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=120)


@contextmanager
def sandbox_process(companies: int, *, zeep_writes: bool) -> Iterator[Server]:
    env = dict(os.environ)
    env.pop("SOAPKIT_SANDBOX_CHECK_RENDER", None)  # the test suite's double writing is not what users run
    if zeep_writes:
        env["SOAPKIT_SANDBOX_RENDER"] = "zeep"
    else:
        env.pop("SOAPKIT_SANDBOX_RENDER", None)
    with tempfile.TemporaryDirectory(prefix="soapkit-bench-sandbox-") as folder:
        process = subprocess.Popen([sys.executable, "-c", SERVER, folder, str(companies)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the sandbox process did not start (see its stderr above)")
            info = json.loads(line)
            where = urlsplit(info["base_url"])
            yield Server(process, where.hostname or "127.0.0.1", where.port or 80, info)
        finally:
            if process.stdin:
                process.stdin.close()
            process.wait(timeout=30)


def record(server: Server) -> dict[str, Recorded]:
    """The three requests of the benchmark, built and sent once by soapkit (so they are what soapkit sends)."""
    import soapkit
    from soapkit.debug import Recorder

    info, recorder = server.info, Recorder()
    so = soapkit.connect(info["ctx"], env=info["base_url"], app_token=info["app_token"], ticket=info["ticket"],
                         recorder=recorder)
    recorded: dict[str, Recorded] = {}

    def keep(name: str) -> None:
        exchange = recorder.exchanges[-1]
        assert exchange.status == 200, exchange.response_body[:500]
        url = urlsplit(exchange.url)
        recorded[name] = Recorded(url.path + (f"?{url.query}" if url.query else ""),
                                  dict(exchange.request_headers), bytes(exchange.request_body))

    with so:
        entity = so.ContactAgent.GetContactEntity(info["contact_id"])
        assert len(entity["Persons"] or []) == 6 and len(entity["Emails"] or []) == 3, entity
        keep("get")
        so.ArchiveAgent.GetArchiveListByColumns(
            ProviderName="Contact", Columns={"string": EXPORT_COLUMNS},
            SortOrder={"ArchiveOrderByInfo": [{"Name": "contactId", "Direction": "ASC"}]},
            Restriction={"ArchiveRestrictionInfo": []}, Entities={"string": []}, Page=0, PageSize=PAGE_SIZE)
        keep("archive")
        so.ContactAgent.SaveContactEntity({"ContactId": 0, "Name": "Saved AS", "Department": "Bench"})
        keep("save")
    return recorded


_PAGE = re.compile(rb"(<(?:[A-Za-z0-9_]+:)?Page>)0(</)")


def archive_page(recorded: Recorded, page: int) -> Recorded:
    """The recorded page-0 request asking for page ``page`` instead."""
    body, replaced = _PAGE.subn(rb"\g<1>%d\g<2>" % page, recorded.body, count=1)
    assert replaced == 1, "the recorded Archive request has no <Page>0</Page>"
    return Recorded(recorded.path, recorded.headers, body)


def send(connection: http.client.HTTPConnection, request: Recorded) -> bytes:
    connection.request("POST", request.path, request.body, request.headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200 or b"<Succeeded>false" in body or b":Succeeded>false" in body:
        raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
    return body


def per_call(server: Server, request: Recorded, count: int) -> tuple[float, float | None]:
    """Wall seconds and server CPU seconds per call, ``count`` calls on one keep-alive connection."""
    connection = server.connection()
    send(connection, request)  # warm: the operation's plan compiled, the connection open
    cpu_before, started = server.cpu(), time.perf_counter()
    for _ in range(count):
        send(connection, request)
    wall = (time.perf_counter() - started) / count
    cpu_after = server.cpu()
    connection.close()
    cpu = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / count
    return wall, cpu


def export_pages(server: Server, request: Recorded, rows: int) -> tuple[float, float | None, int]:
    """Wall and server CPU seconds per page for the whole export, and the number of rows read."""
    connection = server.connection()
    send(connection, request)
    pages, read = 0, 0
    cpu_before, started = server.cpu(), time.perf_counter()
    while True:
        body = send(connection, archive_page(request, pages))
        count = body.count(b"ArchiveListItem>") // 2
        read += count
        pages += 1
        if count < PAGE_SIZE:
            break
    wall = (time.perf_counter() - started) / pages
    cpu_after = server.cpu()
    connection.close()
    if read != rows:
        raise RuntimeError(f"the export read {read} rows, the tenant has {rows}")
    cpu = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / pages
    return wall, cpu, read


def concurrently(server: Server, request: Recorded, clients: int, calls_each: int) -> tuple[float, int]:
    """Calls per second with ``clients`` connections at once, and how many calls failed (0 expected)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        connection = server.connection()
        try:
            barrier.wait()
            for _ in range(calls_each):
                send(connection, request)
        except BaseException as error:  # counted and reported, never hidden
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return clients * calls_each / elapsed, len(errors)


def measure(quick: bool, *, zeep_writes: bool) -> dict[str, float]:
    rows = 2_100 if quick else 20_100
    n = 20 if quick else 300
    with sandbox_process(rows, zeep_writes=zeep_writes) as server:
        recorded = record(server)
        rows += 1  # the SaveContactEntity recorded above created one
        get_wall, get_cpu = per_call(server, recorded["get"], n)
        page_wall, page_cpu, _ = export_pages(server, recorded["archive"], rows)
        save_wall, save_cpu = per_call(server, recorded["save"], n)
        rate_64, errors_64 = concurrently(server, recorded["get"], 64, 2 if quick else 10)
        save_rate_8, save_errors = concurrently(server, recorded["save"], 8, 5 if quick else 100)
    result = {"get_cpu_ms": (get_cpu or 0) * 1000, "get_wall_ms": get_wall * 1000,
              "page_wall_ms": page_wall * 1000, "page_cpu_ms": (page_cpu or 0) * 1000,
              "save_per_s": 1 / save_wall, "save_cpu_ms": (save_cpu or 0) * 1000,
              "save_per_s_8": save_rate_8, "calls_per_s_64": rate_64, "errors_64": float(errors_64 + save_errors)}
    return result


def figures(quick: bool = False) -> list[Figure]:
    now = measure(quick, zeep_writes=False)
    before = measure(quick, zeep_writes=True)
    zeep = "zeep-written responses"

    def figure(name: str, key: str, unit: str, better: str = "lower", target: str = "", note: str = "") -> Figure:
        return Figure(GROUP, name, now[key], unit, better, {zeep: before[key]}, target, note)

    return [
        figure("server CPU per GetContactEntity (populated)", "get_cpu_ms", "ms", target="<= 2 ms"),
        figure("GetContactEntity round trip, 1 client", "get_wall_ms", "ms"),
        figure(f"Archive page of {PAGE_SIZE:,} rows (export, wall per page)", "page_wall_ms", "ms",
               target="<= 100 ms", note=f"{len(EXPORT_COLUMNS)} columns, {'2,100' if quick else '20,100'} rows"),
        figure(f"Archive page of {PAGE_SIZE:,} rows, server CPU", "page_cpu_ms", "ms"),
        figure("SaveContactEntity per second, 1 client", "save_per_s", "calls/s", "higher", ">= 500/s"),
        figure("SaveContactEntity per second, 8 clients", "save_per_s_8", "calls/s", "higher", ">= 500/s"),
        figure("server CPU per SaveContactEntity", "save_cpu_ms", "ms"),
        figure("GetContactEntity calls/s, 64 clients at once", "calls_per_s_64", "calls/s", "higher"),
        figure("failed calls with 64 (and 8 saving) clients", "errors_64", "errors", target="0"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rows and calls (proves it runs)")
    args = parser.parse_args(argv)
    for item in figures(args.quick):
        base = ", ".join(f"{k}: {v:,.2f}" for k, v in item.baselines.items())
        print(f"{item.name}: {item.value:,.2f} {item.unit} ({base}) {item.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
