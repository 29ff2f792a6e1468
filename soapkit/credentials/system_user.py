"""The system-user flow: sign the system-user token, exchange it at PartnerSystemUserService, validate.

``SystemUser(token, key)`` is a :class:`~soapkit.credentials.base.Credential`: it exchanges at most
once per ``reuse_for`` seconds (tickets live 6 hours, sliding with use; SuperOffice asks partners not
to fetch more than about once an hour, so the default is one hour) and otherwise serves the cache.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Literal

from soapkit.catalog import PARTNER_SERVICE
from soapkit.credentials.base import AuthContext, Credential, CredentialCache, IssuedCredential, fingerprint
from soapkit.credentials.jwt_validation import (
    CLAIM_PREFIX,
    check_system_user_claims,
    validate_system_user_jwt,
    validated,
)
from soapkit.credentials.keys import KeySource, private_key_for_later
from soapkit.errors import AuthenticationFailed, ConfigurationError, CredentialError
from soapkit.flow import Flow, request
from soapkit.headers import HeaderValues
from soapkit.http import json_object

ExchangeMethod = Literal["soap", "rest"]
TokenType = Literal["Jwt", "Saml"]

SYSTEM_TOKEN_CLAIM = CLAIM_PREFIX + "system_token"

# Documented PartnerSystemUserService error codes, for messages and hints.
ERROR_CODES = {1: "Revoked", 2: "InvalidRedirectUrl", 3: "Expired", 4: "Denied", 5: "NeedsReapproval",
               6: "InvalidTimestamp", 7: "InvalidSignature"}
_HINTS = {
    "InvalidTimestamp": "The signing time is outside the server's window: check this machine's clock (UTC).",
    "InvalidSignature": "The signature does not verify: use the private key registered for this application.",
    "Revoked": "An administrator removed the app's consent: the tenant must install (approve) it again.",
    "NeedsReapproval": "The app's requested rights changed: an administrator must approve it again.",
    "Denied": "Check the client secret (ApplicationToken) and the context identifier.",
    "Expired": "The system-user token has expired: get the new one from the install callback.",
}


def _hint_for(message: str | None) -> str | None:
    lowered = (message or "").lower()
    if any(name in lowered for name in _TOKEN_NAMES) and not any(
            name.lower() in lowered for name in ("InvalidTimestamp", "InvalidSignature", "Expired")):
        # a refusal that is about the token itself (e.g. "Denied (4): the system-user token is not the one issued
        # to this application"): the hint is about the token, not about the client secret or the tenant
        return _TOKEN_HINT
    for name, hint in _HINTS.items():
        if name.lower() in lowered:
            return hint
    return None


_TOKEN_NAMES = ("system-user token", "system user token", "systemusertoken", "system token")
_TOKEN_HINT = ("Check the system-user token: it must be the one SuperOffice issued to this application for this "
               "tenant (the SystemUserToken of the install callback), with no extra characters.")


def exchange_signed_token(
    context: AuthContext,
    signed_token: str,
    *,
    method: ExchangeMethod = "soap",
    token_type: TokenType = "Jwt",
) -> str:
    """Exchange a signed system-user token for a JWT (or base64 SAML) at PartnerSystemUserService."""
    from soapkit.drivers.sync import SyncDriver

    return SyncDriver(context.session, recorder=context.recorder).run(
        exchange_flow(context, signed_token, method=method, token_type=token_type))


def exchange_flow(context: AuthContext, signed_token: str, *, method: ExchangeMethod = "soap",
                  token_type: TokenType = "Jwt") -> Flow[str]:
    """:func:`exchange_signed_token` as a flow (SOAP or REST)."""
    if not context.application_token:
        raise ConfigurationError("The system-user exchange needs the application token (client secret).",
                                 hint="Pass app_token= or set SOAPKIT_APP_TOKEN.")
    if method == "soap":
        successful, token, error = yield from _exchange_soap(context, signed_token, token_type)
    elif method == "rest":
        successful, token, error = yield from _exchange_rest(context, signed_token, token_type)
    else:
        raise ConfigurationError(f"Unknown exchange method {method!r}.", hint="Use 'soap' or 'rest'.")
    if not successful or not token:
        raise AuthenticationFailed(
            f"PartnerSystemUserService refused the system-user token for {context.context_identifier}: "
            f"{error or 'no reason given'}",
            server_message=error,
            hint=_hint_for(error),
        )
    return token


def _exchange_soap(context: AuthContext, signed: str, token_type: str) -> Flow[tuple[bool, str | None, str | None]]:
    from soapkit.calls import soap_exchange

    headers = HeaderValues(context.application_token, context_identifier=context.context_identifier)
    answer = yield from soap_exchange(
        context.catalog, PARTNER_SERVICE, "Authenticate", context.environment.partner_service_url,
        {"SignedSystemToken": signed, "ReturnTokenType": token_type}, headers,
        version=context.services_version, timeout=context.timeout, purpose="partner")
    return bool(answer.IsSuccessful), answer.Token, answer.ErrorMessage


def _exchange_rest(context: AuthContext, signed: str, token_type: str) -> Flow[tuple[bool, str | None, str | None]]:
    payload = {
        "SignedSystemToken": signed,
        "ApplicationToken": context.application_token,
        "ContextIdentifier": context.context_identifier,
        "ReturnTokenType": token_type.upper() if token_type == "Jwt" else token_type,
    }
    response = yield from request("POST", context.environment.partner_rest_url, purpose="partner",
                                  timeout=context.timeout, body=json.dumps(payload).encode("utf-8"),
                                  headers={"Content-Type": "application/json", "Accept": "application/json"})
    data = json_object(response)
    if data is None:
        raise AuthenticationFailed(
            f"PartnerSystemUserService (REST) answered HTTP {response.status_code} without a JSON object."
        )
    return bool(data.get("IsSuccessful")), data.get("Token"), data.get("ErrorMessage")


class SystemUser(Credential):
    """A background service acting as the tenant's system user, through a signed system-user token."""

    kind = "system_user"

    def __init__(
        self,
        system_user_token: str,
        private_key: KeySource,
        *,
        method: ExchangeMethod = "soap",
        token_type: TokenType = "Jwt",
        reuse_for: float = 3600.0,
        cache: CredentialCache | None = None,
        leeway: float = 60.0,
        saml_validator: Callable[[str, AuthContext], dict[str, Any]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(cache=cache, refresh_margin=0.0, clock=clock)
        if not system_user_token or not system_user_token.strip():
            raise ConfigurationError("The system-user token is empty.",
                                     hint="It is the system_token claim received when the tenant installed the app.")
        self._system_user_token = system_user_token
        # read and checked now; made into an RSA key (cryptography) on the first signing, which a cached ticket
        # spares: see soapkit.credentials.keys.LazyPrivateKey for which errors come now and which then
        self._private_key = private_key_for_later(private_key)
        self.method: ExchangeMethod = method
        self.token_type: TokenType = token_type
        self.reuse_for = reuse_for
        self.leeway = leeway
        self._saml_validator = saml_validator

    def identity(self) -> str:
        return fingerprint(self._system_user_token)

    def sign(self) -> str:
        from soapkit.credentials.signing import sign_system_token

        return sign_system_token(self._system_user_token, self._private_key)

    def fetch_flow(self, context: AuthContext) -> Flow[IssuedCredential]:
        token = yield from exchange_flow(context, self.sign(), method=self.method, token_type=self.token_type)
        claims = yield from self._validate(token, context)
        ticket = check_system_user_claims(claims, context.context_identifier)
        # The system_token claim is the system-user token itself: a secret that has no business in a cache.
        kept = {name: value for name, value in claims.items() if name != SYSTEM_TOKEN_CLAIM}
        return IssuedCredential(ticket, self._clock() + self.reuse_for, kept)

    def _validate(self, token: str, context: AuthContext) -> Flow[dict[str, Any]]:
        if self.token_type == "Jwt":
            return (yield from validated(context.jwks, lambda keys: validate_system_user_jwt(
                token, keys, context_identifier=context.context_identifier, leeway=self.leeway)))
        if self._saml_validator is not None:
            return self._saml_validator(token, context)
        try:
            from soapkit.credentials.saml import validate_system_user_saml
        except ImportError:
            raise CredentialError("SAML validation is not available in this build.",
                                  hint="Use token_type='Jwt' (the default).") from None
        return (yield from validated(context.jwks, lambda keys: validate_system_user_saml(token, context, keys)))
