"""Refresh: proactive before expiry, single flight, fallback to the still-valid value, invalidation.

A fake provider counts its exchanges; an injected clock moves time, so nothing here sleeps for real
except where threads must overlap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from soapkit.credentials.base import AuthContext, Credential, IssuedCredential, MemoryCache, StaticToken
from soapkit.errors import AuthenticationFailed, CacheLockTimeout, CredentialRejected
from soapkit.tenant import Environment


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Exchanging(Credential):
    """Stands in for the system-user exchange: each fetch returns a new ticket living ``lifetime`` s."""

    kind = "system_user"

    def __init__(self, clock: Clock, *, lifetime: float = 3600.0, delay: float = 0.0, **options: object) -> None:
        super().__init__(clock=clock, **options)  # type: ignore[arg-type]
        self.lifetime = lifetime
        self.delay = delay
        self.failing = False

    def identity(self) -> str:
        return "service"

    def fetch(self, context: AuthContext) -> IssuedCredential:
        time.sleep(self.delay)
        if self.failing:
            raise AuthenticationFailed("PartnerSystemUserService is down (7T:must-not-leak)")
        return IssuedCredential(f"7T:ticket-{self.fetch_count}", self._clock() + self.lifetime)


def context(ctx: str = "Cust1") -> AuthContext:
    return AuthContext(Environment.resolve("sod"), ctx, "client-secret", None, None, None)  # type: ignore[arg-type]


# --- proactive refresh and the margin --------------------------------------------------------------


def test_cached_until_the_margin_then_refreshed_proactively() -> None:
    clock = Clock()
    credential = Exchanging(clock, lifetime=3600, refresh_margin=300)
    assert credential.token(context()) == "7T:ticket-1"
    clock.now += 3299  # 301 s left: outside the margin
    assert credential.token(context()) == "7T:ticket-1"
    assert credential.fetch_count == 1
    clock.now += 2  # 299 s left: inside the margin, refreshed before it expires
    assert credential.token(context()) == "7T:ticket-2"
    assert credential.fetch_count == 2


@pytest.mark.parametrize("margin", [0.0, 60.0, 900.0])
def test_margin_is_configurable(margin: float) -> None:
    clock = Clock()
    credential = Exchanging(clock, lifetime=1000, refresh_margin=margin)
    credential.token(context())
    clock.now += 1000 - margin - 1
    credential.token(context())
    assert credential.fetch_count == 1
    clock.now += 2
    credential.token(context())
    assert credential.fetch_count == 2


def test_entry_from_a_machine_whose_clock_runs_ahead_is_judged_by_our_clock() -> None:
    # A fleet shares one cache; another worker's clock is 10 minutes ahead and stored an entry that by
    # its clock has 20 minutes left. By ours it has 30: used as is. One whose expiry is already behind
    # our clock (a worker running late wrote it) is never served.
    clock, cache = Clock(), MemoryCache()
    credential = Exchanging(clock, cache=cache, refresh_margin=300)
    key = credential.cache_key(context())
    cache.set(key, IssuedCredential("7T:from-skewed-worker", clock.now + 1800))
    assert credential.token(context()) == "7T:from-skewed-worker"
    cache.set(key, IssuedCredential("7T:already-expired", clock.now - 1))
    assert credential.token(context()) == "7T:ticket-1"


# --- single flight -----------------------------------------------------------------------------------


def _together(count: int, work: object) -> list[object]:
    """Run ``work()`` in ``count`` threads released at the same moment; return the results."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            value = work()  # type: ignore[operator]
        except BaseException as error:
            errors.append(error)
            return
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


def test_64_threads_asking_at_once_cause_one_exchange() -> None:
    credential = Exchanging(Clock(), delay=0.05)
    results = _together(64, lambda: credential.token(context()))
    assert credential.fetch_count == 1
    assert set(results) == {"7T:ticket-1"}
    assert len(results) == 64


def test_64_threads_refreshing_an_entry_inside_the_margin_cause_one_exchange() -> None:
    clock = Clock()
    credential = Exchanging(clock, delay=0.05, refresh_margin=300)
    credential.token(context())
    clock.now += 3400
    results = _together(64, lambda: credential.token(context()))
    assert credential.fetch_count == 2
    assert set(results) == {"7T:ticket-2"}


def test_one_slow_tenant_does_not_hold_up_another() -> None:
    # Single flight is per cache key, not per credential object: a hung exchange for one tenant must
    # not stall the other tenants served by the same provider object.
    release = threading.Event()

    class SlowForCust1(Exchanging):
        def fetch(self, context: AuthContext) -> IssuedCredential:
            if context.context_identifier == "Cust1":
                assert release.wait(10), "Cust2 was blocked behind Cust1"
            return super().fetch(context)

    credential = SlowForCust1(Clock())
    slow = threading.Thread(target=credential.token, args=(context("Cust1"),))
    slow.start()
    time.sleep(0.05)
    other = threading.Thread(target=credential.token, args=(context("Cust2"),))
    other.start()
    other.join(2)
    blocked = other.is_alive()
    release.set()
    slow.join(10)
    other.join(10)
    assert not blocked, "Cust2 waited for Cust1's exchange"
    assert credential.fetch_count == 2


def test_two_provider_objects_sharing_a_cache_fetch_once() -> None:
    # Two clients for the same tenant in one process (say, two libraries of one app) share a cache.
    cache, clock = MemoryCache(), Clock()
    first, second = Exchanging(clock, cache=cache, delay=0.05), Exchanging(clock, cache=cache, delay=0.05)
    turns = iter(range(32))

    def either() -> str:
        return (first if next(turns) % 2 else second).token(context())

    results = _together(32, either)
    assert first.fetch_count + second.fetch_count == 1
    assert len(set(results)) == 1


# --- fallback ------------------------------------------------------------------------------------------


def test_failed_proactive_refresh_falls_back_to_the_still_valid_value(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    credential = Exchanging(clock, lifetime=3600, refresh_margin=300)
    assert credential.token(context()) == "7T:ticket-1"
    credential.failing = True
    clock.now += 3400  # inside the margin, not yet expired
    with caplog.at_level(logging.WARNING, logger="soapkit.credentials"):
        assert credential.token(context()) == "7T:ticket-1"
    assert credential.fetch_count == 2  # it did try
    assert "refreshing failed" in caplog.text
    assert "must-not-leak" not in caplog.text and "ticket-1" not in caplog.text


def test_failed_refresh_of_an_expired_value_raises() -> None:
    clock = Clock()
    credential = Exchanging(clock, lifetime=3600, refresh_margin=300)
    credential.token(context())
    credential.failing = True
    clock.now += 3601
    with pytest.raises(AuthenticationFailed):
        credential.token(context())


def test_failed_refresh_with_nothing_cached_raises() -> None:
    credential = Exchanging(Clock())
    credential.failing = True
    with pytest.raises(AuthenticationFailed):
        credential.token(context())


class BusyLockCache(MemoryCache):
    """A shared cache whose lock another process holds for too long."""

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        raise CacheLockTimeout("lock busy")
        yield  # pragma: no cover


def test_busy_cache_lock_falls_back_to_the_still_valid_value() -> None:
    clock, cache = Clock(), BusyLockCache()
    credential = Exchanging(clock, cache=cache, refresh_margin=300)
    cache.set(credential.cache_key(context()), IssuedCredential("7T:held", clock.now + 200))
    assert credential.token(context()) == "7T:held"
    assert credential.fetch_count == 0
    clock.now += 201
    with pytest.raises(CacheLockTimeout):
        credential.token(context())


# --- invalidation --------------------------------------------------------------------------------------


def test_invalidate_drops_the_value_and_the_next_call_fetches() -> None:
    credential = Exchanging(Clock())
    assert credential.token(context()) == "7T:ticket-1"
    credential.invalidate(context())
    assert credential.current(context()) is None
    assert credential.token(context()) == "7T:ticket-2"


def test_many_threads_rejected_with_the_same_ticket_cause_one_refresh() -> None:
    # 16 threads sent ticket-1 and were all told it is no longer valid. The first to invalidate drops it
    # and fetches ticket-2; the others must not drop ticket-2 in turn.
    credential = Exchanging(Clock(), delay=0.02)
    credential.token(context())

    def rejected_then_retry() -> str:
        credential.invalidate(context(), "7T:ticket-1")
        return credential.token(context())

    results = _together(16, rejected_then_retry)
    assert credential.fetch_count == 2
    assert set(results) == {"7T:ticket-2"}


def test_invalidate_defaults_to_the_value_this_thread_was_given() -> None:
    credential = Exchanging(Clock())
    assert credential.token(context()) == "7T:ticket-1"
    seen_by_other_thread: list[str] = []

    def other_thread_refreshes() -> None:
        credential.invalidate(context())
        seen_by_other_thread.append(credential.token(context()))

    thread = threading.Thread(target=other_thread_refreshes)
    thread.start()
    thread.join()
    assert seen_by_other_thread == ["7T:ticket-2"]
    credential.invalidate(context())  # this thread was given ticket-1: ticket-2 stays
    assert credential.token(context()) == "7T:ticket-2"
    assert credential.fetch_count == 2


def test_static_token_cannot_be_invalidated_into_a_new_one() -> None:
    credential = StaticToken("7T:given-by-user")
    assert credential.token(context()) == "7T:given-by-user"
    with pytest.raises(CredentialRejected) as raised:
        credential.invalidate(context())
    assert "given-by-user" not in str(raised.value)


def test_issued_credential_repr_hides_the_value() -> None:
    issued = IssuedCredential("7T:secret-ticket", 0.0, refresh_token="refresh-secret")
    assert "secret" not in repr(issued)
