"""Which credential the settings describe, and building it.

``auth`` names the provider: ``system_user``, ``ticket``, ``oauth_user``, ``client_credentials``,
``reference_token`` or ``username_password`` (an onsite NetServer user: ``user_name`` and ``password``, the
password from ``password_file`` or ``SOAPKIT_PASSWORD``; inferred when both are set and ``env`` is
``onsite:...``). Unset, it is inferred from what is present: a given ticket or reference token is used
as is (it is the most specific thing a user can hand over); otherwise the system user (token + private
key) or a sign-in stored by ``soapkit login`` for this environment, tenant and client id. Nothing, half
of a system user, or two equally likely candidates is a :class:`ConfigurationError` that names what is
missing (or what competes) and every way to set it. ``client_credentials`` is never inferred: the client
id and secret it needs are present for every other kind too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soapkit.config.keys import AUTH_KINDS, DEFAULTS, describe, how_to_set
from soapkit.config.layers import default_sign_in_directory
from soapkit.config.settings import Settings, as_settings
from soapkit.errors import ConfigurationError

if TYPE_CHECKING:
    from soapkit.credentials.base import Credential, CredentialCache
    from soapkit.credentials.oauth import ClientSecret, SignInStore

#: what each provider needs, in the order the user is told about it
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "system_user": ("system_user_token", "private_key"),
    "ticket": ("ticket",),
    "oauth_user": ("client_id", "app_token", "context_identifier"),
    "client_credentials": ("client_id", "app_token"),
    "reference_token": ("reference_token",),
    "username_password": ("user_name", "password"),
}
_SECRETS = frozenset({"system_user_token", "ticket", "app_token", "reference_token", "password"})
_DESCRIPTIONS: dict[str, str] = {
    "ticket": "ticket or access token given as is (no refresh)",
    "reference_token": "reference token (PAT or SAT) given as is (no refresh)",
    "oauth_user": "signed-in user (stored sign-in of `soapkit login`; access tokens from the refresh token)",
    "client_credentials": "client credentials (the application's System User; access tokens cached)",
    "username_password": "onsite user (SoPrincipal.AuthenticateUsernamePassword; ticket cached, renewed when rejected)",
}


# --- which one ------------------------------------------------------------------------------------------


def auth_kind(settings: Settings | Mapping[str, Any]) -> str:
    """The provider the settings name (``auth``) or imply; a clear error when none or several fit."""
    resolved = as_settings(settings)
    explicit = resolved.get("auth")
    if explicit:
        missing = _missing(resolved, explicit)
        if missing:
            # "username_password: ..." would read as a secret to the redaction of messages: say it otherwise
            separator = " (an onsite user), but" if explicit == "username_password" else ":"
            raise ConfigurationError(f"{describe('auth', resolved.sources.get('auth', ''))} is {explicit}{separator} "
                                     f"{_and(missing)} missing.",
                                     hint=_how_to_set_each(missing))
        return str(explicit)
    given = [kind for kind in ("ticket", "reference_token") if resolved.has_secret(kind)]
    candidates = given or [kind for kind in ("system_user", "oauth_user") if _complete(resolved, kind)]
    if not given and str(resolved.get("env") or "").lower().startswith("onsite:") \
            and _complete(resolved, "username_password"):
        candidates = ["username_password"]  # onsite: no system users, no OAuth
    if len(candidates) > 1:
        raise _ambiguous(resolved, candidates)
    if candidates:
        return candidates[0]
    raise _nothing_configured(resolved)


def describe_auth(settings: Settings | Mapping[str, Any]) -> str:
    """One line saying which credential the settings give, for ``soapkit config show``."""
    resolved = as_settings(settings)
    try:
        kind = auth_kind(resolved)
    except ConfigurationError as error:
        return f"none configured: {error.message}"
    if kind == "system_user":
        return f"system user (signed token exchanged via {resolved.get('exchange_method') or 'soap'}, ticket cached)"
    return _DESCRIPTIONS[kind]


def _complete(settings: Settings, kind: str) -> bool:
    if _missing(settings, kind):
        return False
    return kind != "oauth_user" or _has_stored_sign_in(settings)


def _missing(settings: Settings, kind: str) -> list[str]:
    return [name for name in REQUIREMENTS[kind]
            if not (settings.has_secret(name) if name in _SECRETS else settings.get(name))]


def _has_stored_sign_in(settings: Settings) -> bool:
    if not Path(settings.get("sign_in_store") or default_sign_in_directory()).is_dir():
        return False  # nobody signed in here (and the OAuth machinery stays unloaded); looking must not create it
    try:
        return sign_in_store(settings).load() is not None
    except ConfigurationError:  # an unknown environment: building the client says so, naming the setting
        return False


def _and(names: list[str]) -> str:
    return " and ".join(names)


def _how_to_set_each(names: list[str]) -> str:
    # "password: X" would read as a secret to the redaction of messages: the password's ways are named otherwise
    return "; ".join(f"the password from {how_to_set(name)}" if name == "password" else f"{name}: {how_to_set(name)}"
                     for name in names) + "."


def _ambiguous(settings: Settings, candidates: list[str]) -> ConfigurationError:
    present = "; ".join(f"{kind} ({', '.join(_sources(settings, kind))})" for kind in candidates)
    return ConfigurationError(
        f"More than one credential is configured: {present}.",
        hint=f"Choose one with --auth {'|'.join(candidates)} (or SOAPKIT_AUTH, or auth in soapkit.toml), "
        "or remove the others.")


def _sources(settings: Settings, kind: str) -> list[str]:
    if kind == "oauth_user":
        return [f"a sign-in stored by `soapkit login` in {sign_in_store(settings).cache!r}"]
    return [settings.secret_source(name) if name in _SECRETS else describe(name, settings.sources.get(name, ""))
            for name in REQUIREMENTS[kind]]


def _nothing_configured(settings: Settings) -> ConfigurationError:
    if str(settings.get("env") or "").lower().startswith("onsite:"):
        missing = _missing(settings, "username_password")
        return ConfigurationError(
            f"No credential configured for the onsite NetServer: {_and(missing)} missing.",
            hint=f"For an onsite user set {_how_to_set_each(missing)} Or give a ticket ({how_to_set('ticket')}).")
    missing = _missing(settings, "system_user")
    return ConfigurationError(
        f"No credential configured: {_and(missing)} missing.",
        hint=f"For the system user set {_how_to_set_each(missing)} Or give a ticket ({how_to_set('ticket')}), "
        f"a reference token ({how_to_set('reference_token')}), sign in once with `soapkit login`, or "
        f"choose a provider with --auth {'|'.join(AUTH_KINDS)} (SOAPKIT_AUTH).")


# --- building it -----------------------------------------------------------------------------------------


def credential_from_settings(settings: Settings | Mapping[str, Any], *, cache: CredentialCache | None = None,
                             auth: str | None = None) -> Credential:
    """The credential the settings describe (see :func:`auth_kind`); ``auth`` overrides the setting.

    ``cache`` defaults to the one named by the ``cache`` setting; given tokens are never cached.
    """
    resolved = as_settings(settings)
    if auth is not None:
        resolved = Settings({**resolved.values, "auth": auth}, {**resolved.sources, "auth": ""})
    kind = auth_kind(resolved)
    return _BUILDERS[kind](resolved, lambda: cache or _cache(resolved))


def _cache(settings: Settings) -> CredentialCache:
    from soapkit.config.client import cache_from_settings

    return cache_from_settings(settings)


def _ticket(settings: Settings, cache: Callable[[], CredentialCache]) -> Credential:
    from soapkit.credentials.base import StaticToken

    return StaticToken(settings.secret("ticket") or "")


def _reference_token(settings: Settings, cache: Callable[[], CredentialCache]) -> Credential:
    from soapkit.credentials.reference import ReferenceToken

    value = settings.secret("reference_token") or ""
    try:
        return ReferenceToken(value)
    except ConfigurationError as error:
        raise ConfigurationError(f"{settings.secret_source('reference_token')}: {error.message}",
                                 hint=error.hint) from None


def _system_user(settings: Settings, cache: Callable[[], CredentialCache]) -> Credential:
    from soapkit.credentials.keys import LazyPrivateKey
    from soapkit.credentials.system_user import SystemUser

    token = settings.secret("system_user_token")
    # the key file is read and checked now, parsed when the first ticket is fetched; either way its errors
    # name the setting that gave it
    key = LazyPrivateKey(str(settings.get("private_key")),
                         label=describe("private_key", settings.sources.get("private_key", "")))
    credential = SystemUser(str(token), key, method=settings.get("exchange_method", "soap"), cache=cache())
    return _with_margin(settings, credential)


def _oauth_user(settings: Settings, cache: Callable[[], CredentialCache]) -> Credential:
    from soapkit.credentials.oauth import OAuthUser

    store = sign_in_store(settings)
    if store.load() is None:
        raise ConfigurationError(
            f"No stored sign-in for {store.context_identifier} at {store.environment.base_url} "
            f"(client {store.client_id}) in {store.cache!r}.",
            hint="Sign in once with `soapkit login` (same --env, --ctx and --client-id); "
            f"a sign-in kept elsewhere: {how_to_set('sign_in_store')}.")
    client = client_secret(settings)
    return _with_margin(settings, OAuthUser(client.client_id, store=store, client_secret=client.secret,
                                            client_auth=client.auth, cache=cache()))


def _client_credentials(settings: Settings, cache: Callable[[], CredentialCache]) -> Credential:
    from soapkit.credentials.oauth import ClientCredentials

    client = client_secret(settings)
    return _with_margin(settings, ClientCredentials(client.client_id, client_secret=client.secret,
                                                    client_auth=client.auth, cache=cache()))


def _with_margin(settings: Settings, credential: Credential) -> Credential:
    """The credential, renewed ``refresh_margin`` seconds before expiry when set (else its own default)."""
    if settings.get("refresh_margin") is not None:
        credential.refresh_margin = float(settings.get("refresh_margin"))
    return credential


def _username_password(settings: Settings, cache: Callable[[], CredentialCache]) -> Credential:
    from soapkit.onsite import UsernamePassword

    def password() -> str:  # read at each sign-in: a rotated password file is picked up
        return settings.secret("password") or ""

    return _with_margin(settings, UsernamePassword(str(settings.get("user_name")), password=password, cache=cache()))


_BUILDERS: dict[str, Callable[[Settings, Callable[[], CredentialCache]], Credential]] = {
    "ticket": _ticket,
    "reference_token": _reference_token,
    "system_user": _system_user,
    "oauth_user": _oauth_user,
    "client_credentials": _client_credentials,
    "username_password": _username_password,
}


# --- OAuth pieces shared with `soapkit login` -------------------------------------------------------------------


def client_secret(settings: Settings | Mapping[str, Any]) -> ClientSecret:
    """The application's client id and secret, and how the secret is sent (``client_auth``)."""
    from soapkit.credentials.oauth import ClientSecret

    resolved = as_settings(settings)
    client_id, secret = resolved.get("client_id"), resolved.secret("app_token")
    missing = [name for name, value in (("client_id", client_id), ("app_token", secret)) if not value]
    if missing:
        raise ConfigurationError(f"OAuth needs the application's client id and client secret: {_and(missing)} missing.",
                                 hint=_how_to_set_each(missing))
    return ClientSecret(str(client_id), str(secret), resolved.get("client_auth") or "basic")


def sign_in_store(settings: Settings | Mapping[str, Any], context_identifier: str | None = None) -> SignInStore:
    """Where ``soapkit login`` keeps the sign-in of this environment, tenant and client id (``sign_in_store``)."""
    from soapkit.credentials.oauth import SignInStore

    resolved = as_settings(settings)
    ctx = context_identifier or resolved.get("context_identifier")
    if not ctx or not resolved.get("client_id"):
        missing = [name for name, value in (("context_identifier", ctx), ("client_id", resolved.get("client_id")))
                   if not value]
        raise ConfigurationError(f"A stored sign-in is found by tenant and client id: {_and(missing)} missing.",
                                 hint=_how_to_set_each(missing))
    return SignInStore(str(resolved.get("env") or DEFAULTS["env"]), str(ctx), str(resolved.get("client_id")),
                       directory=resolved.get("sign_in_store"))
