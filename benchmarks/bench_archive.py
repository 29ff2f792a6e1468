"""Archive export, client side: CPU per row for soapkit (compiled codec), soapkit on zeep, plain zeep and the floor.

Run: ``python benchmarks/bench_archive.py [--quick]`` (or through ``python benchmarks/run.py``). The sandbox runs in
a process of its own (benchmarks/bench_sandbox.py) seeded with 20,100 companies; every contender exports the same
rows (``contactId``, ``name``, ``orgnr``, ``registeredDate``) in pages of 1,000, and only this process's CPU time is
counted, so the figures are the client's cost per row:

* the floor: ``requests`` posts the recorded page requests, lxml parses each answer into dicts per row;
* plain zeep: ``ArchiveAgent.GetArchiveListByColumns`` through ``zeep.Client`` on the shipped WSDL;
* soapkit on zeep (``codec="zeep"``) and soapkit (the compiled codec, the default): ``so.archive(...)``, rows
  decoded into Python values.

The run checks that soapkit's rows equal soapkit-on-zeep's, and reports the peak memory of iterating the export
(tracemalloc, rows not kept) for two sizes, to show it stays flat in the number of rows. Never a test assert.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import requests  # noqa: E402
from _figures import Figure  # noqa: E402
from bench_sandbox import PAGE_SIZE, sandbox_process  # noqa: E402
from lxml import etree  # noqa: E402

import soapkit  # noqa: E402

GROUP = "archive export (client)"
COLUMNS = ["contactId", "name", "orgnr", "registeredDate"]
NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"


def _client(info: dict[str, Any], codec: str) -> Any:
    return soapkit.connect(info["ctx"], env=info["base_url"], app_token=info["app_token"], ticket=info["ticket"],
                           codec=codec, retries=0)


def _soapkit_rows(info: dict[str, Any], codec: str, keep: bool = True) -> tuple[float, list[Any], int]:
    so = _client(info, codec)
    list(so.archive("Contact", COLUMNS, page_size=PAGE_SIZE, total=None))[:1]  # warm: model, codec, tenant
    started = time.process_time()
    rows: list[Any] = []
    count = 0
    for row in so.archive("Contact", COLUMNS, page_size=PAGE_SIZE):
        count += 1
        if keep:
            rows.append(row)
    return time.process_time() - started, rows, count


def _recorded_request(info: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    recorder = soapkit.Recorder()
    so = soapkit.connect(info["ctx"], env=info["base_url"], app_token=info["app_token"], ticket=info["ticket"],
                         recorder=recorder)
    next(iter(so.archive("Contact", COLUMNS, page_size=PAGE_SIZE)))
    exchange = [e for e in recorder.exchanges if e.is_call][-1]
    return exchange.url, dict(exchange.request_headers), exchange.request_body


def _floor(info: dict[str, Any]) -> tuple[float, int]:
    url, headers, body = _recorded_request(info)
    session = requests.Session()
    started = time.process_time()
    page, count = 0, 0
    while True:
        answer = session.post(url, data=body.replace(b">0</", f">{page}</".encode(), 1)
                              if page else body, headers=headers, timeout=120).content
        items = etree.fromstring(answer).iter(f"{{{NS}}}ArchiveListItem")
        got = 0
        for item in items:
            columns = item.find(f"{{{NS}}}ColumnData")
            row = {entry.findtext(f"{{{NS}}}Key"): entry.findtext(f"{{{NS}}}Value/{{{NS}}}DisplayValue")
                   for entry in (columns if columns is not None else ())}
            got += bool(row)
        count += got
        page += 1
        if got < PAGE_SIZE:
            return time.process_time() - started, count


def _plain_zeep(info: dict[str, Any]) -> tuple[float, int]:
    import zeep

    from soapkit.catalog import default_catalog

    client = zeep.Client(str(default_catalog().path("Archive")))
    proxy = client.create_service(f"{{{NS}}}BasicHttpBinding_Archive",
                                  f"{info['base_url']}/{info['ctx']}/Remote/Services88/Archive.svc")
    headers = {"ApplicationToken": info["app_token"], "Credentials": {"Ticket": info["ticket"]}}
    started = time.process_time()
    page, count = 0, 0
    while True:
        answer = proxy.GetArchiveListByColumns(ProviderName="Contact", Columns={"string": COLUMNS}, Page=page,
                                               PageSize=PAGE_SIZE, _soapheaders=headers)
        body = answer.body.Response if hasattr(answer, "body") else answer
        items = body.ArchiveListItem if body is not None else []
        count += len(items)
        page += 1
        if len(items) < PAGE_SIZE:
            return time.process_time() - started, count


def _peak_memory(info: dict[str, Any]) -> float:
    so = _client(info, "compiled")
    list(so.archive("Contact", COLUMNS, page_size=PAGE_SIZE))[:1]
    tracemalloc.start()
    for _row in so.archive("Contact", COLUMNS, page_size=PAGE_SIZE):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def measure(rows: int) -> dict[str, float]:
    with sandbox_process(rows, zeep_writes=False) as server:
        info = {**server.info, "base_url": server.info["base_url"]}
        ours, ours_rows, count = _soapkit_rows(info, "compiled")
        on_zeep, zeep_rows, _ = _soapkit_rows(info, "zeep")
        if ours_rows != zeep_rows:
            raise RuntimeError("the compiled codec's rows differ from zeep's")
        floor, floor_count = _floor(info)
        plain, plain_count = _plain_zeep(info)
        if not count == floor_count == plain_count:
            raise RuntimeError(f"row counts differ: soapkit {count}, floor {floor_count}, zeep {plain_count}")
        memory = _peak_memory(info)
    per_row = 1e6 / count
    return {"rows": count, "soapkit": ours * per_row, "soapkit on zeep": on_zeep * per_row,
            "plain zeep": plain * per_row, "floor": floor * per_row, "peak MB": memory}


def figures(quick: bool = False) -> list[Figure]:
    small = measure(2_100)
    large = small if quick else measure(20_100)
    return [
        Figure(GROUP, f"client CPU per row ({large['rows']:,.0f} rows, pages of {PAGE_SIZE})", large["soapkit"],
               "µs", baselines={"lxml floor": large["floor"], "plain zeep": large["plain zeep"],
                                "soapkit on zeep": large["soapkit on zeep"]}, target="<= 2x the floor"),
        Figure(GROUP, f"peak memory iterating {large['rows']:,.0f} rows", large["peak MB"], "MB",
               baselines={f"{small['rows']:,.0f} rows": small["peak MB"]}, target="flat in the number of rows"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,100 rows only")
    args = parser.parse_args(argv)
    for figure in figures(args.quick):
        ratios = ", ".join(f"{name} {value:.1f}" for name, value in figure.baselines.items())
        print(f"{figure.name}: {figure.value:.1f} {figure.unit}  ({ratios})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
