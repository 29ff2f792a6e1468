"""soapkit: call SuperOffice CRM Online SOAP agents from Python.

>>> so = soapkit.connect("Cust12345", env="sod", app_token=SECRET, credentials=SystemUser(token, key))
>>> so.ContactAgent.GetContactEntity(5)

Onsite NetServer: ``soapkit.connect(env=Onsite("http://host/SuperOffice/"), credentials=UsernamePassword(user,
password_file=...))``.
"""

from soapkit._version import __version__
from soapkit.catalog import Catalog
from soapkit.client import AsyncSuperOfficeClient, SuperOfficeClient, connect, connect_async
from soapkit.credentials import (
    ClientCredentials,
    Credential,
    OAuthUser,
    PersonalAccessToken,
    ServiceAccessToken,
    StaticToken,
    SystemUser,
    sign_system_token,
)
from soapkit.debug import Recorder
from soapkit.errors import (
    AgentError,
    AuthenticationFailed,
    ConfigurationError,
    CredentialError,
    CredentialRejected,
    HttpError,
    InvalidValue,
    LoginFailed,
    OAuthError,
    OutcomeUnknown,
    RequestTimeout,
    ResponseTooLarge,
    SignInRequired,
    SoapFault,
    SoapkitError,
    TenantNotRunning,
    TokenValidationError,
    TransportError,
)
from soapkit.headers import TimeZoneHeader
from soapkit.onsite import Onsite, UsernamePassword
from soapkit.retry import RetryPolicy
from soapkit.tenant import Environment
from soapkit.values import MultiLanguageText, decode_value, plain

__all__ = [
    "AgentError",
    "AsyncSuperOfficeClient",
    "AuthenticationFailed",
    "Catalog",
    "ClientCredentials",
    "ConfigurationError",
    "Credential",
    "CredentialError",
    "CredentialRejected",
    "Environment",
    "HttpError",
    "InvalidValue",
    "LoginFailed",
    "MultiLanguageText",
    "OAuthError",
    "OAuthUser",
    "Onsite",
    "OutcomeUnknown",
    "PersonalAccessToken",
    "Recorder",
    "RequestTimeout",
    "ResponseTooLarge",
    "RetryPolicy",
    "ServiceAccessToken",
    "SignInRequired",
    "SoapFault",
    "SoapkitError",
    "StaticToken",
    "SuperOfficeClient",
    "SystemUser",
    "TenantNotRunning",
    "TimeZoneHeader",
    "TokenValidationError",
    "TransportError",
    "UsernamePassword",
    "__version__",
    "connect",
    "connect_async",
    "decode_value",
    "plain",
    "sign_system_token",
]
