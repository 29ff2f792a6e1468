"""The file cache: permissions, atomic writes, damaged or unreadable entries, encryption at rest, locks."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from soapkit.credentials.base import AuthContext, Credential, IssuedCredential
from soapkit.credentials.caches import FileCache, new_cache_key, open_cache
from soapkit.errors import CacheError, CacheKeyError, CacheLockTimeout, ConfigurationError
from soapkit.tenant import Environment

KEY = "soapkit|https://sod.superoffice.com|cust1|system_user|0123456789abcdef"
SECRET = "7T:super-secret-ticket-value"
REPO = Path(__file__).resolve().parent.parent


def issued(value: str = SECRET, expires_in: float = 3600.0) -> IssuedCredential:
    return IssuedCredential(value, time.time() + expires_in, {"ctx": "Cust1"}, refresh_token="rt-secret-value")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_python(code: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=60, check=check)


# --- basics and permissions --------------------------------------------------------------------------


def test_round_trip_and_delete(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "c")
    assert cache.get(KEY) is None
    cache.set(KEY, issued())
    again = cache.get(KEY)
    assert again is not None
    assert (again.value, again.claims, again.refresh_token) == (SECRET, {"ctx": "Cust1"}, "rt-secret-value")
    cache.delete(KEY)
    assert cache.get(KEY) is None
    cache.delete(KEY)  # deleting what is gone is fine


def test_endless_lifetime_survives_json(tmp_path: Path) -> None:
    cache = FileCache(tmp_path)
    cache.set(KEY, IssuedCredential(SECRET, float("inf")))
    assert cache.get(KEY).expires_at == float("inf")  # type: ignore[union-attr]


def test_folder_0700_and_entries_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        cache = FileCache(tmp_path / "new" / "credentials")
        cache.set(KEY, issued())
        with cache.lock(KEY):
            pass
    finally:
        os.umask(previous)
    assert mode(cache.directory) == 0o700
    files = list(cache.directory.iterdir())
    assert {f.suffix for f in files} == {".json", ".lock"}
    assert all(mode(f) == 0o600 for f in files)


def test_loose_existing_folder_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="soapkit.credentials.cache"):
        FileCache(folder)
    assert "accessible to other users" in caplog.text


def test_a_file_where_the_folder_should_be_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "oops").write_text("x")
    with pytest.raises(CacheError, match="oops"):
        FileCache(tmp_path / "oops")


def test_entry_names_do_not_reveal_tenant_or_identity(tmp_path: Path) -> None:
    cache = FileCache(tmp_path)
    cache.set(KEY, issued())
    (entry,) = tmp_path.glob("*.json")
    assert "cust1" not in entry.name.lower() and "0123456789abcdef" not in entry.name


# --- damaged and unreadable entries --------------------------------------------------------------------


DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: b"\x00\xff\xfe binary \x80",
    "json array": lambda data: b"[1, 2, 3]",
    "other format": lambda data: json.dumps({"format": "something-else", "value": SECRET}).encode(),
    "no value": lambda data: data.replace(SECRET.encode(), b""),
    "expiry not a number": lambda data: data.replace(b'"expires_at":', b'"expires_at":"soon","x":'),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_entry_is_logged_without_secrets_and_treated_as_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    cache = FileCache(tmp_path)
    cache.set(KEY, issued())
    path = cache.entry_path(KEY)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="soapkit.credentials.cache"):
        assert cache.get(KEY) is None
    assert str(path) in caplog.text and "Treating it as empty" in caplog.text
    assert "super-secret" not in caplog.text and "rt-secret" not in caplog.text


def test_unreadable_entry_is_logged_and_treated_as_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = FileCache(tmp_path)
    cache.set(KEY, issued())
    path = cache.entry_path(KEY)
    if os.geteuid() == 0:  # root reads a 0000 file anyway: make the read fail as it would for a user
        original = os.open

        def denied(target: object, *args: object, **kwargs: object) -> int:
            if Path(os.fspath(target)) == path:  # type: ignore[arg-type]
                raise PermissionError(13, "Permission denied")
            return original(target, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", denied)
    else:
        path.chmod(0)
    with caplog.at_level(logging.WARNING, logger="soapkit.credentials.cache"):
        assert cache.get(KEY) is None
    assert "Cannot read credential cache entry" in caplog.text and "Permission denied" in caplog.text
    cache.set(KEY, issued("7T:replacement"))  # the next fetch replaces it
    monkeypatch.undo()
    assert cache.get(KEY).value == "7T:replacement"  # type: ignore[union-attr]


class Exchanging(Credential):
    kind = "system_user"

    def identity(self) -> str:
        return "svc"

    def fetch(self, context: AuthContext) -> IssuedCredential:
        return IssuedCredential(f"7T:fresh-{self.fetch_count}", time.time() + 3600)


def test_credential_recovers_from_a_damaged_entry(tmp_path: Path) -> None:
    cache = FileCache(tmp_path)
    credential = Exchanging(cache=cache)
    ctx = AuthContext(Environment.resolve("sod"), "Cust1", "s", None, None, None)  # type: ignore[arg-type]
    assert credential.token(ctx) == "7T:fresh-1"
    cache.entry_path(credential.cache_key(ctx)).write_text("{not json")
    assert credential.token(ctx) == "7T:fresh-2"
    assert credential.token(ctx) == "7T:fresh-2"  # the entry was rewritten and is read again
    assert credential.fetch_count == 2


# --- atomic writes ---------------------------------------------------------------------------------------


def test_failed_write_leaves_the_old_entry_and_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FileCache(tmp_path)
    cache.set(KEY, issued("7T:old"))

    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(CacheError, match="No space left"):
        cache.set(KEY, issued("7T:new"))
    monkeypatch.undo()
    assert cache.get(KEY).value == "7T:old"  # type: ignore[union-attr]
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json"]


def test_process_killed_mid_write_leaves_the_old_entry_intact(tmp_path: Path) -> None:
    cache = FileCache(tmp_path)
    cache.set(KEY, issued("7T:old"))
    # A writer process dies (SIGKILL) after writing half of the new entry, before the rename.
    result = run_python(f"""
        import os, signal, time
        from soapkit.credentials.caches import FileCache
        from soapkit.credentials.base import IssuedCredential
        real_write = os.fdopen
        class Dying:
            def __init__(self, handle): self.handle = handle
            def __enter__(self): return self
            def __exit__(self, *exc): pass
            def fileno(self): return self.handle.fileno()
            def write(self, data):
                self.handle.write(data[: len(data) // 2]); self.handle.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        os.fdopen = lambda fd, mode: Dying(real_write(fd, mode))
        FileCache({str(tmp_path)!r}).set({KEY!r}, IssuedCredential("7T:new", time.time() + 60))
    """, check=False)
    assert result.returncode == -9, result.stderr
    leftovers = list(tmp_path.glob(".tmp-*"))
    assert len(leftovers) == 1  # the half-written temporary file ...
    assert cache.get(KEY).value == "7T:old"  # type: ignore[union-attr]  # ... never became the entry
    old = time.time() - 3600
    os.utime(leftovers[0], (old, old))
    FileCache(tmp_path)  # opening the cache sweeps leftovers of crashed writers
    assert not list(tmp_path.glob(".tmp-*"))


# --- encryption at rest ------------------------------------------------------------------------------------


def test_encrypted_entries_hold_no_readable_secret(tmp_path: Path) -> None:
    key = new_cache_key()
    cache = FileCache(tmp_path, encryption_key=key)
    cache.set(KEY, issued())
    raw = cache.entry_path(KEY).read_bytes()
    assert SECRET.encode() not in raw and b"rt-secret" not in raw and b"cust1" not in raw.lower()
    assert json.loads(raw)["alg"] == "A256GCM"
    assert cache.get(KEY).value == SECRET  # type: ignore[union-attr]
    assert FileCache(tmp_path, encryption_key=key).get(KEY).value == SECRET  # type: ignore[union-attr]


def test_unencrypted_entries_are_plain_json(tmp_path: Path) -> None:
    cache = FileCache(tmp_path)
    cache.set(KEY, issued())
    document = json.loads(cache.entry_path(KEY).read_bytes())
    assert document["credential"]["value"] == SECRET and document["key"] == KEY


def test_wrong_key_is_a_clear_error_without_secrets(tmp_path: Path) -> None:
    FileCache(tmp_path, encryption_key=new_cache_key()).set(KEY, issued())
    with pytest.raises(CacheKeyError) as raised:
        FileCache(tmp_path, encryption_key=new_cache_key()).get(KEY)
    assert "another key" in str(raised.value) and "SOAPKIT_CACHE_KEY" in str(raised.value)
    assert "super-secret" not in str(raised.value)


def test_encrypted_entry_without_a_key_is_a_clear_error(tmp_path: Path) -> None:
    FileCache(tmp_path, encryption_key=new_cache_key()).set(KEY, issued())
    with pytest.raises(CacheKeyError, match="no cache encryption key is configured"):
        FileCache(tmp_path).get(KEY)


def test_plain_entry_is_ignored_once_encryption_is_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    FileCache(tmp_path).set(KEY, issued())
    with caplog.at_level(logging.WARNING):
        assert FileCache(tmp_path, encryption_key=new_cache_key()).get(KEY) is None
    assert "not encrypted" in caplog.text


def test_tampered_or_moved_ciphertext_is_treated_as_damaged(tmp_path: Path) -> None:
    key = new_cache_key()
    cache = FileCache(tmp_path, encryption_key=key)
    cache.set(KEY, issued())
    path = cache.entry_path(KEY)
    document = json.loads(path.read_bytes())
    other_key = KEY.replace("cust1", "cust2")
    path.rename(cache.entry_path(other_key))  # an entry copied under another tenant's name
    assert cache.get(other_key) is None
    document["ciphertext"] = document["ciphertext"][:-8] + "AAAAAAA="
    path.write_text(json.dumps(document))
    assert cache.get(KEY) is None


@pytest.mark.parametrize("bad", ["", "short", "not base64 at all!!", "A" * 80])
def test_malformed_key_is_rejected_up_front(tmp_path: Path, bad: str) -> None:
    with pytest.raises(CacheKeyError, match="32 bytes") as raised:
        FileCache(tmp_path, encryption_key=bad)
    assert "config new-cache-key" in str(raised.value)


def test_keys_in_standard_base64_or_raw_bytes_work(tmp_path: Path) -> None:
    raw = os.urandom(32)
    import base64

    FileCache(tmp_path, encryption_key=raw).set(KEY, issued())
    assert FileCache(tmp_path, encryption_key=base64.b64encode(raw).decode()).get(KEY) is not None


# --- cross-process lock ------------------------------------------------------------------------------------


def test_lock_excludes_other_processes_and_times_out_clearly(tmp_path: Path) -> None:
    cache = FileCache(tmp_path)
    with cache.lock(KEY):
        result = run_python(f"""
            from soapkit.credentials.caches import FileCache
            from soapkit.errors import CacheLockTimeout
            try:
                with FileCache({str(tmp_path)!r}, lock_timeout=0.3).lock({KEY!r}):
                    print("acquired")
            except CacheLockTimeout as error:
                print("timeout:", error)
        """)
    assert result.stdout.startswith("timeout: Waited 0.3 s"), result.stdout + result.stderr
    with FileCache(tmp_path, lock_timeout=0.3).lock(KEY):  # released: free again
        pass


def test_lock_of_a_killed_holder_is_released(tmp_path: Path) -> None:
    result = run_python(f"""
        import os, signal
        from soapkit.credentials.caches import FileCache
        with FileCache({str(tmp_path)!r}).lock({KEY!r}):
            os.kill(os.getpid(), signal.SIGKILL)
    """, check=False)
    assert result.returncode == -9
    with FileCache(tmp_path, lock_timeout=0.5).lock(KEY):
        pass


def test_lock_excludes_threads_using_separate_cache_objects(tmp_path: Path) -> None:
    first, second = FileCache(tmp_path), FileCache(tmp_path, lock_timeout=0.2)
    with first.lock(KEY), pytest.raises(CacheLockTimeout), second.lock(KEY):
        pass


# --- open_cache --------------------------------------------------------------------------------------------


def test_open_cache_forms(tmp_path: Path) -> None:
    assert type(open_cache("memory")).__name__ == "MemoryCache"
    file_cache = open_cache(f"file:{tmp_path}/x")
    assert isinstance(file_cache, FileCache) and file_cache.directory == tmp_path / "x"
    assert isinstance(open_cache(f"file://{tmp_path}/y"), FileCache)
    with pytest.raises(ConfigurationError, match="needs a folder"):
        open_cache("file:")
    with pytest.raises(ConfigurationError, match="Unknown credential cache") as raised:
        open_cache("memcached://user:hunter2@host")
    assert "hunter2" not in str(raised.value)
    with pytest.raises(ConfigurationError, match="in memory"):
        open_cache("memory", encryption_key=new_cache_key())
