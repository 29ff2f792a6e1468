"""``soapkit ticket``: the system-user exchange, step by step, with the validated claims."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from soapkit.cli._output import stdout_output
from soapkit.cli._settings import add_connection_options, effective_settings, refuse_onsite, require
from soapkit.config import build_client, credential_from_settings
from soapkit.redaction import mask, redact_text

EXAMPLES = """\
examples:
  soapkit ticket --sandbox ./sb
  soapkit ticket --env sod --ctx Cust12345 --system-user-token @sut.txt --private-key key.xml
  soapkit ticket --sandbox ./sb -o ticket.txt && soapkit call --sandbox ./sb --ticket-file ticket.txt ...
"""



def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ticket", help="sign and exchange the system-user token; show the ticket's claims",
        description="Sign the system-user token, exchange it at PartnerSystemUserService, validate the JWT "
        "(RS256, issuer, audience, expiry, key from the JWKS) and show its claims. The ticket is shown as "
        "*** unless --show-secrets, or written to a file (0600) with --output.", epilog=EXAMPLES)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the ticket to FILE (mode 0600)")
    parser.add_argument("--method", choices=("soap", "rest"),
                        help="exchange over SOAP or REST (default: the exchange_method setting, soap)")
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from soapkit.credentials.base import MemoryCache
    from soapkit.credentials.system_user import SystemUser
    from soapkit.debug import write_private_file

    settings = effective_settings(args)
    refuse_onsite(settings, "ticket", "it exchanges a system-user token at SuperOffice Online's "
                  "PartnerSystemUserService, and an onsite installation has no system users or partner service.",
                  "Onsite, a ticket comes from signing in with a user name and password; soapkit call --env "
                  "onsite:URL --auth username_password ... does that by itself and caches the ticket.")
    require(settings, ("context_identifier", "app_token"), credential="system_user")
    # a fresh exchange every time: this command is for watching it happen, not for the cached ticket
    credential = credential_from_settings(settings, auth="system_user", cache=MemoryCache())
    assert isinstance(credential, SystemUser)
    if args.method:
        credential.method = args.method
    with build_client(settings, credentials=credential) as client:
        issued = credential.issued(client.context)
    if args.output:
        path = write_private_file(args.output, issued.value + "\n")
        print(f"ticket written to {path}", file=sys.stderr)
    _print(args, issued.value, dict(issued.claims), issued.expires_at)
    return 0


def _secret_claims() -> frozenset[str]:
    from soapkit.credentials.jwt_validation import CLAIM_PREFIX, TICKET_CLAIM

    return frozenset({TICKET_CLAIM, CLAIM_PREFIX + "system_token"})


def _claims_for_display(claims: dict[str, Any], show_secrets: bool) -> dict[str, Any]:
    if show_secrets:
        return claims
    return {k: (mask(str(v), 3) if k in _secret_claims() else redact_text(str(v)) if isinstance(v, str) else v)
            for k, v in claims.items()}


def _print(args: argparse.Namespace, ticket: str, claims: dict[str, Any], expires_at: float) -> None:
    from soapkit.credentials.jwt_validation import CLAIM_PREFIX

    out = stdout_output(args)
    shown_ticket = ticket if args.show_secrets else mask(ticket, 3)
    reuse_until = dt.datetime.fromtimestamp(expires_at, dt.timezone.utc).isoformat(timespec="seconds")
    shown_claims = _claims_for_display(claims, args.show_secrets)
    if out.json_mode:
        out.json({"ticket": shown_ticket, "reuse_until": reuse_until, "claims": shown_claims})
        return
    out.fields([("ticket", shown_ticket), ("reuse until", reuse_until.replace("+00:00", "Z"))])
    out.line()
    out.line("claims (validated):", "bold")
    out.fields([(f"  {k.removeprefix(CLAIM_PREFIX)}", v) for k, v in shown_claims.items()])
