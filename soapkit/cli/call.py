"""``soapkit call Agent.Operation [ARGS...]``: call an operation and print its result as JSON."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from soapkit.cli._output import Output, print_exchanges, stderr_output, stdout_output
from soapkit.cli._settings import add_connection_options, effective_settings, require
from soapkit.config import build_client
from soapkit.errors import ConfigurationError

if TYPE_CHECKING:
    from soapkit.cli._params import Target
    from soapkit.debug import Recorder

EXAMPLES = """\
examples:
  soapkit call --sandbox ./sb ContactAgent.GetContactEntity 5
  soapkit call ContactAgent.GetContactEntity ContactEntityId=5 --trace
  soapkit call ContactAgent.GetContactList 1,2,3
  soapkit call ContactAgent.SaveContactEntity @company.json --save-capture save.json
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "call", help="call an operation and print the result as JSON",
        description="Call an agent operation on a tenant and print the result as JSON (dates in ISO 8601). "
        "Arguments map to the WSDL's parameters in order, or by name (Name=value); complex values are "
        "JSON, inline or @file.json.", epilog=EXAMPLES)
    add_call_arguments(parser)
    parser.add_argument("--trace", action="store_true",
                        help="print both envelopes (redacted) and timings to stderr")
    parser.add_argument("--save-capture", metavar="FILE",
                        help="save the exchanges to a capture file (redacted unless --show-secrets; for replay/diff)")
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def add_call_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="Agent.Operation", help="e.g. ContactAgent.GetContactEntity")
    parser.add_argument("arguments", nargs="*", metavar="ARG",
                        help="a value (in parameter order), Name=value, JSON, or @file.json")
    parser.set_defaults(extra_arguments="arguments")
    parser.add_argument("--no-arguments", action="store_true",
                        help="send the operation without any arguments even though it takes some "
                        "(otherwise an error: the server would answer nil)")


def run(args: argparse.Namespace) -> int:
    from soapkit.cli._params import read_arguments, resolve_target
    from soapkit.values.inputs import InputOptions

    settings = effective_settings(args)
    require(settings)
    recorder = _recorder() if args.trace or args.save_capture else None
    # one call, then the process ends: a zeep document of just this operation and the types it needs, not of
    # its chunk of the service against every agent's types
    client = build_client(settings, recorder=recorder, chunk=1, types="needed")
    try:
        target = resolve_target(client.catalog, args.target, client.version)
        check_some_arguments(target, args)
        values = read_arguments(target, args.arguments)
        options = InputOptions(text=True, aware_datetimes=client.input_options.aware_datetimes)
        try:
            result = client.agent(target.service.name).invoke(target.operation_name, (), values, options=options)
        finally:
            if recorder is not None:
                _after_call(recorder, args)
    finally:
        client.close()
    _print_result(stdout_output(args), result)
    return 0


def _recorder() -> Recorder:
    """A recorder for --trace and --save-capture (soapkit.debug is loaded only when one is asked for)."""
    from soapkit.debug import Recorder

    return Recorder()


def check_some_arguments(target: Target, args: argparse.Namespace) -> None:
    """No arguments at all for an operation that takes some: an error, not a silent ``null``.

    SuperOffice's WSDLs declare every parameter optional (minOccurs=0), so the server would answer
    ``GetContactEntity`` without an id with nil; that is never what was meant. ``--no-arguments`` sends the
    request without any, deliberately.
    """
    from soapkit.cli._params import parameters

    params = parameters(target.operation)
    if args.arguments or not params or getattr(args, "no_arguments", False):
        return
    names = " ".join(f"{p.name}=..." for p in params)
    raise ConfigurationError(
        f"{target.label} takes {len(params)} parameter{'s' if len(params) != 1 else ''} "
        f"({', '.join(p.name for p in params)}) and none was given.",
        hint=f"Give them in order or by name: soapkit {getattr(args, 'command', None) or 'call'} {target.label} "
        f"{names} "
        f"(soapkit describe {target.label} shows them); to send it without any, add --no-arguments.")


def _after_call(recorder: Recorder, args: argparse.Namespace) -> None:
    if args.trace:
        print_exchanges(stderr_output(args), recorder.exchanges, show_secrets=args.show_secrets)
    if args.save_capture:
        path = recorder.save(args.save_capture, show_secrets=args.show_secrets)
        print(f"saved {len(recorder)} exchange(s) to {path}", file=sys.stderr)


def _print_result(out: Output, result: Any) -> None:
    out.json(result)
