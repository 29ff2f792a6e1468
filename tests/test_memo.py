"""soapkit._memo.PerObject: one value per living owner, made once even under threads, dropped with the owner."""

from __future__ import annotations

import gc
import threading
import weakref

from soapkit._memo import PerObject


class Owner:
    pass


def _ask_at_once(table: PerObject[Owner, list[Owner]], owner: Owner, threads: int) -> list[list[Owner]]:
    barrier, seen = threading.Barrier(threads), []

    def ask() -> None:
        barrier.wait()
        seen.append(table(owner))

    started = [threading.Thread(target=ask) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return seen


def test_one_value_per_owner_made_once_across_threads_and_dropped_with_it() -> None:
    made: list[int] = []
    table: PerObject[Owner, list[Owner]] = PerObject(lambda owner: made.append(1) or [])
    owner, other = Owner(), Owner()
    seen = _ask_at_once(table, owner, 16)
    assert len(made) == 1 and all(value is seen[0] for value in seen)
    assert table(other) is not table(owner) and len(table) == 2 and len(made) == 2
    gone = weakref.ref(owner)
    del owner, seen
    gc.collect()
    assert gone() is None and len(table) == 1  # the owner is held weakly and takes its value along


def test_a_service_description_is_not_kept_alive_by_its_value_codec() -> None:
    from soapkit.catalog import Catalog
    from soapkit.values.codec import codec_for

    description = Catalog(index_cache=False).describe("Contact")
    codec_for(description).inputs("GetContactEntity").bind((1,), {})
    assert codec_for(description).description is description
    gone = weakref.ref(description)
    del description
    gc.collect()
    assert gone() is None
