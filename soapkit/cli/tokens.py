"""``soapkit sandbox tokens create|list|revoke``: reference tokens (PAT, SAT) of a sandbox's data directory.

Works whether the sandbox is running or not (both use the same SQLite file). A new token is shown once:
written to ``-o FILE`` (mode 0600) or, with ``--show-secrets``, printed; the sandbox keeps only its hash.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soapkit.cli._output import stdout_output
from soapkit.errors import ConfigurationError

if TYPE_CHECKING:
    from soapkit.sandbox.reference_tokens import ReferenceTokenInfo

# plain text for --help (the module docstring is reStructuredText)
DESCRIPTION = """\
Reference tokens (PAT, SAT) of a sandbox's folder: create, list and revoke them.

Works whether the sandbox is running or not (both use the same SQLite file). A new token is shown once:
written to -o FILE (mode 0600) or, with --show-secrets, printed; the sandbox keeps only its hash.
"""

EXAMPLES = """\
examples:
  soapkit sandbox tokens create --kind pat --user EVA -o eva.pat --description "nightly report"
  soapkit sandbox tokens create --kind sat --show-secrets          (the tenant's System User)
  soapkit sandbox tokens list --json
  soapkit sandbox tokens revoke 1a2b3c4d
"""


def register(subparsers: Any) -> None:
    """Add ``tokens`` with its ``create``, ``list`` and ``revoke`` commands to ``soapkit sandbox``."""
    tokens = subparsers.add_parser("tokens", help="personal (PAT) and service (SAT) reference tokens",
                                   description=DESCRIPTION, epilog=EXAMPLES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = tokens.add_subparsers(dest="tokens_command", metavar="COMMAND", required=True)
    create = commands.add_parser("create", help="create a token (shown once)")
    create.add_argument("--kind", choices=("pat", "sat"), required=True,
                        help="pat: acts as a person (--user); sat: a service identity (default: the System User)")
    create.add_argument("--user", help="user name, e-mail or associate id (required for a PAT)")
    create.add_argument("--ctx", help="tenant (default: the sandbox's tenant)")
    create.add_argument("--description", default="", help="what the token is for (shown by list)")
    create.add_argument("--expires-in", type=float, metavar="DAYS", help="lifetime (default: until revoked)")
    create.add_argument("-o", "--output", metavar="FILE", help="write the token to FILE (mode 0600)")
    create.set_defaults(handler=run_create)
    listing = commands.add_parser("list", help="list tokens (never their values)")
    listing.add_argument("--ctx", help="only this tenant's tokens")
    listing.set_defaults(handler=run_list)
    revoke = commands.add_parser("revoke", help="revoke a token by its id (agents refuse it from now on)")
    revoke.add_argument("token_id", metavar="ID")
    revoke.set_defaults(handler=run_revoke)
    from soapkit.sandbox.cli import add_dir_options

    for parser in (tokens, create, listing, revoke):
        add_dir_options(parser, suppress=True,
                        help="the sandbox's folder (default ~/.soapkit/sandbox or $SOAPKIT_SANDBOX_DIR)")


def _data_dir(args: argparse.Namespace) -> Path:
    from soapkit.sandbox.cli import default_data_dir

    return getattr(args, "data_dir", None) or default_data_dir()


def _default_ctx(directory: Path) -> str:
    import json

    try:
        return str(json.loads((directory / "sandbox.json").read_text(encoding="utf-8"))["context_identifier"])
    except (OSError, ValueError, KeyError):
        raise ConfigurationError(f"No sandbox.json in {directory}.",
                                 hint="Pass --ctx or start the sandbox there.") from None


def run_create(args: argparse.Namespace) -> int:
    from soapkit.debug import write_private_file
    from soapkit.sandbox.reference_tokens import ReferenceTokens, TokenKind, open_data_dir

    show = bool(getattr(args, "show_secrets", False))
    if not args.output and not show:
        raise ConfigurationError("A new token is shown only once: say where it goes.",
                                 hint="Add -o FILE (written with mode 0600) or --show-secrets to print it.")
    directory = _data_dir(args)
    lifetime = dt.timedelta(days=args.expires_in) if args.expires_in else None
    with open_data_dir(directory) as backend:
        value, info = ReferenceTokens(backend).create(args.ctx or _default_ctx(directory), TokenKind(args.kind),
                                                      user=args.user, description=args.description, lifetime=lifetime)
    if args.output:
        path = write_private_file(args.output, value + "\n")
        print(f"{info.kind.value.upper()} {info.token_id} for {info.user_name} in {info.ctx} written to {path}",
              file=sys.stderr)
    if show:
        print(value)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from soapkit.sandbox.reference_tokens import ReferenceTokens, open_data_dir

    with open_data_dir(_data_dir(args)) as backend:
        infos = ReferenceTokens(backend).list(args.ctx)
    out = stdout_output(args)
    if out.json_mode:
        out.json([info.as_dict() for info in infos])
        return 0
    if not infos:
        out.line("No reference tokens.")
    for info in infos:
        out.line(_line(info))
    return 0


def _line(info: ReferenceTokenInfo) -> str:
    expiry = f" expires {info.expires_at}" if info.expires_at else ""
    return (f"{info.token_id}  {info.kind.value.upper()}  {info.ctx}  {info.user_name:<8}  {info.status:<7}  "
            f"created {info.created_at}{expiry}  {info.description}").rstrip()


def run_revoke(args: argparse.Namespace) -> int:
    from soapkit.sandbox.reference_tokens import ReferenceTokens, open_data_dir

    with open_data_dir(_data_dir(args)) as backend:
        info = ReferenceTokens(backend).revoke(args.token_id)
    print(f"revoked {info.kind.value.upper()} {info.token_id} ({info.user_name}, {info.ctx})", file=sys.stderr)
    return 0
