"""The layers of settings and their order: defaults, ``soapkit.toml``, the environment, a sandbox, arguments."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soapkit.config.keys import CONFIG_FILE_NAME, DEFAULTS, ENVIRONMENT_VARIABLES, KEYS, coerce, did_you_mean
from soapkit.config.settings import Settings
from soapkit.errors import ConfigurationError

if TYPE_CHECKING:
    from types import ModuleType


# --- per-user folders ---------------------------------------------------------------------------------


def user_config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """soapkit's per-user folder: ``$SOAPKIT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/soapkit`` or ``~/.config/soapkit``
    (``%APPDATA%\\soapkit`` on Windows)."""
    environ = os.environ if environ is None else environ
    if environ.get("SOAPKIT_CONFIG_DIR"):
        return Path(environ["SOAPKIT_CONFIG_DIR"]).expanduser()
    if os.name == "nt" and environ.get("APPDATA"):
        return Path(environ["APPDATA"]) / "soapkit"
    return Path(environ.get("XDG_CONFIG_HOME") or Path.home() / ".config").expanduser() / "soapkit"


def default_sign_in_directory(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``soapkit login`` keeps sign-ins by default: ``sign-ins`` in :func:`user_config_dir` (also
    :func:`soapkit.credentials.oauth.default_sign_in_directory`; the ``sign_in_store`` setting overrides it)."""
    return user_config_dir(environ) / "sign-ins"


def user_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """soapkit's per-user cache folder: ``$XDG_CACHE_HOME/soapkit``, else ``~/.cache/soapkit``
    (``%LOCALAPPDATA%\\soapkit\\cache`` on Windows)."""
    environ = os.environ if environ is None else environ
    if os.name == "nt" and environ.get("LOCALAPPDATA"):
        return Path(environ["LOCALAPPDATA"]) / "soapkit" / "cache"
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "soapkit"


def user_wsdl_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``soapkit wsdl import`` puts WSDLs; searched after ``wsdl_dirs``, before the bundled ones."""
    return user_config_dir(environ) / "wsdl"


def command_line_defaults(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults of the ``soapkit`` command, over :data:`DEFAULTS`: tickets cached in the user's cache folder,
    so that successive runs reuse them instead of exchanging again (in memory where the file cache cannot
    lock: Windows)."""
    if os.name == "nt":
        return {}
    return {"cache": f"file:{user_cache_dir(environ) / 'credentials'}"}


# --- the configuration file ---------------------------------------------------------------------------


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


def _must_exist(path: Path, named_by: str) -> Path:
    if not path.is_file():
        raise ConfigurationError(f"The configuration file {path} (named by {named_by}) does not exist.",
                                 hint=f"Create it, or unset {named_by} to use ./{CONFIG_FILE_NAME}.")
    return path


def _toml() -> ModuleType:
    """The TOML reader, imported when there is a file to read (a run without soapkit.toml spares it)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings of one ``soapkit.toml``, typed and checked; relative paths made relative to its folder."""
    tomllib = _toml()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise ConfigurationError(f"Cannot read the configuration file {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"The configuration file {path} is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"The configuration file {path} is not valid TOML: {error}.",
                                 hint='Each setting is one line: key = "value"; '
                                 '`soapkit config show` lists the keys.') from None
    layer: dict[str, Any] = {}
    for name, value in document.items():
        key = KEYS.get(name)
        if key is None or not key.in_toml:
            raise ConfigurationError(f"{path}: unknown setting {name!r}.", hint=did_you_mean(name))
        layer[name] = coerce(name, value, str(path), base=path.parent)
    return layer


def config_file_layer(explicit: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None,
                      cwd: Path | None = None) -> tuple[dict[str, Any], str]:
    """The configuration file's settings and a description of the source (``config file (PATH)``)."""
    path, _ = find_config_file(explicit, environ=environ, cwd=cwd)
    if path is None:
        return {}, "config file"
    return read_config_file(path), f"config file ({path})"


# --- the environment and a sandbox ----------------------------------------------------------------------


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


def sandbox_layer(directory: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    """Everything needed to reach a local sandbox, from ``DIR/sandbox.json``, and the name of that source."""
    root = Path(directory).expanduser()
    config = root / "sandbox.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"No sandbox.json in {root}.",
                                 hint=f"Start a sandbox first: soapkit sandbox --sandbox {root}") from None
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"Cannot read {config}: {error}") from None
    if not isinstance(data, dict) or not data.get("base_url"):
        raise ConfigurationError(f"{config} has no base_url: it is not a sandbox description.")
    source = f"sandbox ({config})"
    found = {
        "env": data["base_url"],
        "context_identifier": data.get("context_identifier"),
        "client_id": data.get("client_id"),
        "app_token": data.get("client_secret"),
        "system_user_token": data.get("system_user_token"),
        "private_key": data.get("private_key_pem") or data.get("private_key_xml") or data.get("private_key"),
    }
    return {name: coerce(name, value, source, base=root) for name, value in found.items() if value}, source


# --- all of them ------------------------------------------------------------------------------------------


def load_settings(
    arguments: Mapping[str, Any] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    use_config_file: bool = True,
    defaults: Mapping[str, Any] | None = None,
    argument_source: str = "argument",
) -> Settings:
    """The effective settings: ``arguments`` over a sandbox over the environment over ``soapkit.toml`` over defaults.

    ``arguments`` use the setting names (``context_identifier``, ``app_token_file``, ...); from Python,
    secrets may be given directly (``app_token=...``). ``None`` values are ignored. ``sandbox`` (from any
    layer) names a sandbox whose ``sandbox.json`` values sit just below the arguments. ``defaults`` adds
    to or replaces :data:`DEFAULTS` (the command line's: :func:`command_line_defaults`).
    """
    settings = Settings()
    settings.apply({**DEFAULTS, **(defaults or {})}, "default")
    if use_config_file:
        path, _ = find_config_file(config_file, environ=environ, cwd=cwd)
        if path is not None:
            settings.apply(read_config_file(path), f"config file ({path})")
            settings.config_file = path
    layer, source = environment_layer(environ)
    settings.apply(layer, source)
    given = {name: coerce(name, value, argument_source) for name, value in (arguments or {}).items()
             if value is not None}
    sandbox = given.get("sandbox") or settings.get("sandbox")
    if sandbox:
        settings.apply(*sandbox_layer(sandbox))
    settings.apply(given, argument_source)
    return settings
