"""OAuth credential providers: a signed-in user (refresh token) and an application's System User.

Both plug into ``connect(..., credentials=...)`` like :class:`~soapkit.credentials.system_user.SystemUser`;
caching, single flight, the refresh margin and the fallback to a still-valid token come from
:class:`~soapkit.credentials.base.Credential`. They authenticate to the token endpoint with the client
secret, which defaults to the connection's ``app_token`` (the same secret SOAP calls send as
``ApplicationToken``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from soapkit.credentials.base import AuthContext, Credential, CredentialCache, IssuedCredential, fingerprint
from soapkit.credentials.jwt_validation import DEFAULT_LEEWAY, validated
from soapkit.credentials.oauth.flow import (
    ClientAuth,
    ClientSecret,
    TokenAnswer,
    check_tenant,
    request_token_flow,
    revoke_token,
    validate_id_token,
)
from soapkit.credentials.oauth.store import SignInStore
from soapkit.errors import ConfigurationError, OAuthError, SignInRequired
from soapkit.flow import Flow


def _client(context: AuthContext, client_id: str, secret: str | None, auth: ClientAuth) -> ClientSecret:
    secret = secret or context.application_token
    if not secret:
        raise ConfigurationError("OAuth needs the application's client secret.",
                                 hint="Pass app_token= to connect() or client_secret= to the provider.")
    return ClientSecret(client_id, secret, auth)


class OAuthUser(Credential):
    """An interactive user who signed in once (``soapkit login``): access tokens from the refresh token.

    The refresh token comes from ``refresh_token=`` or from ``store`` (a :class:`SignInStore`, where
    ``soapkit login`` saved it). A refresh answer without a new refresh token keeps the old one (SuperOffice
    answers that way); a new one replaces it, in the store too. A refused refresh token raises
    :class:`~soapkit.errors.SignInRequired`.
    """

    kind = "oauth_user"

    def __init__(
        self,
        client_id: str,
        *,
        refresh_token: str | None = None,
        store: SignInStore | None = None,
        client_secret: str | None = None,
        client_auth: ClientAuth = "basic",
        subject: str | None = None,
        leeway: float = DEFAULT_LEEWAY,
        cache: CredentialCache | None = None,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(cache=cache, refresh_margin=refresh_margin, clock=clock)
        if not client_id:
            raise ConfigurationError("OAuthUser needs the application's client id.")
        self.client_id = client_id
        self.store = store
        self._client_secret = client_secret
        self.client_auth: ClientAuth = client_auth
        self.leeway = leeway
        self._lock = threading.Lock()
        stored = store.load() if store is not None and refresh_token is None else None
        self._refresh_token = refresh_token or (stored.refresh_token if stored else None)
        subject = subject or (str(stored.claims.get("sub")) if stored and stored.claims.get("sub") else None)
        self._identity = f"{client_id}:{subject or fingerprint(self._refresh_token or '')}"

    def identity(self) -> str:
        return self._identity

    @property
    def has_refresh_token(self) -> bool:
        return bool(self._refresh_token)

    def fetch_flow(self, context: AuthContext) -> Flow[IssuedCredential]:
        with self._lock:
            refresh_token = self._refresh_token
        if not refresh_token:
            raise SignInRequired(f"No stored sign-in for {context.context_identifier} at {context.environment.name}.")
        client = _client(context, self.client_id, self._client_secret, self.client_auth)
        try:
            answer = yield from request_token_flow(
                context.environment, client, {"grant_type": "refresh_token", "refresh_token": refresh_token},
                timeout=context.timeout, clock=self._clock)
        except OAuthError as error:
            if error.error == "invalid_grant":
                raise SignInRequired(
                    f"The sign-in for {context.context_identifier} is no longer valid "
                    f"({error.description or 'refresh token refused'}).", error=error.error,
                    description=error.description, status=error.status) from None
            raise
        claims = yield from self._claims_flow(context, answer, None)
        return self.adopt(context, answer, claims=claims)

    def _claims_flow(self, context: AuthContext, answer: TokenAnswer, nonce: str | None) -> Flow[dict[str, Any]]:
        if not answer.id_token:
            return {}
        id_token = answer.id_token
        return (yield from validated(context.jwks, lambda keys: validate_id_token(
            id_token, keys, issuer=context.environment.issuer, client_id=self.client_id, nonce=nonce,
            leeway=self.leeway)))

    def adopt(self, context: AuthContext, answer: TokenAnswer, *, nonce: str | None = None,
              claims: Mapping[str, Any] | None = None) -> IssuedCredential:
        """Take a token answer (a refresh, or the first one after sign-in): validate, keep, cache."""
        if claims is None:
            claims = self._validated_claims(context, answer, nonce)
        check_tenant(answer, context.context_identifier, claims)
        if answer.refresh_token:
            with self._lock:
                changed = answer.refresh_token != self._refresh_token
                self._refresh_token = answer.refresh_token
            if changed and self.store is not None:
                self.store.save(answer.refresh_token, claims)
        issued = IssuedCredential(answer.access_token, answer.expires_at, dict(claims))
        self.cache.set(self.cache_key(context), issued)
        return issued

    def _validated_claims(self, context: AuthContext, answer: TokenAnswer, nonce: str | None) -> dict[str, Any]:
        if not answer.id_token:
            return {}
        return validate_id_token(answer.id_token, context.jwks, issuer=context.environment.issuer,
                                 client_id=self.client_id, nonce=nonce, leeway=self.leeway)

    def sign_out(self, context: AuthContext) -> bool:
        """Revoke the refresh token (where the environment offers revocation), forget it here and in the store.

        Returns whether the identity service revoked it; without a revocation endpoint it is only forgotten.
        """
        with self._lock:
            refresh_token = self._refresh_token
        revoked = False
        if refresh_token:
            client = _client(context, self.client_id, self._client_secret, self.client_auth)
            revoked = revoke_token(context.session, context.environment, client, refresh_token,
                                   hint="refresh_token", timeout=context.timeout)
        with self._lock:
            self._refresh_token = None
        if self.store is not None:
            self.store.clear()
        self.cache.delete(self.cache_key(context))
        return revoked


class ClientCredentials(Credential):
    """A trusted application acting as its configured System User (``grant_type=client_credentials``).

    There is no refresh token: a new access token is requested when the cached one nears expiry. The
    tenant is named with ``acr_values=tenant:{ctx}``.
    """

    kind = "client_credentials"

    def __init__(
        self,
        client_id: str,
        *,
        client_secret: str | None = None,
        client_auth: ClientAuth = "basic",
        cache: CredentialCache | None = None,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(cache=cache, refresh_margin=refresh_margin, clock=clock)
        if not client_id:
            raise ConfigurationError("ClientCredentials needs the application's client id.")
        self.client_id = client_id
        self._client_secret = client_secret
        self.client_auth: ClientAuth = client_auth

    def identity(self) -> str:
        return self.client_id

    def fetch_flow(self, context: AuthContext) -> Flow[IssuedCredential]:
        client = _client(context, self.client_id, self._client_secret, self.client_auth)
        form = {"grant_type": "client_credentials", "scope": "openid",
                "acr_values": f"tenant:{context.context_identifier}"}
        answer = yield from request_token_flow(context.environment, client, form, timeout=context.timeout,
                                               clock=self._clock)
        check_tenant(answer, context.context_identifier)
        return IssuedCredential(answer.access_token, answer.expires_at)
