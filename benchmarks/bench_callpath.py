"""The whole client call path with no sockets: CPU per ``GetContactEntity`` against an in-memory transport.

Run: ``python benchmarks/bench_callpath.py [--quick]`` (or through ``python benchmarks/run.py``). Every contender
posts through one ``requests.Session`` on which :class:`RecordedAnswer` is mounted: a requests transport
adapter that answers each POST with the recorded response of ``GetContactEntity`` for the fully populated
company (6 persons, 3 e-mails, phones and faxes; recorded from the sandbox as benchmarks/bench_client.py does),
wrapped as urllib3 would hand it over from a socket. So there is no network, no server and no other process, and
the CPU time of this process per call (``time.process_time``) is the client's whole cost:

* the floor: ``requests`` posts a pre-built envelope, lxml parses the answer and turns ``Response`` into dicts
  (:func:`_figures.to_dicts`: no schema, no types);
* plain zeep: ``zeep.Client`` on the shipped Contact WSDL, its ``Transport`` on the same session, headers per call;
* soapkit on zeep (``codec="zeep"``) and soapkit (the compiled codec, the default): ``soapkit.connect`` with the
  session (Onsite address, a given ticket) and ``so.ContactAgent.GetContactEntity(1)``: argument binding,
  tenant and credential, the envelope, the driver, status and fault classification, decoding, values.

Before timing, every contender must read the company and send exactly one request per call, or the run is void.
The target (issue 13) is soapkit at most 2x the floor. Never a test assert.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import Figure, to_dicts
from bench_client import APP_TOKEN, ENV, NS, TICKET, recorded_response

GROUP = "client"
BASE = "http://callpath.invalid/SuperOffice/"  # never resolved: only the adapter answers it
ADDRESS = f"{BASE}Remote/Services88/Contact.svc"
NAME = "Fully Populated AS"
FLOOR = "raw requests + lxml"


class RecordedAnswer(HTTPAdapter):
    """A requests transport adapter that answers every POST with ``answer`` (HTTP 200, text/xml), in memory.

    The answer is handed to requests as a urllib3 response over a byte buffer, as :class:`HTTPAdapter` builds one
    from a socket, so streaming reads, ``.content`` and header handling run as they do on the wire. Anything but
    a POST with a body is answered 405 (a contender that sends something else fails its check). ``requests``
    counts what was sent, ``last_body`` keeps the last request body for the checks.
    """

    def __init__(self, answer: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
        super().__init__()
        self.answer = answer
        self.content_type = content_type
        self.requests = 0
        self.last_body = b""

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float | None, float | None] | None = None, verify: bool | str = True,
             cert: Any = None, proxies: Mapping[str, str] | None = None) -> requests.Response:
        self.requests += 1
        body = request.body or b""
        self.last_body = body.encode() if isinstance(body, str) else bytes(body)
        if request.method == "POST" and self.last_body:
            status, content = 200, self.answer
        else:
            status, content = 405, b""
        raw = urllib3.HTTPResponse(body=io.BytesIO(content), status=status, reason="OK" if status == 200 else
                                   "Method Not Allowed", preload_content=False, decode_content=True,
                                   headers={"Content-Type": self.content_type, "Content-Length": str(len(content))},
                                   request_method=request.method, request_url=request.url)
        response = self.build_response(request, raw)
        if not stream:
            response.content  # noqa: B018 - read now, as HTTPAdapter does for a non-streamed request
        return response


def in_memory_session(answer: bytes) -> tuple[requests.Session, RecordedAnswer]:
    """A session whose every http:// and https:// request is answered by one :class:`RecordedAnswer`."""
    adapter = RecordedAnswer(answer)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter


def contenders(session: requests.Session) -> dict[str, Callable[[], object]]:
    """The four contenders, each making one GetContactEntity call through ``session``."""
    import zeep
    from lxml import etree

    import soapkit
    from soapkit.catalog import Catalog

    envelope = (f'<s:Envelope xmlns:s="{ENV}"><s:Header><ApplicationToken xmlns="{NS}">{APP_TOKEN}'
                f'</ApplicationToken><Credentials xmlns="{NS}"><Ticket>{TICKET}</Ticket></Credentials></s:Header>'
                f'<s:Body><GetContactEntity xmlns="{NS}"><ContactEntityId>1</ContactEntityId></GetContactEntity>'
                f"</s:Body></s:Envelope>").encode()
    raw_headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}/Contact/GetContactEntity"'}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)

    def floor() -> object:
        response = session.post(ADDRESS, data=envelope, headers=raw_headers, timeout=30)
        return to_dicts(etree.fromstring(response.content, parser).find(f".//{{{NS}}}Response"))

    plain = zeep.Client(str(Catalog().path("Contact")), transport=zeep.Transport(session=session))
    service = plain.create_service(f"{{{NS}}}BasicHttpBinding_Contact", ADDRESS)
    headers = {"ApplicationToken": APP_TOKEN, "Credentials": {"Ticket": TICKET}}

    def plain_zeep() -> object:
        return service.GetContactEntity(1, _soapheaders=headers)

    def client(codec: str) -> Callable[[], object]:
        so = soapkit.connect(env=soapkit.Onsite(BASE), app_token=APP_TOKEN, ticket=TICKET, session=session,
                             codec=codec)
        return lambda: so.ContactAgent.GetContactEntity(1)

    return {FLOOR: floor, "plain zeep": plain_zeep, "soapkit on zeep": client("zeep"), "soapkit": client("compiled")}


def name_read(result: Any) -> Any:
    """The company name a contender's result holds (dicts from the floor, zeep objects, soapkit's values)."""
    if isinstance(result, dict):
        return result.get("Name")
    body = getattr(result, "body", result)  # plain zeep: the envelope's body when the answer has headers
    return getattr(getattr(body, "Response", body), "Name", None)


def check(calls: Mapping[str, Callable[[], object]], adapter: RecordedAnswer) -> None:
    """Each contender reads the company, sends one request per call, and that request asks for it with the
    ticket; otherwise its figure would time something else."""
    for name, call in calls.items():
        before = adapter.requests
        found = name_read(call())
        if found != NAME:
            raise RuntimeError(f"{name} read {found!r}, not {NAME!r}")
        if adapter.requests - before != 1:
            raise RuntimeError(f"{name} sent {adapter.requests - before} requests for one call")
        if b"GetContactEntity" not in adapter.last_body or TICKET.encode() not in adapter.last_body:
            raise RuntimeError(f"{name} did not send a GetContactEntity request carrying the ticket")


def cpu_per_call(call: Callable[[], object], iterations: int) -> float:
    """CPU seconds per call over ``iterations`` calls (process time: the client's cost, not the machine's load)."""
    started = time.process_time()
    for _ in range(iterations):
        call()
    return (time.process_time() - started) / iterations


def measure(calls: Mapping[str, Callable[[], object]], iterations: int, rounds: int) -> dict[str, float]:
    """The best of ``rounds`` rounds per contender; the contenders take turns within a round, so a burst of
    load from elsewhere falls on all of them alike."""
    best = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            best[name] = min(best[name], cpu_per_call(call, iterations))
    return best


def run(quick: bool = False) -> tuple[dict[str, float], int]:
    """Seconds of CPU per call for every contender, and the answer's size in bytes."""
    answer = recorded_response()
    session, adapter = in_memory_session(answer)
    calls = contenders(session)
    check(calls, adapter)
    iterations, rounds = (5, 1) if quick else (200, 5)
    for call in calls.values():  # warm: every contender's first calls build models and caches
        for _ in range(2 if quick else 20):
            call()
    return measure(calls, iterations, rounds), len(answer)


def figures(quick: bool = False) -> list[Figure]:
    times, size = run(quick)
    ms = {name: seconds * 1e3 for name, seconds in times.items()}
    mine = ms.pop("soapkit")
    return [Figure(GROUP, "whole call path, in-memory transport (CPU per GetContactEntity)", mine, "ms",
                   baselines={FLOOR: ms.pop(FLOOR), **ms}, target="<= 2x the floor",
                   note=f"fully populated company, response {size:,} bytes; no sockets")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few calls only")
    args = parser.parse_args(argv)
    times, size = run(args.quick)
    print(f"GetContactEntity, response {size:,} bytes, CPU per call (in-memory transport):")
    for name, seconds in times.items():
        print(f"  {name:20} {seconds * 1e3:7.3f} ms   {seconds / times[FLOOR]:5.2f}x the floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
