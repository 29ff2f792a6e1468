"""Tenants of the sandbox: where each one lives, its state, and the ``/api/state/{ctx}`` answer.

A tenant with no stored endpoint lives at ``{base_url}/{ctx}`` on the sandbox's own host; a stored
endpoint (for numbered hosts and tenant moves) is used as is. Agent calls are routed by the ``Host``
header: a call whose Host is not the host of the tenant's endpoint gets HTTP 421 (see :func:`serves_host`).
A tenant at home on a loopback sandbox answers on every loopback name of that port (``localhost``,
``127.0.0.1``, ``[::1]``), as IIS bound to all names does; a moved tenant only on its endpoint's host.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from soapkit.sandbox.store import Store
from soapkit.tenant import TenantState


@dataclass(frozen=True)
class Tenant:
    ctx: str
    state: TenantState
    serial: str
    company_name: str
    default_country_id: int
    stored_endpoint: str | None

    def endpoint(self, base_url: str) -> str:
        return (self.stored_endpoint or f"{base_url}/{self.ctx}").rstrip("/")

    def netserver_url(self, base_url: str, version: str = "Services88") -> str:
        return f"{self.endpoint(base_url)}/Remote/{version}/"

    def webapi_url(self, base_url: str) -> str:
        return f"{self.endpoint(base_url)}/api/"

    @property
    def is_running(self) -> bool:
        return self.state.is_running

    def serves_host(self, base_url: str, host_header: str | None) -> bool:
        """Whether a request whose ``Host`` header is ``host_header`` addresses this tenant's endpoint host.

        The alias rule: a tenant at home (no stored endpoint) is served on the sandbox's port under any of
        its loopback names when the sandbox's own host is one (``localhost`` = ``127.0.0.1`` = ``[::1]``).
        Any other name is another numbered host (``127.0.0.2``, ``sod2.localhost``) and gets HTTP 421. A
        moved tenant is served only on its endpoint's host, names compared as written, so a move to
        ``localhost:{port}`` makes ``127.0.0.1:{port}`` the wrong host. Ports are compared with the scheme's
        default filled in; a request without a Host header is taken to address the sandbox's own host.
        """
        endpoint = urlsplit(self.endpoint(base_url))
        default_port = 443 if endpoint.scheme == "https" else 80
        wanted = _host_port(endpoint.netloc, default_port)
        asked = _host_port(host_header or urlsplit(base_url).netloc, default_port)
        if wanted is None or asked is None:
            return False
        if wanted == asked:
            return True
        return (self.stored_endpoint is None and wanted[1] == asked[1]
                and wanted[0] in LOOPBACK_NAMES and asked[0] in LOOPBACK_NAMES)


# Names of the loopback host that reach a sandbox listening on it (the alias rule of Tenant.serves_host).
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _host_port(netloc: str, default_port: int) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"//{netloc.strip()}")
        return (parts.hostname or "").lower(), parts.port or default_port
    except ValueError:
        return None


def iso_z(moment: dt.datetime) -> str:
    """``2020-10-05T09:52:01.93Z``-style UTC instant (milliseconds, ``Z``)."""
    utc = moment.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class Tenants:
    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, ctx: str) -> Tenant | None:
        row = self._store.one("SELECT * FROM tenant WHERE ctx = ?", (ctx,))
        if row is None:
            return None
        return Tenant(
            row["ctx"], TenantState[row["state"]], row["serial"], row["company_name"],
            row["default_country_id"], row["endpoint"],
        )

    def all(self) -> list[Tenant]:
        rows = self._store.all("SELECT ctx FROM tenant ORDER BY ctx")
        return [t for t in (self.get(r["ctx"]) for r in rows) if t is not None]

    def add(self, ctx: str, *, serial: str, company_name: str, default_country_id: int, now: dt.datetime,
            state: TenantState = TenantState.Running, endpoint: str | None = None) -> Tenant:
        self._store.insert("tenant", {
            "ctx": ctx, "endpoint": endpoint, "state": state.name, "serial": serial,
            "company_name": company_name, "default_country_id": default_country_id,
            "created_at": now.isoformat(),
        })
        tenant = self.get(ctx)
        assert tenant is not None
        return tenant

    def set_state(self, ctx: str, state: TenantState) -> None:
        if not self._store.update("tenant", {"state": state.name}, {"ctx": ctx}):
            raise KeyError(ctx)

    def set_endpoint(self, ctx: str, endpoint: str | None) -> None:
        if not self._store.update("tenant", {"endpoint": endpoint}, {"ctx": ctx}):
            raise KeyError(ctx)


def state_document(ctx: str, tenant: Tenant | None, base_url: str, valid_until: dt.datetime) -> dict[str, Any]:
    """The JSON of ``GET /api/state/{ctx}``, in SuperOffice's field order."""
    if tenant is None:
        return {
            "ContextIdentifier": ctx, "Endpoint": None, "State": TenantState.Unknown.name,
            "IsRunning": False, "ValidUntil": iso_z(valid_until), "Api": None,
        }
    endpoint = tenant.endpoint(base_url)
    return {
        "ContextIdentifier": tenant.ctx,
        "Endpoint": endpoint,
        "State": tenant.state.name,
        "IsRunning": tenant.is_running,
        "ValidUntil": iso_z(valid_until),
        "Api": f"{endpoint}/api",
    }
