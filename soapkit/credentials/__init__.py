"""Credentials: one interface; providers for system users, OAuth users, client credentials, reference tokens.

The names below are imported on first use, so importing one provider (or :mod:`soapkit.credentials.base`) does not
load the others' dependencies (cryptography, PyJWT, the OAuth modules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soapkit._lazy import lazy_exports

#: defining module -> the names it contributes (mirrored by the ``TYPE_CHECKING`` imports below)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "soapkit.credentials.base": (
        "AuthContext", "Credential", "CredentialCache", "IssuedCredential", "LockingCache", "MemoryCache",
        "StaticToken",
    ),
    "soapkit.credentials.caches": ("FileCache", "RedisCache", "new_cache_key", "open_cache"),
    "soapkit.credentials.keys": ("load_private_key", "load_public_key", "private_key_to_pem", "private_key_to_xml"),
    "soapkit.credentials.oauth": ("ClientCredentials", "OAuthUser", "SignInStore", "sign_in"),
    "soapkit.credentials.reference": ("PersonalAccessToken", "ReferenceToken", "ServiceAccessToken"),
    "soapkit.credentials.signing": ("SignedSystemToken", "sign_system_token"),
    "soapkit.credentials.system_user": ("SystemUser", "exchange_signed_token"),
}
_MODULE_OF, _lazy_getattr, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_MODULE_OF)

if TYPE_CHECKING:
    from soapkit.credentials.base import AuthContext as AuthContext
    from soapkit.credentials.base import Credential as Credential
    from soapkit.credentials.base import CredentialCache as CredentialCache
    from soapkit.credentials.base import IssuedCredential as IssuedCredential
    from soapkit.credentials.base import LockingCache as LockingCache
    from soapkit.credentials.base import MemoryCache as MemoryCache
    from soapkit.credentials.base import StaticToken as StaticToken
    from soapkit.credentials.caches import FileCache as FileCache
    from soapkit.credentials.caches import RedisCache as RedisCache
    from soapkit.credentials.caches import new_cache_key as new_cache_key
    from soapkit.credentials.caches import open_cache as open_cache
    from soapkit.credentials.keys import load_private_key as load_private_key
    from soapkit.credentials.keys import load_public_key as load_public_key
    from soapkit.credentials.keys import private_key_to_pem as private_key_to_pem
    from soapkit.credentials.keys import private_key_to_xml as private_key_to_xml
    from soapkit.credentials.oauth import ClientCredentials as ClientCredentials
    from soapkit.credentials.oauth import OAuthUser as OAuthUser
    from soapkit.credentials.oauth import SignInStore as SignInStore
    from soapkit.credentials.oauth import sign_in as sign_in
    from soapkit.credentials.reference import PersonalAccessToken as PersonalAccessToken
    from soapkit.credentials.reference import ReferenceToken as ReferenceToken
    from soapkit.credentials.reference import ServiceAccessToken as ServiceAccessToken
    from soapkit.credentials.signing import SignedSystemToken as SignedSystemToken
    from soapkit.credentials.signing import sign_system_token as sign_system_token
    from soapkit.credentials.system_user import SystemUser as SystemUser
    from soapkit.credentials.system_user import exchange_signed_token as exchange_signed_token


if not TYPE_CHECKING:  # type checkers see the imports above; a misspelt name stays an error for them
    __getattr__ = _lazy_getattr
