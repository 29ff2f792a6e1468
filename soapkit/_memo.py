"""Values made once per living object and dropped with it (a codec per service description, locks per
credential, ...): one weakly keyed, thread-safe table instead of a dictionary and a lock at every such place."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class PerObject(Generic[K, V]):
    """``table(owner)``: ``make(owner)`` the first time for each owner, the same value after that, while the owner
    lives (it is held weakly, so a dropped owner takes its value along and its id is never mistaken for a new
    one's). The value must not hold its owner strongly (that would keep the owner alive for good). ``make`` runs
    under the table's lock: keep it small, and it must not ask the same table."""

    def __init__(self, make: Callable[[K], V]) -> None:
        self._make = make
        self._values: weakref.WeakKeyDictionary[K, V] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, owner: K) -> V:
        with self._lock:
            found = self._values.get(owner)
            if found is None:
                found = self._values[owner] = self._make(owner)
            return found

    def __len__(self) -> int:
        return len(self._values)
