"""Output of the command line: plain text or ``--json``, colours only on a terminal, errors on stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Any

_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}


def add_output_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options every command accepts, before or after the command name.

    On command parsers the defaults are suppressed, so a value given before the command name is not
    overwritten by the command parser's default.
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument("--json", action="store_true", default=default(False),
                        help="print machine-readable JSON instead of text")
    parser.add_argument("--show-secrets", action="store_true", default=default(False),
                        help="print tickets, tokens, client secrets and keys instead of *** (never the default)")
    parser.add_argument("--no-color", action="store_true", default=default(False),
                        help="no colours (also off when NO_COLOR is set or output is not a terminal)")
    parser.add_argument("-v", "--verbose", action="count", default=default(0),
                        help="log what soapkit does (-vv: also the envelopes), redacted")
    parser.add_argument("--wsdl-dir", action="append", dest="wsdl_dirs", metavar="DIR", default=default(None),
                        help="also look for WSDLs in DIR (before the bundled ones; repeatable)")


def colour_enabled(stream: IO[str], args: argparse.Namespace | None = None) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org) or --no-color given."""
    if args is not None and getattr(args, "no_color", False):
        return False
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Output:
    """Where a command writes: text or JSON, with colours when the stream is a terminal."""

    def __init__(self, stream: IO[str], *, json_mode: bool = False, colour: bool = False,
                 show_secrets: bool = False) -> None:
        self.stream = stream
        self.json_mode = json_mode
        self.colour = colour
        self.show_secrets = show_secrets

    def style(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        codes = ";".join(_STYLES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def line(self, text: str = "", *styles: str) -> None:
        print(self.style(text, *styles) if styles else text, file=self.stream)

    def json(self, value: Any) -> None:
        print(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False), file=self.stream)

    def fields(self, pairs: list[tuple[str, Any]]) -> None:
        """Aligned ``name: value`` lines."""
        width = max((len(name) for name, _ in pairs), default=0)
        for name, value in pairs:
            self.line(f"{self.style(name.ljust(width), 'bold')}  {value}")

    def error(self, message: str, hint: str | None, docs: str | None = None) -> None:
        print(f"{self.style('error:', 'red', 'bold')} {message}", file=self.stream)
        if hint and hint.strip() not in message:  # servers often repeat the message as FriendlyText
            print(f"{self.style('hint:', 'yellow')} {hint}", file=self.stream)
        if docs:
            print(f"{self.style('docs:', 'cyan')} {docs}", file=self.stream)

    def warning(self, message: str) -> None:
        print(f"{self.style('warning:', 'yellow', 'bold')} {message}", file=self.stream)


def stdout_output(args: argparse.Namespace) -> Output:
    return Output(sys.stdout, json_mode=bool(getattr(args, "json", False)), colour=colour_enabled(sys.stdout, args),
                  show_secrets=bool(getattr(args, "show_secrets", False)))


def stderr_output(args: argparse.Namespace) -> Output:
    return Output(sys.stderr, colour=colour_enabled(sys.stderr, args),
                  show_secrets=bool(getattr(args, "show_secrets", False)))


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from results and Python values (:func:`soapkit.plain`): dates as ISO 8601, bytes as
    base64, list wrappers as lists."""
    from soapkit.values.outputs import plain

    return plain(value)


def print_exchanges(out: Output, exchanges: list[Any], *, show_secrets: bool = False) -> None:
    """The recorder's exchanges, redacted unless asked, with the outcome and timing of each."""
    from soapkit.debug import exchange_failed, format_exchange

    total = 0.0
    for exchange in exchanges:
        total += exchange.seconds
        for line in format_exchange(exchange, show_secrets=show_secrets).splitlines():
            if line.startswith("-->"):
                out.line(line, "cyan", "bold")
            elif line.startswith("<--"):
                out.line(line, "red" if exchange_failed(exchange) else "green", "bold")
            else:
                out.line(line)
        out.line()
    count = len(exchanges)
    out.line(f"{count} exchange{'s' if count != 1 else ''} recorded, {total * 1000:.1f} ms on the wire", "dim")
