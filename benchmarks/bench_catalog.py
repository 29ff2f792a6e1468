"""Loading the whole contract: soapkit's catalog side by side with plain zeep, in one run.

Run: ``python benchmarks/bench_catalog.py [REFERENCE_DIR] [--repeat N]``. Every figure is measured in a fresh
Python process (so neither side profits from what the other already parsed), the best of ``--repeat`` runs:

* plain zeep: ``zeep.wsdl.Document`` for each of SuperOffice's 58 published agent WSDLs (the floor a user
  without soapkit pays), wall time and peak memory (max RSS) of that process;
* soapkit, all 58 agents loaded (``catalog.describe`` each: what ``so.XAgent`` needs), with the on-disk index
  cache warm and with it off;
* soapkit, one not-yet-loaded agent in a warm process (shared types already parsed): ``describe`` plus the
  first operation built and bound, for the biggest agents (List, Ticket) and a typical one (Sale);
* soapkit, every one of the 1,964 operations built (the most a process can ever load), time and memory.

Never used as a test assert: timings depend on the machine; the ratios in one run are what to read.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "superoffice-wsdl"

PRELUDE = """
import json, resource, sys, time
from pathlib import Path
reference = Path(sys.argv[1])
def report(seconds, **extra):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "max_rss_mb": peak, **extra}))
"""

PROGRAMS = {
    "plain zeep: 58 reference WSDLs": """
import zeep
from zeep.wsdl import Document
paths = sorted((reference / "Services88").glob("*.wsdl"))
started = time.perf_counter()
documents = [Document(str(p), zeep.Transport(), settings=zeep.Settings(strict=True)) for p in paths]
report(time.perf_counter() - started, agents=len(documents))
""",
    "soapkit: 58 agents loaded, index cache warm": """
from soapkit.catalog import Catalog
Catalog().services()
warm = Catalog()
[warm.describe(s) for s in warm.services()]          # fills the cache (another process did this before)
catalog = Catalog()
started = time.perf_counter()
described = [catalog.describe(s) for s in catalog.services() if s != "PartnerSystemUserService"]
report(time.perf_counter() - started, agents=len(described))
""",
    "soapkit: 58 agents loaded, no index cache": """
from soapkit.catalog import Catalog
catalog = Catalog(index_cache=False)
started = time.perf_counter()
described = [catalog.describe(s) for s in catalog.services() if s != "PartnerSystemUserService"]
report(time.perf_counter() - started, agents=len(described))
""",
    "soapkit: 58 agents, each with one operation called-ready": """
from soapkit.catalog import Catalog
catalog = Catalog()
started = time.perf_counter()
for s in catalog.services():
    if s != "PartnerSystemUserService":
        d = catalog.describe(s)
        catalog.bind(s, "http://127.0.0.1:9/x/", d.operation_names[0])
report(time.perf_counter() - started, agents=58)
""",
    "soapkit: a new agent in a warm process (worst of List, Ticket, Sale)": """
from soapkit.catalog import Catalog
catalog = Catalog(index_cache=False)
catalog.describe("Contact").operation("GetContactEntity")     # the process is warm: shared types parsed
worst, each = 0.0, {}
for service, operation in (("List", "GetCategories"), ("Ticket", "GetTicketEntity"), ("Sale", "GetSaleEntity")):
    started = time.perf_counter()
    catalog.bind(service, "http://127.0.0.1:9/x/", operation)
    each[service] = time.perf_counter() - started
report(max(each.values()), each=each)
""",
    "soapkit: all 1,964 operations built": """
from soapkit.catalog import Catalog
catalog = Catalog()
started = time.perf_counter()
for s in catalog.services():
    catalog.describe(s).compile_all()
report(time.perf_counter() - started, agents=58)
""",
}


def measure(program: str, reference: Path, cache_home: str, repeat: int) -> dict[str, float]:
    best: dict[str, float] | None = None
    for _ in range(repeat):
        completed = subprocess.run([sys.executable, "-c", PRELUDE + program, str(reference)], capture_output=True,
                                   text=True, check=True, env={"XDG_CACHE_HOME": cache_home, "PATH": ""})
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("reference", nargs="?", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (args.reference / "Services88").is_dir():
        print(f"reference WSDLs not found at {args.reference}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as cache_home:
        results = {name: measure(code, args.reference, cache_home, args.repeat) for name, code in PROGRAMS.items()}
    floor = results["plain zeep: 58 reference WSDLs"]
    print(f"{'':64} {'seconds':>9} {'vs zeep':>9} {'max RSS':>9}")
    for name, result in results.items():
        speed = floor["seconds"] / result["seconds"]
        print(f"{name:64} {result['seconds']:9.4f} {speed:8.1f}x {result['max_rss_mb']:7.0f}MB")
        if "each" in result:
            print(" " * 4 + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in result["each"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
