"""``soapkit migrate App.config``: a .NET WCF integration's configuration as soapkit.toml."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from soapkit.cli._output import Output, stdout_output

if TYPE_CHECKING:
    from soapkit.migrate import Migration, Note, NoteKind

EXAMPLES = """\
examples:
  soapkit migrate App.config                      writes ./soapkit.toml and ./secrets/ (0600 files)
  soapkit migrate Web.config -o conf/soapkit.toml --secrets env
  soapkit migrate App.config --dry-run            show what would be written; write nothing

Secrets (ApplicationToken, a system-user token) are never written into soapkit.toml: they go to files
readable only by you (--secrets files, the default) or are left to environment variables (--secrets env).
An XML private key (SystemTokenCertificatePath) is converted to PEM.
"""
_HEADINGS: dict[NoteKind, str] = {"carried": "carried over", "dropped": "not needed in soapkit",
                                  "ignored": "not carried over", "missing": "missing", "conflict": "conflicts",
                                  "unmigratable": "cannot be migrated"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate", help="turn a .NET App.config/Web.config into soapkit.toml",
        description="Read the SuperOffice settings of a .NET WCF integration's App.config or Web.config and "
        "write the equivalent soapkit.toml, reporting everything that could not be carried over. Exit 0 when "
        "written, 2 when the file is unusable or lacks the essentials, 1 with --strict when anything was not "
        "carried over.", epilog=EXAMPLES)
    parser.add_argument("config", metavar="App.config")
    parser.add_argument("-o", "--output", default="soapkit.toml", metavar="FILE", help="default: ./soapkit.toml")
    parser.add_argument("--secrets", choices=("files", "env"), default="files",
                        help="write secrets to 0600 files (default) or leave them to environment variables")
    parser.add_argument("--secrets-dir", metavar="DIR", help="where secret files go (default: secrets/ next to -o)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument("--dry-run", action="store_true", help="print the toml and the report; write nothing")
    parser.add_argument("--strict", action="store_true", help="exit 1 if anything was not carried over")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from soapkit.migrate import read_app_config, render_toml, write_migration

    migration = read_app_config(args.config)
    out = stdout_output(args)
    written: list[str] = []
    if args.dry_run:
        if not out.json_mode:
            out.line(render_toml(migration.settings, source=migration.source).rstrip())
            out.line()
    else:
        written = [str(p) for p in write_migration(migration, args.output, secrets=args.secrets,
                                                   secrets_dir=args.secrets_dir, force=args.force)]
    _report(out, migration, written)
    left_behind = migration.of_kind("ignored", "missing", "conflict", "unmigratable")
    return 1 if args.strict and left_behind else 0


def _report(out: Output, migration: Migration, written: list[str]) -> None:
    if out.json_mode:
        out.json({"settings": migration.settings, "secrets": sorted(migration.secrets), "written": written,
                  "notes": [{"kind": n.kind, "subject": n.subject, "detail": n.detail} for n in migration.notes]})
        return
    for kind, heading in _HEADINGS.items():
        notes = migration.of_kind(kind)
        if notes:
            colour = {"carried": "green", "dropped": "dim", "ignored": "yellow", "missing": "red",
                      "conflict": "red", "unmigratable": "red"}[kind]
            out.line(f"{heading} ({len(notes)}):", colour, "bold")
            for note in notes:
                _note(out, note)
    if written:
        out.line("written: " + ", ".join(written), "green")
    elif not out.json_mode:
        print("dry run: nothing written", file=sys.stderr)


def _note(out: Output, note: Note) -> None:
    out.line(f"  {note.subject}: {note.detail}")
