"""``soapkit diff A B``: compare two envelopes after canonicalisation (exit 0 same, 1 different)."""

from __future__ import annotations

import argparse
from typing import Any

from soapkit.cli._output import stdout_output

EXAMPLES = """\
examples:
  soapkit diff dotnet-request.xml python-request.xml
  soapkit diff capture.json#0 capture.json#1 --response
  soapkit diff wcf-trace.xml capture.json#-1

A and B are raw envelopes (XML files) or capture files; FILE#N picks exchange N of a capture (-1: last).
Prefixes, namespace declarations, attribute order and whitespace are ignored (C14N); wsa:MessageID,
wsa:To, tickets, tokens and signed-token timestamps are masked unless --no-mask. Secrets are never
printed without --show-secrets.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff", help="compare two envelopes, ignoring prefixes, whitespace and volatile values",
        description="Compare two SOAP envelopes after canonicalisation; print a unified diff. "
        "Exit code 0: equivalent, 1: different, 2: unreadable input.", epilog=EXAMPLES)
    parser.add_argument("a", metavar="A", help="envelope file, capture file, or capture FILE#N")
    parser.add_argument("b", metavar="B", help="envelope file, capture file, or capture FILE#N")
    parser.add_argument("--response", action="store_true", help="compare the responses of capture exchanges")
    parser.add_argument("--no-mask", action="store_true",
                        help="compare volatile values too (message ids, timestamps); secrets stay redacted")
    parser.add_argument("-U", "--context", type=int, default=3, metavar="N", help="lines of context (default 3)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from soapkit.cli._captures import load_envelope
    from soapkit.debug import diff_envelopes

    left, left_label = load_envelope(args.a, response=args.response)
    right, right_label = load_envelope(args.b, response=args.response)
    text = diff_envelopes(left, right, labels=(left_label, right_label), mask_volatile=not args.no_mask,
                          show_secrets=args.show_secrets, context=args.context)
    out = stdout_output(args)
    if out.json_mode:
        out.json({"a": left_label, "b": right_label, "same": not text, "diff": text})
        return 0 if not text else 1
    if not text:
        out.line("The envelopes are equivalent.", "green")
        return 0
    for line in text.splitlines():
        if line.startswith(("---", "+++")):
            out.line(line, "bold")
        elif line.startswith("@@"):
            out.line(line, "cyan")
        elif line.startswith("+"):
            out.line(line, "green")
        elif line.startswith("-"):
            out.line(line, "red")
        else:
            out.line(line)
    return 1
