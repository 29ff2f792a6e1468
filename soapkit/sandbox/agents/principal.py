"""SoPrincipal agent (``SoPrincipal.svc``): who am I, and what system is this.

Its operations declare only the ``ApplicationToken`` header (no ``Credentials``).
``AuthenticateWithAccessToken`` accepts any live credential the sandbox issued for this tenant and
application (a ``7T:`` ticket today; ``8A:`` access tokens when the OAuth flow lands): it answers
``AuthenticationSucceeded=true``, the principal, and ``Credentials/Ticket`` (the ticket itself; a
ticket issued for the token's user for other kinds). An unknown, expired or foreign credential answers
``AuthenticationSucceeded=false`` with ``Succeeded=true`` and no principal. ``AuthenticateUsernamePassword``
signs in the onsite user on the onsite endpoint; ``AuthenticateImplicit`` (Windows sign-in) always answers
``AuthenticationSucceeded=false``: nobody reaches the sandbox through IIS Windows authentication.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from zeep.xsd import Nil

from soapkit import __version__
from soapkit.sandbox.agents.registry import AgentCall, handles
from soapkit.sandbox.credentials import CredentialKind

SERVICE = "SoPrincipal"


def principal_carrier(call: AgentCall, associate_id: int) -> dict[str, Any]:
    associate = call.crm.associate(associate_id) or {}
    system = associate.get("user_type") == "SystemAssociate"
    return {
        "UserType": associate.get("user_type", "InternalAssociate"), "Associate": associate.get("user_name", ""),
        "AssociateId": associate_id, "IsPerson": False, "PersonId": 0,
        "CountryId": call.tenant.default_country_id, "HomeCountryId": call.tenant.default_country_id,
        "ContactId": 0, "GroupId": associate.get("group_id", 0), "BusinessId": 0, "CategoryId": 0,
        "ContactOwner": 0, "RoleId": 1, "RoleName": "System" if system else "User",
        "RoleDescription": "soapkit sandbox role", "RoleType": "System" if system else "Employee",
        "Licenses": {"GrantedModuleLicense": []}, "FullName": associate.get("full_name", ""),
        "EMailAddress": associate.get("email") or "", "FunctionRights": {"string": []}, "EjUserId": 0,
        "EjAccessLevel": 0, "EjUserStatus": "StatusSystem" if system else "StatusNormal",
        "ProvidedCredentials": {"ProvidedCredential": []}, "SecondaryGroups": {"int": []},
        "DatabaseContextIdentifier": call.ctx,
    }


@handles(SERVICE, "AuthenticateWithAccessToken")
def authenticate_with_access_token(call: AgentCall) -> dict[str, Any]:
    backend = call.backend
    token = call.param("AccessToken")
    application = backend.apps.by_secret(call.application_token)
    check = backend.credentials.check(token, ctx=call.ctx, now=call.now,
                                      client_id=application.client_id if application else None)
    if not check.valid or check.record is None:
        return {"Response": Nil, "Credentials": Nil, "AuthenticationSucceeded": False}
    record = check.record
    backend.credentials.used(token, call.now)
    ticket = token if record.kind is CredentialKind.TICKET else backend.credentials.issue_ticket(
        call.ctx, record.client_id, record.associate_id, backend.settings.ticket_lifetime, call.now)
    return {
        "Response": principal_carrier(call, record.associate_id),
        "Credentials": {"Ticket": ticket},
        "AuthenticationSucceeded": True,
    }


@handles(SERVICE, "AuthenticateUsernamePassword")
def authenticate_username_password(call: AgentCall) -> dict[str, Any]:
    """Onsite sign-in: the seeded onsite user (``sandbox.json`` ``onsite.user``) and its password give a ticket
    (a 7T: ticket of that associate, with no application). Only on the onsite endpoint: SuperOffice Online
    signs users in through SuperID, so there it answers ``AuthenticationSucceeded=false`` like a wrong password.
    """
    backend = call.backend
    user_name = str(call.param("UserName") or "").strip()
    associate = call.crm.associate(backend.onsite_associate_id) or {}
    known = str(associate.get("user_name") or "")
    if not (call.onsite and known and user_name.lower() == known.lower()
            and backend.onsite_password_matches(call.param("Password"))):
        return {"Response": Nil, "Credentials": Nil, "AuthenticationSucceeded": False}
    ticket = backend.credentials.issue_ticket(call.ctx, None, backend.onsite_associate_id,
                                              backend.settings.ticket_lifetime, call.now)
    return {
        "Response": principal_carrier(call, backend.onsite_associate_id),
        "Credentials": {"Ticket": ticket},
        "AuthenticationSucceeded": True,
    }


@handles(SERVICE, "GetSystemInfo")
def get_system_info(call: AgentCall) -> dict[str, Any]:
    expiry = dt.datetime(call.now.year + 1, 1, 1)
    return {"SystemInfo": {
        "WarningEnglish": "", "WarningResource": "", "BranchName": "soapkit-sandbox",
        "BuildLabel": f"soapkit-sandbox-{__version__}", "AssemblyVersion": "10.0.0.0",
        "AccumulatedNextCheckDate": expiry, "FileVersion": __version__,
        "Description": "soapkit sandbox: a local emulator of SuperOffice CRM Online",
        "DaysUntilNetServerExpiry": (expiry - call.now.replace(tzinfo=None)).days, "BuildType": "Release",
        "DatabaseVersion": 1, "IsUnicode": True, "CompanyName": call.tenant.company_name, "CompanyId": 0,
        "DatabaseType": "SQLite", "DatabaseMinor": "", "DatabaseName": call.ctx, "IsOnTravel": False,
        "IsSatellite": False,
    }}


@handles(SERVICE, "AuthenticateImplicit")
def authenticate_implicit(call: AgentCall) -> dict[str, Any]:
    """Windows sign-in: NetServer signs in the Windows account IIS authenticated the connection as (NTLM or
    Kerberos). The sandbox serves plain HTTP without Windows authentication, so every caller is anonymous and
    the answer is ``AuthenticationSucceeded=false``, on the onsite endpoint as on a tenant's."""
    return {"Response": Nil, "Credentials": Nil, "AuthenticationSucceeded": False}
