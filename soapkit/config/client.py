"""From settings to a ready client: the credential cache, the WSDL catalog, and the client itself."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soapkit.config.auth import credential_from_settings
from soapkit.config.keys import DEFAULTS, describe, how_to_set
from soapkit.config.layers import load_settings, user_wsdl_dir
from soapkit.config.settings import Settings, as_settings
from soapkit.errors import CacheKeyError, ConfigurationError

if TYPE_CHECKING:
    from soapkit.catalog import Catalog, TypesMode
    from soapkit.client import SuperOfficeClient
    from soapkit.credentials.base import Credential, CredentialCache
    from soapkit.debug import Recorder


def cache_from_settings(settings: Settings | Mapping[str, Any]) -> CredentialCache:
    """The credential cache named by ``cache`` (memory, file:PATH, redis://...), encrypted when a key is set."""
    from soapkit.credentials.caches import open_cache

    resolved = as_settings(settings)
    spec = str(resolved.get("cache") or DEFAULTS["cache"])
    key = resolved.secret("cache_key")
    try:
        return open_cache(spec, encryption_key=key)
    except ConfigurationError as error:
        about = "cache_key" if isinstance(error, CacheKeyError) else "cache"
        given = about in resolved.values or f"{about}_file" in resolved.values
        source = resolved.sources.get(about) or resolved.sources.get(f"{about}_file") or ("" if given else "default")
        raise type(error)(f"{describe(about, source)}: {error.message}", hint=error.hint) from None


def catalog_from_settings(settings: Settings | Mapping[str, Any], *, chunk: int | None = None,
                          types: TypesMode = "shared") -> Catalog:
    """The WSDL catalog: ``wsdl_dirs``, then the user's imported WSDLs (:func:`user_wsdl_dir`), then the
    bundled ones. ``chunk`` (operations per zeep document) and ``types`` (``"needed"``: each document parses
    only the types its operations need) as :class:`~soapkit.catalog.Catalog` takes them; given either, the
    catalog is this caller's own, not the process-wide one."""
    from soapkit.catalog import Catalog, default_catalog

    folders = [Path(d).expanduser() for d in as_settings(settings).get("wsdl_dirs") or []]
    if user_wsdl_dir().is_dir():
        folders.append(user_wsdl_dir())
    if folders or chunk is not None or types != "shared":
        return Catalog(folders, chunk=chunk, types=types)
    return default_catalog()


def context_identifier(settings: Settings | Mapping[str, Any]) -> str:
    """The configured tenant, or an error saying how to configure one."""
    ctx = as_settings(settings).get("context_identifier")
    if not ctx:
        raise ConfigurationError("No tenant configured (context_identifier).",
                                 hint=f"Set it with {how_to_set('context_identifier')} (or --sandbox DIR).")
    return str(ctx)


def build_client(
    settings: Settings | Mapping[str, Any] | None = None,
    *,
    credentials: Credential | None = None,
    recorder: Recorder | None = None,
    chunk: int | None = None,
    types: TypesMode = "shared",
) -> SuperOfficeClient:
    """A ready :class:`~soapkit.client.SuperOfficeClient` from the effective settings (default: load them).

    ``chunk`` and ``types``: how its catalog builds zeep's models (:func:`catalog_from_settings`)."""
    from soapkit.client import SuperOfficeClient

    resolved = load_settings() if settings is None else as_settings(settings)
    onsite = str(resolved.get("env") or "").lower().startswith("onsite:")
    ctx = resolved.get("context_identifier") if onsite else context_identifier(resolved)
    try:
        return SuperOfficeClient(
            ctx,
            env=str(resolved.get("env", DEFAULTS["env"])),
            app_token=resolved.secret("app_token"),
            credentials=credentials or credential_from_settings(resolved),
            catalog=catalog_from_settings(resolved, chunk=chunk, types=types),
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
