"""The OAuth 2.0 / OpenID Connect requests soapkit makes: authorize URL, token, revocation, id_token checks.

Everything talks to the environment's root host (``Environment.authorize_url``, ``token_url``, ...).
The client authenticates with its client secret (the ``ApplicationToken``) by ``client_secret_basic``
(default) or ``client_secret_post``. RFC 6749 error answers become :class:`~soapkit.errors.OAuthError`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote_plus, urlencode

import requests

from soapkit.credentials.jwt_validation import CLAIM_PREFIX, DEFAULT_LEEWAY, SigningKeys, validate_jwt
from soapkit.credentials.oauth.pkce import Pkce, same
from soapkit.errors import ConfigurationError, OAuthError, TokenValidationError
from soapkit.flow import Flow, HttpResponse, request
from soapkit.http import json_object
from soapkit.redaction import mask
from soapkit.tenant import Environment

ClientAuth = Literal["basic", "post"]
SCOPE = "openid"
CTX_CLAIM = CLAIM_PREFIX + "ctx"


@dataclass(frozen=True, repr=False)
class ClientSecret:
    """An application's client id and client secret, and how the secret is sent to the token endpoint."""

    client_id: str
    secret: str
    auth: ClientAuth = "basic"

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ConfigurationError("The OAuth client id is empty.",
                                     hint="Pass client_id= (the ApplicationIdentifier).")
        if not self.secret:
            raise ConfigurationError("The OAuth client secret is empty.",
                                     hint="Pass app_token= or set SOAPKIT_APP_TOKEN (the application's client secret).")
        if self.auth not in ("basic", "post"):
            raise ConfigurationError(f"Unknown client authentication {self.auth!r}.", hint="Use 'basic' or 'post'.")

    def __repr__(self) -> str:
        return f"ClientSecret(client_id={self.client_id!r}, secret=***, auth={self.auth!r})"

    def apply(self, form: dict[str, str], headers: dict[str, str]) -> None:
        if self.auth == "post":
            form["client_id"], form["client_secret"] = self.client_id, self.secret
            return
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self.secret)}"  # RFC 6749 section 2.3.1
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


@dataclass(frozen=True, repr=False)
class TokenAnswer:
    """A successful token endpoint answer."""

    access_token: str
    expires_at: float
    refresh_token: str | None = None
    id_token: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"TokenAnswer(access_token={mask(self.access_token, 3)}, expires_at={self.expires_at:.0f}, "
                f"refresh_token={'***' if self.refresh_token else None}, id_token={'***' if self.id_token else None})")


def authorization_url(environment: Environment, client_id: str, redirect_uri: str, *, state: str, nonce: str,
                      pkce: Pkce | None, tenant: str | None = None, login_hint: str | None = None,
                      prompt: str | None = None) -> str:
    """The URL that starts a sign-in in the browser (response_type=code, scope=openid)."""
    parameters: dict[str, str] = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
                                  "scope": SCOPE, "state": state, "nonce": nonce}
    if pkce is not None:
        parameters["code_challenge"], parameters["code_challenge_method"] = pkce.challenge, pkce.method
    if tenant:
        parameters["acr_values"] = f"tenant:{tenant}"
    if login_hint:
        parameters["login_hint"] = login_hint
    if prompt:
        parameters["prompt"] = prompt
    return f"{environment.authorize_url}?{urlencode(parameters)}"


def request_token(session: requests.Session, environment: Environment, client: ClientSecret,
                  form: dict[str, str], *, timeout: float = 30.0,
                  clock: Callable[[], float] = time.time) -> TokenAnswer:
    """:func:`request_token_flow` run by the synchronous driver."""
    from soapkit.drivers.sync import SyncDriver

    return SyncDriver(session).run(request_token_flow(environment, client, form, timeout=timeout, clock=clock))


def request_token_flow(environment: Environment, client: ClientSecret, form: dict[str, str], *,
                       timeout: float = 30.0, clock: Callable[[], float] = time.time) -> Flow[TokenAnswer]:
    """POST ``form`` to the token endpoint with client authentication; the answer or :class:`OAuthError`."""
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    body = dict(form)
    client.apply(body, headers)
    sent_at = clock()
    response = yield from request("POST", environment.token_url, purpose="oauth", timeout=timeout,
                                  headers=headers, body=urlencode(body).encode("ascii"))
    data = _json(response, "token endpoint")
    if response.status_code != 200:
        raise oauth_error(response.status_code, data, f"grant_type={form.get('grant_type')}")
    return _token_answer(data, sent_at)


def revoke_token(session: requests.Session, environment: Environment, client: ClientSecret, token: str, *,
                 hint: str | None = None, timeout: float = 30.0) -> bool:
    """:func:`revoke_token_flow` run by the synchronous driver."""
    from soapkit.drivers.sync import SyncDriver

    return SyncDriver(session).run(revoke_token_flow(environment, client, token, hint=hint, timeout=timeout))


def revoke_token_flow(environment: Environment, client: ClientSecret, token: str, *, hint: str | None = None,
                      timeout: float = 30.0) -> Flow[bool]:
    """RFC 7009 revocation at the environment's ``revocation_endpoint``; False when it publishes none.

    SuperOffice's metadata lists no revocation endpoint today; the sandbox's is ``/login/common/oauth/revoke``.
    """
    url = yield from revocation_url_flow(environment, timeout=timeout)
    if url is None:
        return False
    body = {"token": token}
    if hint:
        body["token_type_hint"] = hint
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    client.apply(body, headers)
    response = yield from request("POST", url, purpose="oauth", timeout=timeout, headers=headers,
                                  body=urlencode(body).encode("ascii"))
    if response.status_code != 200:
        raise oauth_error(response.status_code, _json(response, "revocation endpoint"), "revocation")
    return True


def revocation_url(session: requests.Session, environment: Environment, *, timeout: float = 30.0) -> str | None:
    """:func:`revocation_url_flow` run by the synchronous driver."""
    from soapkit.drivers.sync import SyncDriver

    return SyncDriver(session).run(revocation_url_flow(environment, timeout=timeout))


def revocation_url_flow(environment: Environment, *, timeout: float = 30.0) -> Flow[str | None]:
    """The ``revocation_endpoint`` of the environment's OpenID metadata, if it has one."""
    response = yield from request("GET", environment.openid_configuration_url, purpose="oauth", timeout=timeout)
    if response.status_code != 200:
        return None
    url = (json_object(response) or {}).get("revocation_endpoint")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _json(response: requests.Response | HttpResponse, where: str) -> dict[str, Any]:
    data = json_object(response)
    if data is None:
        raise OAuthError(f"The {where} answered HTTP {response.status_code} without a JSON object.",
                         status=response.status_code, hint="Check the environment URL.")
    return data


_ERROR_HINTS = {
    "invalid_client": "Check the client id and the client secret (ApplicationToken).",
    "invalid_grant": "The code or refresh token is unknown, used, expired or revoked: sign in again.",
    "unauthorized_client": "The application is not allowed this grant (for client_credentials: no System User).",
    "invalid_request": "soapkit sent a request the server does not accept; check the tenant and redirect URI.",
}


def oauth_error(status: int, data: Mapping[str, Any], what: str) -> OAuthError:
    error = str(data.get("error") or "unknown_error")
    description = data.get("error_description")
    text = f": {description}" if description else ""
    return OAuthError(f"The identity service refused the {what} request: {error}{text}", error=error,
                      description=str(description) if description else None, status=status,
                      hint=_ERROR_HINTS.get(error))


def _token_answer(data: Mapping[str, Any], sent_at: float) -> TokenAnswer:
    access_token, token_type = data.get("access_token"), data.get("token_type")
    if not isinstance(access_token, str) or not access_token:
        raise OAuthError("The token endpoint answered without an access_token.")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise OAuthError(f"The token endpoint answered token_type {token_type!r}, not Bearer.")
    expires_in = data.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or expires_in <= 0:
        raise OAuthError("The token endpoint answered without a positive expires_in.")
    refresh, id_token = data.get("refresh_token"), data.get("id_token")
    return TokenAnswer(access_token, sent_at + float(expires_in),  # measured from before the request left
                       refresh if isinstance(refresh, str) and refresh else None,
                       id_token if isinstance(id_token, str) and id_token else None, dict(data))


def validate_id_token(id_token: str, jwks: SigningKeys, *, issuer: str, client_id: str, nonce: str | None,
                      leeway: float = DEFAULT_LEEWAY) -> dict[str, Any]:
    """RS256, key by kid, ``iss`` = the environment URL, ``aud`` = client id, expiry, and the nonce we sent."""
    claims = validate_jwt(id_token, jwks, issuer=issuer, audience=client_id, leeway=leeway,
                          required=("exp", "iat", "iss", "aud", "sub"))
    if nonce is not None and not same(nonce, claims.get("nonce")):
        raise TokenValidationError("The id_token nonce does not match the one sent with the sign-in request: "
                                   "the answer belongs to another sign-in (possible replay).")
    return claims


def token_tenant(access_token: str) -> str | None:
    """The tenant an ``8A:{ctx}.<opaque>`` access token names, if it has that shape."""
    if access_token.startswith("8A:") and "." in access_token:
        return access_token[3:].split(".", 1)[0] or None
    return None


def check_tenant(answer: TokenAnswer, context_identifier: str, claims: Mapping[str, Any] | None = None) -> None:
    """The token (and the id_token's ``ctx``) must be for the tenant soapkit is calling."""
    named = [token_tenant(answer.access_token), (claims or {}).get(CTX_CLAIM)]
    for tenant in named:
        if tenant and str(tenant).lower() != context_identifier.lower():
            raise TokenValidationError(f"The access token was issued for tenant {tenant}, not {context_identifier}.",
                                       hint="Sign in to the tenant you connect to (soapkit login --tenant ...).")
