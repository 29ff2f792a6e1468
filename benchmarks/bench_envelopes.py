"""Side-by-side cost of building a request and reading a response: soapkit vs plain zeep vs raw lxml.

"soapkit" is what calls use by default (the compiled codec), "soapkit on zeep" its ``codec="zeep"`` path.

Run: ``python benchmarks/bench_envelopes.py [--iterations N]``. Prints per-operation times and the ratio
of each contender to raw lxml (the floor: no schema, no validation) in one process, one run, so the
numbers are comparable on whatever machine runs them. ``benchmarks/baseline.json`` holds the ratios of
a reference run; ``--compare`` prints how this run's ratios differ from it. Never used as a test assert.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zeep
from lxml import etree

from soapkit.agents import unwrap
from soapkit.catalog import Catalog
from soapkit.codec import compiled
from soapkit.headers import SuperOfficeHeaders
from soapkit.values.codec import codec_for

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ADDRESS = "http://127.0.0.1:9/Cust12345/Remote/Services88/Contact.svc"
BASELINE = Path(__file__).with_name("baseline.json")


def _response_bytes(catalog: Catalog) -> bytes:
    operation = catalog.describe("Contact").operation("GetContactEntity")
    value = {"ContactId": 5, "Name": "Acme AS", "Department": "Sales", "OrgNr": "987654321"}
    return etree.tostring(operation.output.serialize(Response=value, _soapheaders={"Succeeded": True}).content)


def contenders(catalog: Catalog) -> dict[str, dict[str, Callable[[], object]]]:
    plugin = SuperOfficeHeaders("app-secret", ticket=lambda: "7T:ticket")
    so_client, so_proxy = catalog.bind("Contact", ADDRESS, "GetContactEntity", plugins=[plugin])
    plain = zeep.Client(str(catalog.path("Contact")))
    plain_proxy = plain.create_service(f"{{{NS}}}BasicHttpBinding_Contact", ADDRESS)
    headers = {"ApplicationToken": "app-secret", "Credentials": {"Ticket": "7T:ticket"}}
    answer = _response_bytes(catalog)
    operation = catalog.describe("Contact").operation("GetContactEntity")

    def raw_request() -> bytes:
        envelope = etree.Element(f"{{{ENV}}}Envelope", nsmap={"s": ENV, "so": NS})
        header = etree.SubElement(envelope, f"{{{ENV}}}Header")
        etree.SubElement(header, f"{{{NS}}}ApplicationToken").text = "app-secret"
        credentials = etree.SubElement(header, f"{{{NS}}}Credentials")
        etree.SubElement(credentials, f"{{{NS}}}Ticket").text = "7T:ticket"
        body = etree.SubElement(envelope, f"{{{ENV}}}Body")
        etree.SubElement(etree.SubElement(body, f"{{{NS}}}GetContactEntity"), f"{{{NS}}}ContactEntityId").text = "5"
        return etree.tostring(envelope)

    def raw_response() -> str | None:
        root = etree.fromstring(answer)
        return root.findtext(f".//{{{NS}}}Response/{{{NS}}}Name")

    description = catalog.describe("Contact")
    codec = compiled(description, "GetContactEntity")
    values = codec_for(description).inputs("GetContactEntity").bind((5,), {})
    return {
        "build request": {
            "lxml": raw_request,
            "zeep": lambda: plain.create_message(plain_proxy, "GetContactEntity", 5, _soapheaders=headers),
            "soapkit on zeep": lambda: so_client.create_message(so_proxy, "GetContactEntity", 5),
            "soapkit": lambda: codec.encode(values, headers),
        },
        "read response": {
            "lxml": raw_response,
            "zeep": lambda: operation.output.deserialize(etree.fromstring(answer)),
            "soapkit on zeep": lambda: unwrap(operation.output.deserialize(etree.fromstring(answer))),
            "soapkit": lambda: unwrap(codec.decode(answer)),
        },
    }


def measure(function: Callable[[], object], iterations: int) -> float:
    function()  # warm up
    started = time.perf_counter()
    for _ in range(iterations):
        function()
    return (time.perf_counter() - started) / iterations


def run(iterations: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for task, runners in contenders(Catalog()).items():
        results[task] = {name: measure(fn, iterations) for name, fn in runners.items()}
    return results


def ratios(results: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {task: {name: t / times["lxml"] for name, t in times.items()} for task, times in results.items()}


def figures(quick: bool = False) -> list[Any]:
    """For benchmarks/run.py: soapkit's time per envelope next to plain zeep's and raw lxml's, in one run."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _figures import Figure

    return [Figure("envelopes", f"{task}, GetContactEntity", times["soapkit"] * 1e6, "us",
                   baselines={"raw lxml": times["lxml"] * 1e6, "plain zeep": times["zeep"] * 1e6,
                              "soapkit on zeep": times["soapkit on zeep"] * 1e6},
                   note="a small ContactEntity; the floor writes or reads only what it needs, with no schema")
            for task, times in run(20 if quick else 2000).items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--compare", action="store_true", help="compare ratios with benchmarks/baseline.json")
    parser.add_argument("--write-baseline", action="store_true")
    args = parser.parse_args(argv)
    results = run(args.iterations)
    relative = ratios(results)
    baseline = json.loads(BASELINE.read_text()) if args.compare and BASELINE.exists() else {}
    for task, times in results.items():
        print(task)
        for name, seconds in times.items():
            line = f"  {name:16} {seconds * 1e6:9.1f} us   x{relative[task][name]:6.2f} of lxml"
            if task in baseline and name in baseline[task]:
                line += f"   (baseline x{baseline[task][name]:.2f})"
            print(line)
    if args.write_baseline:
        BASELINE.write_text(json.dumps(relative, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
