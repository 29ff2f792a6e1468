"""The Redis cache against a real ``redis-server`` on a free loopback port (skipped without one)."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from soapkit.credentials.base import AuthContext, Credential, IssuedCredential
from soapkit.credentials.caches import RedisCache, new_cache_key, open_cache
from soapkit.errors import CacheKeyError, CacheLockTimeout, CacheUnavailable
from soapkit.tenant import Environment

redis = pytest.importorskip("redis", reason="the redis package is not installed (pip install 'soapkit[test]')")

KEY = "soapkit|https://sod.superoffice.com|cust1|system_user|0123456789abcdef"
SECRET = "7T:super-secret-ticket-value"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway redis-server on 127.0.0.1 (``--port 0`` disables TCP, so pick a free port)."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(folder), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                client.ping()
                return process, url
            except redis.exceptions.ConnectionError:
                time.sleep(0.02)
        process.kill()
        process.wait()
    pytest.fail("redis-server did not start")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def cache(redis_url: str) -> Iterator[RedisCache]:
    redis.Redis.from_url(redis_url).flushdb()
    yield RedisCache.from_url(redis_url)


def test_round_trip_delete_and_ttl_equal_to_expiry(cache: RedisCache, redis_url: str) -> None:
    assert cache.get(KEY) is None
    cache.set(KEY, IssuedCredential(SECRET, time.time() + 120, {"ctx": "Cust1"}, "rt-secret"))
    again = cache.get(KEY)
    assert again is not None and (again.value, again.refresh_token) == (SECRET, "rt-secret")
    ttl = redis.Redis.from_url(redis_url).pttl(cache.entry_key(KEY))
    assert 118_000 < ttl <= 120_000
    cache.delete(KEY)
    assert cache.get(KEY) is None


def test_redis_forgets_the_entry_when_it_expires(cache: RedisCache) -> None:
    cache.set(KEY, IssuedCredential(SECRET, time.time() + 0.15))
    assert cache.get(KEY) is not None
    time.sleep(0.3)
    assert cache.get(KEY) is None


def test_endless_and_already_expired_values(cache: RedisCache, redis_url: str) -> None:
    cache.set(KEY, IssuedCredential(SECRET, float("inf")))
    assert redis.Redis.from_url(redis_url).pttl(cache.entry_key(KEY)) == -1  # no expiry
    assert cache.get(KEY).expires_at == float("inf")  # type: ignore[union-attr]
    cache.set(KEY, IssuedCredential(SECRET, time.time() - 1))
    assert cache.get(KEY) is None


def test_encryption_on_and_off(cache: RedisCache, redis_url: str) -> None:
    key = new_cache_key()
    encrypted = RedisCache.from_url(redis_url, encryption_key=key)
    encrypted.set(KEY, IssuedCredential(SECRET, time.time() + 60))
    raw = redis.Redis.from_url(redis_url).get(encrypted.entry_key(KEY))
    assert SECRET.encode() not in raw
    assert RedisCache.from_url(redis_url, encryption_key=key).get(KEY).value == SECRET  # type: ignore[union-attr]
    with pytest.raises(CacheKeyError):
        RedisCache.from_url(redis_url, encryption_key=new_cache_key()).get(KEY)
    cache.set(KEY, IssuedCredential(SECRET, time.time() + 60))
    assert SECRET.encode() in redis.Redis.from_url(redis_url).get(cache.entry_key(KEY))


def test_damaged_entry_is_treated_as_empty(cache: RedisCache, redis_url: str,
                                           caplog: pytest.LogCaptureFixture) -> None:
    redis.Redis.from_url(redis_url).set(cache.entry_key(KEY), b'{"format":"soapkit-credential","version":1,"cred')
    with caplog.at_level(logging.WARNING, logger="soapkit.credentials.cache"):
        assert cache.get(KEY) is None
    assert "not valid JSON" in caplog.text


def test_prefixes_keep_applications_apart(redis_url: str) -> None:
    first, second = RedisCache.from_url(redis_url, prefix="app1:"), RedisCache.from_url(redis_url, prefix="app2:")
    first.set(KEY, IssuedCredential(SECRET, time.time() + 60))
    assert second.get(KEY) is None


def test_lock_is_exclusive_expires_and_is_released_only_by_its_holder(redis_url: str) -> None:
    holder = RedisCache.from_url(redis_url, lock_ttl=0.5)
    waiter = RedisCache.from_url(redis_url, lock_timeout=0.1)
    with holder.lock(KEY), pytest.raises(CacheLockTimeout, match=r"Waited 0\.1 s"), waiter.lock(KEY):
        pass
    # A holder that outlives its lock_ttl does not delete the lock another worker took meanwhile.
    slow = RedisCache.from_url(redis_url, lock_ttl=0.1)
    with slow.lock(KEY):
        time.sleep(0.2)
        taken = RedisCache.from_url(redis_url, lock_timeout=0.5, lock_ttl=5)
        context = taken.lock(KEY)
        context.__enter__()
    assert redis.Redis.from_url(redis_url).exists(f"soapkit:lock:{KEY}") == 1
    context.__exit__(None, None, None)
    assert redis.Redis.from_url(redis_url).exists(f"soapkit:lock:{KEY}") == 0


class Exchanging(Credential):
    kind = "system_user"

    def __init__(self, cache: RedisCache) -> None:
        super().__init__(cache=cache)

    def identity(self) -> str:
        return "svc"

    def fetch(self, context: AuthContext) -> IssuedCredential:
        time.sleep(0.05)
        return IssuedCredential(f"7T:fresh-{self.fetch_count}", time.time() + 3600)


def test_workers_with_their_own_connections_fetch_once(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    # 8 "workers", each with its own credential object and Redis connection, 8 threads each.
    credentials = [Exchanging(RedisCache.from_url(redis_url)) for _ in range(8)]
    ctx = AuthContext(Environment.resolve("sod"), "Cust1", "s", None, None, None)  # type: ignore[arg-type]
    barrier = threading.Barrier(64)
    results: list[str] = []

    def call(credential: Exchanging) -> None:
        barrier.wait()
        results.append(credential.token(ctx))

    threads = [threading.Thread(target=call, args=(c,)) for c in credentials for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(c.fetch_count for c in credentials) == 1
    assert len(results) == 64 and len(set(results)) == 1


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    cache = open_cache(f"redis://:hunter2-password@127.0.0.1:{free_port()}/0")
    with pytest.raises(CacheUnavailable) as raised:
        cache.get(KEY)
    assert "cannot be reached" in str(raised.value) and "hunter2" not in str(raised.value)
    assert "***" in str(raised.value) and "hunter2" not in repr(cache)
