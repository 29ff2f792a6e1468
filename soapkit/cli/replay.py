"""``soapkit replay CAPTURE``: send a captured request again, with a fresh credential, to the current host."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from soapkit.cli._output import print_exchanges, stdout_output
from soapkit.cli._settings import add_connection_options, effective_settings, require
from soapkit.config import build_client

EXAMPLES = """\
examples:
  soapkit replay failing.json --sandbox ./sb
  soapkit replay capture.json#2 --env sod --ctx Cust12345 --diff
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="re-send a captured request with a fresh credential",
        description="Send the request of a captured exchange again: its Ticket/ApplicationToken are replaced "
        "by a fresh credential and it goes to the tenant's current host (the service path comes from the "
        "capture). Redacted captures replay as well as raw ones. Exit 0 when the answer succeeded, 1 when "
        "it carries a fault or Succeeded=false.", epilog=EXAMPLES)
    parser.add_argument("capture", metavar="CAPTURE[#N]", help="capture file (written by --save-capture)")
    parser.add_argument("--index", type=int, metavar="N", help="which exchange of the file (default: the only one)")
    parser.add_argument("--diff", action="store_true", help="diff the new response against the captured one")
    parser.add_argument("--save", metavar="FILE", help="save the new exchange to a capture file")
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from soapkit.cli._captures import load_exchange
    from soapkit.debug import Recorder, diff_envelopes, exchange_failed, replay

    captured = load_exchange(args.capture, args.index)
    settings = effective_settings(args)
    require(settings)  # every missing piece at once, as `call` does
    recorder = Recorder()
    with build_client(settings, recorder=recorder) as client:
        fresh = replay(captured, client, recorder=recorder)
    out = stdout_output(args)
    if args.save:
        path = recorder.save(args.save, show_secrets=args.show_secrets)
        print(f"saved to {path}", file=sys.stderr)
    difference = ""
    if args.diff and captured.response_body.strip():
        difference = diff_envelopes(captured.response_body, fresh.response_body, labels=("captured", "replayed"),
                                    show_secrets=args.show_secrets)
    if out.json_mode:
        from soapkit.debug import exchange_to_json

        out.json({"exchange": exchange_to_json(fresh, show_secrets=args.show_secrets), "diff": difference})
    else:
        print_exchanges(out, [fresh], show_secrets=args.show_secrets)
        if args.diff:
            out.line(difference or "The response is equivalent to the captured one.")
    return 1 if exchange_failed(fresh) else 0
