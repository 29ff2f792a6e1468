"""Credential caches on a shared host and a shared Redis: nothing another user or client planted is trusted.

The attacker is a second uid (``nobody``) in a forked child, so these tests need root (CI runs as root);
elsewhere they skip with the reason. The victim is this process.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from soapkit.credentials.base import AuthContext, Credential, IssuedCredential
from soapkit.credentials.caches import FileCache
from soapkit.errors import CacheError, CacheUnavailable

KEY = "soapkit|https://sod.superoffice.com|cust1|system_user|0123456789abcdef"
ATTACKER_UID = 65534
needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="a second uid needs root (setuid in a forked child); CI runs as root")


def as_attacker(action: Callable[[], None]) -> None:
    """Run ``action`` in a child process as another user; fail the test if it raised."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.setgid(ATTACKER_UID)
            os.setuid(ATTACKER_UID)
            action()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the attacker's set-up failed"


def issued(value: str = "7T:victim-ticket") -> IssuedCredential:
    return IssuedCredential(value, time.time() + 3600)


class Counting(Credential):
    kind = "system_user"

    def identity(self) -> str:
        return "victim"

    def fetch(self, context: AuthContext) -> IssuedCredential:
        return issued("7T:fresh-ticket")


@pytest.fixture
def shared() -> Iterator[Path]:
    """A world-writable, sticky folder like /tmp that the attacker can reach (pytest's tmp_path is 0700)."""
    import shutil
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="soapkit-shared-host-"))
    top.chmod(0o755)
    folder = top / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(top, ignore_errors=True)


# --- the folder ------------------------------------------------------------------------------------


@needs_root
def test_a_folder_made_by_another_user_is_refused(shared: Path) -> None:
    planted = shared / "cache"
    as_attacker(lambda: (planted.mkdir(), planted.chmod(0o777)))
    with pytest.raises(CacheError, match="belongs to another user") as raised:
        FileCache(planted)
    assert "SOAPKIT_CACHE" in (raised.value.hint or "")


@needs_root
def test_a_symlink_to_another_users_folder_is_refused(shared: Path) -> None:
    theirs = shared / "theirs"
    as_attacker(lambda: (theirs.mkdir(), theirs.chmod(0o700)))
    mine = shared / "mine"
    mine.symlink_to(theirs)
    with pytest.raises(CacheError, match="symlink"):
        FileCache(mine)


def test_an_own_folder_that_others_can_write_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(CacheError, match="Other users can write") as raised:
        FileCache(folder)
    assert "chmod 700" in (raised.value.hint or "")


# --- what is inside --------------------------------------------------------------------------------


@pytest.fixture
def planted_cache(tmp_path: Path) -> Iterator[tuple[FileCache, Path]]:
    """A private cache folder whose entry and lock paths someone has planted things at (as during a window
    in which the folder was loose): a FIFO at the entry, a symlink at the lock."""
    folder = tmp_path / "cache"
    cache = FileCache(folder)
    os.mkfifo(cache.entry_path(KEY))
    target = tmp_path / "attacker-chose-this"
    (folder / f"{cache.entry_path(KEY).stem}.lock").symlink_to(target)
    yield cache, target


@pytest.mark.timeout(10)
def test_a_fifo_at_the_entry_is_a_missing_entry_and_does_not_hang(planted_cache: tuple[FileCache, Path],
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    cache, _ = planted_cache
    with caplog.at_level(logging.WARNING, logger="soapkit.credentials.cache"):
        assert cache.get(KEY) is None
    assert "not a regular file" in caplog.text


@pytest.mark.timeout(10)
def test_a_symlink_at_the_lock_is_never_followed(planted_cache: tuple[FileCache, Path]) -> None:
    cache, target = planted_cache
    with cache.lock(KEY):
        pass
    assert not target.exists()
    lock = cache.directory / f"{cache.entry_path(KEY).stem}.lock"
    assert stat.S_ISREG(os.lstat(lock).st_mode)


@pytest.mark.timeout(10)
def test_a_folder_at_the_entry_path_does_not_fail_the_call(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = FileCache(tmp_path / "cache")
    credential = Counting(cache=cache)
    context = _context()
    entry = cache.entry_path(credential.cache_key(context))
    entry.mkdir()
    (entry / "keep").write_text("x")  # not empty: it cannot be replaced
    with caplog.at_level(logging.WARNING):
        assert credential.token(context) == "7T:fresh-ticket"
        assert credential.token(context) == "7T:fresh-ticket"
    assert "could not store" in caplog.text and "fresh-ticket" not in caplog.text


def test_an_oversized_entry_is_a_missing_entry(tmp_path: Path) -> None:
    from soapkit.credentials.caches.file import MAX_ENTRY_BYTES

    cache = FileCache(tmp_path / "cache")
    cache.set(KEY, issued())
    cache.entry_path(KEY).write_bytes(b" " * (MAX_ENTRY_BYTES + 1))
    assert cache.get(KEY) is None


@needs_root
def test_an_entry_owned_by_another_user_is_a_missing_entry(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "cache")
    cache.set(KEY, issued())
    os.chown(cache.entry_path(KEY), ATTACKER_UID, ATTACKER_UID)
    assert cache.get(KEY) is None


def _context() -> AuthContext:
    from unittest import mock

    from soapkit.tenant import Environment

    return AuthContext(Environment.resolve("sod"), "Cust1", "app-secret", mock.Mock(), mock.Mock(), mock.Mock())


# --- key files -------------------------------------------------------------------------------------


def test_a_private_key_file_readable_by_others_is_warned_about(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from soapkit.credentials.keys import load_private_key, private_key_to_pem

    path = tmp_path / "key.pem"
    path.write_text(private_key_to_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        load_private_key(path)
    assert "other users may read it" in caplog.text and "chmod 600" in caplog.text
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING):
        load_private_key(path)
    assert "other users may read it" not in caplog.text


# --- Redis -----------------------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[tuple[object, str]]:
    pytest.importorskip("redis", reason="the redis package is not installed")
    from test_cache_redis import start_redis

    process, url = start_redis(tmp_path)
    yield process, url
    process.kill()
    process.wait(10)


def test_a_redis_entry_of_the_wrong_type_is_a_missing_entry(redis_server: tuple[object, str]) -> None:
    import redis

    from soapkit.credentials.caches.redis_cache import RedisCache

    cache = RedisCache.from_url(redis_server[1])
    redis.Redis.from_url(redis_server[1]).lpush(cache.entry_key(KEY), "not", "a", "string")
    assert cache.get(KEY) is None


@pytest.mark.timeout(20)
def test_a_redis_lock_without_ttl_counts_as_expired(redis_server: tuple[object, str]) -> None:
    import redis

    from soapkit.credentials.caches.redis_cache import RedisCache

    cache = RedisCache.from_url(redis_server[1], lock_timeout=10.0)
    client = redis.Redis.from_url(redis_server[1])
    client.set(f"{cache.prefix}lock:{KEY}", "left-by-a-crashed-client")  # no PX: it would never expire
    started = time.monotonic()
    with cache.lock(KEY):
        assert client.pttl(f"{cache.prefix}lock:{KEY}") > 0
    assert time.monotonic() - started < 5


@pytest.mark.timeout(30)
def test_redis_going_away_falls_back_to_the_held_credential_once(redis_server: tuple[object, str],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from soapkit.credentials.caches.redis_cache import RedisCache

    process, url = redis_server
    cache = RedisCache.from_url(url, connect_timeout=1.0)
    credential = Counting(cache=cache)
    context = _context()
    assert credential.token(context) == "7T:fresh-ticket"
    process.kill()  # type: ignore[attr-defined]
    process.wait(10)  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING, logger="soapkit.credentials.cache"):
        assert [credential.token(context) for _ in range(3)] == ["7T:fresh-ticket"] * 3
    assert caplog.text.count("cannot be reached") == 1 and "fresh-ticket" not in caplog.text
    with pytest.raises(CacheUnavailable, match="holds no usable credential"):
        cache.get(KEY + "|someone-else")
