"""Start-up: how long the command line takes before it does anything, and one `soapkit call` end to end.

Run: ``python benchmarks/bench_startup.py [--quick]`` (or through ``python benchmarks/run.py``). Every figure is
the best wall time of a fresh interpreter over several runs, with bytecode cached as an installed package
has it (see :func:`_figures.fresh_interpreter_env`); ``python -c pass`` in the same run is the floor.

``soapkit call`` runs against a sandbox already serving (in this process) with the ticket already cached
(the warm-up run caches it); the baseline is a plain-zeep script making the same call with the same
ticket: load the WSDL, send ``GetContactEntity`` with the ApplicationToken and Ticket headers, print it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import Figure, fresh_interpreter_env, time_command

GROUP = "start-up"

PLAIN_ZEEP = r"""
import json, sys
import zeep
from zeep.helpers import serialize_object
wsdl, address, app_token, ticket, contact_id = sys.argv[1:6]
client = zeep.Client(wsdl)
service = client.create_service("{http://www.superoffice.net/ws/crm/NetServer/Services88}BasicHttpBinding_Contact",
                                address)
result = service.GetContactEntity(int(contact_id), _soapheaders={"ApplicationToken": app_token,
                                                                 "Credentials": {"Ticket": ticket}})
print(json.dumps(serialize_object(result.body.Response, dict), default=str, indent=2))
"""


def _soapkit_command() -> list[str]:
    found = shutil.which("soapkit", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "soapkit"]


def figures(quick: bool = False) -> list[Figure]:
    repeat = 2 if quick else 9
    env = fresh_interpreter_env()
    floor_wall, floor_cpu = (t * 1000 for t in time_command([sys.executable, "-c", "pass"], repeat, env))
    soapkit = _soapkit_command()
    found: list[Figure] = []
    commands = [("soapkit --help", [*soapkit, "--help"]), ("soapkit --version", [*soapkit, "--version"]),
                ("soapkit call --help", [*soapkit, "call", "--help"]),
                ("soapkit sandbox --help", [*soapkit, "sandbox", "--help"]),
                ("python -c 'import soapkit'", [sys.executable, "-c", "import soapkit"])]
    for label, command in commands:
        wall, cpu = (t * 1000 for t in time_command(command, repeat, env))
        target = "" if label.startswith("python") else f"<= {floor_wall + 100:.0f} ms (python -c pass + 100 ms)"
        found.append(Figure(GROUP, f"{label}, wall", wall, "ms", baselines={"python -c pass": floor_wall},
                            target=target))
        found.append(Figure(GROUP, f"{label}, CPU", cpu, "ms", baselines={"python -c pass": floor_cpu}))
    found.extend(_call_figures(repeat, env))
    return found


def _call_figures(repeat: int, env: dict[str, str]) -> list[Figure]:
    from soapkit.catalog import Catalog
    from soapkit.sandbox import Sandbox

    with tempfile.TemporaryDirectory(prefix="soapkit-bench-startup-") as folder, \
            Sandbox(Path(folder) / "sandbox", port=0) as sandbox:
        private = {**env, "XDG_CACHE_HOME": str(Path(folder) / "cache"), "XDG_CONFIG_HOME": str(Path(folder) / "cfg")}
        private.pop("SOAPKIT_SANDBOX_CHECK_RENDER", None)
        call = [*_soapkit_command(), "call", "--sandbox", str(Path(folder) / "sandbox"),
                "ContactAgent.GetContactEntity", "1"]
        config = sandbox.config
        address = f"{config['netserver_url'].rstrip('/')}/Contact.svc"  # netserver_url ends in /Services88/
        plain = [sys.executable, "-c", PLAIN_ZEEP, str(Catalog().path("Contact")), address,
                 config["client_secret"], sandbox.issue_ticket(), "1"]
        # alternately, so that a burst of load elsewhere on the machine hits both alike
        soapkit_runs, zeep_runs = [], []
        for _ in range(3):
            soapkit_runs.append(time_command(call, max(repeat // 3, 1), private))  # its warm-up caches the ticket
            zeep_runs.append(time_command(plain, max(repeat // 3, 1), private))
    name = "soapkit call GetContactEntity, cached ticket"
    target = "<= the plain-zeep script"
    return [Figure(GROUP, f"{name}, wall", min(w for w, _ in soapkit_runs) * 1000, "ms",
                   baselines={"plain-zeep script": min(w for w, _ in zeep_runs) * 1000}, target=target),
            Figure(GROUP, f"{name}, CPU", min(c for _, c in soapkit_runs) * 1000, "ms",
                   baselines={"plain-zeep script": min(c for _, c in zeep_runs) * 1000}, target=target)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="two runs of each instead of seven")
    args = parser.parse_args(argv)
    for item in figures(args.quick):
        base = ", ".join(f"{k}: {v:,.1f}" for k, v in item.baselines.items())
        print(f"{item.name}: {item.value:,.1f} {item.unit} ({base}) {item.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
