"""OAuth 2.0 / OpenID Connect for soapkit: signed-in users, client credentials, interactive sign-in.

* :class:`OAuthUser`: a user who signed in once; access tokens from the stored refresh token.
* :class:`ClientCredentials`: a trusted application's System User (``grant_type=client_credentials``).
* :func:`sign_in`: the browser + loopback sign-in behind ``soapkit login`` (PKCE S256, state, nonce).
* :class:`SignInStore`: where the refresh token is kept between runs (0600 files by default).
"""

from soapkit.credentials.oauth.flow import (
    ClientSecret,
    TokenAnswer,
    authorization_url,
    request_token,
    revocation_url,
    revoke_token,
    validate_id_token,
)
from soapkit.credentials.oauth.login import SignInResult, sign_in
from soapkit.credentials.oauth.loopback import LoopbackReceiver
from soapkit.credentials.oauth.pkce import Pkce
from soapkit.credentials.oauth.providers import ClientCredentials, OAuthUser
from soapkit.credentials.oauth.store import SignInStore, default_sign_in_directory

__all__ = [
    "ClientCredentials",
    "ClientSecret",
    "LoopbackReceiver",
    "OAuthUser",
    "Pkce",
    "SignInResult",
    "SignInStore",
    "TokenAnswer",
    "authorization_url",
    "default_sign_in_directory",
    "request_token",
    "revocation_url",
    "revoke_token",
    "sign_in",
    "validate_id_token",
]
