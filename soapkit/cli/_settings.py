"""The command line's side of settings: its options, and turning them into the "arguments" layer.

Everything else -- the keys, their environment variables, precedence, ``--sandbox DIR``, secrets, which
credential, which cache, building the client -- is :mod:`soapkit.config`'s. The only differences of the
command line are its source name (``command line``) and its defaults (:func:`soapkit.config.command_line_defaults`:
a credential cache in the user's cache folder, so successive runs reuse a ticket).
"""

from __future__ import annotations

import argparse
from typing import Any

from soapkit.config import KEYS, Settings, command_line_defaults, load_settings
from soapkit.config.keys import UNSUPPORTED_SIGN_IN_HINT, UNSUPPORTED_SIGN_INS, how_to_set
from soapkit.errors import ConfigurationError

COMMAND_LINE = "command line"

#: settings the connection options set, in the order ``--help`` lists them
CONNECTION_SETTINGS = ("env", "context_identifier", "client_id", "app_token_file", "auth", "system_user_token",
                       "private_key", "ticket_file", "reference_token_file", "sandbox", "cache", "timeout",
                       "services_version")

_METAVARS = {"context_identifier": "CUST", "client_id": "ID", "system_user_token": "TOKEN|@FILE",
             "sandbox": "DIR", "cache": "SPEC", "timeout": "SECONDS", "services_version": "VERSION",
             "auth": "KIND"}


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """Options of commands that talk to a tenant or to an environment (each also a SOAPKIT_* variable)."""
    group = parser.add_argument_group("connection (each also from a SOAPKIT_* environment variable or soapkit.toml)")
    for name in CONNECTION_SETTINGS:
        key = KEYS[name]
        assert key.option is not None
        variables = " or ".join(KEYS[key.file_key].env + key.env if key.file_key else key.env)
        group.add_argument(key.option, dest=name, metavar=_METAVARS.get(name, "FILE" if key.kind == "path" else None),
                           choices=key.choices or None, help=f"{key.help}; or {variables}",
                           type=_auth_option if name == "auth" else str)
    group.add_argument("--config", metavar="FILE",
                       help="settings file (default: $SOAPKIT_CONFIG, ./soapkit.toml, ~/.config/soapkit/soapkit.toml)")


def _auth_option(text: str) -> str:
    """``--auth KIND``: the onsite sign-ins soapkit does not offer are refused saying why (not just "invalid")."""
    reason = UNSUPPORTED_SIGN_INS.get(text.strip().lower())
    if reason is not None:
        raise argparse.ArgumentTypeError(f"{text!r} is not supported: {reason} {UNSUPPORTED_SIGN_IN_HINT}")
    return text.strip().lower()


def arguments_layer(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as options (by setting name); ``--system-user-token @FILE`` names its file."""
    layer = {name: getattr(args, name, None) for name in KEYS if name not in ("system_user_token",)}
    token = getattr(args, "system_user_token", None)
    if token and token.startswith("@"):
        layer["system_user_token_file"] = token[1:]
    elif token:
        layer["system_user_token"] = token
    return layer


def effective_settings(args: argparse.Namespace) -> Settings:
    """What a command uses: its options over a sandbox over the environment over soapkit.toml over defaults."""
    return load_settings(arguments_layer(args), config_file=getattr(args, "config", None),
                         defaults=command_line_defaults(), argument_source=COMMAND_LINE)


def require(settings: Settings, names: tuple[str, ...] = ("context_identifier",), *,
            credential: str | None = None, needs_credential: bool = True,
            ways: dict[str, str] | None = None) -> None:
    """Report every missing piece at once, each with where it can come from (not one per run).

    ``names`` are settings the command needs; ``credential`` a provider whose requirements are needed too
    (``system_user`` for ``soapkit ticket``), or ``None`` to check that some credential is configured
    (unless ``needs_credential=False``: ``soapkit state`` and ``soapkit login`` need none). ``ways`` gives a
    command's own ways to set a piece before the usual ones (``soapkit state CTX``).
    """
    from soapkit.config.auth import REQUIREMENTS, auth_kind

    wanted = list(names) + list(REQUIREMENTS[credential] if credential else ())
    if is_onsite_env(settings):  # an onsite NetServer has no tenant
        wanted = [name for name in wanted if name != "context_identifier"]
    missing = [name for name in dict.fromkeys(wanted) if not _given(settings, name)]
    credential_error = None
    if credential is None and needs_credential:
        try:
            auth_kind(settings)
        except ConfigurationError as error:
            credential_error = error
    if not missing:
        if credential_error is not None:
            raise credential_error
        return
    message = f"Missing configuration: {', '.join(missing)}."
    own = ways or {}
    lines = [f"{name}: {', '.join(filter(None, (own.get(name), how_to_set(name))))}" for name in missing]
    if credential_error is not None:
        message += f" {credential_error.message}"
        lines.append(f"credential: {credential_error.hint}")
    lines.append("or --sandbox DIR: all of them from a local sandbox's sandbox.json")
    raise ConfigurationError(message, hint="\n  ".join(lines))


def is_onsite_env(settings: Settings) -> bool:
    """Whether ``env`` names an onsite NetServer (``onsite:URL``)."""
    return str(settings.get("env") or "").strip().lower().startswith("onsite:")


def refuse_onsite(settings: Settings, command: str, why: str, instead: str) -> None:
    """A clear refusal of a command that has no meaning for an onsite NetServer (``env`` = ``onsite:URL``).

    ``why`` says what the command needs that an onsite installation does not have; ``instead`` what to do.
    """
    if not is_onsite_env(settings):
        return
    source = settings.sources.get("env", "")
    where = f" (env from {source})" if source and source != "?" else ""
    raise ConfigurationError(f"soapkit {command} does not work with an onsite NetServer{where}: {why}",
                             hint=instead)


def _given(settings: Settings, name: str) -> bool:
    return bool(settings.has_secret(name) if KEYS[name].kind == "secret" else settings.get(name))
