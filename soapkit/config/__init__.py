"""Configuration: arguments, then a sandbox, then ``SOAPKIT_*`` environment variables, then ``soapkit.toml``,
then defaults -- the one place that knows the settings, their sources, secrets, and what to build from them.

>>> settings = load_settings()                    # environment + soapkit.toml
>>> so = build_client(settings)                   # the right Credential, cache and client
>>> load_settings({"context_identifier": "Cust2"}).sources["context_identifier"]
'argument'

Secrets (client secret, system-user token, ticket, reference token, cache encryption key) come from the
environment (``SOAPKIT_APP_TOKEN``) or from files (``SOAPKIT_APP_TOKEN_FILE``, ``app_token_file`` in the
toml), never from the toml itself and never necessarily from a command line. The configuration file is the
first of: an explicit path (``--config``), ``$SOAPKIT_CONFIG``, ``./soapkit.toml``,
``$XDG_CONFIG_HOME/soapkit/soapkit.toml`` (default ``~/.config/soapkit/soapkit.toml``). Relative paths
inside it are relative to it. ``sandbox`` (``--sandbox DIR``, ``$SOAPKIT_SANDBOX``) names a local sandbox
whose ``sandbox.json`` values sit just below the arguments. Every value remembers where it came from
(:attr:`Settings.sources`) for ``soapkit config show``.

Modules: :mod:`~soapkit.config.keys` (the settings and coercion), :mod:`~soapkit.config.settings`
(:class:`Settings`, secrets), :mod:`~soapkit.config.layers` (the layers and their order),
:mod:`~soapkit.config.auth` (which credential), :mod:`~soapkit.config.client` (cache, catalog, client).
"""

from soapkit.config.auth import auth_kind, client_secret, credential_from_settings, describe_auth, sign_in_store
from soapkit.config.client import build_client, cache_from_settings, catalog_from_settings, context_identifier
from soapkit.config.keys import (
    AUTH_KINDS,
    CONFIG_FILE_NAME,
    DEFAULTS,
    ENVIRONMENT_VARIABLES,
    KEYS,
    SECRET_KEYS,
    Key,
    coerce,
    describe,
    how_to_set,
)
from soapkit.config.layers import (
    command_line_defaults,
    config_file_layer,
    config_search_path,
    environment_layer,
    find_config_file,
    load_settings,
    read_config_file,
    sandbox_layer,
    user_cache_dir,
    user_config_dir,
    user_wsdl_dir,
)
from soapkit.config.settings import Settings, as_settings, display_value, read_secret_file

__all__ = [
    "AUTH_KINDS",
    "CONFIG_FILE_NAME",
    "DEFAULTS",
    "ENVIRONMENT_VARIABLES",
    "KEYS",
    "SECRET_KEYS",
    "Key",
    "Settings",
    "as_settings",
    "auth_kind",
    "build_client",
    "cache_from_settings",
    "catalog_from_settings",
    "client_secret",
    "coerce",
    "command_line_defaults",
    "config_file_layer",
    "config_search_path",
    "context_identifier",
    "credential_from_settings",
    "describe",
    "describe_auth",
    "display_value",
    "environment_layer",
    "find_config_file",
    "how_to_set",
    "load_settings",
    "read_config_file",
    "read_secret_file",
    "sandbox_layer",
    "sign_in_store",
    "user_cache_dir",
    "user_config_dir",
    "user_wsdl_dir",
]
