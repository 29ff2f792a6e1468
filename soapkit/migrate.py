"""From a .NET WCF integration's ``App.config``/``Web.config`` to ``soapkit.toml``.

:func:`read_app_config` reads what a SuperOffice NetServer WCF client keeps in its configuration file —
``appSettings`` (``SoAppId``, ``SoFederationGateway``, ``SuperIdCertificate``, ``SystemTokenCertificatePath``,
...), the ``SuperOffice/Services`` section (``ApplicationToken``, ``RemoteBaseURL``, ...) and the
``system.serviceModel`` client endpoints and bindings — and returns a :class:`Migration`: the soapkit
settings, the secrets found, the private key, and a report of everything it carried over, dropped as not
needed, could not carry over, found missing, or found impossible to migrate.

Onsite NetServer: a ``RemoteBaseURL`` that is not a SuperOffice Online host (``http://crm/WebServices/``) becomes
``env = "onsite:http://crm/WebServices"`` — agents at ``{RemoteBaseURL}/Remote/Services88/`` (or directly under it
when it already ends in ``/Remote/ServicesNN``), no tenant lookup, ``ApplicationToken`` optional, users signed in
with :class:`~soapkit.onsite.UsernamePassword`. ``DefaultMode=Local`` cannot be migrated: NetServer then runs
in-process, inside the .NET program, against the database; there is no wire protocol a Python program could speak.
Nor can a binding whose security sends the Windows identity (``clientCredentialType="Windows"``/``"Ntlm"``,
what ``SoPrincipal.AuthenticateImplicit`` signs in): soapkit does not authenticate connections that way.

:func:`write_migration` writes ``soapkit.toml`` with secrets
in separate files (mode 0600) or left to environment variables; an XML private key is converted to PEM.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from lxml import etree

from soapkit.config.keys import WINDOWS_SIGN_IN_REASON
from soapkit.errors import ConfigurationError
from soapkit.onsite import ONSITE_PREFIX, Onsite

NoteKind = Literal["carried", "dropped", "ignored", "missing", "conflict", "unmigratable"]
SecretsMode = Literal["files", "env"]

#: settings keys soapkit.toml may hold (docs/configuration.md); the order they are written in
TOML_KEYS = ("env", "context_identifier", "client_id", "app_token_file", "system_user_token_file", "private_key",
             "wsdl_dirs", "services_version", "timeout")
#: secret -> (file name in the secrets folder, toml key, environment variable)
SECRETS = {
    "app_token": ("app_token", "app_token_file", "SOAPKIT_APP_TOKEN"),
    "system_user_token": ("system_user_token", "system_user_token_file", "SOAPKIT_SYSTEM_USER_TOKEN"),
}
PRIVATE_KEY_FILE = "partner-private-key.pem"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True)
_ONLINE_HOST = re.compile(r"^(?P<env>sod|qaonline|stage|online)\d*\.superoffice\.com$", re.I)


class MigrationError(ConfigurationError):
    """The configuration file cannot be migrated (not XML, not a .NET configuration, essentials missing)."""


@dataclass(frozen=True)
class Note:
    kind: NoteKind
    subject: str
    detail: str


@dataclass
class Migration:
    """What :func:`read_app_config` found."""

    source: Path
    settings: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    private_key: bytes | None = None
    private_key_path: Path | None = None
    notes: list[Note] = field(default_factory=list)

    @property
    def onsite(self) -> bool:
        """Whether the configuration talks to an onsite NetServer (``env = "onsite:..."``)."""
        return str(self.settings.get("env", "")).startswith(ONSITE_PREFIX)

    def note(self, kind: NoteKind, subject: str, detail: str) -> None:
        self.notes.append(Note(kind, subject, detail))

    def of_kind(self, *kinds: NoteKind) -> list[Note]:
        return [n for n in self.notes if n.kind in kinds]

    def __repr__(self) -> str:  # secrets and the key never appear in a repr
        return (f"Migration(source={str(self.source)!r}, settings={self.settings!r}, "
                f"secrets={sorted(self.secrets)!r}, private_key={'<loaded>' if self.private_key else None})")


# --- reading -----------------------------------------------------------------------------------


def read_app_config(path: str | os.PathLike[str]) -> Migration:
    """Read a .NET configuration file; raise :class:`MigrationError` when essentials are missing."""
    source = Path(path).expanduser()
    root = _parse(source)
    migration = Migration(source)
    seen_sections = {"configSections"}
    for reader, section in ((_read_app_settings, "appSettings"), (_read_superoffice, "SuperOffice"),
                            (_read_service_model, "system.serviceModel")):
        element = root.find(section)
        if element is not None:
            reader(element, migration)
        seen_sections.add(section)
    for child in root:
        if isinstance(child.tag, str) and child.tag not in seen_sections:
            migration.note("ignored", f"<{child.tag}>", "section not about SuperOffice web services")
    _check_essentials(migration)
    return migration


def _parse(source: Path) -> etree._Element:
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise MigrationError(f"{source} does not exist.") from None
    except OSError as error:
        raise MigrationError(f"Cannot read {source}: {error.strerror}.") from None
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        raise MigrationError(f"{source} is not well-formed XML: {error}",
                             hint="Fix the XML (Visual Studio shows the same error) and run soapkit migrate again.") \
            from None
    if root.tag != "configuration":
        raise MigrationError(f"{source} is not a .NET configuration file (root element <{root.tag}>, "
                             "expected <configuration>).", hint="Give the App.config or Web.config of the integration.")
    return root


def _pairs(section: etree._Element, where: str, migration: Migration) -> list[tuple[str, str]]:
    """The ``<add key value/>`` entries of a name/value section, honouring ``<remove/>`` and ``<clear/>``."""
    for attribute in ("file", "configSource"):
        if section.get(attribute):
            migration.note("ignored", f"{where} {attribute}={section.get(attribute)}",
                           "settings kept in another file are not read; migrate that file's entries too")
    values: dict[str, str] = {}
    for entry in section:
        if not isinstance(entry.tag, str):
            continue
        if entry.tag == "clear":
            values.clear()
        elif entry.tag == "remove":
            values.pop(entry.get("key", ""), None)
        elif entry.tag == "add" and entry.get("key"):
            values[entry.get("key", "")] = entry.get("value", "")
    return list(values.items())


# appSettings key (lower case) -> handler
def _read_app_settings(section: etree._Element, migration: Migration) -> None:
    handlers = {
        "soappid": _client_id, "clientid": _client_id, "soclientid": _client_id,
        "sofederationgateway": _federation_gateway,
        "superidcertificate": _superid_certificate,
        "systemtokencertificatepath": _private_key, "privatekeyfile": _private_key, "sopartnerprivatekey": _private_key,
        "soapptoken": _app_token, "applicationtoken": _app_token, "soclientsecret": _app_token,
        "soappsecret": _app_token, "clientsecret": _app_token,
        "systemusertoken": _system_user_token, "sosystemusertoken": _system_user_token,
        "socontextidentifier": _context, "contextidentifier": _context, "socustomerid": _context,
    }
    _dispatch(_pairs(section, "appSettings", migration), "appSettings", handlers, migration)


def _dispatch(pairs: Iterable[tuple[str, str]], section: str, handlers: dict[str, Any],
              migration: Migration) -> None:
    """Hand each key/value of a section to its handler; unknown and empty keys go into the report."""
    for key, value in pairs:
        handler = handlers.get(key.lower())
        where = f"{section} {key}"
        if handler is None:
            migration.note("ignored", where, "unknown key, not carried over")
        elif not value.strip():
            migration.note("missing", where, "present but empty")
        else:
            handler(where, value.strip(), migration)


def _read_superoffice(group: etree._Element, migration: Migration) -> None:
    handlers = {"applicationtoken": _app_token, "remotebaseurl": _remote_base_url, "mode": _mode,
                "defaultmode": _mode}
    for section in group:
        if not isinstance(section.tag, str):
            continue
        if section.tag != "Services":
            migration.note("ignored", f"SuperOffice/{section.tag}",
                           "NetServer-side settings; a web-services client has no use for them")
            continue
        _dispatch(_pairs(section, "SuperOffice/Services", migration), "SuperOffice/Services", handlers, migration)


# --- one key each ------------------------------------------------------------------------------


def _client_id(where: str, value: str, migration: Migration) -> None:
    _set(migration, "client_id", value, where)


def _app_token(where: str, value: str, migration: Migration) -> None:
    _set_secret(migration, "app_token", value, where)


def _system_user_token(where: str, value: str, migration: Migration) -> None:
    _set_secret(migration, "system_user_token", value, where)


def _context(where: str, value: str, migration: Migration) -> None:
    _set(migration, "context_identifier", value, where)


#: why DefaultMode=Local has no soapkit equivalent
LOCAL_MODE_REASON = ("Local runs NetServer in-process (inside the .NET program, straight against the CRM database): "
                     "there is no wire protocol to speak, so nothing to migrate. Install the NetServer web services "
                     "(IIS) and use DefaultMode=Remote with RemoteBaseURL; then env = \"onsite:{RemoteBaseURL}\"")


def _mode(where: str, value: str, migration: Migration) -> None:
    if value.strip().lower() == "local":
        migration.note("unmigratable", f"{where}={value}", LOCAL_MODE_REASON)
        return
    migration.note("dropped", where, f"{value}: soapkit is always a remote web-services client")


def _superid_certificate(where: str, value: str, migration: Migration) -> None:
    migration.note("dropped", where, "not needed: soapkit picks the token-signing key from the environment's JWKS "
                   f"by kid (expect kid {value.replace(' ', '').upper()})")


def _federation_gateway(where: str, value: str, migration: Migration) -> None:
    env = environment_of(value)
    if env is None:
        migration.note("conflict", where, f"{value} is not a SuperOffice Online host; env set to its base URL")
        parts = urlsplit(value)
        env = f"{parts.scheme}://{parts.netloc}"
    _set(migration, "env", env, where)


def _remote_base_url(where: str, value: str, migration: Migration) -> None:
    if environment_of(value) is None:
        _onsite_base_url(where, value, migration)
        return
    _from_address(where, value, migration)
    migration.note("dropped", f"{where} host", "the numbered host is looked up at run time (/api/state), not "
                   "configured: it changes when SuperOffice moves the tenant")


def _onsite_base_url(where: str, value: str, migration: Migration) -> None:
    """A RemoteBaseURL that is not SuperOffice Online: an onsite NetServer's web services."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        migration.note("conflict", where, f"{value} is not an http(s) URL; not used for env")
        return
    onsite = Onsite(value)
    _set(migration, "env", onsite.name, where)
    version = re.search(r"/Remote/(Services\d+)", parts.path, re.I)
    if version:
        _set(migration, "services_version", version.group(1), where)
    services = onsite.services_url(version.group(1) if version else "Services88")
    migration.note("carried", f"{where} (onsite)", f"agents at {services}"
                   "{Service}.svc, no tenant lookup; sign in with UsernamePassword(user, password_file=...) "
                   "(SoPrincipal.AuthenticateUsernamePassword)")


def _private_key(where: str, value: str, migration: Migration) -> None:
    from soapkit.credentials.keys import load_private_key
    from soapkit.errors import KeyFormatError

    path = Path(value.replace("\\", os.sep))
    if not path.is_absolute():
        path = migration.source.parent / path
    try:
        data = path.read_bytes()
        load_private_key(data)
    except OSError:
        migration.note("missing", where, f"key file {value} not found here: copy it next to the config file, or "
                       "convert it later with `soapkit keys convert KEY.xml -o key.pem`")
        return
    except KeyFormatError as error:
        migration.note("missing", where, f"{value} is not a usable private key: {error.message}")
        return
    migration.private_key, migration.private_key_path = data, path
    kind = "XML, converted to PEM" if data.lstrip(b"\xef\xbb\xbf").strip().startswith(b"<") else "PEM"
    migration.note("carried", where, f"private key ({kind}) -> private_key")


def _set(migration: Migration, key: str, value: Any, where: str) -> None:
    previous = migration.settings.get(key)
    if previous is not None and previous != value:
        migration.note("conflict", where, f"{key} {value!r} differs from {previous!r} found earlier; kept {previous!r}")
        return
    if previous is None:
        migration.settings[key] = value
        migration.note("carried", where, f"-> {key} = {value!r}")


def _set_secret(migration: Migration, name: str, value: str, where: str) -> None:
    previous = migration.secrets.get(name)
    if previous is not None and previous != value:
        migration.note("conflict", where, f"a second, different {name} was found; kept the first")
        return
    migration.secrets[name] = value
    migration.note("carried", where, f"-> {SECRETS[name][1]} or {SECRETS[name][2]} (a secret: never written "
                   "into soapkit.toml)")


# --- system.serviceModel -----------------------------------------------------------------------


def _read_service_model(model: etree._Element, migration: Migration) -> None:
    for endpoint in model.iterfind("client/endpoint"):
        _read_endpoint(endpoint, migration)
    timeouts: list[float] = []
    for binding_kind in model.iterfind("bindings/*"):
        for binding in binding_kind.iterfind("binding"):
            timeouts += _read_binding(binding_kind.tag, binding, migration)
    if timeouts:
        _set(migration, "timeout", max(timeouts), "system.serviceModel bindings sendTimeout/receiveTimeout")
    for child in model:
        if isinstance(child.tag, str) and child.tag not in ("client", "bindings"):
            migration.note("ignored", f"system.serviceModel/{child.tag}", "WCF-specific, no soapkit equivalent")


def _read_endpoint(endpoint: etree._Element, migration: Migration) -> None:
    from soapkit.catalog import default_catalog, service_name

    address = endpoint.get("address", "")
    where = f"endpoint {endpoint.get('name') or endpoint.get('contract') or address}"
    if not address:
        migration.note("missing", where, "has no address")
        return
    _from_address(where, address, migration)
    service = service_name(Path(urlsplit(address).path).name)
    if service in default_catalog().services(str(migration.settings.get("services_version", "Services88"))):
        migration.note("carried", where, f"{service}Agent: generated from soapkit's WSDL; no endpoint to configure")
    else:
        migration.note("missing", where, f"soapkit ships no WSDL for {service}: `soapkit wsdl import "
                       f"{address}?wsdl` adds it (or save it into a folder listed in wsdl_dirs)")


def _read_binding(kind: str, binding: etree._Element, migration: Migration) -> list[float]:
    where = f"binding {kind}/{binding.get('name', '(unnamed)')}"
    timeouts = []
    for attribute, value in binding.attrib.items():
        if attribute in ("sendTimeout", "receiveTimeout"):
            seconds = timespan_seconds(value)
            if seconds is None:
                migration.note("ignored", f"{where} {attribute}", f"{value!r} is not a TimeSpan")
            else:
                timeouts.append(seconds)
        elif attribute != "name":
            migration.note("ignored", f"{where} {attribute}={value}", "WCF transport tuning; soapkit has no limit "
                           "to raise (timeouts: see timeout)")
    security = binding.find("security")
    if security is not None:
        windows = [f"{part.tag} clientCredentialType={part.get('clientCredentialType')}"
                   for part in security.iterfind("*")
                   if (part.get("clientCredentialType") or "").strip().lower() in ("windows", "ntlm")]
        if windows:
            migration.note("unmigratable", f"{where} security {', '.join(windows)}",
                           f"{WINDOWS_SIGN_IN_REASON} Use an onsite user with a password: auth = "
                           "\"username_password\", user_name, and the password in SOAPKIT_PASSWORD_FILE")
        else:
            migration.note("ignored", f"{where} security mode={security.get('mode', '?')}",
                           "soapkit uses the URL's scheme (https for SuperOffice Online)")
    return timeouts


# --- addresses ---------------------------------------------------------------------------------


def environment_of(url: str) -> str | None:
    """``https://sod2.superoffice.com/...`` -> ``sod``; None for hosts that are not SuperOffice Online."""
    match = _ONLINE_HOST.match(urlsplit(url).hostname or "")
    if not match:
        return None
    env = match.group("env").lower()
    return "qaonline" if env == "stage" else env


def _from_address(where: str, address: str, migration: Migration) -> None:
    env = environment_of(address)
    if env is None and migration.onsite:
        base = str(migration.settings["env"])[len(ONSITE_PREFIX):]
        if address.lower().startswith(base.lower()):
            return  # an endpoint of the onsite NetServer already configured
        migration.note("conflict", where, f"{address} is not under the onsite base URL {base}; not used")
        return
    if env is None:
        migration.note("conflict", where, f"{address} is not a SuperOffice Online address; not used for env")
    else:
        _set(migration, "env", env, where)
    path = urlsplit(address).path
    ctx = re.search(r"/(Cust\d+)(?:/|$)", path, re.I)
    if ctx:
        _set(migration, "context_identifier", ctx.group(1), where)
    version = re.search(r"/Remote/(Services\d+)", path, re.I)
    if version:
        _set(migration, "services_version", version.group(1), where)


def timespan_seconds(text: str) -> float | None:
    """A .NET TimeSpan (``00:01:30``, ``1.00:00:00``) in seconds."""
    match = re.fullmatch(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)", text.strip())
    if not match:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _check_essentials(migration: Migration) -> None:
    missing = []
    if "env" not in migration.settings:
        local = " (DefaultMode=Local cannot be migrated: " + LOCAL_MODE_REASON + ")" \
            if migration.of_kind("unmigratable") else ""
        missing.append("the environment (appSettings SoFederationGateway, SuperOffice/Services RemoteBaseURL or a "
                       f"system.serviceModel endpoint address){local}")
    if migration.onsite:
        if missing:
            raise MigrationError(f"{migration.source} lacks " + "; and ".join(missing) + ".",
                                 hint="Add them to the file, or write soapkit.toml by hand (docs/configuration.md).")
        if "app_token" not in migration.secrets:
            migration.note("dropped", "ApplicationToken", "optional onsite (NetServer does not check it there)")
        migration.note("missing", "onsite user and password", "not in the configuration file: set user_name and "
                       "password_file in soapkit.toml (or SOAPKIT_USER_NAME, SOAPKIT_PASSWORD_FILE / "
                       "SOAPKIT_PASSWORD); in Python UsernamePassword(user, password_file=...) (never the password "
                       "itself)")
        return
    if "app_token" not in migration.secrets:
        missing.append("the client secret (SuperOffice/Services ApplicationToken or appSettings SoAppToken)")
    if missing:
        raise MigrationError(f"{migration.source} lacks " + "; and ".join(missing) + ".",
                             hint="Add them to the file, or write soapkit.toml by hand (docs/configuration.md).")
    if "context_identifier" not in migration.settings:
        migration.note("missing", "context identifier", "not found (multi-tenant apps keep it per tenant): pass "
                       "--ctx or set context_identifier")
    if "system_user_token" not in migration.secrets:
        migration.note("missing", "system-user token", "not found (usually stored per tenant): pass "
                       "--system-user-token or set SOAPKIT_SYSTEM_USER_TOKEN")


# --- writing -----------------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """A TOML literal for the few value types soapkit.toml holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    escaped = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def render_toml(settings: dict[str, Any], *, source: Path, comments: Iterable[str] = ()) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# soapkit.toml, migrated from {source.name} by `soapkit migrate` on {stamp}.",
             "# Keys: docs/configuration.md. Relative paths are relative to this file's folder.", ""]
    lines += [f"{key} = {toml_value(settings[key])}" for key in TOML_KEYS if key in settings]
    extra = list(comments)
    if extra:
        lines += ["", *[f"# {line}" for line in extra]]
    return "\n".join(lines) + "\n"


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def write_migration(migration: Migration, output: str | os.PathLike[str], *, secrets: SecretsMode = "files",
                    secrets_dir: str | os.PathLike[str] | None = None, force: bool = False) -> list[Path]:
    """Write ``soapkit.toml`` (and the secret files, mode 0600); return the files written."""
    from soapkit.credentials.keys import load_private_key, private_key_to_pem
    from soapkit.debug import write_private_file

    toml_path = Path(output).expanduser()
    folder = toml_path.parent
    vault = Path(secrets_dir).expanduser() if secrets_dir else folder / "secrets"
    planned = [toml_path]
    if secrets == "files":
        planned += [vault / SECRETS[name][0] for name in migration.secrets]
    if migration.private_key is not None:
        planned.append(vault / PRIVATE_KEY_FILE)
    existing = [p for p in planned if p.exists()]
    if existing and not force:
        raise ConfigurationError(f"{', '.join(str(p) for p in existing)} already exist(s).",
                                 hint="Choose another -o/--secrets-dir, or add --force to overwrite.")
    settings = dict(migration.settings)
    comments: list[str] = []
    if migration.onsite:
        comments.append("onsite NetServer: add user_name = \"...\" and password_file = \"...\" (a 0600 file), or set "
                        "SOAPKIT_USER_NAME and SOAPKIT_PASSWORD_FILE (or SOAPKIT_PASSWORD)")
    written: list[Path] = []
    for name, value in migration.secrets.items():
        file_name, key, variable = SECRETS[name]
        if secrets == "files":
            written.append(write_private_file(vault / file_name, value + "\n"))
            settings[key] = _relative(vault / file_name, folder)
        else:
            comments.append(f"{name}: set the environment variable {variable} (taken from {migration.source.name})")
    if migration.private_key is not None:
        pem = private_key_to_pem(load_private_key(migration.private_key))
        written.append(write_private_file(vault / PRIVATE_KEY_FILE, pem))
        settings["private_key"] = _relative(vault / PRIVATE_KEY_FILE, folder)
    if written:
        os.chmod(vault, 0o700)
    toml_path.parent.mkdir(parents=True, exist_ok=True)
    toml_path.write_text(render_toml(settings, source=migration.source, comments=comments), encoding="utf-8")
    return [toml_path, *written]
