"""pytest fixtures for testing your own SuperOffice integration offline, against the soapkit sandbox.

Enable them in your ``conftest.py`` (soapkit does not register a pytest plugin on install, so installing
it never changes anyone's test runs)::

    pytest_plugins = ["soapkit.testing"]

and use them in tests::

    def test_reads_a_company(soapkit_client):
        assert soapkit_client.ContactAgent.GetContactEntity(1).Name

Fixtures:

* ``soapkit_sandbox`` (session) -- a running :class:`~soapkit.sandbox.Sandbox` on an ephemeral loopback
  port, with its data in a fresh temporary folder; stopped at the end of the session. Its ``config`` is
  the content of ``sandbox.json``; ``issue_ticket()``, ``add_tenant(...)``, ``expire_credential(...)``
  and its ``settings`` let tests arrange the situations they need.
* ``soapkit_credentials`` (session) -- :class:`SandboxCredentials`: context identifier, base URL,
  client id and secret, system-user token and the partner private key's path, as your production code
  would read them from its own configuration.
* ``soapkit_client`` (per test) -- a ready :class:`~soapkit.client.SuperOfficeClient` for the sandbox
  tenant, authenticating as the system user. The system-user ticket is shared by the session's
  clients (one exchange per session, as in production one per hour), so the fixture is cheap.
* ``soapkit_sandbox_settings`` (session) -- ``None`` by default; override it in your conftest.py to
  return a :class:`~soapkit.sandbox.SandboxSettings` (lifetimes, tolerances, clock) for the session's
  sandbox. The override must be session-scoped too (``@pytest.fixture(scope="session")``): the
  sandbox is, and pytest refuses a session fixture that needs a function one (``ScopeMismatch``).
* ``soapkit_tenant`` (per test) -- a :class:`SandboxTenant`: a fresh tenant of its own in the session's
  sandbox, with the sample data (or the seed document's data, see ``soapkit_seed``), removed after the
  test. ``connect()`` gives a client for it, ``snapshot()``/``restore(...)`` save and bring back its data,
  ``load_seed(...)`` adds records. Made by copying a template, so it costs a few milliseconds.
  ``@pytest.mark.soapkit_seed("extra.json")`` loads more seed documents into one test's tenant.
* ``soapkit_tenant_client`` (per test) -- a ready client for ``soapkit_tenant``.
* ``soapkit_seed`` (session) -- ``None`` by default; override it (session-scoped) to return the path of a
  seed JSON file, or its content as a dict, and every ``soapkit_tenant`` starts with that data (the
  format is in :mod:`soapkit.sandbox.tenant_data`).

The default tenant's data (``soapkit_client``) is session-wide: tests that create or change records see
each other's changes. Use ``soapkit_tenant`` for a test that needs a pristine tenant of its own. With
pytest-xdist each worker has its own sandbox.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

import soapkit
from soapkit.client import SuperOfficeClient
from soapkit.credentials.base import StaticToken
from soapkit.credentials.system_user import SystemUser
from soapkit.redaction import MASK
from soapkit.sandbox import Sandbox, SandboxSettings
from soapkit.sandbox.tenant_data import TenantSnapshot

__all__ = [
    "SandboxCredentials",
    "SandboxTenant",
    "soapkit_client",
    "soapkit_credentials",
    "soapkit_sandbox",
    "soapkit_sandbox_settings",
    "soapkit_seed",
    "soapkit_system_user",
    "soapkit_tenant",
    "soapkit_tenant_client",
]


@dataclass(frozen=True)
class SandboxCredentials:
    """What an integration needs to reach the sandbox tenant; secrets are left out of ``repr``."""

    context_identifier: str
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    system_user_token: str = field(repr=False)
    private_key_path: Path

    def __repr__(self) -> str:
        return (f"SandboxCredentials(context_identifier={self.context_identifier!r}, base_url={self.base_url!r}, "
                f"client_id={self.client_id!r}, client_secret={MASK!r}, system_user_token={MASK!r}, "
                f"private_key_path={str(self.private_key_path)!r})")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SandboxCredentials:
        """Read them from a sandbox's ``config`` (the content of ``sandbox.json``)."""
        return cls(
            context_identifier=str(config["context_identifier"]),
            base_url=str(config["base_url"]),
            client_id=str(config["client_id"]),
            client_secret=str(config["client_secret"]),
            system_user_token=str(config["system_user_token"]),
            private_key_path=Path(config["private_key_pem"]),
        )

    def system_user(self, **options: Any) -> SystemUser:
        """A new :class:`~soapkit.credentials.system_user.SystemUser` credential for the sandbox tenant.

        ``options`` go to ``SystemUser`` (``method="rest"``, ``token_type="Saml"``, ``cache=...``).
        """
        return SystemUser(self.system_user_token, self.private_key_path, **options)

    def connect(self, credentials: soapkit.Credential | None = None, **options: Any) -> SuperOfficeClient:
        """``soapkit.connect`` to the sandbox tenant, as the system user unless ``credentials`` are given."""
        return soapkit.connect(self.context_identifier, env=self.base_url, app_token=self.client_secret,
                               credentials=credentials or self.system_user(), **options)


@pytest.fixture(scope="session")
def soapkit_sandbox_settings() -> SandboxSettings | None:
    """Settings for the session's sandbox; ``None`` (the defaults) unless overridden in a conftest.py."""
    return None


@pytest.fixture(scope="session")
def soapkit_sandbox(tmp_path_factory: pytest.TempPathFactory,
                    soapkit_sandbox_settings: SandboxSettings | None) -> Iterator[Sandbox]:
    """A running soapkit sandbox for the test session, on an ephemeral loopback port, in a fresh folder."""
    data_dir = tmp_path_factory.mktemp("soapkit-sandbox")
    with Sandbox(data_dir, host="127.0.0.1", port=0, settings=soapkit_sandbox_settings) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def soapkit_credentials(soapkit_sandbox: Sandbox) -> SandboxCredentials:
    """The sandbox tenant's context identifier, URL, client id and secret, system-user token and key path."""
    return SandboxCredentials.from_config(soapkit_sandbox.config)


@pytest.fixture(scope="session")
def soapkit_system_user(soapkit_credentials: SandboxCredentials) -> SystemUser:
    """The session's system-user credential; its ticket is exchanged once and shared by ``soapkit_client``."""
    return soapkit_credentials.system_user()


@pytest.fixture
def soapkit_client(soapkit_credentials: SandboxCredentials,
                   soapkit_system_user: SystemUser) -> Iterator[SuperOfficeClient]:
    """A ready client for the sandbox tenant, authenticating as the system user; closed after the test."""
    client = soapkit_credentials.connect(soapkit_system_user)
    try:
        yield client
    finally:
        client.close()


# --- a tenant per test --------------------------------------------------------------------------

@dataclass
class SandboxTenant:
    """A tenant of the session's sandbox that belongs to one test.

    ``credentials`` are the tenant's own (its context identifier and system-user token, the session's
    application); ``connect()`` authenticates with a ticket the sandbox issues directly, so no exchange runs.
    """

    sandbox: Sandbox
    ctx: str
    credentials: SandboxCredentials

    @property
    def context_identifier(self) -> str:
        return self.ctx

    def ticket(self, associate_id: int = 1) -> str:
        """A fresh ``7T:`` ticket for this tenant (the system user unless another associate is named)."""
        return self.sandbox.issue_ticket(self.ctx, associate_id=associate_id)

    def connect(self, credentials: soapkit.Credential | None = None, **options: Any) -> SuperOfficeClient:
        """A client for this tenant, with a fresh system-user ticket unless ``credentials`` are given."""
        return self.credentials.connect(credentials or StaticToken(self.ticket()), **options)

    def snapshot(self) -> TenantSnapshot:
        return self.sandbox.snapshot_tenant(self.ctx)

    def restore(self, saved: TenantSnapshot) -> None:
        self.sandbox.restore_tenant(self.ctx, saved)

    def load_seed(self, source: str | Path | Mapping[str, Any]) -> dict[str, list[int]]:
        return self.sandbox.load_seed(self.ctx, source)


class _Tenants:
    """Makes the per-test tenants of one sandbox: a template tenant is built once and copied."""

    def __init__(self, sandbox: Sandbox, seed: str | Path | Mapping[str, Any] | None) -> None:
        self.sandbox = sandbox
        self._numbers = itertools.count(1)
        ctx = self._free_ctx()
        sandbox.add_tenant(ctx, install=False)
        if seed is not None:
            sandbox.load_seed(ctx, seed)
        self.template = sandbox.snapshot_tenant(ctx)
        sandbox.remove_tenant(ctx)

    def _free_ctx(self) -> str:
        while True:  # context identifiers look like Cust12345; these are out of the way of hand-picked ones
            ctx = f"Cust{9_000_000 + next(self._numbers)}"
            if self.sandbox.backend.tenants.get(ctx) is None:
                return ctx

    def new(self, base: SandboxCredentials) -> SandboxTenant:
        ctx = self._free_ctx()
        token = self.sandbox.add_tenant(ctx, install=True)
        assert token is not None
        self.sandbox.restore_tenant(ctx, self.template)
        return SandboxTenant(self.sandbox, ctx, replace(base, context_identifier=ctx, system_user_token=token))


@pytest.fixture(scope="session")
def soapkit_seed() -> str | Path | Mapping[str, Any] | None:
    """The seed document every ``soapkit_tenant`` starts with: ``None`` (the sample data) unless overridden."""
    return None


@pytest.fixture(scope="session")
def _soapkit_tenants(soapkit_sandbox: Sandbox, soapkit_seed: str | Path | Mapping[str, Any] | None) -> _Tenants:
    return _Tenants(soapkit_sandbox, soapkit_seed)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soapkit_seed(path_or_dict, ...): seed documents loaded into this test's "
                            "soapkit_tenant after it is made (paths relative to the test file)")


@pytest.fixture
def soapkit_tenant(request: pytest.FixtureRequest, _soapkit_tenants: _Tenants,
                   soapkit_credentials: SandboxCredentials) -> Iterator[SandboxTenant]:
    """A fresh tenant of this test's own in the session's sandbox; removed after the test.

    ``@pytest.mark.soapkit_seed("more.json")`` loads seed documents (paths relative to the test file, or dicts)
    into it for one test, on top of what ``soapkit_seed`` gives every tenant.
    """
    tenant = _soapkit_tenants.new(soapkit_credentials)
    try:
        for marker in reversed(list(request.node.iter_markers("soapkit_seed"))):
            for source in marker.args:
                tenant.load_seed(source if isinstance(source, Mapping) else request.path.parent / source)
        yield tenant
    finally:
        tenant.sandbox.remove_tenant(tenant.ctx)


@pytest.fixture
def soapkit_tenant_client(soapkit_tenant: SandboxTenant) -> Iterator[SuperOfficeClient]:
    """A ready client for ``soapkit_tenant``; closed after the test."""
    client = soapkit_tenant.connect()
    try:
        yield client
    finally:
        client.close()
