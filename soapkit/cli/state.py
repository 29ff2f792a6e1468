"""``soapkit state [CTX]``: where a tenant lives and whether it is running (no credentials needed)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from soapkit.cli._output import stdout_output
from soapkit.cli._settings import add_connection_options, effective_settings, refuse_onsite, require

if TYPE_CHECKING:
    from soapkit.tenant import Environment, TenantLocation


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "state", help="show a tenant's state and current host",
        description="Ask the environment's state endpoint (GET /api/state/CTX) where a tenant is served from "
        "and in which state it is. Exits 0 when the tenant is running, 5 when it is not.",
        epilog="example:\n  soapkit state Cust12345 --env sod")
    parser.add_argument("tenant", nargs="?", metavar="CTX", help="context identifier (default: --ctx/SOAPKIT_CTX)")
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from soapkit.http import new_session
    from soapkit.tenant import Environment, TenantDirectory, validate_context_identifier

    settings = effective_settings(args)
    refuse_onsite(settings, "state", "it asks an Online environment's state endpoint (/api/state/CTX) where a "
                  "tenant is served from, and an onsite installation has no tenants and no state endpoint.",
                  "The agents of an onsite NetServer are always at its base URL: call one to check it, "
                  "e.g. soapkit call --env onsite:URL --auth username_password "
                  "ContactAgent.GetContactEntity 1. soapkit state is for SuperOffice Online "
                  "(--env sod, qaonline, online or a base URL).")
    ctx = args.tenant or settings.get("context_identifier")
    if not ctx:
        require(settings, ("context_identifier",), needs_credential=False,
                ways={"context_identifier": "the CTX argument (soapkit state Cust12345)"})
    environment = Environment.resolve(str(settings.get("env")))
    with new_session() as session:
        directory = TenantDirectory(environment, session, timeout=float(settings.get("timeout")))
        location = directory.locate(validate_context_identifier(str(ctx)), require_running=False)
    _print(args, environment, location, str(settings.get("services_version")))
    return 0 if location.is_running else 5


def _print(args: argparse.Namespace, environment: Environment, location: TenantLocation, version: str) -> None:
    out = stdout_output(args)
    info = {
        "ContextIdentifier": location.context_identifier,
        "Environment": environment.base_url,
        "State": location.state.name,
        "StateCode": int(location.state),
        "IsRunning": location.is_running,
        "Endpoint": location.endpoint,
        "Api": location.api,
        "ServicesUrl": location.services_url(version),
        "ValidUntil": location.valid_until.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
    }
    if out.json_mode:
        out.json(info)
        return
    colour = "green" if location.is_running else "red"
    info["State"] = out.style(f"{location.state.name} ({int(location.state)})", colour, "bold")
    out.fields([(k, v) for k, v in info.items() if k != "StateCode" and v is not None])
