"""Lists SuperOffice asks integrations to cache (``MDOAgent.GetList``, user-defined field lists), per client.

A :class:`ListCache` keeps each answer for ``seconds`` (monotonic clock), fetching a missing or stale one
under a per-key lock so that threads asking at once cause one call. Callers get a deep copy: changing what
you were given never changes what the next caller gets.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

#: what :meth:`ListCache.peek` answers when nothing fresh is kept
_MISSING: Any = object()


class ListCache:
    """Answers by key, each kept for ``seconds`` (0: no caching)."""

    def __init__(self, seconds: float = 600.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self.fetch_count = 0

    def get(self, key: Hashable, fetch: Callable[[], Any]) -> Any:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() >= entry[0]:
                value = fetch()
                self.fetch_count += 1
                entry = (self._clock() + self.seconds, value)
                if self.seconds:
                    self._entries[key] = entry
            return copy.deepcopy(entry[1])

    def peek(self, key: Hashable) -> Any:
        """A copy of the fresh answer kept for ``key``, or :data:`_MISSING` (no fetching; the async client
        fetches with ``await`` and then stores through :meth:`get`)."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or self._clock() >= entry[0]:
            return _MISSING
        return copy.deepcopy(entry[1])

    def clear(self) -> None:
        """Forget every answer (the next call of each asks the server again)."""
        with self._lock:
            self._entries.clear()
