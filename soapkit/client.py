"""``soapkit.connect(...)``: one object per (environment, tenant, application, credential)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import requests

from soapkit.agents import AgentProxy
from soapkit.catalog import DEFAULT_VERSION, PARTNER_SERVICE, Catalog, default_catalog
from soapkit.credentials.base import AuthContext, Credential, StaticToken
from soapkit.credentials.jwt_validation import JwksCache
from soapkit.debug import Recorder
from soapkit.errors import ConfigurationError
from soapkit.headers import TimeZoneHeader
from soapkit.http import new_session
from soapkit.onsite import ONSITE_CONTEXT, Onsite
from soapkit.onsite import resolve as resolve_environment
from soapkit.tenant import Environment, TenantDirectory, validate_context_identifier
from soapkit.transport import SoapkitTransport
from soapkit.values.archive import ArchiveQuery, ArchiveRows, Restriction
from soapkit.values.inputs import AwareDatetimes, InputOptions
from soapkit.values.lists import ListCache

if TYPE_CHECKING:  # generated stubs (tools/build_stubs.py): so.ContactAgent.GetContactEntity(5) is typed
    from soapkit._typed_agents import MDOListItem, UserDefinedFieldInfo
    from soapkit._typed_agents import TypedAgents as _TypedAgents
else:
    _TypedAgents = object


class SuperOfficeClient(_TypedAgents):
    """Agents of one tenant: ``client.ContactAgent.GetContactEntity(5)``.

    Attribute names ending in ``Agent`` (``ContactAgent``) or naming a service (``Contact``) give an
    :class:`~soapkit.agents.AgentProxy` generated from the cached WSDL of that service.
    """

    def __init__(
        self,
        context_identifier: str | None,
        *,
        env: str | Environment,
        app_token: str | None,
        credentials: Credential,
        catalog: Catalog | None = None,
        version: str = DEFAULT_VERSION,
        timeout: float = 30.0,
        time_zone: TimeZoneHeader | None = None,
        recorder: Recorder | None = None,
        ws_addressing: bool = False,
        session: requests.Session | None = None,
        client_id: str | None = None,
        aware_datetimes: AwareDatetimes = "utc",
        list_cache_seconds: float = 600.0,
    ) -> None:
        if not isinstance(credentials, Credential):
            raise ConfigurationError(
                f"credentials must be a soapkit Credential, not {type(credentials).__name__}.",
                hint="A ticket or token string goes in ticket=, not in credentials=: connect(ctx, ticket=...)."
                if isinstance(credentials, str) else
                "Use SystemUser(token, key), PersonalAccessToken(token), OAuthUser(...), "
                "or pass a ticket string via ticket=.",
            )
        environment = resolve_environment(env)
        #: the onsite NetServer this client talks to (no tenant lookup), or None for SuperOffice Online
        self.onsite: Onsite | None = environment if isinstance(environment, Onsite) else None
        if self.onsite is not None:
            context_identifier = context_identifier or ONSITE_CONTEXT
        else:
            context_identifier = validate_context_identifier(context_identifier or "")
        self.session = session or new_session()
        self.catalog = catalog or default_catalog()
        self.version = version
        self.time_zone = time_zone
        self.ws_addressing = ws_addressing
        self.recorder = recorder
        self.credentials = credentials
        self.transport = SoapkitTransport(self.session, timeout=timeout, recorder=recorder)
        self.tenants = TenantDirectory(environment, self.session, timeout=timeout)
        self.context = AuthContext(
            environment=environment,
            context_identifier=context_identifier,
            application_token=app_token,
            session=self.session,
            jwks=JwksCache(environment.jwks_url, self.session, timeout=timeout),
            catalog=self.catalog,
            client_id=client_id,
            timeout=timeout,
            recorder=recorder,
            services_version=version,
        )
        if aware_datetimes not in ("utc", "refuse"):
            raise ConfigurationError(f"aware_datetimes must be 'utc' or 'refuse', not {aware_datetimes!r}.")
        self.input_options = InputOptions(aware_datetimes=aware_datetimes)
        self.lists = ListCache(list_cache_seconds)
        self._agents: dict[str, AgentProxy] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"SuperOfficeClient({self.context.context_identifier!r}, env={self.context.environment.name!r}, "
                f"credentials={self.credentials!r})")

    # --- what the agents need ----------------------------------------------------------------------

    def ticket(self) -> str:
        """A valid ticket or access token for this tenant (cached; refreshed when needed)."""
        return self.credentials.token(self.context)

    def services_url(self) -> str:
        """The tenant's current ``.../Remote/{version}/`` folder, from the state endpoint (onsite: from the
        base URL, without any lookup)."""
        if self.onsite is not None:
            return self.onsite.services_url(self.version)
        return self.tenants.locate(self.context.context_identifier).services_url(self.version)

    def agent(self, name: str) -> AgentProxy:
        with self._lock:
            proxy = self._agents.get(name)
            if proxy is None:
                proxy = AgentProxy(self, name)
                self._agents[proxy.name] = proxy
                self._agents[name] = proxy
            return proxy

    def agent_names(self) -> list[str]:
        """The agents this client can call (``ContactAgent``, ...): every service in the catalog for its version."""
        return [f"{name}Agent" for name in self.catalog.services(self.version) if name != PARTNER_SERVICE]

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.agent_names()})

    def __getattr__(self, name: str) -> AgentProxy:
        if name.startswith("_") or not name[:1].isupper():
            raise AttributeError(name)
        return self.agent(name)

    # --- the most used read paths -----------------------------------------------------------------

    def archive(
        self,
        provider: str,
        columns: Sequence[str],
        *,
        restrictions: Sequence[Restriction] = (),
        order: Sequence[str | tuple[str, str]] = (),
        entities: Sequence[str] = (),
        page_size: int = 1000,
        start_page: int = 0,
        progress: bool = False,
        total: int | None = None,
        culture: str | None = None,
    ) -> ArchiveRows:
        """Rows of an Archive provider as dicts of decoded values, fetched a page at a time as you iterate.

        ``restrictions`` are ``(column, operator, *values)`` tuples (``("name", "begins", "Acme")``), ``order``
        column names (``"-updatedDate"`` descending); ``start_page`` resumes an interrupted export (see
        ``rows.page``); ``progress=True`` shows a tqdm bar (``soapkit[progress]``) out of ``total`` rows when
        given; ``culture`` picks the text of culture-tagged list names. See docs/values.md.
        """
        query = ArchiveQuery(provider, columns, restrictions, order, entities, page_size, culture)
        fetch = self.agent("Archive").GetArchiveListByColumns
        return ArchiveRows(fetch, query, start_page=start_page, progress=progress, total=total)

    def mdo_list(self, name: str, *, flat: bool = True, additional_info: str = "",
                 only_history: bool = False) -> list[MDOListItem]:
        """``MDOAgent.GetList`` (``"category"``, ``"business"``, ``"udlist"``, ...), cached per client for
        ``list_cache_seconds``. The items are a list of ``MDOListItem``."""
        key = ("MDO.GetList", name.lower(), flat, additional_info, only_history)
        return self.lists.get(key, lambda: self.agent("MDO").GetList(
            Name=name, ForceFlatList=flat, AdditionalInfo=additional_info, OnlyHistory=only_history))

    def udf_info(self, prog_id: str, owner: str = "Contact") -> UserDefinedFieldInfo | None:
        """``UserDefinedFieldInfoAgent.GetUserDefinedFieldFromProgId`` (``"SuperOffice:1"``), cached."""
        key = ("UserDefinedFieldInfo.GetUserDefinedFieldFromProgId", prog_id, owner)
        return self.lists.get(key, lambda: self.agent("UserDefinedFieldInfo").GetUserDefinedFieldFromProgId(
            ProgId=prog_id, OwnerType=owner))

    def udf_list(self, prog_id: str, owner: str = "Contact") -> list[MDOListItem]:
        """The items of a list-type user-defined field: ``MDOAgent.GetList("udlist", ...)`` with the field's
        ``UDListDefinitionId`` as additional info; both answers cached."""
        info = self.udf_info(prog_id, owner)
        if info is None:
            raise ConfigurationError(
                f"{owner} has no user-defined field {prog_id!r}.",
                hint="ProgIds look like SuperOffice:1 (UserDefinedFieldInfoAgent.GetUserDefinedFieldList lists them).")
        return self.mdo_list("udlist", additional_info=str(info.UDListDefinitionId))

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SuperOfficeClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def connect(
    context_identifier: str | None = None,
    *,
    env: str | Environment = "online",
    app_token: str | None = None,
    credentials: Credential | None = None,
    ticket: str | None = None,
    wsdl_dirs: Sequence[str | os.PathLike[str]] | None = None,
    **options: Any,
) -> SuperOfficeClient:
    """Connect to a tenant. ``app_token`` is the application's client secret (``SOAPKIT_APP_TOKEN``).

    Give either ``credentials`` (a :class:`~soapkit.credentials.base.Credential` such as ``SystemUser``)
    or ``ticket`` (a ``7T:`` ticket or ``8A:`` access token obtained elsewhere).

    Onsite NetServer: ``connect(env=Onsite("http://host/SuperOffice/"), credentials=UsernamePassword(...))``
    (or ``env="onsite:http://host/SuperOffice/"``); no context identifier, no tenant lookup, ``app_token``
    optional. See docs/migrating-from-wcf.md.
    """
    if credentials is None and ticket is None:
        raise ConfigurationError("connect() needs credentials= or ticket=.",
                                 hint="For a background service: credentials=SystemUser(system_user_token, key).")
    if credentials is not None and ticket is not None:
        raise ConfigurationError("Give credentials= or ticket=, not both.")
    app_token = app_token or os.environ.get("SOAPKIT_APP_TOKEN")
    catalog = Catalog(wsdl_dirs) if wsdl_dirs else None
    return SuperOfficeClient(context_identifier, env=env, app_token=app_token,
                             credentials=credentials or StaticToken(ticket or ""), catalog=catalog, **options)
