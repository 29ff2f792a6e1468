"""``soapkit demo``: the system-user flow and agent calls against a built-in sandbox, end to end."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from soapkit.errors import ConfigurationError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole system-user flow and agent calls against a built-in sandbox",
        description="Starts a sandbox on a free loopback port in a temporary folder, signs and exchanges a "
        "system-user token, validates the JWT, creates a company and a person, reads the company back with "
        "ContactAgent.GetContactEntity, lists its persons, and prints the results and the envelopes "
        "(secrets redacted unless --show-secrets).",
    )
    from soapkit.sandbox.cli import add_dir_options

    add_dir_options(parser, help="keep the sandbox's data in DIR instead of a temporary folder")
    parser.add_argument("--no-envelopes", action="store_true", help="do not print the envelopes")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from soapkit.demo import run_demo

    if getattr(args, "json", False):  # a walkthrough for people: refused rather than silently printed as text
        raise ConfigurationError("soapkit demo prints a walkthrough for people; it has no JSON output.",
                                 hint="For JSON, start a sandbox (soapkit sandbox --sandbox DIR) and use "
                                 "soapkit call ContactAgent.GetContactEntity 2 --sandbox DIR --json.")

    return run_demo(out=sys.stdout, show_secrets=getattr(args, "show_secrets", False), data_dir=args.data_dir,
                    envelopes=not args.no_envelopes)
