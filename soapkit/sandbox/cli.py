"""``soapkit sandbox``: run the sandbox in the foreground until Ctrl-C.

The ``soapkit`` command delegates here: ``soapkit.sandbox.main(argv)`` parses the sandbox's own
options; ``soapkit.sandbox.run(...)`` is the same without argument parsing. ``soapkit sandbox admin ...`` talks
to a running sandbox (see :mod:`soapkit.sandbox.admin`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from soapkit.sandbox import admin

DEFAULT_PORT = 8765


def default_data_dir() -> Path:
    configured = os.environ.get("SOAPKIT_SANDBOX_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".soapkit" / "sandbox"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox's options, on its own parser and on the ``soapkit sandbox`` command alike."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)")
    add_dir_options(parser, help="where keys, database and sandbox.json live (default ~/.soapkit/sandbox or "
                    "$SOAPKIT_SANDBOX_DIR)")
    parser.add_argument("--reset", action="store_true", help="delete the sandbox's files in the data dir first")
    parser.add_argument("--quiet", action="store_true", help="do not print the request log")
    commands = parser.add_subparsers(dest="sandbox_command", metavar="COMMAND", title="commands (optional)")
    admin_parser = commands.add_parser("admin", help="administer a running sandbox: move a tenant, set its "
                                       "state, inject faults",
                                       description="Administer a running sandbox (the one described by "
                                       "DIR/sandbox.json).")
    admin.add_arguments(admin_parser)


class _DeprecatedDataDir(argparse.Action):
    """``--data-dir``: the old spelling of ``--sandbox DIR``, still accepted, with a note on stderr."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print("warning: --data-dir is deprecated: use --sandbox DIR (the same folder).", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_dir_options(parser: argparse.ArgumentParser, *, help: str, suppress: bool = False) -> None:
    """``--sandbox DIR`` (and the deprecated ``--data-dir DIR``): the sandbox's folder, as on every command.

    With ``suppress`` the option leaves no default behind, so a command's sub-command can accept it too
    (``soapkit sandbox admin tenants --sandbox DIR``) without overwriting a value given before it.
    """
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--sandbox", dest="data_dir", type=Path, default=default, metavar="DIR", help=help)
    parser.add_argument("--data-dir", dest="data_dir", type=Path, default=default, metavar="DIR",
                        action=_DeprecatedDataDir, help=argparse.SUPPRESS)


def build_parser(prog: str = "soapkit sandbox") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Run a local SuperOffice CRM Online (the soapkit sandbox).")
    add_arguments(parser)
    return parser


def run(host: str = "127.0.0.1", port: int = DEFAULT_PORT, data_dir: str | os.PathLike[str] | None = None,
        reset: bool = False, *, out: TextIO | None = None, request_log: bool = True) -> int:
    """Start the sandbox, say where it listens and where ``sandbox.json`` is, serve until Ctrl-C."""
    from soapkit.sandbox.app import Sandbox  # the server: loaded only when one is started

    stream = out or sys.stdout
    if request_log:
        _log_requests_to(stream)
    sandbox = Sandbox(data_dir or default_data_dir(), host, port, reset=reset)
    try:
        sandbox.open()
    except OSError as error:
        print(f"error: the sandbox cannot listen on {host}:{port}: {error.strerror or error}\n"
              "hint: Another process may use that port: choose another with --port (0 = any free port).",
              file=sys.stderr)
        return 2
    config = sandbox.config
    try:  # from the first line on: a Ctrl-C right after reading it must still stop cleanly
        print(f"soapkit sandbox listening on {sandbox.base_url}", file=stream)
        print(f"  configuration: {sandbox.config_path}", file=stream)
        print(f"  tenant {config['context_identifier']}: {config['netserver_url']}", file=stream)
        print("  press Ctrl-C to stop", file=stream, flush=True)
        sandbox.serve_forever()
    except KeyboardInterrupt:
        sandbox.stop()
        print("soapkit sandbox stopped", file=stream, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_options(build_parser().parse_args(argv))


def run_options(options: argparse.Namespace) -> int:
    """Run with parsed options (from :func:`build_parser` or the ``soapkit sandbox`` command)."""
    if getattr(options, "sandbox_command", None) == "admin":
        return admin.run_options(options)
    return run(options.host, options.port, options.data_dir, options.reset, request_log=not options.quiet)


def _log_requests_to(stream: TextIO) -> None:
    logger = logging.getLogger("soapkit.sandbox.requests")
    if not any(getattr(h, "_soapkit_sandbox", False) for h in logger.handlers):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._soapkit_sandbox = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
