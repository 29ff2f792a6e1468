"""soapkit: call SuperOffice CRM Online SOAP agents from Python.

>>> so = soapkit.connect("Cust12345", env="sod", app_token=SECRET, credentials=SystemUser(token, key))
>>> so.ContactAgent.GetContactEntity(5)

Onsite NetServer: ``soapkit.connect(env=Onsite("http://host/SuperOffice/"), credentials=UsernamePassword(user,
password_file=...))``.

``import soapkit`` is cheap: the public names below are imported on first use (zeep, requests, lxml and the
credential machinery load only when a name that needs them is touched), so ``soapkit --help`` and scripts that
only need an exception class start at once. ``from soapkit import X``, ``dir(soapkit)`` and ``__all__`` behave as
if everything had been imported eagerly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soapkit._lazy import lazy_exports
from soapkit._version import __version__ as __version__

#: The public API: defining module -> the names it contributes. This is the one table; to export a new name,
#: add it here *and* to the ``if TYPE_CHECKING:`` block below (for mypy and IDEs). tests/test_startup.py fails
#: when the two disagree.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "soapkit.catalog": ("Catalog",),
    "soapkit.client": ("AsyncSuperOfficeClient", "SuperOfficeClient", "connect", "connect_async"),
    "soapkit.credentials": (
        "ClientCredentials",
        "Credential",
        "OAuthUser",
        "PersonalAccessToken",
        "ServiceAccessToken",
        "StaticToken",
        "SystemUser",
        "sign_system_token",
    ),
    "soapkit.debug": ("Recorder",),
    "soapkit.errors": (
        "AgentError",
        "AuthenticationFailed",
        "ConfigurationError",
        "CredentialError",
        "CredentialRejected",
        "HttpError",
        "InvalidValue",
        "LoginFailed",
        "OAuthError",
        "OutcomeUnknown",
        "RequestTimeout",
        "ResponseTooLarge",
        "SignInRequired",
        "SoapFault",
        "SoapkitError",
        "TenantNotRunning",
        "TokenValidationError",
        "TransportError",
    ),
    "soapkit.headers": ("TimeZoneHeader",),
    "soapkit.onsite": ("Onsite", "UsernamePassword"),
    "soapkit.retry": ("RetryPolicy",),
    "soapkit.tenant": ("Environment",),
    "soapkit.values": ("MultiLanguageText", "decode_value", "plain"),
}

_MODULE_OF, _lazy_getattr, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted([*_MODULE_OF, "__version__"])

if TYPE_CHECKING:  # `X as X`: an explicit re-export, for type checkers in strict mode
    from soapkit.catalog import Catalog as Catalog
    from soapkit.client import AsyncSuperOfficeClient as AsyncSuperOfficeClient
    from soapkit.client import SuperOfficeClient as SuperOfficeClient
    from soapkit.client import connect as connect
    from soapkit.client import connect_async as connect_async
    from soapkit.credentials import ClientCredentials as ClientCredentials
    from soapkit.credentials import Credential as Credential
    from soapkit.credentials import OAuthUser as OAuthUser
    from soapkit.credentials import PersonalAccessToken as PersonalAccessToken
    from soapkit.credentials import ServiceAccessToken as ServiceAccessToken
    from soapkit.credentials import StaticToken as StaticToken
    from soapkit.credentials import SystemUser as SystemUser
    from soapkit.credentials import sign_system_token as sign_system_token
    from soapkit.debug import Recorder as Recorder
    from soapkit.errors import AgentError as AgentError
    from soapkit.errors import AuthenticationFailed as AuthenticationFailed
    from soapkit.errors import ConfigurationError as ConfigurationError
    from soapkit.errors import CredentialError as CredentialError
    from soapkit.errors import CredentialRejected as CredentialRejected
    from soapkit.errors import HttpError as HttpError
    from soapkit.errors import InvalidValue as InvalidValue
    from soapkit.errors import LoginFailed as LoginFailed
    from soapkit.errors import OAuthError as OAuthError
    from soapkit.errors import OutcomeUnknown as OutcomeUnknown
    from soapkit.errors import RequestTimeout as RequestTimeout
    from soapkit.errors import ResponseTooLarge as ResponseTooLarge
    from soapkit.errors import SignInRequired as SignInRequired
    from soapkit.errors import SoapFault as SoapFault
    from soapkit.errors import SoapkitError as SoapkitError
    from soapkit.errors import TenantNotRunning as TenantNotRunning
    from soapkit.errors import TokenValidationError as TokenValidationError
    from soapkit.errors import TransportError as TransportError
    from soapkit.headers import TimeZoneHeader as TimeZoneHeader
    from soapkit.onsite import Onsite as Onsite
    from soapkit.onsite import UsernamePassword as UsernamePassword
    from soapkit.retry import RetryPolicy as RetryPolicy
    from soapkit.tenant import Environment as Environment
    from soapkit.values import MultiLanguageText as MultiLanguageText
    from soapkit.values import decode_value as decode_value
    from soapkit.values import plain as plain


if not TYPE_CHECKING:  # type checkers see the imports above; a misspelt name stays an error for them
    __getattr__ = _lazy_getattr
