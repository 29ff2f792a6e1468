"""The ``soapkit`` command line.

Each command lives in ``soapkit/cli/<name>.py`` and exposes ``register(subparsers) -> None``, which adds its
parser and sets ``handler`` (a function ``(args) -> int``) as a default. :data:`COMMAND_MODULES` lists the
modules to load. Errors are reported here, in one place: every :class:`~soapkit.errors.SoapkitError` becomes
``error: ...`` and ``hint: ...`` on stderr and an exit code from :func:`exit_code_for` (see docs/cli.md);
anything else is a bug, reported in one line with exit code 70 (``SOAPKIT_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.util
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from soapkit.cli._hints import cli_hint
from soapkit.cli._output import Output, add_output_options, stderr_output
from soapkit.cli._settings import add_connection_options, effective_settings
from soapkit.config import build_client
from soapkit.config import catalog_from_settings as build_catalog
from soapkit.errors import (
    AuthenticationFailed,
    ConfigurationError,
    CredentialError,
    CredentialRejected,
    ServiceError,
    SoapkitError,
    TenantError,
    TransportError,
)
from soapkit.redaction import redact_text

__all__ = [
    "COMMAND_MODULES",
    "EXIT_CREDENTIAL",
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TENANT",
    "EXIT_TRANSPORT",
    "EXIT_USAGE",
    "Output",
    "add_connection_options",
    "build_catalog",
    "build_client",
    "build_parser",
    "effective_settings",
    "exit_code_for",
    "main",
]

# --- exit codes (documented in docs/cli.md; scripts rely on them: never renumber) ---------------

EXIT_OK = 0
#: the server answered with an error (Succeeded=false, SOAP Fault, refused credential); `diff`: different
EXIT_FAILED = 1
#: bad arguments, configuration or input files
EXIT_USAGE = 2
#: network failure, timeout, or an HTTP error without a SOAP answer
EXIT_TRANSPORT = 3
#: a credential could not be obtained or did not pass validation
EXIT_CREDENTIAL = 4
#: the tenant is unknown or not running
EXIT_TENANT = 5
#: a bug in soapkit (EX_SOFTWARE)
EXIT_INTERNAL = 70
#: interrupted with Ctrl-C
EXIT_INTERRUPTED = 130

# The one mapping from soapkit's exception hierarchy to exit codes: first match wins.
_EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (ConfigurationError, EXIT_USAGE),
    (AuthenticationFailed, EXIT_FAILED),
    (CredentialRejected, EXIT_FAILED),
    (CredentialError, EXIT_CREDENTIAL),
    (TenantError, EXIT_TENANT),
    (TransportError, EXIT_TRANSPORT),
    (ServiceError, EXIT_FAILED),
    (SoapkitError, EXIT_FAILED),
)


def exit_code_for(error: BaseException) -> int:
    """The exit code for an error raised by a command."""
    for error_type, code in _EXIT_CODES:
        if isinstance(error, error_type):
            return code
    return EXIT_INTERNAL


# --- commands ----------------------------------------------------------------------------------

_CORE_COMMANDS = ("call", "envelope", "describe", "wsdl", "ticket", "state", "replay", "diff", "keys", "migrate",
                  "completion", "docs")
# Commands provided by other parts of soapkit; listed only when their module is present in this build.
_OPTIONAL_COMMANDS = ("login", "config", "sandbox", "demo")


def _present(name: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{name}") is not None


COMMAND_MODULES: tuple[str, ...] = _CORE_COMMANDS + tuple(n for n in _OPTIONAL_COMMANDS if _present(n))


class CommandParser(argparse.ArgumentParser):
    """The parser of one command: it accepts the global options after the command name as well."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        # no abbreviations: `--app-token SECRET` must not be taken for `--app-token-file SECRET`
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        add_output_options(self, suppress=True)


#: The end of ``soapkit --help``: everything a user needs without the source tree (an installed wheel has no
#: docs/ folder), so the exit codes are spelled out here and kept in step by tests/test_cli_grammar.py.
EPILOG = f"""\
Run `soapkit COMMAND --help` for a command's options and examples.
Every option may come before or after the command name; errors are printed as `error:` and `hint:` lines.

exit codes:
  {EXIT_OK}    success
  {EXIT_FAILED}    the server answered with an error (Succeeded=false, SOAP Fault, refused credential);
       for `diff`: the two sides differ
  {EXIT_USAGE}    bad arguments, configuration or input files
  {EXIT_TRANSPORT}    network failure, timeout, or an HTTP error without a SOAP answer
  {EXIT_CREDENTIAL}    a credential could not be obtained or did not pass validation
  {EXIT_TENANT}    the tenant is unknown or not running
  {EXIT_INTERNAL}   a bug in soapkit (SOAPKIT_DEBUG=1 shows the traceback)
  {EXIT_INTERRUPTED}  interrupted with Ctrl-C

Also runs as `python -m soapkit`. Shell completion: `soapkit completion bash` or `soapkit completion zsh`.
Documentation: `soapkit docs` lists the guides, `soapkit docs TOPIC` prints one, `soapkit docs --serve` serves
the whole site (with the agent reference) on this machine.
"""


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``soapkit`` parser with every command of :data:`COMMAND_MODULES` registered (or only ``commands``)."""
    from soapkit._version import VersionAction

    parser = argparse.ArgumentParser(
        prog="soapkit",
        allow_abbrev=False,
        description="Call, describe and debug SuperOffice CRM Online SOAP web services.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=VersionAction)
    add_output_options(parser, suppress=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for name in COMMAND_MODULES if commands is None else commands:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
    _point_at_docs(subparsers)
    return parser


def _command_of(argv: Sequence[str]) -> list[str] | None:
    """Only the command being run, when the arguments name one (``soapkit call ...``): loading the other
    command modules would only cost start-up time. None (all of them) for the top-level help and version,
    and for a word that is no command (argparse then lists the commands in its error)."""
    expects_value = False
    for word in argv:
        if expects_value:
            expects_value = False
        elif word in ("-h", "--help", "--version") or word == "--":
            return None
        elif word in _GLOBAL_OPTIONS_WITH_VALUE:
            expects_value = True
        elif not word.startswith("-"):
            return [word] if word in COMMAND_MODULES else None
    return None


#: the options before the command name that take a value (see soapkit.cli._output.add_output_options)
_GLOBAL_OPTIONS_WITH_VALUE = frozenset({"--wsdl-dir"})


def _point_at_docs(subparsers: Any) -> None:
    """End each command's ``--help`` with the page about it (soapkit/_docs.py: one place for all of them)."""
    from soapkit._docs import COMMAND_TOPICS, page

    for name, command in subparsers.choices.items():
        topic = COMMAND_TOPICS.get(name)
        if topic is not None:
            lead = command.epilog.rstrip("\n") + "\n\n" if command.epilog else ""
            command.epilog = f"{lead}docs: {page(topic)}\n"


# --- running -----------------------------------------------------------------------------------


#: Commands that run once and return (a call and its answer), during which the cyclic garbage collector is
#: paused: start-up allocates hundreds of thousands of long-lived objects (modules, zeep's model of the schema),
#: and the collections in between find nothing to free but cost a tenth of the run. Reference counting still frees
#: everything that is not a cycle; the collector is back on when the command returns. Not for commands that
#: serve or loop (``sandbox``, ``replay``, ...).
PAUSE_COLLECTOR_FOR = frozenset({"call"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``soapkit`` command line; returns the exit code."""
    command = _command_of(sys.argv[1:] if argv is None else argv)
    with _collector_paused(command is not None and command[0] in PAUSE_COLLECTOR_FOR):
        return _main(argv, command)


@contextlib.contextmanager
def _collector_paused(pause: bool) -> Iterator[None]:
    enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause and enabled:
            # What the command allocated would all sit in the youngest generation, and the first collection
            # after gc.enable() would go through every object of it; freezing and unfreezing moves them to the
            # oldest generation at once (a list splice, no traversal), where full collections still reach them.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _main(argv: Sequence[str] | None, command: list[str] | None) -> int:
    try:
        parser = build_parser(command)
    except Exception as error:  # a command module that fails to import: a broken build, never hidden
        if os.environ.get("SOAPKIT_DEBUG") == "1":
            raise
        print(f"error: cannot load the soapkit commands: {type(error).__name__}: {error}\n"
              "hint: This is a bug or a broken installation. SOAPKIT_DEBUG=1 shows the traceback.", file=sys.stderr)
        return EXIT_INTERNAL
    try:
        args = _parse(parser, argv)
    except SystemExit as exit_:  # --help, --version, or a usage error argparse already reported
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    _configure_logging(args)
    return _run(handler, args)


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse, letting operation arguments follow options (``call X --sandbox d Name=1``).

    argparse stops filling a ``nargs="*"`` positional at the first option; a command that sets
    ``extra_arguments`` (the name of such a list) receives the leftover words there, in order. Leftover
    options are still errors, reported by argparse as usual.
    """
    args, extras = parser.parse_known_args(argv)
    destination = getattr(args, "extra_arguments", None)
    if extras and destination is None:
        parser.parse_args(argv)  # reports "unrecognized arguments" and exits 2
    unknown = [word for word in extras if _looks_like_option(word)]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if extras and destination is not None:
        getattr(args, destination).extend(extras)
    return args


def _looks_like_option(word: str) -> bool:
    return word.startswith("-") and not _NUMBER.match(word)


_NUMBER = re.compile(r"^-\d+(\.\d*)?$")


def _run(handler: Any, args: argparse.Namespace) -> int:
    err = stderr_output(args)
    try:
        return int(handler(args))
    except SoapkitError as error:
        err.error(error.message, cli_hint(error.hint), docs=error.docs)
        return exit_code_for(error)
    except KeyboardInterrupt:
        err.error("interrupted", None)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`soapkit call ... | head`): not an error of ours
        _silence_stdout()
        return EXIT_OK
    except Exception as error:
        if os.environ.get("SOAPKIT_DEBUG") == "1":
            raise
        err.error(f"unexpected {type(error).__name__}: {redact_text(str(error))[:300]}",
                  "This is a bug in soapkit. Run again with SOAPKIT_DEBUG=1 to see the traceback, and report it.")
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _configure_logging(args: argparse.Namespace) -> None:
    """``-v`` logs soapkit and zeep at INFO, ``-vv`` at DEBUG (envelopes), always through the redacting filter."""
    verbosity = getattr(args, "verbose", 0) or 0
    if not verbosity:
        return
    from soapkit.debug import install_log_redaction  # here: a run without -v does not load soapkit.debug

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not getattr(args, "show_secrets", False):
        install_log_redaction(handler)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
