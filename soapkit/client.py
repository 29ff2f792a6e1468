"""``soapkit.connect(...)``: one object per (environment, tenant, application, credential)."""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from soapkit.agents import AgentProxy
from soapkit.calls import MAX_RESPONSE_BYTES, CallSettings, agent_call
from soapkit.catalog import DEFAULT_VERSION, PARTNER_SERVICE, Catalog, default_catalog
from soapkit.codec import CodecMode, ResponseReader
from soapkit.codec.archive import ArchivePageReader
from soapkit.credentials.base import AuthContext, Credential, StaticToken
from soapkit.credentials.jwt_validation import JwksCache
from soapkit.drivers.sync import SyncDriver
from soapkit.errors import ConfigurationError
from soapkit.flow import Flow
from soapkit.headers import HeaderValues, TimeZoneHeader
from soapkit.http import new_session
from soapkit.onsite import ONSITE_CONTEXT, Onsite
from soapkit.onsite import resolve as resolve_environment
from soapkit.retry import RetryPolicy, policy_from
from soapkit.tenant import Environment, TenantDirectory, validate_context_identifier
from soapkit.values.archive import ArchiveQuery, ArchiveRows, AsyncArchiveRows, Restriction
from soapkit.values.inputs import AwareDatetimes, InputOptions
from soapkit.values.lists import _MISSING, ListCache

if TYPE_CHECKING:
    from soapkit.debug import Recorder

if TYPE_CHECKING:  # generated stubs (tools/build_stubs.py): so.ContactAgent.GetContactEntity(5) is typed
    from soapkit._typed_agents import AsyncTypedAgents as _AsyncTypedAgents
    from soapkit._typed_agents import MDOListItem, UserDefinedFieldInfo
    from soapkit._typed_agents import TypedAgents as _TypedAgents
else:
    _TypedAgents = _AsyncTypedAgents = object

T = TypeVar("T")


class ClientBase:
    """What the sync and the async client share: configuration, tenant, credentials, catalog, the call flow.

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
        retries: RetryPolicy | int | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        http: Any = None,
        codec: CodecMode = "compiled",
    ) -> None:
        if not isinstance(credentials, Credential):
            raise ConfigurationError(
                f"credentials must be a soapkit Credential, not {type(credentials).__name__}.",
                hint="A ticket or token string goes in ticket=, not in credentials=: connect(ctx, ticket=...)."
                if isinstance(credentials, str) else
                "Use SystemUser(token, key), PersonalAccessToken(token), OAuthUser(...), "
                "or pass a ticket string via ticket=.",
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError(f"timeout={timeout!r} must be a positive number of seconds.")
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise ConfigurationError(f"max_response_bytes={max_response_bytes!r} must be a positive whole number.")
        if codec not in ("compiled", "zeep"):
            raise ConfigurationError(f"codec={codec!r}: give 'compiled' (the default) or 'zeep'.",
                                     hint="codec='zeep' sends and reads every message through zeep (docs/codec.md).")
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
        self.timeout = float(timeout)
        self.retries = policy_from(retries)
        self.max_response_bytes = max_response_bytes
        self.tenants = TenantDirectory(environment, self.session, timeout=timeout)
        self.tenants.recorder = recorder
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
        self.call_settings = CallSettings(
            catalog=self.catalog, version=version, context=self.context, credentials=credentials,
            services_url=self.services_url_flow,
            forget_tenant=None if self.onsite is not None else self._forget_tenant,
            header_values=self.header_values, timeout=self.timeout, retries=self.retries,
            max_response_bytes=max_response_bytes, input_options=self.input_options, codec=codec,
        )
        self._agents: dict[str, AgentProxy] = {}
        self._lock = threading.Lock()
        self._init_driver(http)

    def _init_driver(self, http: Any) -> None:
        raise NotImplementedError  # each client makes its own driver

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.context.context_identifier!r}, env={self.context.environment.name!r}, "
                f"credentials={self.credentials!r})")

    # --- what the call flow needs -----------------------------------------------------------------

    def services_url_flow(self) -> Flow[str]:
        """The tenant's current ``.../Remote/{version}/`` folder, from the state endpoint (onsite: from the
        base URL, without any lookup)."""
        if self.onsite is not None:
            return self.onsite.services_url(self.version)
        location = yield from self.tenants.locate_flow(self.context.context_identifier)
        return location.services_url(self.version)

    def _forget_tenant(self) -> None:
        self.tenants.forget(self.context.context_identifier)

    def header_values(self, ticket: str) -> HeaderValues:
        """The SOAP headers of an agent request carrying ``ticket``."""
        return HeaderValues(self.context.application_token, ticket, time_zone=self.time_zone,
                            ws_addressing=self.ws_addressing, application_token_optional=self.onsite is not None)

    def call_flow(self, service: str, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
                  options: InputOptions | None = None, idempotent: bool | None = None,
                  retries: RetryPolicy | None = None, reader: ResponseReader | None = None) -> Flow[Any]:
        """The flow of one agent call (see :func:`soapkit.calls.agent_call`)."""
        return agent_call(self.call_settings, service, operation, args, kwargs, options=options,
                          idempotent=idempotent, retries=retries, reader=reader)

    def run_call(self, service: str, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
                 options: InputOptions | None = None, idempotent: bool | None = None,
                 retries: RetryPolicy | None = None) -> Any:
        raise NotImplementedError  # each client runs the flow with its driver

    def run(self, flow: Flow[Any]) -> Any:
        """Run a soapkit flow with this client's driver (the async client gives an awaitable)."""
        raise NotImplementedError

    #: what :meth:`archive` returns (the async client reads it with ``async for``)
    archive_rows: type[ArchiveRows] = ArchiveRows

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
        given; ``culture`` picks the text of culture-tagged list names. See docs/values.md. The async client's
        rows are read with ``async for``.
        """
        query = ArchiveQuery(provider, columns, restrictions, order, entities, page_size, culture)

        def fetch(**request: Any) -> Any:  # the async client's run gives an awaitable, which its rows await
            reader = ArchivePageReader(request["Page"], culture)  # rows straight from the XML when it can
            return self.run(self.call_flow("Archive", "GetArchiveListByColumns", (), request, reader=reader))

        return self.archive_rows(fetch, query, start_page=start_page, progress=progress, total=total)

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


class SuperOfficeClient(ClientBase, _TypedAgents):
    """Agents of one tenant: ``client.ContactAgent.GetContactEntity(5)`` (calls run in the calling thread)."""

    def _init_driver(self, http: Any) -> None:
        if http is not None:
            raise ConfigurationError("http= is for connect_async() (an httpx.AsyncClient).",
                                     hint="The sync client takes session= (a requests.Session).")
        self.driver = SyncDriver(self.session, recorder=self.recorder)

    def run_call(self, service: str, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
                 options: InputOptions | None = None, idempotent: bool | None = None,
                 retries: RetryPolicy | None = None) -> Any:
        return self.driver.run(self.call_flow(service, operation, args, kwargs, options=options,
                                              idempotent=idempotent, retries=retries))

    def run(self, flow: Flow[T]) -> T:
        """Run any soapkit flow with this client's driver (session, recorder)."""
        return self.driver.run(flow)

    def ticket(self) -> str:
        """A valid ticket or access token for this tenant (cached; refreshed when needed)."""
        return self.driver.run(self.credentials.issued_flow(self.context)).value

    def services_url(self) -> str:
        """The tenant's current ``.../Remote/{version}/`` folder (see :meth:`services_url_flow`)."""
        return self.driver.run(self.services_url_flow())

    def mdo_list(self, name: str, *, flat: bool = True, additional_info: str = "",
                 only_history: bool = False) -> list[MDOListItem]:
        """``MDOAgent.GetList`` (``"category"``, ``"business"``, ``"udlist"``, ...), cached per client for
        ``list_cache_seconds``. The items are a list of ``MDOListItem``."""
        key, arguments = mdo_list_call(name, flat, additional_info, only_history)
        return self.lists.get(key, lambda: self.agent("MDO").GetList(**arguments))

    def udf_info(self, prog_id: str, owner: str = "Contact") -> UserDefinedFieldInfo | None:
        """``UserDefinedFieldInfoAgent.GetUserDefinedFieldFromProgId`` (``"SuperOffice:1"``), cached."""
        key, arguments = udf_info_call(prog_id, owner)
        return self.lists.get(key, lambda: self.agent(
            "UserDefinedFieldInfo").GetUserDefinedFieldFromProgId(**arguments))

    def udf_list(self, prog_id: str, owner: str = "Contact") -> list[MDOListItem]:
        """The items of a list-type user-defined field: ``MDOAgent.GetList("udlist", ...)`` with the field's
        ``UDListDefinitionId`` as additional info; both answers cached."""
        return self.mdo_list("udlist", additional_info=udlist_of(self.udf_info(prog_id, owner), prog_id, owner))

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SuperOfficeClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncSuperOfficeClient(ClientBase, _AsyncTypedAgents):
    """The async twin: ``contact = await so.ContactAgent.GetContactEntity(5)``, on one asyncio event loop.

    Same agents, values, credentials, caches, errors, retries and recorder as :class:`SuperOfficeClient`: both
    run the same flows; only the driver differs (httpx instead of requests, asyncio locks instead of thread
    locks). Use it as ``async with soapkit.connect_async(...) as so:`` so its connections are closed.
    """

    def _init_driver(self, http: Any) -> None:
        import httpx

        if http is not None and not isinstance(http, httpx.AsyncClient):
            raise ConfigurationError(f"http= must be an httpx.AsyncClient, not {type(http).__name__}.")

        from soapkit.drivers.aio import AsyncDriver
        from soapkit.http import USER_AGENT

        self.http: httpx.AsyncClient = http or httpx.AsyncClient(headers={"User-Agent": USER_AGENT},
                                                                 limits=httpx.Limits(max_connections=100))
        self._owns_http = http is None
        self.driver = AsyncDriver(self.http, recorder=self.recorder)

    def run_call(self, service: str, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
                 options: InputOptions | None = None, idempotent: bool | None = None,
                 retries: RetryPolicy | None = None) -> Any:
        return self.driver.run(self.call_flow(service, operation, args, kwargs, options=options,
                                              idempotent=idempotent, retries=retries))

    async def run(self, flow: Flow[T]) -> T:
        """Run any soapkit flow with this client's driver."""
        return await self.driver.run(flow)

    async def ticket(self) -> str:
        """A valid ticket or access token for this tenant (cached; refreshed when needed)."""
        return (await self.driver.run(self.credentials.issued_flow(self.context))).value

    async def services_url(self) -> str:
        return await self.driver.run(self.services_url_flow())

    archive_rows = AsyncArchiveRows

    def archive(self, provider: str, columns: Sequence[str], **query: Any) -> AsyncArchiveRows:
        """:meth:`SuperOfficeClient.archive` (the same arguments), read with ``async for row in so.archive(...)``."""
        rows = super().archive(provider, columns, **query)
        assert isinstance(rows, AsyncArchiveRows)
        return rows

    async def mdo_list(self, name: str, *, flat: bool = True, additional_info: str = "",
                       only_history: bool = False) -> list[MDOListItem]:
        """``MDOAgent.GetList``, cached as :meth:`SuperOfficeClient.mdo_list` is (the same cache rules)."""
        key, arguments = mdo_list_call(name, flat, additional_info, only_history)
        return await self._cached(key, lambda: self.agent("MDO").GetList(**arguments))

    async def udf_info(self, prog_id: str, owner: str = "Contact") -> UserDefinedFieldInfo | None:
        """``UserDefinedFieldInfoAgent.GetUserDefinedFieldFromProgId``, cached."""
        key, arguments = udf_info_call(prog_id, owner)
        return await self._cached(key, lambda: self.agent(
            "UserDefinedFieldInfo").GetUserDefinedFieldFromProgId(**arguments))

    async def udf_list(self, prog_id: str, owner: str = "Contact") -> list[MDOListItem]:
        """The items of a list-type user-defined field (see :meth:`SuperOfficeClient.udf_list`)."""
        info = await self.udf_info(prog_id, owner)
        return await self.mdo_list("udlist", additional_info=udlist_of(info, prog_id, owner))

    async def _cached(self, key: tuple[Any, ...], call: Callable[[], Awaitable[Any]]) -> Any:
        found = self.lists.peek(key)
        if found is not _MISSING:
            return found
        value = await call()
        return self.lists.get(key, lambda: value)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()
        self.session.close()

    async def __aenter__(self) -> AsyncSuperOfficeClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


def mdo_list_call(name: str, flat: bool, additional_info: str,
                  only_history: bool) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The cache key and arguments of ``MDOAgent.GetList`` (both clients)."""
    return (("MDO.GetList", name.lower(), flat, additional_info, only_history),
            {"Name": name, "ForceFlatList": flat, "AdditionalInfo": additional_info, "OnlyHistory": only_history})


def udf_info_call(prog_id: str, owner: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (("UserDefinedFieldInfo.GetUserDefinedFieldFromProgId", prog_id, owner),
            {"ProgId": prog_id, "OwnerType": owner})


def udlist_of(info: Any, prog_id: str, owner: str) -> str:
    """The ``udlist`` additional info of a user-defined field (its ``UDListDefinitionId``)."""
    if info is None:
        raise ConfigurationError(
            f"{owner} has no user-defined field {prog_id!r}.",
            hint="ProgIds look like SuperOffice:1 (UserDefinedFieldInfoAgent.GetUserDefinedFieldList lists them).")
    return str(info.UDListDefinitionId)


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
    return SuperOfficeClient(context_identifier, **_client_options(env, app_token, credentials, ticket, wsdl_dirs,
                                                                   options))


def connect_async(
    context_identifier: str | None = None,
    *,
    env: str | Environment = "online",
    app_token: str | None = None,
    credentials: Credential | None = None,
    ticket: str | None = None,
    wsdl_dirs: Sequence[str | os.PathLike[str]] | None = None,
    **options: Any,
) -> AsyncSuperOfficeClient:
    """:func:`connect` for asyncio: ``async with connect_async(ctx, ...) as so: await so.ContactAgent...``.

    Takes the same arguments as :func:`connect` (plus ``http=``, an ``httpx.AsyncClient`` of your own, which
    soapkit then does not close). See docs/async.md.
    """
    return AsyncSuperOfficeClient(context_identifier, **_client_options(env, app_token, credentials, ticket,
                                                                        wsdl_dirs, options))


def _client_options(env: str | Environment, app_token: str | None, credentials: Credential | None,
                    ticket: str | None, wsdl_dirs: Sequence[str | os.PathLike[str]] | None,
                    options: dict[str, Any]) -> dict[str, Any]:
    if credentials is None and ticket is None:
        raise ConfigurationError("connect() needs credentials= or ticket=.",
                                 hint="For a background service: credentials=SystemUser(system_user_token, key).")
    if credentials is not None and ticket is not None:
        raise ConfigurationError("Give credentials= or ticket=, not both.")
    return {"env": env, "app_token": app_token or os.environ.get("SOAPKIT_APP_TOKEN"),
            "credentials": credentials or StaticToken(ticket or ""),
            "catalog": Catalog(wsdl_dirs) if wsdl_dirs else None, **options}
