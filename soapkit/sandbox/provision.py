"""First start and every start: keys, the default tenant, the partner application, ``sandbox.json``.

On first start the sandbox creates, in its data directory: the identity signing key and certificate,
a partner key pair (private key as PEM and as .NET ``<RSAKeyValue>`` XML), a registered application
installed in tenant ``Cust12345`` (Running) with sample data. Later starts reuse all of it. The client
secret and system-user token are stored only hashed in the database; their readable values live in
``sandbox.json`` (mode 0600). If that file is lost they cannot be recovered, so new ones are issued.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from soapkit.credentials.jwt_validation import SYSTEM_USER_ISSUER
from soapkit.credentials.keys import load_private_key, private_key_to_pem, private_key_to_xml
from soapkit.sandbox import seed
from soapkit.sandbox.backend import Backend
from soapkit.sandbox.files import DataDir, read_json, write_json_private, write_private, write_public
from soapkit.sandbox.identity import new_rsa_key
from soapkit.sandbox.store import secret_hash
from soapkit.sandbox.tenants import Tenant
from soapkit.tenant import TenantState

DEFAULT_CONTEXT = "Cust12345"
DEFAULT_SERIAL = "1012345678"
DEFAULT_COMPANY = "soapkit Sandbox AS"
APPLICATION_NAME = "soapkit sandbox"
CONFIG_VERSION = 1


@dataclass(frozen=True, repr=False)
class PartnerSecrets:
    """What the partner application's developer holds (and the sandbox only knows hashed)."""

    client_id: str
    client_secret: str
    system_user_token: str

    def __repr__(self) -> str:
        return f"PartnerSecrets(client_id={self.client_id!r}, client_secret=***, system_user_token=***)"


def ensure_tenant(backend: Backend, ctx: str, *, serial: str, company_name: str, now: dt.datetime,
                  state: TenantState = TenantState.Running, endpoint: str | None = None,
                  default_country_id: int = seed.NORWAY) -> Tenant:
    """The tenant ``ctx``, created with sample data when it does not exist yet."""
    existing = backend.tenants.get(ctx)
    if existing is not None:
        return existing
    with backend.store.transaction():
        seed.seed_reference_data(backend.store)
        tenant = backend.tenants.add(ctx, serial=serial, company_name=company_name, now=now, state=state,
                                     endpoint=endpoint, default_country_id=default_country_id)
        seed.seed_tenant(backend.store, tenant.ctx)
    return tenant


def partner_key(data: DataDir) -> rsa.RSAPrivateKey:
    """The partner application's private key, created (PEM, XML and public PEM) when missing."""
    if data.partner_private_key_pem.is_file():
        key = load_private_key(data.partner_private_key_pem)
    else:
        key = new_rsa_key()
        write_private(data.partner_private_key_pem, private_key_to_pem(key))
    if not data.partner_private_key_xml.is_file():
        write_private(data.partner_private_key_xml, private_key_to_xml(key))
    if not data.partner_public_key_pem.is_file():
        write_public(data.partner_public_key_pem, key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


#: the associate the onsite user signs in as (EVA, an ordinary user of the seed)
ONSITE_ASSOCIATE_ID = 2


def onsite_password(data: DataDir) -> str:
    """The onsite user's password: read from ``onsite-password.txt``, created (random) when missing."""
    path = data.onsite_password
    if path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text
    password = secrets.token_urlsafe(18)
    write_private(path, password + "\n")
    return password


def onsite_settings(base_url: str, data: DataDir, backend: Backend) -> dict[str, Any]:
    """``sandbox.json`` ``onsite``: the onsite endpoint (no tenant lookup there) and its user."""
    associate = backend.associate(DEFAULT_CONTEXT, backend.onsite_associate_id) or {}
    return {
        "base_url": f"{base_url}/onsite",
        "services_url": f"{base_url}/onsite/Remote/Services88/",
        "user": str(associate.get("user_name") or ""),
        "password_file": str(data.onsite_password),
        "password": onsite_password(data),
    }


def ensure_partner_application(backend: Backend, data: DataDir, tenant: Tenant, now: dt.datetime) -> PartnerSecrets:
    key = partner_key(data)
    apps = backend.apps
    application = apps.first()
    previous = read_json(data.config) or {}
    if application is None:
        application, client_secret = apps.register(APPLICATION_NAME, key.public_key(), now)
    else:
        apps.set_public_key(application.client_id, key.public_key())
        client_secret = str(previous.get("client_secret") or "")
        if not apps.secret_matches(application.client_id, client_secret):
            client_secret = apps.rotate_secret(application.client_id)
    installation = apps.installation(tenant.ctx, application.client_id)
    token = str(previous.get("system_user_token") or "")
    if installation is None or installation.system_token_hash != secret_hash(token):
        token = apps.install(tenant.ctx, application, seed.SYSTEM_ASSOCIATE_ID)
    return PartnerSecrets(application.client_id, client_secret, token)


def sandbox_config(base_url: str, data: DataDir, secrets: PartnerSecrets, tenant: Tenant,
                   backend: Backend) -> dict[str, Any]:
    """The content of ``sandbox.json``: everything a client needs to talk to this sandbox."""
    settings = backend.settings
    login = f"{base_url}/login"
    return {
        "config_version": CONFIG_VERSION,
        "base_url": base_url,
        "environment": base_url,
        "context_identifier": tenant.ctx,
        "tenant_endpoint": tenant.endpoint(base_url),
        "netserver_url": tenant.netserver_url(base_url),
        "webapi_url": tenant.webapi_url(base_url),
        "state_url": f"{base_url}/api/state/{tenant.ctx}",
        "partner_service_url": f"{login}/services/PartnerSystemUserService.svc",
        "partner_rest_url": f"{base_url}/Login/api/PartnerSystemUser/Authenticate",
        "openid_configuration_url": f"{login}/.well-known/openid-configuration",
        "jwks_url": f"{login}/.well-known/jwks",
        "jwt_issuer": SYSTEM_USER_ISSUER,
        "jwt_audience": f"spn:{tenant.serial}",
        "client_id": secrets.client_id,
        "client_secret": secrets.client_secret,
        "system_user_token": secrets.system_user_token,
        "private_key_pem": str(data.partner_private_key_pem),
        "private_key_xml": str(data.partner_private_key_xml),
        "public_key_pem": str(data.partner_public_key_pem),
        "identity_certificate": str(data.identity_certificate),
        "database": str(data.database),
        "ticket_lifetime_seconds": int(settings.ticket_lifetime.total_seconds()),
        "timestamp_tolerance_seconds": int(settings.timestamp_tolerance.total_seconds()),
    }


def write_config(data: DataDir, config: dict[str, Any]) -> None:
    write_json_private(data.config, config)
