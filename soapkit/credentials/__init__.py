"""Credentials: one interface; providers for system users, OAuth users, client credentials, reference tokens."""

from soapkit.credentials.base import (
    AuthContext,
    Credential,
    CredentialCache,
    IssuedCredential,
    LockingCache,
    MemoryCache,
    StaticToken,
)
from soapkit.credentials.caches import FileCache, RedisCache, new_cache_key, open_cache
from soapkit.credentials.keys import load_private_key, load_public_key, private_key_to_pem, private_key_to_xml
from soapkit.credentials.oauth import ClientCredentials, OAuthUser, SignInStore, sign_in
from soapkit.credentials.reference import PersonalAccessToken, ReferenceToken, ServiceAccessToken
from soapkit.credentials.signing import SignedSystemToken, sign_system_token
from soapkit.credentials.system_user import SystemUser, exchange_signed_token

__all__ = [
    "AuthContext",
    "ClientCredentials",
    "Credential",
    "CredentialCache",
    "FileCache",
    "IssuedCredential",
    "LockingCache",
    "MemoryCache",
    "OAuthUser",
    "PersonalAccessToken",
    "RedisCache",
    "ReferenceToken",
    "ServiceAccessToken",
    "SignInStore",
    "SignedSystemToken",
    "StaticToken",
    "SystemUser",
    "exchange_signed_token",
    "load_private_key",
    "load_public_key",
    "new_cache_key",
    "open_cache",
    "private_key_to_pem",
    "private_key_to_xml",
    "sign_in",
    "sign_system_token",
]
