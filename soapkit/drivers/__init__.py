"""The two drivers that run soapkit's flows: :mod:`~soapkit.drivers.sync` (requests, threads) and
:mod:`~soapkit.drivers.aio` (httpx, asyncio).

A driver carries out the steps of a flow (:mod:`soapkit.flow`) and nothing else: it sends requests with a size cap
and a wall-clock deadline, sleeps, takes and releases locks, and hands every exchange to the recorder. What to send,
how to read the answer, which error to raise and whether to retry are decided by the flows, once for both.
"""

from __future__ import annotations

from typing import Any

from soapkit._memo import PerObject
from soapkit.credentials.base import KeyedLocks

#: The per-key thread locks of an owner (a credential), shared by every sync driver of the process.
thread_locks: PerObject[Any, KeyedLocks] = PerObject(lambda owner: KeyedLocks())


def deadline_detail(timeout: float) -> str:
    return f"the call's deadline passed; timeout={timeout:g} s per wait"
