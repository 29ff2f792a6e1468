"""Configuration: arguments, then ``SOAPKIT_*`` environment variables, then ``soapkit.toml``, then defaults.

>>> settings = load_settings()                    # environment + soapkit.toml
>>> so = build_client(settings)                   # the right Credential, cache and client
>>> load_settings({"context_identifier": "Cust2"}).sources["context_identifier"]
'argument'

Secrets (client secret, system-user token, ticket, cache encryption key) come from the environment
(``SOAPKIT_APP_TOKEN``) or from files (``SOAPKIT_APP_TOKEN_FILE``, ``app_token_file`` in the toml), never
from the toml itself and never necessarily from a command line. The configuration file is the first of:
an explicit path (``--config``), ``$SOAPKIT_CONFIG``, ``./soapkit.toml``, ``$XDG_CONFIG_HOME/soapkit/
soapkit.toml`` (default ``~/.config/soapkit/soapkit.toml``). Relative paths inside it are relative to it.
Every value remembers where it came from (:attr:`Settings.sources`) for ``soapkit config show``.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soapkit.errors import CacheKeyError, ConfigurationError, KeyFormatError
from soapkit.redaction import MASK

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from soapkit.client import SuperOfficeClient
    from soapkit.credentials.base import Credential, CredentialCache
    from soapkit.debug import Recorder

CONFIG_FILE_NAME = "soapkit.toml"


@dataclass(frozen=True)
class Key:
    """One setting: its type, where it may come from, and what it is for."""

    name: str
    kind: str  # text | path | paths | number | choice | secret
    help: str
    env: tuple[str, ...] = ()
    in_toml: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    #: for a secret: the key naming the file that holds it
    file_key: str | None = None


def _secret(name: str, env: str, help: str) -> list[Key]:
    file_key = f"{name}_file"
    return [
        Key(name, "secret", help, env=(env,), in_toml=False, file_key=file_key),
        Key(file_key, "path", f"file holding the {help}", env=(f"{env}_FILE",)),
    ]


KEYS: dict[str, Key] = {k.name: k for k in [
    Key("env", "text", "environment: sod, qaonline (or stage), online, or a base URL", env=("SOAPKIT_ENV",)),
    Key("context_identifier", "text", "the tenant, e.g. Cust12345",
        env=("SOAPKIT_CONTEXT_IDENTIFIER", "SOAPKIT_CTX")),
    Key("client_id", "text", "the application's client id (SoAppId)", env=("SOAPKIT_CLIENT_ID",)),
    *_secret("app_token", "SOAPKIT_APP_TOKEN", "client secret (ApplicationToken)"),
    *_secret("system_user_token", "SOAPKIT_SYSTEM_USER_TOKEN", "tenant's system-user token"),
    Key("private_key", "path", "the partner private key file (PEM or .NET <RSAKeyValue> XML)",
        env=("SOAPKIT_PRIVATE_KEY",)),
    *_secret("ticket", "SOAPKIT_TICKET", "7T: ticket or 8A: access token to use as is"),
    Key("wsdl_dirs", "paths", "extra folders with WSDLs, searched before the bundled ones",
        env=("SOAPKIT_WSDL_DIRS",)),
    Key("services_version", "text", "NetServer services folder, e.g. Services88", env=("SOAPKIT_SERVICES_VERSION",)),
    Key("timeout", "number", "HTTP timeout in seconds", env=("SOAPKIT_TIMEOUT",), minimum=0.001),
    Key("cache", "text", "credential cache: memory, file:PATH or redis://host:6379/0", env=("SOAPKIT_CACHE",)),
    *_secret("cache_key", "SOAPKIT_CACHE_KEY", "encryption key of the credential cache (base64, 32 bytes)"),
    Key("refresh_margin", "number", "refresh a credential this many seconds before it expires",
        env=("SOAPKIT_REFRESH_MARGIN",), minimum=0.0),
    Key("exchange_method", "choice", "how the system-user token is exchanged: soap or rest",
        env=("SOAPKIT_EXCHANGE_METHOD",), choices=("soap", "rest")),
]}

DEFAULTS: dict[str, Any] = {
    "env": "online", "services_version": "Services88", "timeout": 30.0, "cache": "memory",
    "exchange_method": "soap",
}

#: environment variable -> setting, for every variable soapkit reads (SOAPKIT_CONFIG names the file)
ENVIRONMENT_VARIABLES: dict[str, str] = {variable: key.name for key in KEYS.values() for variable in key.env}
SECRET_KEYS: tuple[str, ...] = tuple(k.name for k in KEYS.values() if k.kind == "secret")


# --- the settings and where they came from ----------------------------------------------------------


@dataclass
class Settings:
    """Effective settings (``values``), the source of each (``sources``) and the file that was read."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    config_file: Path | None = None

    def __repr__(self) -> str:
        shown = {name: value for name, value, _ in self.display()}
        return f"Settings({shown!r}, config_file={str(self.config_file) if self.config_file else None!r})"

    def apply(self, layer: Mapping[str, Any], source: str | Callable[[str], str]) -> None:
        """Lay ``layer`` over what is there. A secret's value and its file hide each other from lower layers."""
        for name, value in layer.items():
            if value is None or value == "" or value == []:
                continue
            for secret in SECRET_KEYS:
                pair = (secret, f"{secret}_file")
                if name in pair:
                    other = pair[1] if name == secret else pair[0]
                    self.values.pop(other, None)
                    self.sources.pop(other, None)
            self.values[name] = value
            self.sources[name] = source(name) if callable(source) else source

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def secret(self, name: str) -> str | None:
        """A secret's value, given directly or read from its file; None when neither is configured."""
        if self.values.get(name):
            return str(self.values[name]).strip()
        file_key = f"{name}_file"
        path = self.values.get(file_key)
        if not path:
            return None
        return read_secret_file(Path(path), file_key, self.sources.get(file_key, ""))

    def display(self, *, show_secrets: bool = False) -> list[tuple[str, Any, str]]:
        """``(name, value, source)`` of every known setting, secrets masked unless asked for."""
        rows = []
        for name in KEYS:
            if name not in self.values:
                continue
            rows.append((name, display_value(name, self.values[name], show_secrets=show_secrets),
                         self.sources.get(name, "?")))
        return rows


def display_value(name: str, value: Any, *, show_secrets: bool = False) -> Any:
    """How a setting is shown: secrets, key text and cache passwords masked unless asked for."""
    if show_secrets:
        return value
    if name in SECRET_KEYS:
        return MASK
    if name == "private_key" and _is_key_text(str(value)):
        return MASK + " (key text)"
    if name == "cache" and isinstance(value, str):
        from soapkit.credentials.caches.redis_cache import safe_url

        return safe_url(value)
    return value


def _is_key_text(value: str) -> bool:
    return value.lstrip().startswith("<") or "-----BEGIN" in value


def describe(name: str, source: str) -> str:
    """``name (from source)`` for messages, or just ``name`` when the source is not known."""
    return f"{name} (from {source})" if source and source != "?" else name


def read_secret_file(path: Path, key: str, source: str) -> str:
    """The stripped text of a file holding a secret; a clear error naming the setting when it cannot be used."""
    where = describe(key, source)
    try:
        text = path.expanduser().read_text(encoding="utf-8-sig").strip()
    except FileNotFoundError:
        raise ConfigurationError(f"{where}: the file {path} does not exist.",
                                 hint=f"Create it (mode 0600) or point {key} at the right file.") from None
    except IsADirectoryError:
        raise ConfigurationError(f"{where}: {path} is a folder, not a file.") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigurationError(f"{where}: cannot read {path}: {reason}.",
                                 hint="Check the file's owner and permissions.") from None
    if not text:
        raise ConfigurationError(f"{where}: the file {path} is empty.")
    _warn_if_readable_by_others(path, where)
    return text


def _warn_if_readable_by_others(path: Path, where: str) -> None:
    import logging

    try:
        mode = stat.S_IMODE(path.expanduser().stat().st_mode)
    except OSError:
        return
    if mode & 0o077 and os.name == "posix":
        logging.getLogger("soapkit.config").warning(
            "%s: %s holds a secret but other users may read it (mode %o); run chmod 600 %s.", where, path, mode, path)


# --- coercion: what a layer says into typed values, or a clear error ---------------------------------------


def coerce(name: str, value: Any, source: str, *, base: Path | None = None) -> Any:
    """``value`` of setting ``name`` as its type; ``base`` resolves relative paths (the toml's folder)."""
    key = KEYS.get(name)
    if key is None:
        raise ConfigurationError(f"Unknown setting {name!r}" + (f" (from {source})." if source else "."),
                                 hint=_did_you_mean(name))
    where = describe(name, source)
    if key.kind in ("text", "secret", "choice"):
        text = _text(value, where)
        folder = text[5:].removeprefix("//") if name == "cache" and text.lower().startswith("file:") else ""
        if folder.strip():  # a relative cache folder in soapkit.toml is relative to the file, like other paths
            return "file:" + _path(folder, base, name)
        if key.kind == "choice" and text.lower() not in key.choices:
            raise ConfigurationError(f"{where}: {text!r} is not one of {', '.join(key.choices)}.")
        return text.lower() if key.kind == "choice" else text
    if key.kind == "number":
        return _number(key, value, where)
    if key.kind == "path":
        return _path(_text(value, where), base, name)
    return [_path(item, base, name) for item in _path_list(value, where)]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where} must be text, not {_type_name(value)}.",
                                 hint='In soapkit.toml, quote it: key = "value".')
    if not value.strip():
        raise ConfigurationError(f"{where} is empty.")
    return value.strip()


def _number(key: Key, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigurationError(f"{where} must be a number of seconds, not {_type_name(value)}.")
    try:
        number = float(value)
    except ValueError:
        raise ConfigurationError(f"{where} must be a number of seconds, not {value!r}.") from None
    if not math.isfinite(number) or (key.minimum is not None and number < key.minimum):
        bound = "more than 0" if key.minimum and key.minimum > 0 else "0 or more"
        raise ConfigurationError(f"{where} must be {bound} seconds, not {value!r}.")
    return number


def _path_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):  # the environment: folders separated like PATH
        return [part for part in value.split(os.pathsep) if part.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(item, (str, os.PathLike)) for item in value):
        return [os.fspath(item) for item in value]
    raise ConfigurationError(f"{where} must be a list of folders, not {_type_name(value)}.",
                             hint='In soapkit.toml: wsdl_dirs = ["wsdl", "/opt/wsdl"].')


def _path(text: str, base: Path | None, name: str) -> str:
    if name == "private_key" and _is_key_text(text):
        return text  # SOAPKIT_PRIVATE_KEY may hold the key itself
    path = Path(text).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    return str(path)


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _did_you_mean(name: str) -> str:
    import difflib

    if name in SECRET_KEYS:
        return (f"Secrets do not belong in soapkit.toml: put it in a file (chmod 600) and set {name}_file, "
                f"or set {KEYS[name].env[0]}.")
    close = difflib.get_close_matches(name, [k for k in KEYS if KEYS[k].in_toml], n=2, cutoff=0.6)
    known = ", ".join(k for k in KEYS if KEYS[k].in_toml)
    return (f"Did you mean {' or '.join(close)}? " if close else "") + f"Known settings: {known}."


# --- the layers ---------------------------------------------------------------------------------------


def find_config_file(explicit: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None,
                     cwd: Path | None = None) -> tuple[Path | None, str]:
    """The configuration file to read and why: an explicit path and ``$SOAPKIT_CONFIG`` must exist."""
    environ = os.environ if environ is None else environ
    if explicit:
        return _must_exist(Path(explicit).expanduser(), "--config"), "--config"
    if environ.get("SOAPKIT_CONFIG"):
        return _must_exist(Path(environ["SOAPKIT_CONFIG"]).expanduser(), "SOAPKIT_CONFIG"), "SOAPKIT_CONFIG"
    for candidate in config_search_path(environ=environ, cwd=cwd):
        if candidate.is_file():
            return candidate, "found"
    return None, "none found"


def config_search_path(*, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> list[Path]:
    """Where soapkit looks for ``soapkit.toml`` when none is named, in order."""
    return [(cwd or Path.cwd()) / CONFIG_FILE_NAME, user_config_dir(environ) / CONFIG_FILE_NAME]


def user_config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """soapkit's per-user folder: ``$SOAPKIT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/soapkit`` or ``~/.config/soapkit``
    (``%APPDATA%\\soapkit`` on Windows)."""
    environ = os.environ if environ is None else environ
    if environ.get("SOAPKIT_CONFIG_DIR"):
        return Path(environ["SOAPKIT_CONFIG_DIR"]).expanduser()
    if os.name == "nt" and environ.get("APPDATA"):
        return Path(environ["APPDATA"]) / "soapkit"
    return Path(environ.get("XDG_CONFIG_HOME") or Path.home() / ".config").expanduser() / "soapkit"


def _must_exist(path: Path, named_by: str) -> Path:
    if not path.is_file():
        raise ConfigurationError(f"The configuration file {path} (named by {named_by}) does not exist.",
                                 hint=f"Create it, or unset {named_by} to use ./{CONFIG_FILE_NAME}.")
    return path


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings of one ``soapkit.toml``, typed and checked; relative paths made relative to its folder."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise ConfigurationError(f"Cannot read the configuration file {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"The configuration file {path} is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"The configuration file {path} is not valid TOML: {error}.",
                                 hint='Each setting is one line: key = "value" (see docs/configuration.md).') from None
    source = f"{path}"
    layer: dict[str, Any] = {}
    for name, value in document.items():
        key = KEYS.get(name)
        if key is None or not key.in_toml:
            raise ConfigurationError(f"{path}: unknown setting {name!r}.", hint=_did_you_mean(name))
        layer[name] = coerce(name, value, source, base=path.parent)
    return layer


def config_file_layer(explicit: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None,
                      cwd: Path | None = None) -> tuple[dict[str, Any], str]:
    """The configuration file's settings and a description of the source (``soapkit.toml (PATH)``)."""
    path, _ = find_config_file(explicit, environ=environ, cwd=cwd)
    if path is None:
        return {}, "config file"
    return read_config_file(path), f"config file ({path})"


def environment_layer(environ: Mapping[str, str] | None = None) -> tuple[dict[str, Any], Callable[[str], str]]:
    """Settings from ``SOAPKIT_*`` variables, and a function naming the variable each came from."""
    environ = os.environ if environ is None else environ
    layer: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for variable, name in ENVIRONMENT_VARIABLES.items():
        value = environ.get(variable)
        if value and name not in layer:  # SOAPKIT_CONTEXT_IDENTIFIER before its alias SOAPKIT_CTX
            origin[name] = variable
            layer[name] = coerce(name, value, f"environment variable {variable}")
    return layer, lambda name: f"environment ({origin.get(name, '?')})"


def load_settings(
    arguments: Mapping[str, Any] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    use_config_file: bool = True,
) -> Settings:
    """The effective settings: ``arguments`` over the environment over ``soapkit.toml`` over defaults.

    ``arguments`` use the setting names (``context_identifier``, ``app_token_file``, ...); from Python,
    secrets may be given directly (``app_token=...``). ``None`` values are ignored.
    """
    settings = Settings()
    settings.apply(DEFAULTS, "default")
    if use_config_file:
        path, _ = find_config_file(config_file, environ=environ, cwd=cwd)
        if path is not None:
            settings.apply(read_config_file(path), f"config file ({path})")
            settings.config_file = path
    layer, source = environment_layer(environ)
    settings.apply(layer, source)
    given = {name: coerce(name, value, "argument") for name, value in (arguments or {}).items() if value is not None}
    settings.apply(given, "argument")
    return settings


# --- from settings to a client ----------------------------------------------------------------------------


def _values(settings: Settings | Mapping[str, Any]) -> Settings:
    """Settings as they are, or a plain mapping of values (say, the command line's) with unknown sources."""
    if isinstance(settings, Settings):
        return settings
    result = Settings()
    result.apply(settings, "")
    return result


def cache_from_settings(settings: Settings | Mapping[str, Any]) -> CredentialCache:
    """The credential cache named by ``cache`` (memory, file:PATH, redis://...), encrypted when a key is set."""
    from soapkit.credentials.caches import open_cache

    resolved = _values(settings)
    spec = str(resolved.get("cache") or DEFAULTS["cache"])
    key = resolved.secret("cache_key")
    try:
        return open_cache(spec, encryption_key=key)
    except ConfigurationError as error:
        about = "cache_key" if isinstance(error, CacheKeyError) else "cache"
        given = about in resolved.values or f"{about}_file" in resolved.values
        source = resolved.sources.get(about) or resolved.sources.get(f"{about}_file") or ("" if given else "default")
        raise type(error)(f"{describe(about, source)}: {error.message}", hint=error.hint) from None


def credential_from_settings(settings: Settings | Mapping[str, Any], *,
                             cache: CredentialCache | None = None) -> Credential:
    """A ticket or access token given as is (``ticket``), else the system user (token + private key)."""
    from soapkit.credentials.base import StaticToken
    from soapkit.credentials.system_user import SystemUser

    resolved = _values(settings)
    ticket = resolved.secret("ticket")
    if ticket:
        return StaticToken(ticket)
    token, key = resolved.secret("system_user_token"), resolved.get("private_key")
    if not token or not key:
        missing = " and ".join(n for n, v in (("system_user_token", token), ("private_key", key)) if not v)
        raise ConfigurationError(
            f"No credential configured: {missing} missing.",
            hint="Set SOAPKIT_SYSTEM_USER_TOKEN_FILE (or SOAPKIT_SYSTEM_USER_TOKEN) and SOAPKIT_PRIVATE_KEY "
            "for a background service, or SOAPKIT_TICKET_FILE for a ticket obtained elsewhere.",
        )
    try:
        credential = SystemUser(token, str(key), method=resolved.get("exchange_method", "soap"),
                                cache=cache or cache_from_settings(resolved))
    except KeyFormatError as error:
        raise _named(error, resolved, ("private_key",)) or error from None
    if resolved.get("refresh_margin") is not None:
        credential.refresh_margin = float(resolved.get("refresh_margin"))
    return credential


def build_client(
    settings: Settings | Mapping[str, Any] | None = None,
    *,
    credentials: Credential | None = None,
    recorder: Recorder | None = None,
) -> SuperOfficeClient:
    """A ready :class:`~soapkit.client.SuperOfficeClient` from the effective settings (default: load them)."""
    from soapkit.catalog import Catalog
    from soapkit.client import SuperOfficeClient

    resolved = load_settings() if settings is None else _values(settings)
    ctx = resolved.get("context_identifier")
    if not ctx:
        raise ConfigurationError("No tenant configured (context_identifier).",
                                 hint="Set SOAPKIT_CONTEXT_IDENTIFIER=Cust12345 or context_identifier in soapkit.toml.")
    wsdl_dirs = resolved.get("wsdl_dirs") or []
    try:
        return SuperOfficeClient(
            str(ctx),
            env=str(resolved.get("env", DEFAULTS["env"])),
            app_token=resolved.secret("app_token"),
            credentials=credentials or credential_from_settings(resolved),
            catalog=Catalog(wsdl_dirs) if wsdl_dirs else None,
            version=str(resolved.get("services_version", DEFAULTS["services_version"])),
            timeout=float(resolved.get("timeout", DEFAULTS["timeout"])),
            client_id=resolved.get("client_id"),
            recorder=recorder,
        )
    except ConfigurationError as error:
        named = _named(error, resolved, ("env", "context_identifier"))
        if named is None:
            raise
        raise named from None


def _named(error: ConfigurationError, settings: Settings, names: tuple[str, ...]) -> ConfigurationError | None:
    """The error again, saying which setting (and where it came from) it is about; None if none is.

    With one name the error is about that setting; with several, about the one whose value it quotes.
    """
    for name in names:
        value = settings.get(name)
        if value and (len(names) == 1 or str(value) in error.message):
            return type(error)(f"{describe(name, settings.sources.get(name, ''))}: {error.message}",
                               hint=error.hint)
    return None
