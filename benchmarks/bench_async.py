"""Async throughput: soapkit's async client next to a floor of httpx.AsyncClient posting pre-built envelopes.

Run: ``python benchmarks/bench_async.py [--calls N] [--json FILE]``. Both contenders call the same canned local
server (an asyncio server on 127.0.0.1 answering every POST with one recorded ``GetContactEntity`` response, every
GET with the tenant's state) at concurrency 1, 8, 32 and 64, in one process and one run, so the ratio is
comparable on whatever machine runs it. The floor builds nothing and parses nothing: it is what the network
and httpx cost. soapkit does the whole call: check the arguments, locate the tenant (cached), take the
credential (cached), build the envelope, send, classify, decode into plain values. Never a test assert.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

import soapkit

CONCURRENCY = (1, 8, 32, 64)
NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ANSWER = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>'
    f'<Succeeded xmlns="{NS}">true</Succeeded></s:Header><s:Body>'
    f'<GetContactEntityResponse xmlns="{NS}"><Response><ContactId>5</ContactId><Name>Acme AS</Name>'
    "<Department>Sales</Department><OrgNr>987654321</OrgNr></Response></GetContactEntityResponse>"
    "</s:Body></s:Envelope>"
).encode()
REQUEST = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>'
    f'<ApplicationToken xmlns="{NS}">app</ApplicationToken><Credentials xmlns="{NS}"><Ticket>7T:t</Ticket>'
    f'</Credentials></s:Header><s:Body><GetContactEntity xmlns="{NS}"><ContactEntityId>5</ContactEntityId>'
    "</GetContactEntity></s:Body></s:Envelope>"
).encode()


def _serve(ports: Any) -> None:
    """The canned server, in a process of its own (so it never competes with the client for the GIL)."""
    where = {"base": ""}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET"):
                    body = json.dumps({"ContextIdentifier": "Cust1", "Endpoint": f"{where['base']}/Cust1",
                                       "State": "Running", "IsRunning": True,
                                       "ValidUntil": "2999-01-01T00:00:00Z"}).encode()
                    kind = b"application/json"
                else:
                    body, kind = ANSWER, b"text/xml; charset=utf-8"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        where["base"] = f"http://127.0.0.1:{port}"
        ports.put(port)
        await server.serve_forever()

    asyncio.run(main())


class CannedServer:
    """``with CannedServer() as base:`` a canned SOAP server on 127.0.0.1, in a child process."""

    def __enter__(self) -> str:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        ports = context.Queue()
        self.process = context.Process(target=_serve, args=(ports,), daemon=True)
        self.process.start()
        return f"http://127.0.0.1:{ports.get(timeout=30)}"

    def __exit__(self, *exc: Any) -> None:
        self.process.terminate()
        self.process.join(10)


async def _floor(base: str, calls: int, concurrency: int) -> float:
    url = f"{base}/Cust1/Remote/Services88/Contact.svc"
    headers = {"Content-Type": "text/xml; charset=utf-8",
               "SOAPAction": f'"{NS}/Contact/GetContactEntity"'}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100)) as client:
        return await _pace(lambda: client.post(url, content=REQUEST, headers=headers), calls, concurrency)


async def _soapkit(base: str, calls: int, concurrency: int) -> float:
    async with soapkit.connect_async("Cust1", env=base, app_token="app", ticket="7T:t") as so:
        await so.ContactAgent.GetContactEntity(5)  # the tenant lookup and the operation's model, once
        return await _pace(lambda: so.ContactAgent.GetContactEntity(5), calls, concurrency)


async def _pace(call: Any, calls: int, concurrency: int) -> float:
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return calls / (time.perf_counter() - started)


async def _run(base: str, calls: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for concurrency in CONCURRENCY:
        floor = await _floor(base, calls, concurrency)
        ours = await _soapkit(base, calls, concurrency)
        results[str(concurrency)] = {"httpx floor calls/s": round(floor, 1), "soapkit calls/s": round(ours, 1),
                                     "ratio": round(ours / floor, 3)}
    return results


def run(calls: int = 400) -> dict[str, dict[str, float]]:
    with CannedServer() as base:
        return asyncio.run(_run(base, calls))


def figures(quick: bool = False) -> list[Any]:
    """The runner's table (benchmarks/run.py): soapkit's async calls/s at each concurrency beside the floor."""
    from _figures import Figure

    results = run(60 if quick else 2000)
    return [Figure("async client", f"calls/s at concurrency {concurrency}", row["soapkit calls/s"], "calls/s",
                   better="higher", baselines={"httpx.AsyncClient floor": row["httpx floor calls/s"]},
                   target=">= 80% of the floor" if concurrency == "64" else "")
            for concurrency, row in results.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per contender and concurrency")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    results = run(args.calls)
    print(f"{'concurrency':>11}  {'httpx floor':>12}  {'soapkit':>10}  ratio")
    for concurrency, row in results.items():
        print(f"{concurrency:>11}  {row['httpx floor calls/s']:>10.0f}/s  {row['soapkit calls/s']:>8.0f}/s  "
              f"{row['ratio']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"async throughput": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
