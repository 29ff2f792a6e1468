"""Everything a request handler needs, in one object: settings, database views, identity and WSDLs."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from soapkit.catalog import Catalog
from soapkit.sandbox.apps import Applications
from soapkit.sandbox.credentials import CredentialStore
from soapkit.sandbox.identity import Identity
from soapkit.sandbox.settings import SandboxSettings
from soapkit.sandbox.store import Store, secret_hash
from soapkit.sandbox.tenants import Tenants


@dataclass
class Backend:
    settings: SandboxSettings
    store: Store
    identity: Identity
    catalog: Catalog
    #: the onsite user (``SoPrincipalAgent.AuthenticateUsernamePassword`` on ``/onsite/...``): its associate
    #: id in the default tenant and its password's hash (None: onsite sign-in refused)
    onsite_associate_id: int = 2
    onsite_password_hash: str | None = None

    def __post_init__(self) -> None:
        self.tenants = Tenants(self.store)
        self.apps = Applications(self.store)
        self.credentials = CredentialStore(self.store)

    def onsite_password_matches(self, password: str | None) -> bool:
        expected = self.onsite_password_hash
        if not expected or not password:
            return False
        return hmac.compare_digest(expected, secret_hash(password))

    def now(self) -> dt.datetime:
        return self.settings.now()

    def associate(self, ctx: str, associate_id: int) -> dict[str, object] | None:
        return self.store.one("SELECT * FROM associate WHERE ctx = ? AND associate_id = ?", (ctx, associate_id))
