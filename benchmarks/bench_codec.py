"""The compiled codec side by side with plain zeep and the lxml floor, in one run.

Run: ``python benchmarks/bench_codec.py [--iterations N] [--json PATH]``. Decoding: a fully populated
``ContactEntity`` answer (6 persons, 3 e-mails, URLs, phones and faxes) read into objects, CPU time per call:
lxml parsed into plain dicts (the floor: no schema, no types), zeep's deserialisation alone ("plain zeep"),
today's soapkit path (zeep's binding with soapkit's plugins, plus shaping: "zeep") and :mod:`soapkit.codec`.
Encoding: a ``SaveContactEntity`` request of the same entity written by hand with lxml, by zeep with
soapkit's plugins, and by the codec. Ratios are to the floor. Never used as a test assert.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import to_dicts

from soapkit.catalog import Catalog
from soapkit.codec import compiled
from soapkit.codec.reference import zeep_reply, zeep_request
from soapkit.values.codec import codec_for

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
HEADERS = {"ApplicationToken": "app-secret", "Credentials": {"Ticket": "7T:ticket"}}


def entity() -> dict[str, Any]:
    """A fully populated ContactEntity as a caller writes it."""
    def elements(kind: str, n: int) -> list[dict[str, Any]]:
        return [{"Value": f"{kind}{i}@acme.example", "StrippedValue": f"{kind}{i}", "Description": f"{kind} {i}"}
                for i in range(n)]

    def person(i: int) -> dict[str, Any]:
        return {"Position": "Manager", "PersonId": 100 + i, "Mrmrs": "Ms", "Firstname": f"Ann{i}",
                "Lastname": "Nordmann", "MiddleName": "", "Title": "Dr", "Description": "key contact",
                "Email": f"ann{i}@acme.example", "FullName": f"Ann{i} Nordmann", "DirectPhone": "+47 22 00 00 00",
                "FormalName": f"Dr Ann{i} Nordmann", "CountryId": 578, "ContactId": 5, "ContactName": "Acme AS",
                "Retired": 0, "Rank": i, "ActiveInterests": 2, "ContactDepartment": "Sales", "ContactCountryId": 578,
                "ContactOrgNr": "987654321", "FaxPhone": "+47 22 00 00 01", "MobilePhone": "+47 900 00 000",
                "ContactPhone": "+47 22 00 00 02", "AssociateName": "Bob", "AssociateId": 7, "UsePersonAddress": False,
                "ContactFax": "+47 22 00 00 03", "Kanafname": "", "Kanalname": "", "Post1": "", "Post2": "",
                "Post3": "", "EmailName": f"Ann{i}", "ContactFullName": "Acme AS", "ActiveErpLinks": 0,
                "TicketPriorityId": 1, "SupportLanguageId": 1, "SupportAssociateId": 7, "CategoryName": "Customer"}

    return {
        "ContactId": 5, "Name": "Acme AS", "Department": "Sales", "OrgNr": "987654321", "Number1": "10001",
        "Number2": "A-7", "UpdatedDate": dt.datetime(2024, 5, 1, 12, 30), "CreatedDate": dt.datetime(2020, 1, 2, 8),
        "Emails": elements("mail", 3), "Urls": elements("url", 3), "Phones": elements("phone", 3),
        "Faxes": elements("fax", 3), "Description": "Our best customer", "Persons": [person(i) for i in range(6)],
        "NoMailing": False, "Kananame": "", "Xstop": False, "ActiveInterests": 3, "GroupId": 2,
        "ActiveStatusMonitorId": 0, "Deleted": 0, "DbiAgentId": 0, "DbiKey": "", "ActiveErpLinks": 0,
    }


def answer_bytes(catalog: Catalog) -> bytes:
    description = catalog.describe("Contact")
    operation = description.operation("GetContactEntity")
    values = codec_for(description).inputs("SaveContactEntity").bind((entity(),), {})
    return bytes(etree.tostring(operation.output.serialize(Response=values["ContactEntity"],
                                                           _soapheaders={"Succeeded": True}).content))


def lxml_to_dicts(content: bytes) -> Any:
    """The floor: parse, then every element into a dict of its children (lists for repeats), no types."""
    root = etree.fromstring(content)
    return to_dicts(root.find(f"{{{ENV}}}Body")[0])


def lxml_request() -> bytes:
    """The floor for writing: the same elements built by hand with lxml."""
    data = entity()
    envelope = etree.Element(f"{{{ENV}}}Envelope", nsmap={"soap-env": ENV})
    header = etree.SubElement(envelope, f"{{{ENV}}}Header")
    etree.SubElement(header, f"{{{NS}}}ApplicationToken").text = "app-secret"
    etree.SubElement(etree.SubElement(header, f"{{{NS}}}Credentials"), f"{{{NS}}}Ticket").text = "7T:ticket"
    body = etree.SubElement(etree.SubElement(envelope, f"{{{ENV}}}Body"), f"{{{NS}}}SaveContactEntity")

    def write(parent: Any, name: str, value: Any) -> None:
        node = etree.SubElement(parent, f"{{{NS}}}{name}")
        if isinstance(value, dict):
            for key, child in value.items():
                write(node, key, child)
        elif isinstance(value, list):
            for item in value:
                write(node, "Item", item)
        elif isinstance(value, bool):
            node.text = "true" if value else "false"
        else:
            node.text = value.isoformat() if isinstance(value, dt.datetime) else str(value)

    write(body, "ContactEntity", data)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def contenders(catalog: Catalog) -> dict[str, dict[str, Callable[[], object]]]:
    description = catalog.describe("Contact")
    operation = description.operation("GetContactEntity")
    content = answer_bytes(catalog)
    reader = compiled(description, "GetContactEntity")
    writer = compiled(description, "SaveContactEntity")
    values = codec_for(description).inputs("SaveContactEntity").bind((entity(),), {})
    mine, theirs = reader.decode(content).value, zeep_reply(description, "GetContactEntity", content).value
    if mine != theirs or len(mine.Persons) != 6 or len(mine.Emails) != 3 or len(mine.Faxes) != 3:
        raise SystemExit("the codec and zeep disagree on the benchmark's answer")
    if writer.encode(values, HEADERS) != zeep_request(description, "SaveContactEntity", values, HEADERS)[0]:
        raise SystemExit("the codec and zeep disagree on the benchmark's request")
    return {
        "decode ContactEntity": {
            "lxml": lambda: lxml_to_dicts(content),
            "plain zeep": lambda: operation.output.deserialize(etree.fromstring(content)),
            "zeep": lambda: zeep_reply(description, "GetContactEntity", content),
            "codec": lambda: reader.decode(content),
        },
        "encode SaveContactEntity": {
            "lxml": lxml_request,
            "zeep": lambda: zeep_request(description, "SaveContactEntity", values, HEADERS),
            "codec": lambda: writer.encode(values, HEADERS),
        },
    }


def measure(function: Callable[[], object], iterations: int) -> float:
    """CPU seconds per call (process time: what the call costs, not what else the machine does)."""
    function()
    started = time.process_time()
    for _ in range(iterations):
        function()
    return (time.process_time() - started) / iterations


def run(iterations: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for task, runners in contenders(Catalog(index_cache=False)).items():
        results[task] = {name: measure(fn, iterations) for name, fn in runners.items()}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    results = run(args.iterations)
    print(f"answer: {len(answer_bytes(Catalog(index_cache=False)))} bytes")
    report: dict[str, Any] = {}
    for task, times in results.items():
        print(task)
        report[task] = {}
        for name, seconds in times.items():
            ratio = seconds / times["lxml"]
            report[task][name] = {"seconds": seconds, "x_floor": ratio}
            print(f"  {name:10} {seconds * 1e3:8.3f} ms   x{ratio:6.2f} of lxml")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
