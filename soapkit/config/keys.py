"""The settings soapkit knows: each one's type, environment variables, command-line option and help,
and how a raw value (from a toml, the environment or an argument) becomes a typed one or a clear error."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soapkit.errors import ConfigurationError

CONFIG_FILE_NAME = "soapkit.toml"

#: the credential providers ``auth`` can name (docs/configuration.md, "Which credential")
AUTH_KINDS: tuple[str, ...] = ("system_user", "ticket", "oauth_user", "client_credentials", "reference_token",
                               "username_password")


#: Why soapkit has no Windows sign-in: what NetServer reads is the HTTP connection's Windows identity.
WINDOWS_SIGN_IN_REASON = ("Windows sign-in (SoPrincipal.AuthenticateImplicit) signs in whoever the HTTP connection "
                          "is authenticated as by IIS Windows authentication (NTLM or Kerberos, the calling "
                          "process's Windows account); soapkit does not authenticate connections that way, so "
                          "NetServer would see an anonymous caller.")
#: Onsite sign-ins of SoPrincipal that soapkit does not offer, by the ``auth`` names a user may try, and why.
UNSUPPORTED_SIGN_INS: dict[str, str] = {
    **{kind: WINDOWS_SIGN_IN_REASON for kind in ("implicit", "windows", "ntlm", "kerberos", "negotiate")},
    "generic": ("SoPrincipal.AuthenticateGeneric hands AuthenticationGenericData to a sign-in plugin installed in "
                "that NetServer; what the data must hold is the plugin's own, so there is nothing soapkit "
                "could send for it."),
}
UNSUPPORTED_SIGN_IN_HINT = ("Sign in as an onsite user with a password instead: auth = username_password with "
                            "user_name and the password in a file (SOAPKIT_PASSWORD_FILE) or SOAPKIT_PASSWORD; "
                            "or give a ticket obtained elsewhere (SOAPKIT_TICKET_FILE).")


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
    #: the command-line option that sets it (``soapkit call --ctx``), for messages and the CLI's parser
    option: str | None = None


def _secret(name: str, env: str, help: str, *, option: str | None = None, file_option: str | None = None) -> list[Key]:
    file_key = f"{name}_file"
    return [
        Key(name, "secret", help, env=(env,), in_toml=False, file_key=file_key, option=option),
        Key(file_key, "path", f"file holding the {help}", env=(f"{env}_FILE",), option=file_option),
    ]


KEYS: dict[str, Key] = {k.name: k for k in [
    Key("env", "text", "environment: sod, qaonline (or stage), online, a base URL, or onsite:URL", env=("SOAPKIT_ENV",),
        option="--env"),
    Key("context_identifier", "text", "the tenant, e.g. Cust12345",
        env=("SOAPKIT_CONTEXT_IDENTIFIER", "SOAPKIT_CTX"), option="--ctx"),
    Key("client_id", "text", "the application's client id (SoAppId)", env=("SOAPKIT_CLIENT_ID",),
        option="--client-id"),
    *_secret("app_token", "SOAPKIT_APP_TOKEN", "client secret (ApplicationToken)", file_option="--app-token-file"),
    Key("auth", "choice", "which credential: " + ", ".join(AUTH_KINDS) + " (default: inferred)",
        env=("SOAPKIT_AUTH",), choices=AUTH_KINDS, option="--auth"),
    *_secret("system_user_token", "SOAPKIT_SYSTEM_USER_TOKEN", "tenant's system-user token",
             option="--system-user-token"),
    Key("private_key", "path", "the partner private key file (PEM or .NET <RSAKeyValue> XML)",
        env=("SOAPKIT_PRIVATE_KEY",), option="--private-key"),
    *_secret("ticket", "SOAPKIT_TICKET", "7T: ticket or 8A: access token to use as is", file_option="--ticket-file"),
    *_secret("reference_token", "SOAPKIT_REFERENCE_TOKEN", "8P: personal or 8S: service reference token",
             file_option="--reference-token-file"),
    Key("user_name", "text", "onsite NetServer user name (auth = username_password)", env=("SOAPKIT_USER_NAME",)),
    *_secret("password", "SOAPKIT_PASSWORD", "onsite user's password (auth = username_password)"),
    Key("client_auth", "choice", "how the client secret is sent to the token endpoint: basic or post",
        env=("SOAPKIT_CLIENT_AUTH",), choices=("basic", "post")),
    Key("sign_in_store", "path", "folder of the sign-ins `soapkit login` stores (default: <user folder>/sign-ins)",
        env=("SOAPKIT_SIGN_IN_STORE",)),
    Key("sandbox", "path", "a local sandbox's data folder: its sandbox.json supplies the connection settings",
        env=("SOAPKIT_SANDBOX",), option="--sandbox"),
    Key("wsdl_dirs", "paths", "extra folders with WSDLs, searched before the bundled ones",
        env=("SOAPKIT_WSDL_DIRS",), option="--wsdl-dir"),
    Key("services_version", "text", "NetServer services folder, e.g. Services88", env=("SOAPKIT_SERVICES_VERSION",),
        option="--services-version"),
    Key("timeout", "number", "HTTP timeout in seconds", env=("SOAPKIT_TIMEOUT",), minimum=0.001, option="--timeout"),
    Key("cache", "text", "credential cache: memory, file:PATH or redis://host:6379/0", env=("SOAPKIT_CACHE",),
        option="--cache"),
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


def how_to_set(name: str) -> str:
    """Every way to give setting ``name`` (a secret: its file or its value), for hints."""
    key = KEYS[name]
    if key.kind == "secret" and key.file_key:
        file_key = KEYS[key.file_key]
        ways = [_option_text(key), _option_text(file_key), *file_key.env, *key.env, f"{file_key.name} in soapkit.toml"]
    else:
        ways = [_option_text(key), *key.env, f"{name} in soapkit.toml" if key.in_toml else ""]
    return ", ".join(way for way in ways if way)


def _option_text(key: Key) -> str:
    if not key.option:
        return ""
    if key.name == "system_user_token":
        return f"{key.option} TOKEN|@FILE"
    return f"{key.option} FILE" if key.kind == "path" else key.option


def describe(name: str, source: str) -> str:
    """``name (from source)`` for messages, or just ``name`` when the source is not known."""
    return f"{name} (from {source})" if source and source != "?" else name


def is_key_text(value: str) -> bool:
    """Whether ``private_key`` holds the key itself rather than a path."""
    return value.lstrip().startswith("<") or "-----BEGIN" in value


# --- coercion: what a layer says into typed values, or a clear error ---------------------------------------


def coerce(name: str, value: Any, source: str, *, base: Path | None = None) -> Any:
    """``value`` of setting ``name`` as its type; ``base`` resolves relative paths (the toml's folder)."""
    key = KEYS.get(name)
    if key is None:
        raise ConfigurationError(f"Unknown setting {name!r}" + (f" (from {source})." if source else "."),
                                 hint=did_you_mean(name))
    where = describe(name, source)
    if key.kind in ("text", "secret", "choice"):
        text = _text(value, where)
        folder = text[5:].removeprefix("//") if name == "cache" and text.lower().startswith("file:") else ""
        if folder.strip():  # a relative cache folder in soapkit.toml is relative to the file, like other paths
            return "file:" + _path(folder, base, name)
        if name == "auth" and text.strip().lower() in UNSUPPORTED_SIGN_INS:
            reason = UNSUPPORTED_SIGN_INS[text.strip().lower()]
            raise ConfigurationError(f"{where}: {text!r} is not supported: {reason}",
                                     hint=UNSUPPORTED_SIGN_IN_HINT)
        if key.kind == "choice" and text.lower() not in key.choices:
            raise ConfigurationError(f"{where}: {text!r} is not one of {', '.join(key.choices)}.")
        return text.lower() if key.kind == "choice" else text
    if key.kind == "number":
        return _number(key, value, where)
    if key.kind == "path":
        return _path(_text(value, where), base, name)
    return [_path(item, base, name) for item in _path_list(value, where)]


def _text(value: Any, where: str) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
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
    if name == "private_key" and is_key_text(text):
        return text  # SOAPKIT_PRIVATE_KEY may hold the key itself
    path = Path(text).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    return str(path)


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def did_you_mean(name: str) -> str:
    """The hint for an unknown setting: a close name, or where a secret belongs instead."""
    import difflib

    if name in SECRET_KEYS:
        return (f"Secrets do not belong in soapkit.toml: put it in a file (chmod 600) and set {name}_file, "
                f"or set {KEYS[name].env[0]}.")
    close = difflib.get_close_matches(name, [k for k in KEYS if KEYS[k].in_toml], n=2, cutoff=0.6)
    known = ", ".join(k for k in KEYS if KEYS[k].in_toml)
    return (f"Did you mean {' or '.join(close)}? " if close else "") + f"Known settings: {known}."
