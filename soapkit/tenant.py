"""Environments, tenant state and routing.

An *environment* is a root host used only for sign-in and token exchange (``sod``, ``qaonline``,
``online``, or any base URL such as a local sandbox). A *tenant* (``Cust12345``) is served from a
numbered host that can change at any time; :class:`TenantDirectory` asks the state endpoint where it
lives, caches the answer until ``ValidUntil`` and forgets it when the server answers HTTP 421.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from soapkit.errors import ConfigurationError, HttpError, TenantError, TenantNotFound, TenantNotRunning
from soapkit.flow import Flow, Hold, Release, request

if TYPE_CHECKING:
    import requests

    from soapkit.debug import Recorder

ENVIRONMENTS: dict[str, str] = {
    "sod": "https://sod.superoffice.com",
    "qaonline": "https://qaonline.superoffice.com",
    "stage": "https://qaonline.superoffice.com",
    "online": "https://online.superoffice.com",
}

CONTEXT_IDENTIFIER = re.compile(r"^Cust\d+$")

# How long a state answer without ValidUntil is trusted (seconds). A choice: the docs say nothing.
DEFAULT_STATE_TTL = 300.0


class TenantState(IntEnum):
    Unknown = 0
    Provisioning = 1
    Running = 2
    Deleted = 3
    Suspended = 4
    OnlineMaintenance = 5
    OfflineMaintenance = 6
    ProvisioningFailed = 8
    Deleting = 10
    DeleteFailed = 11
    MigrationPending = 12

    @property
    def is_running(self) -> bool:
        return self in (TenantState.Running, TenantState.OnlineMaintenance)

    @classmethod
    def parse(cls, value: Any) -> TenantState:
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[str(value)]
        except KeyError:
            return cls.Unknown


@dataclass(frozen=True)
class Environment:
    """A SuperOffice Online environment: where to sign in and exchange tokens."""

    name: str
    base_url: str

    @classmethod
    def resolve(cls, env: str | Environment) -> Environment:
        """``sod``, ``qaonline`` (alias ``stage``), ``online``, a base URL such as ``http://127.0.0.1:8080``, or
        ``onsite:http://host/SuperOffice/`` (an :class:`~soapkit.onsite.Onsite`)."""
        if isinstance(env, Environment):
            return env
        key = env.strip().lower()
        if key in ENVIRONMENTS:
            return cls("qaonline" if key == "stage" else key, ENVIRONMENTS[key])
        if key.startswith(("http://", "https://")):
            return cls(env.rstrip("/"), env.rstrip("/"))
        if key.startswith("onsite:"):
            from soapkit.onsite import Onsite

            return Onsite.parse(env.strip())
        raise ConfigurationError(
            f"Unknown environment {env!r}.",
            hint="Use sod, qaonline (or stage), online, a base URL like http://127.0.0.1:8080 for a sandbox, or "
            "onsite:http://host/SuperOffice/ for an onsite NetServer.",
        )

    @property
    def issuer(self) -> str:
        """The OpenID Connect issuer of this environment (id_tokens carry it as ``iss``)."""
        return self.base_url

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/login/.well-known/jwks"

    @property
    def openid_configuration_url(self) -> str:
        return f"{self.base_url}/login/.well-known/openid-configuration"

    @property
    def partner_service_url(self) -> str:
        return f"{self.base_url}/login/services/PartnerSystemUserService.svc"

    @property
    def partner_rest_url(self) -> str:
        return f"{self.base_url}/Login/api/PartnerSystemUser/Authenticate"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/login/common/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/login/common/oauth/tokens"

    def state_url(self, context_identifier: str) -> str:
        return f"{self.base_url}/api/state/{context_identifier}"


@dataclass(frozen=True)
class TenantLocation:
    """Where a tenant lives right now, as told by the state endpoint."""

    context_identifier: str
    endpoint: str
    state: TenantState
    is_running: bool
    valid_until: dt.datetime
    api: str | None = None

    def services_url(self, version: str = "Services88") -> str:
        return f"{self.endpoint.rstrip('/')}/Remote/{version}/"

    @classmethod
    def from_json(cls, data: dict[str, Any], now: dt.datetime) -> TenantLocation:
        try:
            ctx = data["ContextIdentifier"]
            endpoint = data["Endpoint"]
        except KeyError as missing:
            raise TenantError(f"Tenant state answer lacks {missing}: {data!r}") from None
        state = TenantState.parse(data.get("State", "Unknown"))
        valid_until = _parse_instant(data.get("ValidUntil")) or now + dt.timedelta(seconds=DEFAULT_STATE_TTL)
        return cls(ctx, endpoint, state, bool(data.get("IsRunning", state.is_running)), valid_until, data.get("Api"))


def _parse_instant(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    text = text.strip().replace("Z", "+00:00")
    # .NET may send 7 fractional digits; Python accepts at most 6.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def validate_context_identifier(context_identifier: str) -> str:
    if not CONTEXT_IDENTIFIER.match(context_identifier or ""):
        raise ConfigurationError(
            f"{context_identifier!r} is not a context identifier.",
            hint="A context identifier looks like Cust12345 (the tenant id from the URL of the CRM client).",
        )
    return context_identifier


class TenantDirectory:
    """Looks tenants up at the state endpoint and caches each answer until its ``ValidUntil``.

    Thread-safe. :meth:`forget` drops an entry (called on HTTP 421) so the next call asks again.
    """

    def __init__(
        self,
        environment: Environment,
        session: requests.Session | None = None,
        *,
        timeout: float = 30.0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.environment = environment
        if session is None:
            import requests  # deferred: `soapkit --help` and `import soapkit` must not load it

            session = requests.Session()
        self._session = session
        self._timeout = timeout
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._lock = threading.Lock()
        self._cache: dict[str, TenantLocation] = {}
        self.lookups = 0
        #: where lookups are recorded when run by the synchronous driver (the client's recorder)
        self.recorder: Recorder | None = None

    def locate(self, context_identifier: str, *, require_running: bool = True) -> TenantLocation:
        """:meth:`locate_flow` run by the synchronous driver."""
        from soapkit.drivers.sync import SyncDriver

        return SyncDriver(self._session, recorder=self.recorder).run(
            self.locate_flow(context_identifier, require_running=require_running))

    def locate_flow(self, context_identifier: str, *, require_running: bool = True) -> Flow[TenantLocation]:
        """The tenant's location, from the cache until its ``ValidUntil``, else from the state endpoint (one
        lookup at a time per tenant: concurrent callers wait for it and share the answer)."""
        cached = self._usable(context_identifier)
        if cached is None:
            key = f"state|{context_identifier.lower()}"
            yield Hold(key, None, self)
            try:
                cached = self._usable(context_identifier)
                if cached is None:
                    cached = yield from self._fetch(context_identifier, self._clock())
                    with self._lock:
                        self._cache[context_identifier] = cached
            except Exception:
                yield Release(key, self)
                raise
            yield Release(key, self)
        if require_running and not cached.is_running:
            raise TenantNotRunning(context_identifier, cached.state.name)
        return cached

    def _usable(self, context_identifier: str) -> TenantLocation | None:
        with self._lock:
            cached = self._cache.get(context_identifier)
        return cached if cached is not None and cached.valid_until > self._clock() else None

    def forget(self, context_identifier: str) -> None:
        with self._lock:
            self._cache.pop(context_identifier, None)

    def _fetch(self, context_identifier: str, now: dt.datetime) -> Flow[TenantLocation]:
        from soapkit.http import json_object

        with self._lock:
            self.lookups += 1
        url = self.environment.state_url(context_identifier)
        response = yield from request("GET", url, purpose="state", timeout=self._timeout)
        if response.status_code == 404:
            raise TenantNotFound(f"Tenant {context_identifier} is unknown to {self.environment.base_url}.")
        if response.status_code != 200:
            raise HttpError(
                response.status_code,
                f"Tenant state lookup for {context_identifier} failed with HTTP {response.status_code}.",
                body=response.text,
            )
        data = json_object(response)
        if data is None:
            raise TenantError(f"Tenant state answer from {url} is not JSON (or not a JSON object).",
                              hint="Check the environment (sod, qaonline, online or the sandbox's base URL).")
        if not data.get("Endpoint"):
            raise TenantNotFound(f"Tenant {context_identifier} is unknown to {self.environment.base_url}.")
        try:
            location = TenantLocation.from_json(data, now)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise TenantError(f"Tenant state answer from {url} is malformed.",
                              hint="Check the environment (sod, qaonline, online or the sandbox's base URL).") from None
        if not isinstance(location.context_identifier, str) or not isinstance(location.endpoint, str):
            raise TenantError(f"Tenant state answer from {url} is malformed (ContextIdentifier, Endpoint).",
                              hint="Check the environment (sod, qaonline, online or the sandbox's base URL).")
        if location.context_identifier.lower() != context_identifier.lower():
            raise TenantError(f"State endpoint answered for {location.context_identifier}, not {context_identifier}.")
        return location
