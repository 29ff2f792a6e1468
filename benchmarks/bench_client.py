"""Client calls per second against a canned local server: the raw floor, plain zeep and soapkit side by side.

Run: ``python benchmarks/bench_client.py [--quick]`` (or through ``python benchmarks/run.py``). The canned server is
a plain ``http.server`` on 127.0.0.1 that answers every POST with one recorded response: the sandbox's answer
to ``GetContactEntity`` for the fully populated company (6 persons, 3 e-mails, phones and faxes), recorded at
the start of the run. It does no work of its own, so the figures are the clients' cost:

* raw ``requests`` + lxml: post a prebuilt envelope, parse the answer and turn ``Response`` into dicts
  (no schema, no validation: the floor);
* plain zeep: ``zeep.Client`` on the same WSDL, headers given per call;
* soapkit: ``soapkit.connect`` (Onsite address, a given ticket) and ``so.ContactAgent.GetContactEntity``.

Each contender makes the same calls from 1 thread and from 64 threads sharing one client (as an
application would share it).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import Figure, to_dicts

GROUP = "client"
NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
APP_TOKEN, TICKET = "bench-app-token", "7T:bench-ticket"


def recorded_response() -> bytes:
    """The sandbox's GetContactEntity response for a fully populated company, as it went over the wire."""
    import soapkit
    from soapkit.debug import Recorder
    from soapkit.sandbox import Sandbox

    def element(value: str) -> dict[str, str]:
        return {"Value": value, "StrippedValue": value, "Description": "work"}

    with tempfile.TemporaryDirectory(prefix="soapkit-bench-client-") as folder, Sandbox(folder, port=0) as sandbox:
        full = {"Name": "Fully Populated AS", "Department": "Sales", "OrgNr": "987654321",
                "Emails": [element(f"post{i}@full.example") for i in range(3)],
                "Phones": [element(f"+47 2222 000{i}") for i in range(3)],
                "Faxes": [element(f"+47 3333 000{i}") for i in range(3)]}
        contact_id = sandbox.load_seed(None, {"contacts": [full]})["contacts"][0]
        sandbox.load_seed(None, {"persons": [{"Firstname": f"P{i}", "Lastname": "Populated",
                                              "Contact": {"ContactId": contact_id}} for i in range(6)]})
        config, recorder = sandbox.config, Recorder()
        with soapkit.connect(config["context_identifier"], env=config["base_url"], app_token=config["client_secret"],
                             ticket=sandbox.issue_ticket(), recorder=recorder) as so:
            so.ContactAgent.GetContactEntity(contact_id)
        return bytes(recorder.exchanges[-1].response_body)


class _Canned(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answer = b""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                f"Content-Length: {len(self.answer)}\r\n\r\n").encode()
        self.wfile.write(head + self.answer)  # one write: no Nagle/delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def canned_server(answer: bytes) -> Iterator[str]:
    handler = type("CannedHandler", (_Canned,), {"answer": answer})
    server_class = type("CannedServer", (ThreadingHTTPServer,), {"request_queue_size": 256, "daemon_threads": True})
    server = server_class(("127.0.0.1", 0), handler)  # a backlog for 64 clients connecting at once
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/SuperOffice/"
    finally:
        server.shutdown()
        server.server_close()




def contenders(base: str) -> dict[str, Callable[[], object]]:
    import requests
    import zeep
    from lxml import etree

    import soapkit
    from soapkit.catalog import Catalog

    address = f"{base}Remote/Services88/Contact.svc"
    envelope = (f'<s:Envelope xmlns:s="{ENV}"><s:Header><ApplicationToken xmlns="{NS}">{APP_TOKEN}'
                f'</ApplicationToken><Credentials xmlns="{NS}"><Ticket>{TICKET}</Ticket></Credentials></s:Header>'
                f'<s:Body><GetContactEntity xmlns="{NS}"><ContactEntityId>1</ContactEntityId></GetContactEntity>'
                f"</s:Body></s:Envelope>").encode()
    session = requests.Session()
    raw_headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}/Contact/GetContactEntity"'}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)

    def raw() -> object:
        response = session.post(address, data=envelope, headers=raw_headers, timeout=30)
        root = etree.fromstring(response.content, parser)
        return to_dicts(root.find(f".//{{{NS}}}Response"))

    plain = zeep.Client(str(Catalog().path("Contact")))
    service = plain.create_service(f"{{{NS}}}BasicHttpBinding_Contact", address)
    headers = {"ApplicationToken": APP_TOKEN, "Credentials": {"Ticket": TICKET}}

    def plain_zeep() -> object:
        return service.GetContactEntity(1, _soapheaders=headers)

    so = soapkit.connect(env=soapkit.Onsite(base), app_token=APP_TOKEN, ticket=TICKET)

    def with_soapkit() -> object:
        return so.ContactAgent.GetContactEntity(1)

    for check in (raw, plain_zeep, with_soapkit):  # every contender reads the company, or the run is void
        result: Any = check()
        if not isinstance(result, dict):  # zeep: the envelope's body (with its headers), or the response itself
            body = getattr(result, "body", result)
            result = {"Name": getattr(getattr(body, "Response", body), "Name", None)}
        name = result["Name"]
        if name != "Fully Populated AS":
            raise RuntimeError(f"{check.__name__} read {name!r}")
    return {"raw requests + lxml": raw, "plain zeep": plain_zeep, "soapkit": with_soapkit}


def calls_per_second(call: Callable[[], object], threads: int, calls_each: int) -> float:
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(calls_each):
                call()
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} of {threads} threads failed: {errors[0]!r}")
    return threads * calls_each / elapsed


def figures(quick: bool = False) -> list[Figure]:
    answer = recorded_response()
    found = []
    with canned_server(answer) as base:
        calls = contenders(base)
        for threads, calls_each in ((1, 20 if quick else 400), (64, 1 if quick else 10)):
            rates = {name: calls_per_second(call, threads, calls_each) for name, call in calls.items()}
            floor = rates.pop("raw requests + lxml")
            found.append(Figure(GROUP, f"calls/s against the canned server, {threads} thread{'s' * (threads > 1)}",
                                rates.pop("soapkit"), "calls/s", "higher",
                                {"raw requests + lxml": floor, **rates},
                                note=f"response {len(answer):,} bytes"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few calls only")
    args = parser.parse_args(argv)
    for item in figures(args.quick):
        base = ", ".join(f"{k}: {v:,.0f}" for k, v in item.baselines.items())
        print(f"{item.name}: soapkit {item.value:,.0f} {item.unit} ({base})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
