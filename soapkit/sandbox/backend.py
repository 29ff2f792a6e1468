"""Everything a request handler needs, in one object: settings, database views, identity and WSDLs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from soapkit.catalog import Catalog
from soapkit.sandbox.apps import Applications
from soapkit.sandbox.credentials import CredentialStore
from soapkit.sandbox.identity import Identity
from soapkit.sandbox.settings import SandboxSettings
from soapkit.sandbox.store import Store
from soapkit.sandbox.tenants import Tenants


@dataclass
class Backend:
    settings: SandboxSettings
    store: Store
    identity: Identity
    catalog: Catalog

    def __post_init__(self) -> None:
        self.tenants = Tenants(self.store)
        self.apps = Applications(self.store)
        self.credentials = CredentialStore(self.store)

    def now(self) -> dt.datetime:
        return self.settings.now()

    def associate(self, ctx: str, associate_id: int) -> dict[str, object] | None:
        return self.store.one("SELECT * FROM associate WHERE ctx = ? AND associate_id = ?", (ctx, associate_id))
