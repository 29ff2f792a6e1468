"""``soapkit config``: the effective configuration, where each value came from, and whether it works.

``show`` prints every setting with its source (argument, environment variable, soapkit.toml, sandbox,
default), secrets masked unless ``--show-secrets``; ``check`` also reads the secret files, the private key
and opens the credential cache (no network call to SuperOffice); ``path`` lists where soapkit.toml is
looked for; ``new-cache-key`` makes an encryption key for the credential cache.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any, NoReturn

from soapkit.cli._output import Output, stdout_output
from soapkit.cli._settings import add_connection_options, effective_settings
from soapkit.config import KEYS, Settings, config_search_path, describe_auth, find_config_file
from soapkit.errors import ConfigurationError, SoapkitError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "config", help="show the effective configuration and where each value came from",
        description="Settings come from command-line options, then --sandbox DIR, then SOAPKIT_* environment "
        "variables, then soapkit.toml, then defaults; `soapkit config show` lists every setting, set or not. "
        "Secrets are masked unless "
        "--show-secrets.",
        epilog="examples:\n  soapkit config show\n  soapkit config show --json --config ./prod.toml\n"
        "  soapkit config check\n  soapkit config new-cache-key --output ~/.config/soapkit/cache.key")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", parser_class=type(parser))
    show = actions.add_parser("show", help="print the effective settings and their sources")
    check = actions.add_parser("check", help="also read secret files and the key, open the cache; exit 2 on problems")
    for sub, handler in ((show, run_show), (check, run_check)):
        add_connection_options(sub)
        _add_config_option(sub)
        sub.set_defaults(handler=handler)
    path = actions.add_parser("path", help="where soapkit.toml is looked for, and which one is used")
    _add_config_option(path)
    path.set_defaults(handler=run_path)
    key = actions.add_parser("new-cache-key", help="make an encryption key for the credential cache")
    key.add_argument("--output", metavar="FILE", help="write it to FILE (mode 0600) instead of printing it")
    key.set_defaults(handler=run_new_cache_key)
    parser.set_defaults(handler=lambda args: _usage(parser))


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    with contextlib.suppress(argparse.ArgumentError):  # the connection options may already offer it
        parser.add_argument("--config", metavar="FILE", help="read settings from this soapkit.toml")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# --- show --------------------------------------------------------------------------------------


def run_show(args: argparse.Namespace) -> int:
    settings = effective_settings(args)
    out = stdout_output(args)
    show_secrets = bool(getattr(args, "show_secrets", False))
    rows = _rows(settings, show_secrets)
    if out.json_mode:
        out.json({
            "config_file": str(settings.config_file) if settings.config_file else None,
            "credential": describe_auth(settings),
            "settings": {name: {"value": value, "source": source} for name, value, source in rows},
            "not_set": [name for name in KEYS if name not in settings.values and _shown_when_unset(name)],
        })
        return 0
    _print_table(out, settings, rows)
    return 0


def _rows(settings: Settings, show_secrets: bool) -> list[tuple[str, Any, str]]:
    return settings.display(show_secrets=show_secrets)


def _shown_when_unset(name: str) -> bool:
    key = KEYS[name]
    return key.kind != "secret"  # a secret's *_file twin stands for the pair


def _print_table(out: Output, settings: Settings, rows: list[tuple[str, Any, str]]) -> None:
    config = str(settings.config_file) if settings.config_file else "none (see `soapkit config path`)"
    out.fields([("config file", config), ("credential", describe_auth(settings))])
    out.line()
    width = max((len(name) for name, _, _ in rows), default=0)
    for name, value, source in rows:
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        out.line(f"{out.style(name.ljust(width), 'bold')}  {shown}  {out.style('(' + source + ')', 'dim')}")
    unset = [name for name in KEYS if name not in settings.values and _shown_when_unset(name)]
    if unset:
        out.line()
        out.line("not set: " + ", ".join(unset), "dim")


# --- check -------------------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    """Everything ``show`` does, plus reading what the settings point at; one line per problem."""
    settings = effective_settings(args)
    out = stdout_output(args)
    problems: list[tuple[str, str | None]] = []
    for name, probe in _probes(settings):
        try:
            probe()
        except SoapkitError as error:
            problems.append((f"{name}: {error.message}", error.hint or None))
    if out.json_mode:
        out.json({"ok": not problems, "problems": [{"message": m, "hint": h} for m, h in problems]})
    else:
        for message, hint in problems:
            out.error(message, hint)
        if not problems:
            out.line("configuration OK: " + describe_auth(settings), "green")
    return 2 if problems else 0


def _probes(settings: Settings) -> list[tuple[str, Any]]:
    from soapkit.config import cache_from_settings, credential_from_settings
    from soapkit.tenant import Environment, validate_context_identifier

    ctx = settings.get("context_identifier")
    probes: list[tuple[str, Any]] = [
        ("env", lambda: Environment.resolve(str(settings.get("env")))),
        ("context_identifier", lambda: validate_context_identifier(str(ctx)) if ctx else _missing_tenant()),
        ("app_token", lambda: settings.secret("app_token") or _missing_app_token()),
        ("cache", lambda: _probe_cache(cache_from_settings(settings))),
        ("credential", lambda: credential_from_settings(settings)),
    ]
    return probes


def _missing_tenant() -> NoReturn:
    raise ConfigurationError("not set.", hint="Set SOAPKIT_CONTEXT_IDENTIFIER=Cust12345 or context_identifier.")


def _missing_app_token() -> NoReturn:
    raise ConfigurationError("not set: agents and the system-user exchange need the client secret.",
                             hint="Set SOAPKIT_APP_TOKEN_FILE (a file, mode 0600) or SOAPKIT_APP_TOKEN.")


def _probe_cache(cache: Any) -> None:
    cache.get("soapkit|config-check")  # reaches Redis; reads nothing secret


# --- path and keys -----------------------------------------------------------------------------


def run_path(args: argparse.Namespace) -> int:
    out = stdout_output(args)
    used, reason = find_config_file(getattr(args, "config", None))
    search = config_search_path()
    if out.json_mode:
        out.json({"used": str(used) if used else None, "reason": reason, "search": [str(p) for p in search]})
        return 0
    out.fields([("used", f"{used} ({reason})" if used else "none"),
                ("named by", "--config, then $SOAPKIT_CONFIG"),
                ("searched", ", ".join(str(p) for p in search))])
    return 0


def run_new_cache_key(args: argparse.Namespace) -> int:
    from soapkit.credentials.caches import new_cache_key

    key = new_cache_key()
    out = stdout_output(args)
    if not args.output:
        out.line(key)
        return 0
    target = Path(args.output).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"{target} already exists: soapkit does not overwrite a key.",
                                 hint="Entries encrypted with the old key become unreadable; remove it first "
                                 "if that is what you want.") from None
    except OSError as error:
        raise ConfigurationError(f"Cannot create {target}: {error.strerror}.") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    out.line(f"wrote a new cache key to {target} (mode 0600); set SOAPKIT_CACHE_KEY_FILE={target}")
    return 0
