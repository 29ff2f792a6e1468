"""OAuth 2.0 / OpenID Connect for soapkit: signed-in users, client credentials, interactive sign-in.

* :class:`OAuthUser`: a user who signed in once; access tokens from the stored refresh token.
* :class:`ClientCredentials`: a trusted application's System User (``grant_type=client_credentials``).
* :func:`sign_in`: the browser + loopback sign-in behind ``soapkit login`` (PKCE S256, state, nonce).
* :class:`SignInStore`: where the refresh token is kept between runs (0600 files by default).

The names are imported on first use: reading where sign-ins are stored does not load PyJWT or the sign-in server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soapkit._lazy import lazy_exports

#: defining module -> the names it contributes (mirrored by the ``TYPE_CHECKING`` imports below)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "soapkit.credentials.oauth.flow": (
        "ClientSecret", "TokenAnswer", "authorization_url", "request_token", "revocation_url", "revoke_token",
        "validate_id_token",
    ),
    "soapkit.credentials.oauth.login": ("SignInResult", "sign_in"),
    "soapkit.credentials.oauth.loopback": ("LoopbackReceiver",),
    "soapkit.credentials.oauth.pkce": ("Pkce",),
    "soapkit.credentials.oauth.providers": ("ClientCredentials", "OAuthUser"),
    "soapkit.credentials.oauth.store": ("SignInStore", "default_sign_in_directory"),
}
_MODULE_OF, _lazy_getattr, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_MODULE_OF)

if TYPE_CHECKING:
    from soapkit.credentials.oauth.flow import ClientSecret as ClientSecret
    from soapkit.credentials.oauth.flow import TokenAnswer as TokenAnswer
    from soapkit.credentials.oauth.flow import authorization_url as authorization_url
    from soapkit.credentials.oauth.flow import request_token as request_token
    from soapkit.credentials.oauth.flow import revocation_url as revocation_url
    from soapkit.credentials.oauth.flow import revoke_token as revoke_token
    from soapkit.credentials.oauth.flow import validate_id_token as validate_id_token
    from soapkit.credentials.oauth.login import SignInResult as SignInResult
    from soapkit.credentials.oauth.login import sign_in as sign_in
    from soapkit.credentials.oauth.loopback import LoopbackReceiver as LoopbackReceiver
    from soapkit.credentials.oauth.pkce import Pkce as Pkce
    from soapkit.credentials.oauth.providers import ClientCredentials as ClientCredentials
    from soapkit.credentials.oauth.providers import OAuthUser as OAuthUser
    from soapkit.credentials.oauth.store import SignInStore as SignInStore
    from soapkit.credentials.oauth.store import default_sign_in_directory as default_sign_in_directory


if not TYPE_CHECKING:  # type checkers see the imports above; a misspelt name stays an error for them
    __getattr__ = _lazy_getattr
