"""``soapkit describe [Agent[.Operation]]``: services, operations, parameters and result types from the WSDL.

The parser is all this module holds: describing needs the catalog (zeep, lxml), loaded from
:mod:`soapkit.cli._describe` only when the command runs, so ``soapkit describe --help`` starts at once.
"""

from __future__ import annotations

import argparse
from typing import Any

EXAMPLES = """\
examples:
  soapkit describe                              the agents in the catalog, with their operation counts
  soapkit describe --find Appointment           operations, parameters and types whose names contain a word
  soapkit describe ContactAgent                 its operations with their signatures
  soapkit describe ContactAgent.SaveContactEntity --json
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "describe", help="show services, operations, parameters and result types (from the WSDL)",
        description="Describe what the cached WSDLs offer. Operation and parameter names are the .NET ones.",
        epilog=EXAMPLES)
    parser.add_argument("target", nargs="?", metavar="Agent[.Operation]")
    parser.add_argument("--find", metavar="WORD", help="search operation, parameter and type names (any case)")
    parser.add_argument("--services-version", metavar="VERSION", help="default: Services88")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from soapkit.cli._describe import describe

    return describe(args)
