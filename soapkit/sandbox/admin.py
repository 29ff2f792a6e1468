"""Administration of a running sandbox: an HTTP endpoint for loopback clients, and ``soapkit sandbox admin``.

The endpoint lives under ``/_sandbox/admin/`` on the sandbox's own port. It answers only clients on a
loopback address that send ``X-Sandbox-Admin-Token: <admin_token>`` (the token is new at every start and
written, with ``admin_url``, to ``sandbox.json``, mode 0600). JSON in, JSON out:

* ``GET  /_sandbox/admin/tenants`` -- every tenant: ``ctx``, ``state``, ``endpoint``
* ``POST /_sandbox/admin/tenants/{ctx}/move`` ``{"host": "localhost:8765"}`` -- move the tenant (``host``
  may also be a full endpoint URL, or null to bring it home to the sandbox's own host)
* ``POST /_sandbox/admin/tenants/{ctx}/state`` ``{"state": "Suspended"}``
* ``GET / POST / DELETE /_sandbox/admin/faults`` -- list, add (``{"fault": "status=503", "probability": 0.5,
  "path": "/Remote/", "times": 3, "seed": 7}``), clear the per-sandbox fault rules

``soapkit sandbox admin move CTX HOST``, ``... state CTX STATE``, ``... tenants``, ``... fault SPEC
[--probability P] [--times N] [--path RE] [--seed S]`` and ``... faults [--clear]`` call it, finding the
sandbox through ``sandbox.json`` in its folder (``--sandbox DIR``).
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from soapkit.errors import ConfigurationError, ConnectionFailed, SoapkitError
from soapkit.sandbox.web import Request, Response, Router, parse_json
from soapkit.tenant import TenantState

if TYPE_CHECKING:
    from soapkit.sandbox.app import Sandbox

ADMIN_PATH = "/_sandbox/admin"
TOKEN_HEADER = "X-Sandbox-Admin-Token"


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool((mapped or ip).is_loopback)


def register_routes(router: Router, sandbox: Sandbox) -> None:
    from soapkit.sandbox.faults import FaultSpecError  # the server's side: not needed to build the parser

    def guarded(handler: Callable[..., Response]) -> Callable[..., Response]:
        def guard(request: Request, **kwargs: str) -> Response:
            if not _is_loopback(request.client):
                return Response.text(403, "The sandbox admin endpoint answers loopback clients only.")
            token = request.header(TOKEN_HEADER) or ""
            if not token or not hmac.compare_digest(token.encode(), sandbox.admin_token.encode()):
                return Response.text(401, f"Send the admin_token of sandbox.json in {TOKEN_HEADER}.")
            try:
                body = parse_json(request.body or b"{}", max_bytes=sandbox.settings.max_json_bytes,
                                  max_depth=sandbox.settings.max_json_depth)
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                return handler(body, **kwargs)
            except (ValueError, KeyError, FaultSpecError) as error:
                return Response.json(400, {"error": f"{type(error).__name__}: {error}"}, operation="admin")
        return guard

    def tenants(body: dict[str, Any]) -> Response:
        base = sandbox.base_url
        return Response.json(200, [{"ctx": t.ctx, "state": t.state.name, "endpoint": t.endpoint(base)}
                                   for t in sandbox.backend.tenants.all()], operation="admin tenants")

    def move(body: dict[str, Any], ctx: str) -> Response:
        endpoint = sandbox.move_tenant(ctx, body.get("host"))
        return Response.json(200, {"ctx": ctx, "endpoint": endpoint}, operation="admin move", ctx=ctx)

    def state(body: dict[str, Any], ctx: str) -> Response:
        sandbox.set_tenant_state(ctx, str(body["state"]))
        return Response.json(200, {"ctx": ctx, "state": str(body["state"])}, operation="admin state", ctx=ctx)

    def list_faults(body: dict[str, Any]) -> Response:
        return Response.json(200, [rule.as_json() for rule in sandbox.faults.rules], operation="admin faults")

    def add_fault(body: dict[str, Any]) -> Response:
        if "seed" in body:
            sandbox.faults.seed(None if body["seed"] is None else int(body["seed"]))
        if body.get("fault"):
            times = body.get("times")
            sandbox.faults.add(str(body["fault"]), probability=float(body.get("probability", 1.0)),
                               path=str(body.get("path") or "/Remote/"),
                               times=None if times is None else int(times))
        return list_faults(body)

    def clear_faults(body: dict[str, Any]) -> Response:
        sandbox.faults.clear()
        return list_faults(body)

    router.add("GET", f"{ADMIN_PATH}/tenants", guarded(tenants))
    router.add("POST", f"{ADMIN_PATH}/tenants/(?P<ctx>[^/]+)/move", guarded(move))
    router.add("POST", f"{ADMIN_PATH}/tenants/(?P<ctx>[^/]+)/state", guarded(state))
    router.add("GET", f"{ADMIN_PATH}/faults", guarded(list_faults))
    router.add("POST", f"{ADMIN_PATH}/faults", guarded(add_fault))
    router.add("DELETE", f"{ADMIN_PATH}/faults", guarded(clear_faults))


# --- the command line ------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``admin`` command's arguments (on ``soapkit sandbox admin`` and on :func:`build_parser`)."""
    from soapkit.sandbox.cli import add_dir_options

    where = "the sandbox's folder, where sandbox.json is (default ~/.soapkit/sandbox or $SOAPKIT_SANDBOX_DIR)"
    add_dir_options(parser, help=where, suppress=True)
    commands = parser.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")
    tenants = commands.add_parser("tenants", help="list tenants with state and endpoint")
    move = commands.add_parser("move", help="move a tenant to another host (421 on the old one)")
    move.add_argument("ctx")
    move.add_argument("host", help="host[:port] that reaches the sandbox (e.g. localhost:8765), a full endpoint "
                      "URL, or 'home' for the sandbox's own host")
    state = commands.add_parser("state", help="set a tenant's state")
    state.add_argument("ctx")
    state.add_argument("state", choices=[s.name for s in TenantState])
    fault = commands.add_parser("fault", help="add a per-sandbox fault rule")
    fault.add_argument("spec", help="e.g. status=503, latency=200ms, drop, truncate, expire-credential, "
                       "rate-limit=2s")
    fault.add_argument("--probability", type=float, default=1.0)
    fault.add_argument("--times", type=int, default=None)
    fault.add_argument("--path", default="/Remote/", help="regular expression on the request path")
    fault.add_argument("--seed", type=int, default=None, help="reseed the fault random generator first")
    faults = commands.add_parser("faults", help="list (or --clear) the per-sandbox fault rules")
    faults.add_argument("--clear", action="store_true")
    for command in (tenants, move, state, fault, faults):  # options after the sub-command, as everywhere
        add_dir_options(command, help=where, suppress=True)


def build_parser(prog: str = "soapkit sandbox admin") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Administer a running soapkit sandbox.")
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run_options(build_parser().parse_args(argv))
    except SoapkitError as error:  # the same error:/hint: form as the soapkit command
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return 2 if isinstance(error, ConfigurationError) else 3


def run_options(options: argparse.Namespace) -> int:
    """Send one admin command to the sandbox described by ``{data_dir}/sandbox.json``; print its answer."""
    import requests

    from soapkit.sandbox.cli import default_data_dir

    data_dir = getattr(options, "data_dir", None)
    config_path = (data_dir or default_data_dir()).expanduser() / "sandbox.json"
    try:
        config = json.loads(config_path.read_text("utf-8"))
        url, token = config["admin_url"], config["admin_token"]
    except (OSError, ValueError, KeyError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise ConfigurationError(f"No running sandbox described by {config_path} ({reason}).",
                                 hint=f"Start one: soapkit sandbox --sandbox {config_path.parent}") from None
    method, path, body = "GET", "/tenants", None
    if options.admin_command == "move":
        host = None if options.host.lower() == "home" else options.host
        method, path, body = "POST", f"/tenants/{options.ctx}/move", {"host": host}
    elif options.admin_command == "state":
        method, path, body = "POST", f"/tenants/{options.ctx}/state", {"state": options.state}
    elif options.admin_command == "fault":
        body = {"fault": options.spec, "probability": options.probability, "times": options.times,
                "path": options.path}
        if options.seed is not None:
            body["seed"] = options.seed
        method, path = "POST", "/faults"
    elif options.admin_command == "faults":
        method, path = ("DELETE" if options.clear else "GET"), "/faults"
    try:
        response = requests.request(method, url + path, json=body, headers={TOKEN_HEADER: token}, timeout=10)
    except requests.RequestException as error:
        raise ConnectionFailed(f"The sandbox at {url} does not answer ({type(error).__name__}).",
                               hint=f"Is it running? Start it: soapkit sandbox --sandbox {config_path.parent}",
                               ) from None
    print(response.text.strip())
    return 0 if response.ok else 1
