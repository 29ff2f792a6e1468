"""``soapkit demo``: the system-user flow and agent calls against a built-in sandbox, end to end."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole system-user flow and agent calls against a built-in sandbox",
        description="Starts a sandbox on a free loopback port in a temporary folder, signs and exchanges a "
        "system-user token, validates the JWT, creates a company and a person, reads the company back with "
        "ContactAgent.GetContactEntity, lists its persons, and prints the results and the envelopes "
        "(secrets redacted unless --show-secrets).",
    )
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the sandbox's data in DIR instead of a temporary folder")
    parser.add_argument("--no-envelopes", action="store_true", help="do not print the envelopes")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from soapkit.demo import run_demo

    return run_demo(out=sys.stdout, show_secrets=getattr(args, "show_secrets", False), data_dir=args.data_dir,
                    envelopes=not args.no_envelopes)
