"""PartnerSystemUserService: signed system-user token in, RS256 JWT carrying a ``7T:`` ticket out.

SOAP at ``/login/services/PartnerSystemUserService.svc`` and REST at
``/Login/api/PartnerSystemUser/Authenticate``. Checks, in this order, each failing as
``IsSuccessful=false`` with ``ErrorMessage`` = ``"<ErrorName> (<code>): <what and what to do>"``:

1. the ApplicationToken (client secret) belongs to a registered application -> ``Denied (4)``
2. the ContextIdentifier names a tenant of the sandbox -> ``Denied (4)``; the tenant is running -> ``Denied (4)``
3. the application is installed in that tenant -> ``Denied (4)``
4. the signed token has the form ``token.yyyyMMddHHmm.signature`` -> ``InvalidSignature (7)`` /
   ``InvalidTimestamp (6)`` for a malformed stamp
5. its system-user token is the one issued for (tenant, application) -> ``Denied (4)``
6. the RSA-SHA256 signature verifies with the application's public key -> ``InvalidSignature (7)``
7. the stamped minute is within ``timestamp_tolerance`` (default 5 min) of the clock -> ``InvalidTimestamp (6)``
8. ``ReturnTokenType`` other than ``Jwt`` or ``Saml`` -> ``IsSuccessful=false`` over REST (case-insensitive);
   over SOAP the value must be exactly ``Jwt`` or ``Saml`` (the WSDL's enumeration), else WCF's reader answers
   a SOAP Fault ``a:DeserializationFailed`` before any check. ``Saml`` answers the base64 of
   a signed SAML 2.0 assertion with the same claims (:mod:`soapkit.sandbox.saml`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from zeep.xsd import Nil

from soapkit.credentials.jwt_validation import SYSTEM_USER_ISSUER, claim
from soapkit.credentials.signing import SignedSystemToken
from soapkit.errors import SoapkitError
from soapkit.sandbox import soap
from soapkit.sandbox.agents.schema import enumerations
from soapkit.sandbox.backend import Backend
from soapkit.sandbox.datacontract import read_as_wcf
from soapkit.sandbox.saml import signed_assertion_base64
from soapkit.sandbox.tenants import Tenant
from soapkit.sandbox.web import Request, Response, parse_json
from soapkit.sandbox.wsdl_docs import WsdlDocuments

log = logging.getLogger(__name__)

SERVICE = "PartnerSystemUserService"
OPERATION = "Authenticate"
_STAMP = re.compile(r"^\d{12}$")
# SuperOffice's exchange JWTs carry ``nbf`` 60 s before ``iat`` (PROTOCOL.md section 8).
NOT_BEFORE_SKEW = 60


class ErrorCode(IntEnum):
    """SuperOffice's documented AuthorizeErrorCode values."""

    Revoked = 1
    InvalidRedirectUrl = 2
    Expired = 3
    Denied = 4
    NeedsReapproval = 5
    InvalidTimestamp = 6
    InvalidSignature = 7


class ExchangeRefused(Exception):
    def __init__(self, code: ErrorCode | None, detail: str) -> None:
        self.code = code
        self.detail = detail
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.code.name} ({self.code.value}): {self.detail}" if self.code else self.detail


@dataclass(frozen=True)
class ExchangeResult:
    is_successful: bool
    token: str | None = None
    error_message: str | None = None


class PartnerService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.documents = WsdlDocuments(backend.catalog)

    # --- the exchange ----------------------------------------------------------------------------

    def authenticate(self, application_token: str | None, ctx: str | None, signed_token: str | None,
                     token_type: str | None, base_url: str) -> ExchangeResult:
        try:
            return ExchangeResult(True, self._exchange(application_token, ctx, signed_token, token_type, base_url))
        except ExchangeRefused as refused:
            return ExchangeResult(False, None, str(refused))

    def _exchange(self, application_token: str | None, ctx: str | None, signed_token: str | None,
                  token_type: str | None, base_url: str) -> str:
        backend = self.backend
        application = backend.apps.by_secret(application_token)
        if application is None:
            raise ExchangeRefused(ErrorCode.Denied, "unknown application token: the ApplicationToken header must "
                                  "carry the client secret of an application registered with this sandbox.")
        tenant = self._tenant(ctx)
        installation = backend.apps.installation(tenant.ctx, application.client_id)
        if installation is None:
            raise ExchangeRefused(ErrorCode.Denied, f"application {application.name!r} is not installed in tenant "
                                  f"{tenant.ctx}.")
        parsed = _parse_signed(signed_token)
        if not installation.system_token_matches(parsed.system_token):
            raise ExchangeRefused(ErrorCode.Denied, "the system-user token is not the one issued to this application "
                                  f"for tenant {tenant.ctx}.")
        if not parsed.verify(application.public_key):
            raise ExchangeRefused(ErrorCode.InvalidSignature, "the signature does not verify with the application's "
                                  "public key: sign with the application's private key, RSA PKCS#1 v1.5 SHA-256 over "
                                  "UTF-8 'token.yyyyMMddHHmm'.")
        self._check_timestamp(parsed.timestamp)
        kind = (token_type or "Jwt").strip().lower()
        if kind not in ("jwt", "saml"):
            raise ExchangeRefused(None, f"unknown ReturnTokenType {token_type!r}; use Jwt or Saml.")
        now = backend.now()
        ticket = backend.credentials.issue_ticket(
            tenant.ctx, application.client_id, installation.system_associate_id, backend.settings.ticket_lifetime, now
        )
        claims = self._claims(tenant, installation.system_associate_id, parsed.system_token, ticket,
                              base_url, now)
        if kind == "saml":
            return signed_assertion_base64(claims, backend.identity, subject=str(claims[claim("upn")] or ""),
                                           issuer=SYSTEM_USER_ISSUER, audience=f"spn:{tenant.serial}", now=now,
                                           lifetime=backend.settings.jwt_lifetime)
        return backend.identity.sign_jwt(claims)

    def _tenant(self, ctx: str | None) -> Tenant:
        if not ctx or not ctx.strip():
            raise ExchangeRefused(ErrorCode.Denied, "no ContextIdentifier given (the tenant, e.g. Cust12345).")
        tenant = self.backend.tenants.get(ctx.strip())
        if tenant is None:
            raise ExchangeRefused(ErrorCode.Denied, f"unknown context identifier {ctx.strip()!r}: no such tenant "
                                  "in this sandbox.")
        if not tenant.is_running:
            raise ExchangeRefused(ErrorCode.Denied, f"tenant {tenant.ctx} is {tenant.state.name}, not running.")
        return tenant

    def _check_timestamp(self, stamp: dt.datetime) -> None:
        now = self.backend.now()
        tolerance = self.backend.settings.timestamp_tolerance
        if stamp - tolerance <= now < stamp + dt.timedelta(minutes=1) + tolerance:
            return
        raise ExchangeRefused(
            ErrorCode.InvalidTimestamp,
            f"the token was signed for {stamp:%Y-%m-%d %H:%M} UTC but the sandbox clock is "
            f"{now.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC; allowed difference "
            f"{int(tolerance.total_seconds())} s. Sign with the current UTC time (yyyyMMddHHmm, 24-hour clock).",
        )

    def _claims(self, tenant: Tenant, associate_id: int, system_token: str, ticket: str,
                base_url: str, now: dt.datetime) -> dict[str, Any]:
        associate = self.backend.associate(tenant.ctx, associate_id) or {}
        issued = int(now.timestamp())
        return {
            "iss": SYSTEM_USER_ISSUER,
            "aud": f"spn:{tenant.serial}",
            "iat": issued,
            "nbf": issued - NOT_BEFORE_SKEW,  # as SuperOffice issues them: a lagging client clock is not refused
            "exp": issued + int(self.backend.settings.jwt_lifetime.total_seconds()),
            claim("ticket"): ticket,
            claim("ctx"): tenant.ctx,
            claim("serial"): tenant.serial,
            claim("netserver_url"): tenant.netserver_url(base_url),
            claim("webapi_url"): tenant.webapi_url(base_url),
            claim("associateid"): str(associate_id),
            claim("is_administrator"): "True" if associate.get("is_administrator") else "False",
            claim("email"): str(associate.get("email") or ""),
            claim("upn"): str(associate.get("user_name") or ""),
            claim("company_name"): tenant.company_name,
            claim("initials"): str(associate.get("initials") or ""),
            claim("system_token"): system_token,
        }

    # --- transports ------------------------------------------------------------------------------

    def metadata(self, request: Request) -> Response:
        if not (request.query_flag("wsdl") or request.query_flag("singlewsdl")):
            return Response.text(200, f"soapkit sandbox: {SERVICE}. The contract is at {request.url}?wsdl")
        data = self.documents.wsdl(SERVICE, request.url)
        if data is None:
            return Response.text(404, f"No WSDL for {SERVICE} in the catalog.")
        return Response.xml(200, data, operation=f"{SERVICE} metadata")

    def soap(self, request: Request) -> Response:
        described = self.backend.catalog.describe(SERVICE)
        operation = described.operation(OPERATION)
        log_fields = {"operation": f"{SERVICE}.{OPERATION}"}
        try:
            envelope = soap.parse_envelope(request.body)
            # WCF's reader: ReturnTokenType must be one of the WSDL's TokenType values (Jwt, Saml), case and all.
            read_as_wcf(operation, envelope, enumerations(described.path))
            body = soap.deserialize_body(operation, envelope)
        except soap.SoapRequestError as error:
            return Response.xml(500, soap.fault(error.message, error.code), outcome="fault", **log_fields)
        headers = soap.declared_headers(operation.input)
        ctx = soap.header_text(envelope, headers.get("ContextIdentifier", ""))
        result = self.authenticate(
            soap.header_text(envelope, headers.get("ApplicationToken", "")), ctx,
            body.get("SignedSystemToken"), body.get("ReturnTokenType"), request.base_url,
        )
        payload = soap.serialize_response(operation, {
            "IsSuccessful": result.is_successful,
            "Token": result.token if result.token is not None else Nil,
            "ErrorMessage": result.error_message if result.error_message is not None else Nil,
        })
        return Response.xml(200, payload, ctx=ctx, outcome=_outcome(result), **log_fields)

    def rest(self, request: Request) -> Response:
        log_fields = {"operation": f"{SERVICE}.{OPERATION} (REST)"}
        try:
            data = parse_json(request.body or b"null", max_bytes=self.backend.settings.max_json_bytes,
                              max_depth=self.backend.settings.max_json_depth)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return Response.json(400, {"IsSuccessful": False, "Token": None,
                                       "ErrorMessage": "The body must be a JSON object with SignedSystemToken, "
                                       "ApplicationToken, ContextIdentifier and ReturnTokenType."}, **log_fields)
        fields = {str(key).lower(): value for key, value in data.items()}

        def text(name: str) -> str | None:
            value = fields.get(name.lower())
            return value if isinstance(value, str) else None

        ctx = text("ContextIdentifier")
        result = self.authenticate(text("ApplicationToken"), ctx, text("SignedSystemToken"),
                                   text("ReturnTokenType"), request.base_url)
        return Response.json(200, {"IsSuccessful": result.is_successful, "Token": result.token,
                                   "ErrorMessage": result.error_message}, ctx=ctx, outcome=_outcome(result),
                             **log_fields)


def _outcome(result: ExchangeResult) -> str:
    if result.is_successful:
        return "ok"
    return (result.error_message or "").split(":", 1)[0]


def _parse_signed(signed_token: str | None) -> SignedSystemToken:
    if not signed_token or not signed_token.strip():
        raise ExchangeRefused(ErrorCode.InvalidSignature, "no SignedSystemToken given.")
    parts = signed_token.strip().rsplit(".", 2)
    if len(parts) != 3 or not parts[0]:
        raise ExchangeRefused(ErrorCode.InvalidSignature, "the signed token must have the form "
                              "'<system user token>.<yyyyMMddHHmm>.<base64 signature>'.")
    if not _STAMP.match(parts[1]):
        raise ExchangeRefused(ErrorCode.InvalidTimestamp, f"{parts[1]!r} is not a UTC time as yyyyMMddHHmm.")
    try:
        return SignedSystemToken.parse(signed_token.strip())
    except SoapkitError as error:
        code = ErrorCode.InvalidTimestamp if "timestamp" in error.message.lower() else ErrorCode.InvalidSignature
        raise ExchangeRefused(code, error.message) from None
