"""The sandbox's OAuth 2.0 / OpenID Connect identity service (see :mod:`.service` and docs/oauth.md)."""

from __future__ import annotations

from soapkit.sandbox.backend import Backend
from soapkit.sandbox.oauth.records import DEFAULT_REDIRECT_URIS, DEFAULT_USER_PASSWORD, OAuthClients, Passwords
from soapkit.sandbox.oauth.service import (
    AUTHORIZE_PATH,
    LOGOUT_PATH,
    REVOKE_PATH,
    SESSION_COOKIE,
    TOKEN_PATH,
    OAuthService,
    OAuthSettings,
)
from soapkit.sandbox.web import Router

__all__ = [
    "AUTHORIZE_PATH",
    "DEFAULT_REDIRECT_URIS",
    "DEFAULT_USER_PASSWORD",
    "LOGOUT_PATH",
    "REVOKE_PATH",
    "SESSION_COOKIE",
    "TOKEN_PATH",
    "OAuthClients",
    "OAuthService",
    "OAuthSettings",
    "Passwords",
    "register_routes",
]


def register_routes(router: Router, backend: Backend, settings: OAuthSettings | None = None) -> OAuthService:
    """Add the authorize, token, revocation and logout endpoints to ``router``; returns the service."""
    service = OAuthService(backend, settings)
    router.add("GET", AUTHORIZE_PATH, service.authorize)
    router.add("POST", AUTHORIZE_PATH, service.authorize)
    router.add("POST", TOKEN_PATH, service.token)
    router.add("POST", REVOKE_PATH, service.revoke)
    router.add("GET", LOGOUT_PATH, service.logout)
    router.add("POST", LOGOUT_PATH, service.logout)
    return service
