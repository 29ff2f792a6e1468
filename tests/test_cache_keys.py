"""Cache entries are per (environment, tenant, identity kind, identity): user and service never share one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from soapkit.credentials.base import AuthContext, Credential, IssuedCredential, MemoryCache
from soapkit.credentials.caches import FileCache
from soapkit.credentials.system_user import SystemUser
from soapkit.tenant import Environment

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def context(env: str = "sod", ctx: str = "Cust1") -> AuthContext:
    return AuthContext(Environment.resolve(env), ctx, "client-secret", None, None, None)  # type: ignore[arg-type]


class FakeSystemUser(SystemUser):
    """The real system-user provider with the exchange replaced (its cache key is what is tested)."""

    def fetch(self, context: AuthContext) -> IssuedCredential:
        return IssuedCredential(f"7T:service-ticket-{self.fetch_count}", time.time() + 3600)


class SignedInUser(Credential):
    """An interactive user's access token (the OAuth provider's shape: kind 'user', identity per person)."""

    kind = "user"

    def __init__(self, who: str, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.who = who

    def identity(self) -> str:
        return self.who

    def fetch(self, context: AuthContext) -> IssuedCredential:
        return IssuedCredential(f"8A:{context.context_identifier}.user-token-{self.who}", time.time() + 3600)


@pytest.fixture(params=["memory", "file"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryCache | FileCache:
    return MemoryCache() if request.param == "memory" else FileCache(tmp_path)


def test_hybrid_app_keeps_service_and_user_apart(cache: MemoryCache | FileCache, tmp_path: Path) -> None:
    service = FakeSystemUser("App Name-8k8Q7DmBgo", KEY, cache=cache)
    user = SignedInUser("associate-7", cache=cache)
    assert service.token(context()) == "7T:service-ticket-1"
    assert user.token(context()) == "8A:Cust1.user-token-associate-7"
    assert service.cache_key(context()) != user.cache_key(context())
    # Each reads its own entry back, and neither fetch was skipped by finding the other's value.
    assert service.token(context()) == "7T:service-ticket-1"
    assert user.token(context()) == "8A:Cust1.user-token-associate-7"
    assert (service.fetch_count, user.fetch_count) == (1, 1)
    if isinstance(cache, FileCache):
        assert len(list(tmp_path.glob("*.json"))) == 2
    else:
        assert len(cache._entries) == 2


def test_invalidating_the_user_leaves_the_service_entry(cache: MemoryCache | FileCache) -> None:
    service = FakeSystemUser("App Name-8k8Q7DmBgo", KEY, cache=cache)
    user = SignedInUser("associate-7", cache=cache)
    service.token(context())
    user.token(context())
    user.invalidate(context())
    assert user.current(context()) is None
    assert service.current(context()) is not None


def test_two_users_of_one_tenant_have_two_entries() -> None:
    cache = MemoryCache()
    alice, bob = SignedInUser("alice", cache=cache), SignedInUser("bob", cache=cache)
    assert alice.token(context()) != bob.token(context())
    assert len(cache._entries) == 2


def test_environment_and_tenant_are_part_of_the_key() -> None:
    service = FakeSystemUser("App Name-8k8Q7DmBgo", KEY)
    keys = {
        service.cache_key(context("sod", "Cust1")),
        service.cache_key(context("online", "Cust1")),
        service.cache_key(context("sod", "Cust2")),
        service.cache_key(context("http://127.0.0.1:8080", "Cust1")),
    }
    assert len(keys) == 4
    # stage is an alias of qaonline, and tenants are case-insensitive: same entry
    assert service.cache_key(context("stage")) == service.cache_key(context("qaonline"))
    assert service.cache_key(context(ctx="cust1")) == service.cache_key(context(ctx="Cust1"))


def test_keys_name_no_secret() -> None:
    token = "App Name-8k8Q7DmBgo"
    key = FakeSystemUser(token, KEY).cache_key(context())
    assert token not in key and "8k8Q7DmBgo" not in key
    assert key.split("|")[3] == "system_user"
