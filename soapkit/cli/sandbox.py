"""``soapkit sandbox``: run the local SuperOffice Online emulator (options defined by soapkit.sandbox.cli)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    from soapkit.sandbox.cli import add_arguments

    parser = subparsers.add_parser(
        "sandbox",
        help="run the local SuperOffice Online emulator (identity, partner service, tenants, agents)",
        description="Run the sandbox in the foreground until Ctrl-C. It prints where it listens and where "
        "sandbox.json (base URL, tenant, client id and secret, system-user token, key paths) is.",
        # argparse would show the optional sub-commands as required ("COMMAND ...")
        usage="soapkit sandbox [-h] [--host HOST] [--port PORT] [--sandbox DIR] [--reset] [--quiet]\n"
        "       soapkit sandbox admin COMMAND [--sandbox DIR] ...\n"
        "       soapkit sandbox tokens COMMAND [--sandbox DIR] ...",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)
    from soapkit.cli import tokens

    tokens.register(_commands(parser))  # soapkit sandbox tokens create|list|revoke


def _commands(parser: argparse.ArgumentParser) -> Any:
    """The sandbox command's sub-commands (argparse allows one group and offers no public way to reach it)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="sandbox_command", metavar="COMMAND")


def run(args: argparse.Namespace) -> int:
    from soapkit.sandbox.cli import run_options

    return run_options(args)
