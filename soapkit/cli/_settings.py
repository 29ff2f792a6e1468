"""Connection settings of the command line, and the one place that builds a client from them.

Settings come in layers, each overriding the one before:

1. defaults (``env=online``, ``services_version=Services88``, ``timeout=30``);
2. the configuration file (``soapkit.toml``; see :func:`config_file_layer`, the seam for that layer);
3. environment variables (:data:`ENVIRONMENT_VARIABLES`);
4. ``--sandbox DIR``: everything from ``DIR/sandbox.json`` (an explicit flag, so it beats the environment);
5. the other command-line options.

Keys are those of ``soapkit.toml`` (docs/configuration.md). A secret is given either as a value (``app_token``,
``system_user_token``, ``ticket``: environment variables only) or as a file (``app_token_file``, ...); within a
layer, setting one of the pair hides the other from lower layers. Secrets are never required on the command
line: options take file names.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import soapkit.config as _config
from soapkit.errors import ConfigurationError

if TYPE_CHECKING:
    from soapkit.catalog import Catalog
    from soapkit.client import SuperOfficeClient
    from soapkit.credentials.base import Credential
    from soapkit.credentials.system_user import SystemUser
    from soapkit.debug import Recorder

DEFAULTS: dict[str, Any] = {"env": "online", "services_version": "Services88", "timeout": 30.0}

#: environment variable -> settings key
ENVIRONMENT_VARIABLES: dict[str, str] = {
    "SOAPKIT_ENV": "env",
    "SOAPKIT_CONTEXT_IDENTIFIER": "context_identifier",
    "SOAPKIT_CTX": "context_identifier",
    "SOAPKIT_CLIENT_ID": "client_id",
    "SOAPKIT_APP_TOKEN": "app_token",
    "SOAPKIT_APP_TOKEN_FILE": "app_token_file",
    "SOAPKIT_SYSTEM_USER_TOKEN": "system_user_token",
    "SOAPKIT_SYSTEM_USER_TOKEN_FILE": "system_user_token_file",
    "SOAPKIT_PRIVATE_KEY": "private_key",
    "SOAPKIT_TICKET": "ticket",
    "SOAPKIT_TICKET_FILE": "ticket_file",
    "SOAPKIT_TIMEOUT": "timeout",
    "SOAPKIT_SERVICES_VERSION": "services_version",
}
#: secrets that may be given as a value or as a file
# soapkit.config knows the rest: SOAPKIT_CONTEXT_IDENTIFIER, SOAPKIT_CACHE, SOAPKIT_CACHE_KEY(_FILE), ...
ENVIRONMENT_VARIABLES.update({name: key for name, key in _config.ENVIRONMENT_VARIABLES.items()
                              if name not in ENVIRONMENT_VARIABLES and key != "wsdl_dirs"})
SECRET_KEYS = _config.SECRET_KEYS
SECRET_VALUE_KEYS = frozenset(SECRET_KEYS)


@dataclass
class ResolvedSettings:
    """The effective settings and, for each key, where its value came from (for ``config show``)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def apply(self, layer: dict[str, Any], source: str | Callable[[str], str]) -> None:
        for key, value in layer.items():
            if value is None or value == "" or value == []:
                continue
            if key == "wsdl_dirs":
                value = [*value, *[d for d in self.values.get("wsdl_dirs", []) if d not in value]]
            for name in SECRET_KEYS:  # a value hides a file of the same secret from lower layers, and back
                if key in (name, f"{name}_file"):
                    other = f"{name}_file" if key == name else name
                    self.values.pop(other, None)
                    self.sources.pop(other, None)
            self.values[key] = value
            self.sources[key] = source(key) if callable(source) else source

    def redacted(self) -> dict[str, Any]:
        """The values with secret values masked, for display."""
        return {k: ("***" if k in SECRET_VALUE_KEYS else v) for k, v in self.values.items()}


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """Options of commands that talk to a tenant or to an environment."""
    group = parser.add_argument_group("connection (also from SOAPKIT_* environment variables; see docs/cli.md)")
    group.add_argument("--env", help="sod, qaonline (or stage), online, or a base URL (default: online)")
    group.add_argument("--ctx", metavar="CUST", help="the tenant's context identifier, e.g. Cust12345")
    group.add_argument("--client-id", metavar="ID", help="the application's client id (SoAppId)")
    group.add_argument("--app-token-file", metavar="FILE",
                       help="file holding the client secret (ApplicationToken); or set SOAPKIT_APP_TOKEN")
    group.add_argument("--system-user-token", metavar="TOKEN|@FILE",
                       help="the tenant's system-user token, or @FILE holding it; or SOAPKIT_SYSTEM_USER_TOKEN")
    group.add_argument("--private-key", metavar="FILE",
                       help="the partner private key (PEM or .NET <RSAKeyValue> XML); or SOAPKIT_PRIVATE_KEY")
    group.add_argument("--ticket-file", metavar="FILE",
                       help="file holding a 7T: ticket or 8A: access token to use as is; or SOAPKIT_TICKET")
    group.add_argument("--sandbox", metavar="DIR", help="use the local sandbox described by DIR/sandbox.json")
    group.add_argument("--config", metavar="FILE",
                       help="settings file (default: $SOAPKIT_CONFIG, ./soapkit.toml, ~/.config/soapkit/soapkit.toml)")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="HTTP timeout (default: 30)")
    group.add_argument("--services-version", metavar="VERSION", help="NetServer services folder (default: Services88)")


# --- the layers --------------------------------------------------------------------------------


def config_file_layer(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Settings from the configuration file (``soapkit.toml``) and a description of where they came from.

    The file is ``--config``, ``$SOAPKIT_CONFIG``, ``./soapkit.toml`` or ``~/.config/soapkit/soapkit.toml``;
    reading and checking it is :mod:`soapkit.config`'s job.
    """
    from soapkit.config import config_file_layer as read_config_layer

    return read_config_layer(getattr(args, "config", None))


def environment_layer(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    layer: dict[str, Any] = {key: environ[name] for name, key in ENVIRONMENT_VARIABLES.items() if environ.get(name)}
    if environ.get("SOAPKIT_WSDL_DIRS"):
        layer["wsdl_dirs"] = [d for d in environ["SOAPKIT_WSDL_DIRS"].split(os.pathsep) if d]
    return layer


def _environment_source(key: str) -> str:
    names = [n for n, k in ENVIRONMENT_VARIABLES.items() if k == key] or ["SOAPKIT_WSDL_DIRS"]
    return f"environment ({next((n for n in reversed(names) if os.environ.get(n)), names[0])})"


def sandbox_layer(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Everything needed to reach a local sandbox, from ``DIR/sandbox.json``."""
    root = Path(directory).expanduser()
    config = root / "sandbox.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"No sandbox.json in {root}.",
                                 hint=f"Start a sandbox first: soapkit sandbox start --data-dir {root}") from None
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"Cannot read {config}: {error}") from None
    if not isinstance(data, dict) or not data.get("base_url"):
        raise ConfigurationError(f"{config} has no base_url: it is not a sandbox description.")
    layer: dict[str, Any] = {
        "env": data["base_url"],
        "context_identifier": data.get("context_identifier"),
        "client_id": data.get("client_id"),
        "app_token": data.get("client_secret"),
        "system_user_token": data.get("system_user_token"),
    }
    key = data.get("private_key_pem") or data.get("private_key_xml") or data.get("private_key")
    if key:
        layer["private_key"] = str(root / key) if not Path(key).is_absolute() else key
    return layer


def command_line_layer(args: argparse.Namespace) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "env": getattr(args, "env", None),
        "context_identifier": getattr(args, "ctx", None),
        "client_id": getattr(args, "client_id", None),
        "app_token_file": getattr(args, "app_token_file", None),
        "private_key": getattr(args, "private_key", None),
        "ticket_file": getattr(args, "ticket_file", None),
        "timeout": getattr(args, "timeout", None),
        "services_version": getattr(args, "services_version", None),
        "wsdl_dirs": getattr(args, "wsdl_dirs", None),
    }
    token = getattr(args, "system_user_token", None)
    if token and token.startswith("@"):
        layer["system_user_token_file"] = token[1:]
    elif token:
        layer["system_user_token"] = token
    return layer


def resolve_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> ResolvedSettings:
    """All layers merged, with the source of each value."""
    resolved = ResolvedSettings()
    resolved.apply(DEFAULTS, "default")
    config, config_source = config_file_layer(args)
    resolved.apply(config, config_source)
    resolved.apply(environment_layer(environ), _environment_source)
    sandbox = getattr(args, "sandbox", None)
    if sandbox:
        resolved.apply(sandbox_layer(sandbox), f"sandbox ({Path(sandbox) / 'sandbox.json'})")
    resolved.apply(command_line_layer(args), "command line")
    return resolved


def effective_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The effective settings dict (keys of soapkit.toml; secret values under ``app_token`` etc.)."""
    return resolve_settings(args).values


# --- reading settings --------------------------------------------------------------------------


def secret(settings: dict[str, Any], name: str) -> str | None:
    """A secret's value: given directly, or read from its ``<name>_file``. None when not configured."""
    value = settings.get(name)
    if value:
        return str(value).strip()
    path = settings.get(f"{name}_file")
    if not path:
        return None
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8-sig").strip()
    except FileNotFoundError:
        raise ConfigurationError(f"The {name.replace('_', ' ')} file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"Cannot read the {name.replace('_', ' ')} file {path}: {error}") from None
    if not text:
        raise ConfigurationError(f"The {name.replace('_', ' ')} file {path} is empty.")
    return text


def timeout(settings: dict[str, Any]) -> float:
    try:
        value = float(settings.get("timeout", DEFAULTS["timeout"]))
    except (TypeError, ValueError):
        raise ConfigurationError(f"timeout must be a number of seconds, not {settings.get('timeout')!r}.") from None
    if value <= 0:
        raise ConfigurationError("timeout must be more than 0 seconds.")
    return value


def context_identifier(settings: dict[str, Any]) -> str:
    ctx = settings.get("context_identifier")
    if not ctx:
        raise ConfigurationError("No tenant given.",
                                 hint="Pass --ctx Cust12345, set SOAPKIT_CTX, or use --sandbox DIR.")
    return str(ctx)


def config_dir() -> Path:
    """soapkit's per-user folder: ``$SOAPKIT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/soapkit`` or ``~/.config/soapkit``.

    (``%APPDATA%\\soapkit`` on Windows.)
    """
    if os.environ.get("SOAPKIT_CONFIG_DIR"):
        return Path(os.environ["SOAPKIT_CONFIG_DIR"]).expanduser()
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "soapkit"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "soapkit"


def user_wsdl_dir() -> Path:
    """Where ``soapkit wsdl import`` puts WSDLs; searched after --wsdl-dir folders, before the bundled ones."""
    return config_dir() / "wsdl"


def build_catalog(settings: dict[str, Any]) -> Catalog:
    """The WSDL catalog: the configured folders, then the user's imported WSDLs, then the bundled ones."""
    from soapkit.catalog import Catalog, default_catalog

    folders = [Path(d).expanduser() for d in settings.get("wsdl_dirs") or []]
    if user_wsdl_dir().is_dir():
        folders.append(user_wsdl_dir())
    return Catalog(folders) if folders else default_catalog()


def credential_from_settings(settings: dict[str, Any]) -> Credential:
    """A ticket or access token given as is, else the system user (token + private key)."""
    from soapkit.credentials.base import StaticToken

    ticket = secret(settings, "ticket")
    if ticket:
        return StaticToken(ticket)
    return system_user_from_settings(settings)


def system_user_from_settings(settings: dict[str, Any]) -> SystemUser:
    from soapkit.credentials.system_user import SystemUser

    token = secret(settings, "system_user_token")
    key = settings.get("private_key")
    if not token or not key:
        missing = " and ".join(n for n, v in (("a system-user token", token), ("a private key", key)) if not v)
        raise ConfigurationError(
            f"No credential: {missing} is missing.",
            hint="Give --system-user-token and --private-key (or SOAPKIT_SYSTEM_USER_TOKEN and SOAPKIT_PRIVATE_KEY), "
            "a ticket with --ticket-file/SOAPKIT_TICKET, or --sandbox DIR.",
        )
    credential = SystemUser(token, Path(str(key)).expanduser(), cache=_config.cache_from_settings(settings),
                            method=str(settings.get("exchange_method") or "soap").lower())  # type: ignore[arg-type]
    if settings.get("refresh_margin") is not None:
        credential.refresh_margin = float(settings["refresh_margin"])
    return credential


def build_client(settings: dict[str, Any], *, recorder: Recorder | None = None,
                 credentials: Credential | None = None) -> SuperOfficeClient:
    """The one place the command line builds a :class:`~soapkit.client.SuperOfficeClient` from settings."""
    from soapkit.client import SuperOfficeClient

    return SuperOfficeClient(
        context_identifier(settings),
        env=str(settings.get("env") or DEFAULTS["env"]),
        app_token=secret(settings, "app_token"),
        credentials=credentials or credential_from_settings(settings),
        catalog=build_catalog(settings),
        version=str(settings.get("services_version") or DEFAULTS["services_version"]),
        timeout=timeout(settings),
        recorder=recorder,
        client_id=settings.get("client_id"),
    )
