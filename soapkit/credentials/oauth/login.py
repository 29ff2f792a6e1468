"""Interactive sign-in for native apps and scripts: browser, loopback redirect, PKCE S256, state, nonce.

:func:`sign_in` starts a :class:`~soapkit.credentials.oauth.loopback.LoopbackReceiver`, opens the
authorize URL (``open_url``: the web browser by default; tests pass a scripted "browser"), waits for the
redirect, checks ``state``, redeems the code with the PKCE verifier, validates the id_token (issuer,
audience, nonce, RS256 key by kid) and, when given a :class:`SignInStore` factory, stores the refresh token.
"""

from __future__ import annotations

import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from soapkit.credentials.jwt_validation import DEFAULT_LEEWAY, JwksCache
from soapkit.credentials.oauth.flow import (
    CTX_CLAIM,
    ClientSecret,
    TokenAnswer,
    authorization_url,
    check_tenant,
    request_token,
    validate_id_token,
)
from soapkit.credentials.oauth.loopback import Callback, LoopbackReceiver
from soapkit.credentials.oauth.pkce import Pkce, new_nonce, new_state, same
from soapkit.credentials.oauth.store import SignInStore
from soapkit.errors import LoginFailed
from soapkit.http import new_session
from soapkit.tenant import Environment


@dataclass(frozen=True, repr=False)
class SignInResult:
    answer: TokenAnswer
    claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def context_identifier(self) -> str:
        return str(self.claims.get(CTX_CLAIM) or "")

    def __repr__(self) -> str:
        return f"SignInResult(ctx={self.context_identifier!r}, subject={self.claims.get('sub')!r})"


def sign_in(
    environment: Environment | str,
    client: ClientSecret,
    *,
    tenant: str | None = None,
    login_hint: str | None = None,
    open_url: Callable[[str], Any] = webbrowser.open,
    announce: Callable[[str], None] | None = None,
    port: int = 0,
    timeout: float = 300.0,
    session: requests.Session | None = None,
    jwks: JwksCache | None = None,
    leeway: float = DEFAULT_LEEWAY,
    store_for: Callable[[str], SignInStore] | None = None,
) -> SignInResult:
    """Sign a user in through the browser; returns the token answer and the validated id_token claims.

    ``store_for(ctx)`` gives the :class:`SignInStore` for the signed-in tenant; the refresh token is saved there.
    """
    environment = Environment.resolve(environment)
    session = session or new_session()
    pkce, state, nonce = Pkce.new("S256"), new_state(), new_nonce()
    with LoopbackReceiver(port) as receiver:
        url = authorization_url(environment, client.client_id, receiver.redirect_uri, state=state, nonce=nonce,
                                pkce=pkce, tenant=tenant, login_hint=login_hint)
        if announce is not None:
            announce(url)
        open_url(url)
        callback = receiver.wait(timeout)
        code = _code_from(callback, state)
        answer = request_token(session, environment, client, {
            "grant_type": "authorization_code", "code": code, "redirect_uri": receiver.redirect_uri,
            "code_verifier": pkce.verifier}, clock=time.time)
    claims = _validated(answer, environment, client, nonce, session, jwks, leeway)
    if tenant:
        check_tenant(answer, tenant, claims)
    result = SignInResult(answer, claims)
    if store_for is not None and answer.refresh_token:
        store_for(result.context_identifier).save(answer.refresh_token, claims)
    return result


def _code_from(callback: Callback, state: str) -> str:
    if callback.get("error"):
        description = callback.get("error_description") or "no description"
        raise LoginFailed(f"The sign-in was refused: {callback.get('error')} ({description}).")
    if not same(state, callback.get("state")):
        raise LoginFailed("The sign-in answer carries another state than the request: it was not started by this "
                          "login (possible cross-site request forgery). Nothing was stored.")
    code = callback.get("code")
    if not code:
        raise LoginFailed("The sign-in answer carries no authorization code.")
    return code


def _validated(answer: TokenAnswer, environment: Environment, client: ClientSecret, nonce: str,
               session: requests.Session, jwks: JwksCache | None, leeway: float) -> dict[str, Any]:
    if not answer.id_token:
        raise LoginFailed("The token answer has no id_token, so the sign-in cannot be verified.")
    keys = jwks or JwksCache(environment.jwks_url, session)
    claims = validate_id_token(answer.id_token, keys, issuer=environment.issuer, client_id=client.client_id,
                               nonce=nonce, leeway=leeway)
    if not claims.get(CTX_CLAIM):
        raise LoginFailed("The id_token names no tenant (ctx claim).")
    return claims
