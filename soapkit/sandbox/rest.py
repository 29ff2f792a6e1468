"""The REST Agents API ``POST /{ctx}/api/v1/Agents/{Agent}/{Operation}``, served by the SOAP agents' handlers.

SuperOffice's mapping, derived from the WSDL for every operation (no per-operation code):

* no parameters -> no body;
* exactly one primitive parameter -> a camelCase query parameter (``?contactEntityId=5``);
* one array or one complex parameter -> that value is the JSON body;
* two or more parameters -> one JSON object whose properties are the SOAP element names (PascalCase;
  matched case-insensitively, as the SOAP side's codec does).

Values are checked by the same codec the client uses (:mod:`soapkit.values`), written into the operation's
SOAP request and read back exactly as the SOAP endpoint reads a body, so a handler sees the same parameters
either way. The answer is the operation's ``Response`` as JSON with the WSDL's names (:func:`soapkit.plain`:
dates ISO 8601, bytes base64).

Credentials: ``Authorization: SOTicket 7T:...`` plus ``SO-AppToken: <client secret>``, or
``Authorization: Bearer 8A:...`` (``SO-AppToken`` optional; checked when sent), verified by
:meth:`AgentService.authenticate`, the SOAP endpoint's own check. Errors are JSON
``{"Error": true, "ErrorType": ..., "Message": ..., "ErrorSource": "SoapKit.Sandbox"}`` (plus ``Parameter``
when one is at fault): 400 bad body or parameter, 401 credentials or application token, 404 unknown tenant,
agent or operation and SOAP-only operations, 500 a handler's failure (its ExceptionType), 501 an operation
the sandbox does not emulate, 503 a tenant that is not running.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from lxml import etree
from zeep.xsd import ComplexType

from soapkit.catalog import PARTNER_SERVICE, ServiceDescription
from soapkit.errors import InvalidValue
from soapkit.sandbox import soap
from soapkit.sandbox.agents.registry import AgentFailure
from soapkit.sandbox.agents.service import CREDENTIALS_INVALID, NOT_IMPLEMENTED, SOURCE, AgentService
from soapkit.sandbox.regional import Regional, RegionalHeaderError
from soapkit.sandbox.web import BadJson, Request, Response, parse_json
from soapkit.values.codec import OperationInputs, codec_for
from soapkit.values.empty_strings import mark_body
from soapkit.values.inputs import InputOptions
from soapkit.values.outputs import plain, shape
from soapkit.values.schema import is_many

PATH = r"/(?P<ctx>[^/]+)/api/v1/Agents/(?P<agent>[^/]+)/(?P<operation>[^/]+)"
#: the onsite installation's REST Agents API (registered before :data:`PATH`, which would read "onsite" as a tenant)
ONSITE_PATH = r"/onsite/api/v1/Agents/(?P<agent>[^/]+)/(?P<operation>[^/]+)"

#: Agents the REST API does not offer (SuperOffice: streams, BlobManager, FileManager, Messaging, SoPrincipal).
SOAP_ONLY_AGENTS = frozenset({"BlobManager", "FileManager", "Messaging", "SoPrincipal"})
SOAP_ONLY_SUFFIXES = ("AsStream", "FromStream")

BAD_REQUEST = "BadRequestException"
UNKNOWN_AGENT = "UnknownAgentException"
UNKNOWN_OPERATION = "UnknownOperationException"
SOAP_ONLY = "SoapOnlyException"
TENANT_NOT_FOUND = "TenantNotFoundException"
TENANT_NOT_RUNNING = "TenantNotRunningException"
#: HTTP 421: the tenant is served from another (numbered) host
WRONG_HOST_ERROR = "WrongSubdomainException"

# JSON carries numbers, booleans and text: text is read as the parameter's type (ISO dates, base64 bytes, ...).
JSON_INPUT = InputOptions(text=True)
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def soap_only(service: str, operation: str) -> bool:
    """True for the operations SuperOffice serves over SOAP only."""
    return service in SOAP_ONLY_AGENTS or operation.endswith(SOAP_ONLY_SUFFIXES)


def camel(name: str) -> str:
    """``ContactEntityId`` -> ``contactEntityId`` (the query parameter of a single primitive parameter)."""
    return name[:1].lower() + name[1:]


@dataclass(frozen=True)
class RestMapping:
    """How one operation's parameters travel: ``none``, ``query`` (one primitive), ``body`` (one array or
    complex value) or ``object`` (two or more, by name)."""

    kind: str
    parameters: tuple[str, ...]

    @property
    def query_name(self) -> str | None:
        return camel(self.parameters[0]) if self.kind == "query" else None


def mapping_of(inputs: OperationInputs) -> RestMapping:
    names = tuple(inputs.names)
    if not names:
        return RestMapping("none", names)
    if len(names) > 1:
        return RestMapping("object", names)
    element = inputs.parameters[0][1]
    primitive = not isinstance(element.type, ComplexType) and not is_many(element)
    return RestMapping("query" if primitive else "body", names)


class RestError(Exception):
    def __init__(self, status: int, error_type: str, message: str, *, parameter: str | None = None) -> None:
        self.status, self.error_type, self.message, self.parameter = status, error_type, message, parameter
        super().__init__(message)


def error_response(status: int, error_type: str, message: str, *, parameter: str | None = None,
                   **log: Any) -> Response:
    document: dict[str, Any] = {"Error": True, "ErrorType": error_type, "Message": message, "ErrorSource": SOURCE}
    if parameter is not None:
        document["Parameter"] = parameter
    return Response.json(status, document, outcome=error_type, **log)


def _failure_status(failure: AgentFailure) -> int:
    if failure.exception_type == NOT_IMPLEMENTED:
        return 501
    return 500


class RestAgents:
    """The REST face of :class:`AgentService`: same tenants, credentials and handlers, JSON in and out."""

    def __init__(self, agents: AgentService) -> None:
        self.agents = agents
        self.backend = agents.backend

    def post(self, request: Request, ctx: str, agent: str, operation: str, *, onsite: bool = False) -> Response:
        """Answer a call; ``onsite=True`` for the onsite installation's ``/onsite/api/v1/Agents/...`` (no
        application check; ``SOTicket`` without ``SO-AppToken``, or ``Basic`` with the onsite user's password)."""
        tenant = self.backend.tenants.get(ctx)
        if tenant is None:
            return error_response(404, TENANT_NOT_FOUND, f"Tenant {ctx} does not exist in this sandbox.", ctx=ctx)
        label = f"REST {agent}.{operation}"
        try:
            if not tenant.is_running:
                raise RestError(503, TENANT_NOT_RUNNING,
                                f"Tenant {tenant.ctx} is {tenant.state.name}; it does not serve API calls.")
            described = self.describe(agent)
            name = self.operation_name(described, operation)
            label = f"REST {described.name}.{name}"
            model = described.operation(name)
            associate_id, application_token = self._authenticate(request, tenant, model, onsite=onsite)
            wanted = self.regional(request)
            params = wanted.request_values(self.parameters(request, described, name, model))
            body = self.agents.dispatch(request, tenant, described.name, name, params, associate_id,
                                        application_token, onsite=onsite)
            result = self.result(model, body, wanted)
        except RestError as error:
            return error_response(error.status, error.error_type, error.message, parameter=error.parameter,
                                  ctx=tenant.ctx, operation=label)
        except AgentFailure as failure:
            return error_response(_failure_status(failure), failure.exception_type, failure.message,
                                  ctx=tenant.ctx, operation=label)
        return Response.json(200, result, ctx=tenant.ctx, operation=label, outcome="ok")

    # --- resolving the URL -------------------------------------------------------------------------

    def describe(self, agent: str) -> ServiceDescription:
        """The agent named in the URL: ``Contact`` or ``ContactAgent``, in any case (as IIS matches paths)."""
        catalog = self.backend.catalog
        wanted = agent.lower()
        for known in catalog.services():
            if known != PARTNER_SERVICE and wanted in (known.lower(), f"{known.lower()}agent"):
                if known in SOAP_ONLY_AGENTS:
                    raise RestError(404, SOAP_ONLY, f"{known}Agent is served over SOAP only "
                                    f"(/Remote/Services88/{known}.svc); the REST Agents API does not offer it.")
                return catalog.describe(known)
        raise RestError(404, UNKNOWN_AGENT, f"No agent {agent} in this sandbox's REST Agents API.")

    @staticmethod
    def operation_name(described: ServiceDescription, operation: str) -> str:
        name = next((known for known in described.operation_names if known.lower() == operation.lower()), None)
        if name is None:
            raise RestError(404, UNKNOWN_OPERATION, f"{described.name}Agent has no operation {operation}.")
        if soap_only(described.name, name):
            raise RestError(404, SOAP_ONLY, f"{described.name}Agent.{name} is served over SOAP only "
                            f"(/Remote/Services88/{described.name}.svc); the REST Agents API does not offer it.")
        return name

    # --- credentials -------------------------------------------------------------------------------

    def _authenticate(self, request: Request, tenant: Any, model: Any, *,
                      onsite: bool = False) -> tuple[int, str | None]:
        declared = soap.declared_headers(model.input)
        scheme, _, value = (request.header("authorization") or "").strip().partition(" ")
        scheme, ticket = scheme.lower(), value.strip() or None
        application_token = (request.header("so-apptoken") or "").strip() or None
        if onsite:
            return self._authenticate_onsite(tenant, scheme, ticket, "Credentials" in declared), application_token
        if scheme not in ("", "soticket", "bearer"):
            raise RestError(401, CREDENTIALS_INVALID, f"Authorization scheme {scheme!r} is not accepted: send "
                            "'SOTicket 7T:...' with SO-AppToken, or 'Bearer 8A:...'.")
        if scheme == "soticket" and application_token is None:
            raise RestError(401, "ApplicationTokenInvalidException", "No SO-AppToken header: send your "
                            "application's client secret in SO-AppToken with an SOTicket credential.")
        bearer_alone = scheme == "bearer" and application_token is None
        try:
            # Bearer without SO-AppToken: the token names its application, which is checked all the same
            associate_id = self.agents.authenticate(
                tenant, application_token, ticket, credentials="Credentials" in declared,
                application=not bearer_alone, token_application=bearer_alone)
        except AgentFailure as failure:
            raise RestError(401, failure.exception_type, failure.message.replace(
                "the Credentials/Ticket header", "the Authorization header").replace(
                "in Credentials/Ticket", "in Authorization").replace(
                "ApplicationToken SOAP header", "SO-AppToken header")) from None
        return associate_id, application_token

    def _authenticate_onsite(self, tenant: Any, scheme: str, value: str | None, credentials: bool) -> int:
        """Onsite: ``SOTicket 7T:...`` (a ticket of ``AuthenticateUsernamePassword``) or ``Basic`` with the
        onsite user's name and password; ``SO-AppToken`` is neither needed nor checked, as onsite."""
        if scheme == "basic":
            return self._onsite_user(tenant, value)
        if scheme not in ("", "soticket", "bearer"):
            raise RestError(401, CREDENTIALS_INVALID, f"Authorization scheme {scheme!r} is not accepted here: send "
                            "'SOTicket 7T:...' or 'Basic' with the onsite user's name and password.")
        try:
            return self.agents.authenticate(tenant, None, value, credentials=credentials, application=False)
        except AgentFailure as failure:
            raise RestError(401, failure.exception_type, failure.message.replace(
                "the Credentials/Ticket header", "the Authorization header").replace(
                "in Credentials/Ticket", "in Authorization")) from None

    def _onsite_user(self, tenant: Any, value: str | None) -> int:
        backend = self.backend
        try:
            user, separator, password = base64.b64decode(value or "", validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            separator = user = password = ""
        if not separator:
            raise RestError(401, CREDENTIALS_INVALID, "Authorization: Basic must carry base64 of "
                            "'user name:password'.")
        associate = backend.associate(tenant.ctx, backend.onsite_associate_id) or {}
        known = str(associate.get("user_name") or "")
        if not (known and user.strip().lower() == known.lower() and backend.onsite_password_matches(password)):
            raise RestError(401, CREDENTIALS_INVALID, "The user name or password in Authorization: Basic is not "
                            "valid for this onsite installation.")
        return backend.onsite_associate_id

    # --- regional headers --------------------------------------------------------------------------

    @staticmethod
    def regional(request: Request) -> Regional:
        """``SO-TimeZone``, ``SO-Language`` (or ``Accept-Language``) and ``SO-Culture`` (see :mod:`.regional`)."""
        try:
            return Regional.from_headers(request.header)
        except RegionalHeaderError as error:
            raise RestError(400, BAD_REQUEST, error.message, parameter=error.header) from None

    # --- parameters and result ---------------------------------------------------------------------

    def parameters(self, request: Request, described: ServiceDescription, name: str, model: Any) -> dict[str, Any]:
        """The call's parameters, as the SOAP endpoint would read them from the same values in an envelope."""
        inputs = codec_for(described).inputs(name, JSON_INPUT)
        mapping = mapping_of(inputs)
        given: dict[str, Any] = {}
        if mapping.kind == "query":
            wanted = mapping.parameters[0].lower()
            for key, texts in request.query_params.items():
                if key.lower() == wanted and texts:
                    given[mapping.parameters[0]] = texts[-1]
        elif mapping.kind == "body":
            body = self._json(request)
            if body is not None:
                given[mapping.parameters[0]] = body
        elif mapping.kind == "object":
            body = self._json(request)
            if body is not None and not isinstance(body, dict):
                raise RestError(400, BAD_REQUEST, f"{described.name}Agent.{name} takes "
                                f"{', '.join(mapping.parameters)}: send them as one JSON object.")
            given = dict(body or {})
        try:
            values = inputs.bind((), given)
        except InvalidValue as error:
            parameter = (error.path or "").split(".")[0].split("[")[0] or None
            message = error.message + (f" {error.hint}" if error.hint and error.hint not in error.message else "")
            raise RestError(400, BAD_REQUEST, message, parameter=parameter) from None
        try:
            envelope = etree.fromstring(etree.tostring(model.input.serialize(**values).content))
            return soap.deserialize_body(model, envelope)
        except soap.SoapRequestError as error:
            raise RestError(400, BAD_REQUEST, error.message) from None
        except (TypeError, ValueError) as error:  # zeep refusing a value the codec let through
            raise RestError(400, BAD_REQUEST, f"The parameters do not match the contract: {error}") from None

    @staticmethod
    def _json(request: Request) -> Any:
        if not request.body.strip():
            return None
        try:
            return parse_json(request.body)
        except BadJson as error:
            raise RestError(400, BAD_REQUEST, f"Bad request body: {error}.") from None

    @staticmethod
    def result(model: Any, body: dict[str, Any], wanted: Regional | None = None) -> Any:
        """The handler's answer as the client reads it from the SOAP response (schema order, WSDL names), in
        the time zone and language the request asked for."""
        payload = soap.serialize_response(model, body, {"Succeeded": True})
        envelope = etree.fromstring(payload)
        wrapper = soap.body_element(envelope)
        response = wrapper.find("{*}Response") if wrapper is not None else None
        if response is not None and response.get(XSI_NIL) in ("true", "1"):
            return None  # zeep would read a nil carrier as one with every member None
        mark_body(envelope.find(f"{{{soap.SOAP11_ENV}}}Body"), model.output.body, model.binding.wsdl.types)
        answer = model.output.deserialize(envelope)  # read as the client reads it: "" stays "", nil is None
        read = answer.body if hasattr(answer, "body") else answer
        if read is None:
            return None
        shaped = shape(read)
        if wanted is not None:
            shaped = wanted.answer_values(shaped)
        try:
            has_response = "Response" in shaped
        except TypeError:
            has_response = False
        return plain(shaped["Response"] if has_response else shaped)
