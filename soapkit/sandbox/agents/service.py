"""The NetServer endpoint ``/{ctx}/Remote/Services88/{Service}.svc``: routing, credentials, envelopes.

How a call is answered:

* unknown tenant -> HTTP 404 (text); tenant not running -> HTTP 503 (text, names the state)
* unknown service (no WSDL in the catalog) -> HTTP 404; SOAP 1.2 content type -> HTTP 415
* malformed XML, a body that does not match the contract -> HTTP 500, SOAP Fault ``s:Client``
* the body is first read by WCF's DataContractSerializer rules (:mod:`soapkit.sandbox.datacontract`): members
  out of order or unknown are skipped; an empty ``xs:int``/``xs:dateTime`` or an enum value outside the schema
  -> HTTP 500, SOAP Fault ``a:DeserializationFailed``
* SOAPAction naming no operation of the service -> HTTP 500, SOAP Fault ``a:ActionNotSupported``
* otherwise HTTP 200 with the operation's response envelope; failures are ``Succeeded=false`` plus
  ``ExceptionInfo`` (see :data:`CREDENTIAL_FAILURES` for credentials, ``NotImplementedException`` for an
  operation the sandbox does not implement, ``ValidationException``/``EntityNotFoundException`` for data).
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from soapkit.catalog import ServiceDescription
from soapkit.errors import SoapkitError
from soapkit.sandbox import soap
from soapkit.sandbox.agents import schema
from soapkit.sandbox.agents.generic import GenericAgents
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure
from soapkit.sandbox.backend import Backend
from soapkit.sandbox.credentials import Verdict
from soapkit.sandbox.datacontract import read_as_wcf
from soapkit.sandbox.regional import Regional, RegionalHeaderError, soap_time_zone
from soapkit.sandbox.tenants import Tenant
from soapkit.sandbox.web import Request, Response
from soapkit.sandbox.wsdl_docs import WsdlDocuments

log = logging.getLogger(__name__)

SOURCE = "SoapKit.Sandbox"
APPLICATION_TOKEN_INVALID = "ApplicationTokenInvalidException"
CREDENTIALS_MISSING = "CredentialsMissingException"
CREDENTIALS_INVALID = "CredentialsInvalidException"
CREDENTIALS_EXPIRED = "CredentialsExpiredException"
NOT_IMPLEMENTED = "NotImplementedException"
INTERNAL_ERROR = "SandboxInternalError"

# Verdict on Credentials/Ticket -> (ExceptionType, Message). Answered with HTTP 200, Succeeded=false.
CREDENTIAL_FAILURES: dict[Verdict, tuple[str, str]] = {
    Verdict.MISSING: (CREDENTIALS_MISSING, "No credentials: the Credentials/Ticket header is missing or empty. "
                      "Send a 7T: system-user ticket (or an 8A: access token)."),
    Verdict.UNKNOWN: (CREDENTIALS_INVALID, "The ticket in Credentials/Ticket is not valid: this sandbox did not "
                      "issue it (or forgot it). Get a new ticket."),
    Verdict.REVOKED: (CREDENTIALS_INVALID, "The ticket in Credentials/Ticket has been revoked. Get a new ticket."),
    Verdict.WRONG_TENANT: (CREDENTIALS_INVALID, "The ticket in Credentials/Ticket was issued for another tenant "
                           "than {ctx}."),
    Verdict.WRONG_APPLICATION: (CREDENTIALS_INVALID, "The ticket in Credentials/Ticket was issued to another "
                                "application than the one whose ApplicationToken was sent."),
    Verdict.EXPIRED: (CREDENTIALS_EXPIRED, "The ticket in Credentials/Ticket has expired (tickets live {lifetime} "
                      "after their last use). Get a new ticket."),
}


class AgentService:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.documents = WsdlDocuments(backend.catalog)
        self.handlers = GenericAgents(backend.catalog)
        #: service names as the URL spells them (lower case) -> as the catalog does; filled on first use
        self._service_names: dict[str, str] = {}

    # --- GET: metadata ---------------------------------------------------------------------------

    def get(self, request: Request, ctx: str, version: str, service: str) -> Response:
        tenant = self.backend.tenants.get(ctx)
        if tenant is None:
            return Response.text(404, f"Tenant {ctx} does not exist in this sandbox.", ctx=ctx)
        xsd = request.query_value("xsd")
        if xsd is not None:
            data = self.documents.schema(service, xsd, request.url)
        elif request.query_flag("wsdl") or request.query_flag("singlewsdl"):
            data = self.documents.wsdl(service, request.url)
        else:
            if self._describe(service) is None:
                return Response.text(404, f"No service {service} in this sandbox.", ctx=tenant.ctx)
            return Response.text(200, f"soapkit sandbox: {service} service of {tenant.ctx}. "
                                 f"The contract is at {request.url}?wsdl", ctx=tenant.ctx)
        if data is None:
            return Response.text(404, f"No such metadata document for {service}.", ctx=tenant.ctx)
        return Response.xml(200, data, ctx=tenant.ctx, operation=f"{service} metadata")

    # --- POST: calls -----------------------------------------------------------------------------

    def post(self, request: Request, ctx: str, version: str, service: str, *, onsite: bool = False) -> Response:
        """Answer a call; ``onsite=True`` for the onsite endpoint (ApplicationToken optional and not checked)."""
        tenant = self.backend.tenants.get(ctx)
        if tenant is None:
            return Response.text(404, f"Tenant {ctx} does not exist in this sandbox.", ctx=ctx)
        if not tenant.is_running:
            return Response.text(503, f"Tenant {tenant.ctx} is {tenant.state.name}; it does not serve API calls.",
                                 ctx=tenant.ctx)
        described = self._describe(service)
        if described is None:
            return Response.text(404, f"No service {service} in this sandbox.", ctx=tenant.ctx)
        if "application/soap+xml" in (request.header("content-type") or ""):
            return Response.text(415, "Cannot process a SOAP 1.2 message (application/soap+xml): this endpoint "
                                 "speaks SOAP 1.1 (text/xml; charset=utf-8).", ctx=tenant.ctx)
        try:
            envelope = soap.parse_envelope(request.body)
            name = self._operation_name(described, request, envelope)
            operation = described.operation(name)
            read_as_wcf(operation, envelope, schema.enumerations(described.path))
            params = soap.deserialize_body(operation, envelope)
        except soap.SoapRequestError as error:
            return Response.xml(500, soap.fault(error.message, error.code), ctx=tenant.ctx, outcome="fault",
                                operation=service)
        label = f"{service}.{name}"
        try:
            body = self._call(request, tenant, described, name, operation, envelope, params, onsite=onsite)
        except AgentFailure as failure:
            return Response.xml(200, self._failure(operation, failure), ctx=tenant.ctx, operation=label,
                                outcome=failure.exception_type)
        payload = soap.serialize_response(operation, body, {"Succeeded": True})
        return Response.xml(200, payload, ctx=tenant.ctx, operation=label, outcome="ok")

    def _describe(self, service: str) -> ServiceDescription | None:
        """The service named in the URL; IIS matches ``.svc`` names case-insensitively, and so does the sandbox."""
        catalog = self.backend.catalog
        name = self._service_names.get(service.lower())
        if name is None:  # listing the WSDL folders costs ~0.5 ms: done once per name, not per request
            name = next((known for known in catalog.services() if known.lower() == service.lower()), None)
            if name is not None:
                self._service_names[service.lower()] = name
            else:
                name = service
        try:
            return catalog.describe(name)
        except SoapkitError:
            return None

    @staticmethod
    def _operation_name(described: ServiceDescription, request: Request, envelope: Any) -> str:
        action = soap.soap_action(request.header("soapaction"))
        if action:
            name = described.operation_for_action(action)
            if name is not None:
                return name
            raise soap.SoapRequestError(
                f"The message with Action '{action}' cannot be processed at the receiver: {described.name} has no "
                "such operation.", code=(soap.WCF_ADDRESSING_NONE, "ActionNotSupported"))
        element = soap.body_element(envelope)
        if element is not None:
            name = described.operation_for_element(element.tag)
            if name is not None:
                return name
        raise soap.SoapRequestError("No SOAPAction header and no body element naming an operation of "
                                    f"{described.name}.", code=(soap.WCF_ADDRESSING_NONE, "ActionNotSupported"))

    def _call(self, request: Request, tenant: Tenant, described: ServiceDescription, name: str, operation: Any,
              envelope: Any, params: dict[str, Any], *, onsite: bool = False) -> dict[str, Any]:
        headers = soap.declared_headers(operation.input)
        application_token = soap.header_text(envelope, headers["ApplicationToken"]) \
            if "ApplicationToken" in headers else None
        ticket = None
        if "Credentials" in headers:
            credentials = headers["Credentials"]
            ticket_qname = etree.QName(etree.QName(credentials).namespace, "Ticket").text
            ticket = soap.header_text(envelope, credentials, ticket_qname)
        associate_id = self.authenticate(tenant, application_token, ticket, credentials="Credentials" in headers,
                                         application=not onsite)
        wanted = Regional(zone=self._time_zone(envelope, headers))
        body = self.dispatch(request, tenant, described.name, name, wanted.request_values(params), associate_id,
                             application_token, onsite=onsite)
        answered: dict[str, Any] = wanted.answer_values(body)
        return answered

    @staticmethod
    def _time_zone(envelope: Any, headers: dict[str, str]) -> Any:
        """The zone the ``TimeZone`` header asks date-times to be in (see :mod:`soapkit.sandbox.regional`)."""
        if "TimeZone" not in headers:
            return None
        header = headers["TimeZone"]
        namespace = etree.QName(header).namespace
        code = soap.header_text(envelope, header, etree.QName(namespace, "SoTimeZoneLocationCode").text)
        zone_id = soap.header_text(envelope, header, etree.QName(namespace, "SoTimeZoneId").text)
        try:
            return soap_time_zone(code, zone_id)
        except RegionalHeaderError as error:
            raise AgentFailure("ArgumentException", error.message) from None

    # --- shared by the SOAP and the REST endpoint --------------------------------------------------

    def authenticate(self, tenant: Tenant, application_token: str | None, ticket: str | None, *,
                     credentials: bool = True, application: bool = True, token_application: bool = False) -> int:
        """The associate a call runs as, once its ApplicationToken and ticket pass; :class:`AgentFailure` if not.

        ``application=False`` skips the ApplicationToken check (the onsite endpoint); with
        ``token_application=True`` the application is then the one the credential itself was issued to, which
        must still be registered and installed in the tenant (REST with ``Bearer`` and no ``SO-AppToken``:
        the token names its application). ``credentials=False`` skips the ticket (an operation that declares
        no Credentials). A call that passes is a use of its ticket: a sliding ticket then lives another full
        lifetime.
        """
        client_id = self._check_application(tenant, application_token) if application else None
        if not credentials:
            return 0
        associate_id = self._check_ticket(tenant, ticket, client_id)
        if token_application and client_id is None:
            self._check_token_application(tenant, ticket or "")
        self.backend.credentials.used(ticket or "", self.backend.now())
        return associate_id

    def dispatch(self, request: Request, tenant: Tenant, service: str, name: str, params: dict[str, Any],
                 associate_id: int, application_token: str | None, *, onsite: bool = False) -> dict[str, Any]:
        """Run the handler of ``service.name`` (hand-written, else generic) on ``params`` (plain values as
        :func:`soap.deserialize_body` reads them); its body values by part name, or :class:`AgentFailure`."""
        handler = self.handlers.handler(service, name)
        if handler is None:
            raise AgentFailure(NOT_IMPLEMENTED, f"{service}Agent.{name} is not emulated by the soapkit "
                               "sandbox: the sandbox answers it with this NotImplementedException. See "
                               "docs/sandbox.md for the operations it emulates.")
        call = AgentCall(service, name, tenant, params, self.backend, request.base_url, self.backend.now(),
                         associate_id, application_token, onsite)
        try:
            return handler(call)
        except AgentFailure:
            raise
        except Exception as error:
            log.exception("sandbox handler %s.%s failed", service, name)
            raise AgentFailure(INTERNAL_ERROR, f"{type(error).__name__}: {error}") from None

    def _check_application(self, tenant: Tenant, application_token: str | None) -> str | None:
        if not application_token:
            raise AgentFailure(APPLICATION_TOKEN_INVALID, "No ApplicationToken header: send your application's "
                               "client secret in the ApplicationToken SOAP header.")
        application = self.backend.apps.by_secret(application_token)
        if application is None:
            raise AgentFailure(APPLICATION_TOKEN_INVALID, "The ApplicationToken is not the client secret of an "
                               "application registered with this sandbox.")
        if self.backend.apps.installation(tenant.ctx, application.client_id) is None:
            raise AgentFailure(APPLICATION_TOKEN_INVALID, f"Application {application.name!r} is not installed in "
                               f"tenant {tenant.ctx}.")
        return application.client_id

    def _check_token_application(self, tenant: Tenant, token: str) -> None:
        """The application a (valid) credential was issued to is registered and installed in ``tenant``.

        Reference tokens (PAT/SAT) belong to a person or a service user, not to an application: nothing to check.
        """
        record = self.backend.credentials.lookup(token)
        if record is None or record.client_id is None:
            return
        application = self.backend.apps.get(record.client_id)
        if application is None:
            raise AgentFailure(APPLICATION_TOKEN_INVALID, f"The application this credential was issued to (client "
                               f"id {record.client_id}) is not registered with this sandbox.")
        if self.backend.apps.installation(tenant.ctx, application.client_id) is None:
            raise AgentFailure(APPLICATION_TOKEN_INVALID, f"Application {application.name!r}, which this credential "
                               f"was issued to, is not installed in tenant {tenant.ctx}.")

    def _check_ticket(self, tenant: Tenant, ticket: str | None, client_id: str | None) -> int:
        check = self.backend.credentials.check(ticket, ctx=tenant.ctx, now=self.backend.now(), client_id=client_id)
        if check.valid and check.record is not None:
            return check.record.associate_id
        exception_type, message = CREDENTIAL_FAILURES[check.verdict]
        raise AgentFailure(exception_type, message.format(
            ctx=tenant.ctx, lifetime=self.backend.settings.ticket_lifetime))

    @staticmethod
    def _failure(operation: Any, failure: AgentFailure) -> bytes:
        info = {"Message": failure.message, "FriendlyText": failure.friendly_text or failure.message,
                "ExceptionType": failure.exception_type, "Source": SOURCE}
        return soap.serialize_response(operation, {}, {"ExceptionInfo": info, "Succeeded": False})
