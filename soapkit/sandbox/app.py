"""The :class:`Sandbox`: data directory, backend, routes and HTTP server put together."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives import serialization

from soapkit.catalog import Catalog, default_catalog
from soapkit.credentials.keys import private_key_to_pem
from soapkit.sandbox import admin, provision
from soapkit.sandbox import tenant_data as _tenant_data
from soapkit.sandbox.agents import AgentService
from soapkit.sandbox.backend import Backend
from soapkit.sandbox.faults import FaultInjector, Faults
from soapkit.sandbox.files import DataDir, write_private, write_public
from soapkit.sandbox.identity import Identity, openid_configuration
from soapkit.sandbox.oauth import OAuthService
from soapkit.sandbox.oauth import register_routes as register_oauth_routes
from soapkit.sandbox.partner import PartnerService
from soapkit.sandbox.rest import ONSITE_PATH as ONSITE_REST_AGENT_PATH
from soapkit.sandbox.rest import PATH as REST_AGENT_PATH
from soapkit.sandbox.rest import WRONG_HOST_ERROR, RestAgents
from soapkit.sandbox.rest import error_response as rest_error
from soapkit.sandbox.seed import NORWAY, SYSTEM_ASSOCIATE_ID
from soapkit.sandbox.server import SandboxHTTPServer
from soapkit.sandbox.settings import SandboxSettings
from soapkit.sandbox.store import Store, secret_hash
from soapkit.sandbox.tenant_data import TenantSnapshot
from soapkit.sandbox.tenants import state_document
from soapkit.sandbox.web import Handler, Request, Response, Router
from soapkit.tenant import TenantState

log = logging.getLogger(__name__)

# Expired credentials are remembered this long (answered "expired"), then forgotten ("unknown").
EXPIRED_MEMORY_DAYS = 7


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):  # noqa: S104 - mapping a wildcard bind to a reachable URL
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class Sandbox:
    """A local SuperOffice CRM Online on loopback: identity, partner service, tenant state, agents.

    ``with Sandbox(data_dir=tmp_path, port=0) as sb:`` starts it on an ephemeral port in a background
    thread; ``sb.base_url`` and ``sb.config`` (the content of ``sandbox.json``) tell clients where it is.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        reset: bool = False,
        settings: SandboxSettings | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.data = DataDir(Path(data_dir).expanduser().resolve())
        self.host = host
        self.port = port
        self.reset = reset
        self.settings = settings or SandboxSettings()
        self._catalog = catalog
        self._lock = threading.RLock()
        self._backend: Backend | None = None
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._serving = False
        self._config: dict[str, Any] = {}
        self._secrets: provision.PartnerSecrets | None = None
        self.oauth: OAuthService | None = None  # the OAuth endpoints, once open (tests configure clients there)
        # Per-sandbox fault rules (see soapkit.sandbox.faults); ``faults.seed(n)`` makes them deterministic.
        self.faults = Faults()
        # Guards the admin endpoint (soapkit.sandbox.admin); new at every start, written to sandbox.json.
        self.admin_token = secrets.token_urlsafe(32)

    # --- lifecycle -------------------------------------------------------------------------------

    def open(self) -> Sandbox:
        """Prepare the data directory and bind the port, without serving yet (idempotent)."""
        with self._lock:
            if self._server is not None:
                return self
            if self.reset:
                self.data.reset()
                self.reset = False
            self.data.create()
            backend = self._backend or self._make_backend()
            self._backend = backend
            try:
                app = FaultInjector(self._router(backend).dispatch, backend, self.faults)
                server = SandboxHTTPServer((self.host, self.port), app, self.settings, ipv6=":" in self.host)
            except OSError:  # port taken, address not local: leave nothing open behind
                backend.store.close()
                self._backend = None
                raise
            server.base_url = f"http://{_url_host(self.host)}:{server.server_address[1]}"
            self._server = server
            self._write_config()
            return self

    def start(self) -> Sandbox:
        """Serve in a background daemon thread; returns once the port accepts connections."""
        with self._lock:
            self.open()
            if self._thread is None:
                assert self._server is not None
                self._serving = True
                self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                                name="soapkit-sandbox", daemon=True)
                self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (from another thread) or KeyboardInterrupt."""
        server = self.open()._server
        assert server is not None
        self._serving = True
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving, close open connections and the database. Safe to call more than once."""
        with self._lock:
            server, thread, backend, serving = self._server, self._thread, self._backend, self._serving
            self._server, self._thread, self._backend, self._serving = None, None, None, False
        if server is not None:
            if serving:
                server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        if backend is not None:
            backend.store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # --- what clients need -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox is not started.")
        return self._server.base_url

    @property
    def config(self) -> dict[str, Any]:
        """The content of ``sandbox.json`` (base URL, tenant, client id and secret, key paths, ...)."""
        return dict(self._config)

    @property
    def config_path(self) -> Path:
        return self.data.config

    @property
    def context_identifier(self) -> str:
        return str(self._config.get("context_identifier", provision.DEFAULT_CONTEXT))

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise RuntimeError("The sandbox is not started.")
        return self._backend

    # --- administration (tests, the CLI, fault injection) ----------------------------------------

    def add_tenant(self, ctx: str, *, state: TenantState | str = TenantState.Running, install: bool = True,
                   serial: str | None = None, company_name: str | None = None) -> str | None:
        """Create tenant ``ctx`` with sample data; returns its system-user token when the app is installed."""
        backend = self.backend
        state = state if isinstance(state, TenantState) else TenantState[state]
        tenant = provision.ensure_tenant(
            backend, ctx, serial=serial or f"10{zlib.crc32(ctx.lower().encode()) % 10**8:08d}",
            company_name=company_name or f"{ctx} AS", now=backend.now(), state=state,
        )
        application = backend.apps.first()
        if not install or application is None:
            return None
        return backend.apps.install(tenant.ctx, application, SYSTEM_ASSOCIATE_ID)

    def snapshot_tenant(self, ctx: str | None = None) -> TenantSnapshot:
        """Every stored row of tenant ``ctx``'s data (companies, persons, associates, the generic entities, id
        sequences); :meth:`restore_tenant` puts it back. See :mod:`soapkit.sandbox.tenant_data`."""
        ctx = ctx or self.context_identifier
        if self.backend.tenants.get(ctx) is None:
            raise KeyError(ctx)
        return _tenant_data.snapshot(self.backend.store, ctx)

    def restore_tenant(self, ctx: str | None, saved: TenantSnapshot) -> None:
        """Tenant ``ctx``'s data made exactly ``saved`` (taken from it or from another tenant); credentials stay."""
        ctx = ctx or self.context_identifier
        if self.backend.tenants.get(ctx) is None:
            raise KeyError(ctx)
        _tenant_data.restore(self.backend.store, ctx, saved)

    def load_seed(self, ctx: str | None, source: str | Path | Mapping[str, Any]) -> dict[str, list[int]]:
        """Save a seed document's records (a JSON file's path, or its content) into tenant ``ctx``; returns the
        ids given. The format is described in :mod:`soapkit.sandbox.tenant_data`."""
        return _tenant_data.load_seed(self.backend, ctx or self.context_identifier, source)

    def remove_tenant(self, ctx: str) -> None:
        """Tenant ``ctx`` gone, with its data, installations and credentials (``/api/state`` says Unknown)."""
        _tenant_data.remove_tenant(self.backend.store, ctx)

    def set_tenant_state(self, ctx: str, state: TenantState | str) -> None:
        self.backend.tenants.set_state(ctx, state if isinstance(state, TenantState) else TenantState[state])

    def move_tenant(self, ctx: str, endpoint_host: str | None) -> str:
        """Serve tenant ``ctx`` from another host; returns its new endpoint (what ``/api/state`` answers).

        ``endpoint_host`` is ``host[:port]`` (the sandbox's port when omitted) naming this sandbox another
        way, e.g. ``localhost:{port}`` when it listens on 127.0.0.1, or a full endpoint URL; ``None`` brings
        the tenant home to ``{base_url}/{ctx}``. Agent calls on any other host then get HTTP 421.
        """
        tenant = self.backend.tenants.get(ctx)
        if tenant is None:
            raise KeyError(ctx)
        endpoint: str | None = None
        if endpoint_host:
            if "://" in endpoint_host:
                endpoint = endpoint_host.rstrip("/")
            else:
                host = endpoint_host.strip().rstrip("/")
                if not host.rsplit("]", 1)[-1].count(":"):  # no port given: the sandbox's own
                    host = f"{host}:{self.base_url.rsplit(':', 1)[-1]}"
                endpoint = f"http://{host}/{tenant.ctx}"
        self.backend.tenants.set_endpoint(tenant.ctx, endpoint)
        return endpoint or f"{self.base_url}/{tenant.ctx}"

    def issue_ticket(self, ctx: str | None = None, *, associate_id: int = SYSTEM_ASSOCIATE_ID) -> str:
        """A fresh system-user ticket, as if the partner exchange had run (for tests and demos)."""
        backend = self.backend
        application = backend.apps.first()
        return backend.credentials.issue_ticket(
            ctx or self.context_identifier, application.client_id if application else None, associate_id,
            self.settings.ticket_lifetime, backend.now(),
        )

    def expire_credential(self, value: str) -> bool:
        return self.backend.credentials.expire_now(value, self.backend.now())

    def revoke_credential(self, value: str) -> bool:
        return self.backend.credentials.revoke(value)

    def rotate_identity_key(self) -> str:
        """Sign with a new identity key from now on; the old key stays in the JWKS. Returns the new kid."""
        backend = self.backend
        backend.identity = backend.identity.rotated(backend.now())
        write_private(self.data.identity_key, private_key_to_pem(backend.identity.key))
        write_public(self.data.identity_certificate,
                     backend.identity.certificate.public_bytes(serialization.Encoding.PEM))
        return backend.identity.kid

    # --- assembly --------------------------------------------------------------------------------

    def _make_backend(self) -> Backend:
        now = self.settings.now()
        identity = Identity.load_or_create(self.data.identity_key, self.data.identity_certificate, now)
        store = Store(self.data.database)
        backend = Backend(self.settings, store, identity, self._catalog or default_catalog())
        tenant = provision.ensure_tenant(backend, provision.DEFAULT_CONTEXT, serial=provision.DEFAULT_SERIAL,
                                         company_name=provision.DEFAULT_COMPANY, now=now,
                                         default_country_id=NORWAY)
        self._secrets = provision.ensure_partner_application(backend, self.data, tenant, now)
        backend.onsite_associate_id = provision.ONSITE_ASSOCIATE_ID
        backend.onsite_password_hash = secret_hash(provision.onsite_password(self.data))
        backend.credentials.purge_expired(now - dt.timedelta(days=EXPIRED_MEMORY_DAYS))
        return backend

    def _write_config(self) -> None:
        backend, secrets = self.backend, self._secrets
        assert secrets is not None
        tenant = backend.tenants.get(provision.DEFAULT_CONTEXT)
        assert tenant is not None
        self._config = provision.sandbox_config(self.base_url, self.data, secrets, tenant, backend)
        self._config["onsite"] = provision.onsite_settings(self.base_url, self.data, backend)
        self._config["admin_url"] = f"{self.base_url}{admin.ADMIN_PATH}"
        self._config["admin_token"] = self.admin_token
        provision.write_config(self.data, self._config)

    def _router(self, backend: Backend) -> Router:
        partner, agents = PartnerService(backend), AgentService(backend)
        router = Router()
        router.add("GET", r"/", lambda request: _index(request))
        router.add("GET", r"/api/state/(?P<ctx>[^/]+)", lambda request, ctx: _state(backend, request, ctx))
        router.add("GET", r"/login/\.well-known/openid-configuration",
                   lambda request: Response.json(200, openid_configuration(request.base_url)))
        router.add("GET", r"/login/\.well-known/jwks", lambda request: Response.json(200, backend.identity.jwks()))
        router.add("POST", r"/login/services/PartnerSystemUserService\.svc", partner.soap)
        router.add("GET", r"/login/services/PartnerSystemUserService\.svc", partner.metadata)
        router.add("POST", r"/login/api/PartnerSystemUser/Authenticate", partner.rest)
        # Onsite NetServer: one installation, no tenant lookup, ApplicationToken not checked (the default tenant's
        # data). Before the tenant path, which would read "onsite" as a context identifier.
        onsite_path = r"/onsite/Remote/(?P<version>Services88)/(?P<service>[A-Za-z0-9_]+)\.svc"
        router.add("POST", onsite_path, lambda request, version, service: agents.post(
            request, provision.DEFAULT_CONTEXT, version, service, onsite=True))
        router.add("GET", onsite_path, lambda request, version, service: agents.get(
            request, provision.DEFAULT_CONTEXT, version, service))
        rest = RestAgents(agents)
        router.add("POST", ONSITE_REST_AGENT_PATH, lambda request, agent, operation: rest.post(
            request, provision.DEFAULT_CONTEXT, agent, operation, onsite=True))
        agent_path = r"/(?P<ctx>[^/]+)/Remote/(?P<version>Services88)/(?P<service>[A-Za-z0-9_]+)\.svc"
        router.add("POST", agent_path, _on_tenant_host(backend, agents.post))
        router.add("GET", agent_path, _on_tenant_host(backend, agents.get))
        router.add("POST", REST_AGENT_PATH, _on_tenant_host(backend, rest.post, wrong_host=_rest_wrong_host))
        self.oauth = register_oauth_routes(router, backend)
        admin.register_routes(router, self)
        return router


WRONG_HOST = "Wrong subdomain used to access tenant"


def _soap_wrong_host(ctx: str) -> Response:
    return Response.text(421, WRONG_HOST, ctx=ctx, outcome="wrong-host")


def _rest_wrong_host(ctx: str) -> Response:
    """The REST API's 421: its JSON error shape, with SuperOffice's text first."""
    response = rest_error(421, WRONG_HOST_ERROR, f"{WRONG_HOST}: tenant {ctx} is served from another host; look "
                          f"it up again (GET /api/state/{ctx}) and call its current Api address.", ctx=ctx)
    response.log["outcome"] = "wrong-host"
    return response


def _on_tenant_host(backend: Backend, handler: Handler,
                    wrong_host: Callable[[str], Response] = _soap_wrong_host) -> Handler:
    """HTTP 421 for a call to a tenant on another host than its endpoint's (as after a tenant move)."""
    def routed(request: Request, ctx: str, **kwargs: str) -> Response:
        tenant = backend.tenants.get(ctx)
        if tenant is not None and not tenant.serves_host(request.base_url, request.header("host")):
            return wrong_host(tenant.ctx)
        return handler(request, ctx=ctx, **kwargs)
    return routed


def _state(backend: Backend, request: Request, ctx: str) -> Response:
    tenant = backend.tenants.get(ctx)
    document = state_document(ctx, tenant, request.base_url, backend.now() + backend.settings.state_ttl)
    return Response.json(200 if tenant else 404, document, ctx=ctx, operation="state")


def _index(request: Request) -> Response:
    return Response.text(200, "soapkit sandbox: a local SuperOffice CRM Online.\n"
                         f"  state:   {request.base_url}/api/state/{{ctx}}\n"
                         f"  jwks:    {request.base_url}/login/.well-known/jwks\n"
                         f"  partner: {request.base_url}/login/services/PartnerSystemUserService.svc\n"
                         f"  agents:  {request.base_url}/{{ctx}}/Remote/Services88/{{Service}}.svc\n"
                         f"  onsite:  {request.base_url}/onsite/Remote/Services88/{{Service}}.svc\n"
                         f"  rest:    {request.base_url}/{{ctx}}/api/v1/Agents/{{Agent}}/{{Operation}}\n"
                         f"  onsite rest: {request.base_url}/onsite/api/v1/Agents/{{Agent}}/{{Operation}}")
