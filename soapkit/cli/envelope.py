"""``soapkit envelope Agent.Operation [ARGS...]``: the request envelope, built offline, without sending it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from soapkit.cli._output import stdout_output
from soapkit.cli._settings import add_connection_options, effective_settings
from soapkit.config import Settings, catalog_from_settings

if TYPE_CHECKING:
    from soapkit.cli._params import Target

EXAMPLES = """\
examples:
  soapkit envelope ContactAgent.GetContactEntity 5
  soapkit envelope ContactAgent.SaveContactEntity '{"Name": "Acme"}' --http
  soapkit envelope PartnerSystemUserService.Authenticate SignedSystemToken=... ReturnTokenType=Jwt

Credentials are masked exactly as capture files mask them (Ticket 7T:***, ApplicationToken ***), so
`soapkit diff` of an envelope against a capture of the same call finds no difference. With --show-secrets
the given values are shown, and those not given as placeholders ({ApplicationToken}, 7T:{Ticket}).
"""


def register(subparsers: Any) -> None:
    from soapkit.cli.call import add_call_arguments

    parser = subparsers.add_parser(
        "envelope", help="build an operation's request envelope without sending it",
        description="Build the SOAP request envelope soapkit would send for an operation, offline.",
        epilog=EXAMPLES)
    add_call_arguments(parser)
    parser.add_argument("--http", action="store_true", help="also print the HTTP request line and headers")
    parser.add_argument("--raw", action="store_true", help="print the exact bytes as sent, not indented")
    parser.add_argument("--ws-addressing", action="store_true",
                        help="keep the WS-Addressing headers zeep adds (soapkit strips them by default)")
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lxml import etree

    from soapkit.cli._params import convert_arguments, resolve_target
    from soapkit.cli.call import check_some_arguments
    from soapkit.debug import pretty_envelope
    from soapkit.headers import SuperOfficeHeaders
    from soapkit.transport import soap_errors

    settings = effective_settings(args)
    # one envelope, then the process ends: the one operation and the types it needs (as `soapkit call`)
    catalog = catalog_from_settings(settings, chunk=1, types="needed")
    version = str(settings.get("services_version"))
    target = resolve_target(catalog, args.target, version)
    check_some_arguments(target, args)
    values = convert_arguments(target, args.arguments)
    app_token, ticket = settings.secret("app_token"), settings.secret("ticket")
    ctx = settings.get("context_identifier")
    # a ticket this offline command does not have (a system user's is obtained only when calling) is a
    # placeholder of the ticket's kind, so the masked envelope reads exactly as a capture of the call (7T:***)
    plugin = SuperOfficeHeaders(app_token or PLACEHOLDER_APP_TOKEN, ticket=lambda: ticket or PLACEHOLDER_TICKET,
                                context_identifier=ctx or "{ContextIdentifier}", ws_addressing=args.ws_addressing)
    address = _address(settings, target, version)
    client, proxy = catalog.bind(target.service.name, address, target.operation_name, version=version,
                                 plugins=[plugin])
    with soap_errors():
        envelope = client.create_message(proxy, target.operation_name, **values)
    body = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
    # secrets and placeholders are masked as captures mask them (7T:***, ***), unless --show-secrets
    show = bool(args.show_secrets)
    text = (body if show else _redacted_raw(body)).decode("utf-8") if args.raw else \
        pretty_envelope(body, show_secrets=show).rstrip()
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{target.operation.soapaction}"'}
    _print(args, address, headers, text)
    return 0


#: what the envelope holds where a secret was not given (shown as such only with --show-secrets)
PLACEHOLDER_APP_TOKEN = "{ApplicationToken}"
PLACEHOLDER_TICKET = "7T:{Ticket}"


def _redacted_raw(body: bytes) -> bytes:
    from soapkit.debug import redact_envelope

    return redact_envelope(body)


def _address(settings: Settings, target: Target, version: str) -> str:
    from soapkit.catalog import PARTNER_SERVICE
    from soapkit.tenant import Environment

    env = Environment.resolve(str(settings.get("env")))
    if target.service.name == PARTNER_SERVICE:
        return env.partner_service_url
    ctx = settings.get("context_identifier") or "{ContextIdentifier}"
    # the numbered host is only known after a state lookup, which this offline command does not do
    return f"https://{{tenant-host}}/{ctx}/Remote/{version}/{target.service.name}.svc"


def _print(args: argparse.Namespace, address: str, headers: dict[str, str], text: str) -> None:
    out = stdout_output(args)
    if out.json_mode:
        out.json({"url": address, "method": "POST", "headers": headers, "envelope": text})
        return
    if args.http:
        out.line(f"POST {address}", "bold")
        for name, value in headers.items():
            out.line(f"{name}: {value}")
        out.line()
    out.line(text)
