"""The asynchronous driver: runs the same flows with ``httpx.AsyncClient`` on an asyncio event loop.

Nothing here blocks the loop: requests are awaited, waits are ``asyncio.sleep``, a refresh's single flight
is an ``asyncio.Lock`` per credential and key, and a cache's cross-process lock (file, Redis) is taken
and released in one dedicated worker thread per hold (those locks belong to the thread that took them).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from soapkit.credentials.base import cache_lock
from soapkit.drivers import deadline_detail
from soapkit.errors import SoapkitError
from soapkit.flow import FailureKind, Flow, Headers, Hold, HttpRequest, HttpResponse, Release, Sleep, TransportFailure

if TYPE_CHECKING:
    from soapkit.debug import Recorder

T = TypeVar("T")

# owner -> event loop -> key -> lock: an asyncio.Lock belongs to one loop, and a loop that is gone takes its locks along
_LocksOfLoops = weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]]
_async_locks: weakref.WeakKeyDictionary[Any, _LocksOfLoops] = weakref.WeakKeyDictionary()


def _lock_for(owner: object, key: str) -> asyncio.Lock:
    per_loop = _async_locks.get(owner)
    if per_loop is None:
        per_loop = _async_locks[owner] = weakref.WeakKeyDictionary()
    locks = per_loop.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = asyncio.Lock()
    return lock


class _HeldLock:
    def __init__(self, release: Release, lock: asyncio.Lock, shared: AbstractContextManager[None],
                 worker: ThreadPoolExecutor) -> None:
        self.release, self.lock, self.shared, self.worker = release, lock, shared, worker

    async def let_go(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self.worker, self.shared.__exit__, None, None, None)
        finally:
            self.worker.shutdown(wait=False)
            self.lock.release()


class AsyncDriver:
    """Carries out flows' steps with ``client`` (an ``httpx.AsyncClient``), asyncio locks and the recorder."""

    def __init__(self, client: httpx.AsyncClient, *, recorder: Recorder | None = None) -> None:
        self.client = client
        self.recorder = recorder

    async def run(self, flow: Flow[T]) -> T:
        held: list[_HeldLock] = []
        try:
            step = next(flow)
            while True:
                try:
                    outcome = await self._carry_out(step, held)
                except SoapkitError as error:
                    step = flow.throw(error)
                    continue
                step = flow.send(outcome)
        except StopIteration as stop:
            return stop.value
        finally:
            flow.close()
            for hold in reversed(held):
                await hold.let_go()

    async def _carry_out(self, step: object, held: list[_HeldLock]) -> Any:
        if isinstance(step, HttpRequest):
            return await self.send(step)
        if isinstance(step, Sleep):
            if step.seconds > 0:
                await asyncio.sleep(step.seconds)
            return None
        if isinstance(step, Hold):
            lock = _lock_for(step.owner, step.key)
            await lock.acquire()
            worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soapkit-cache-lock")
            shared = cache_lock(step.cache, step.key)
            try:
                await asyncio.get_running_loop().run_in_executor(worker, shared.__enter__)
            except BaseException:
                worker.shutdown(wait=False)
                lock.release()
                raise
            held.append(_HeldLock(Release(step.key, step.owner), lock, shared, worker))
            return None
        if isinstance(step, Release):
            for index in range(len(held) - 1, -1, -1):
                if held[index].release == step:
                    await held.pop(index).let_go()
                    break
            return None
        raise TypeError(f"a flow yielded {type(step).__name__}, which is not a step")

    async def send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        started = time.perf_counter()
        outcome = await send(self.client, request)
        if self.recorder is not None:
            self.recorder.record(request.url, dict(request.headers), request.body,
                                 outcome if isinstance(outcome, HttpResponse) else None,
                                 time.perf_counter() - started, method=request.method)
        return outcome


async def send(client: httpx.AsyncClient, request: HttpRequest) -> HttpResponse | TransportFailure:
    """Send ``request`` and read its whole answer within its deadline (the whole exchange) and size cap."""
    started = time.monotonic()
    deadline = request.deadline if request.deadline is not None else started + 4 * request.timeout
    left = deadline - started
    if left <= 0:
        return TransportFailure("timeout", sent=False, detail=deadline_detail(request.timeout))
    wait = min(request.timeout, left)
    try:
        return await asyncio.wait_for(_exchange(client, request, wait, started), timeout=left)
    except asyncio.TimeoutError:
        return TransportFailure("timeout", sent=True, detail=deadline_detail(request.timeout))


async def _exchange(client: httpx.AsyncClient, request: HttpRequest, wait: float,
                    started: float) -> HttpResponse | TransportFailure:
    timeout = httpx.Timeout(wait)
    status: int | None = None
    try:
        async with client.stream(request.method, request.url, content=request.body or None,
                                 headers=dict(request.headers), timeout=timeout) as response:
            status = response.status_code
            pieces: list[bytes] = []
            size = 0
            async for piece in response.aiter_bytes():
                size += len(piece)
                if size > request.max_bytes:
                    pieces.clear()
                    return TransportFailure("too_large", sent=True, status_code=status,
                                            detail=f"the answer is larger than {request.max_bytes} bytes; soapkit "
                                            "stopped reading it")
                pieces.append(piece)
            return HttpResponse(status, Headers(response.headers.items()), b"".join(pieces), url=request.url,
                                elapsed=time.monotonic() - started)
    except httpx.ConnectTimeout:
        return TransportFailure("timeout", sent=False, detail=f"connecting took longer than {wait:.3g} s")
    except httpx.TimeoutException:
        return TransportFailure("timeout", sent=True, detail=f"no answer within {wait:.3g} s", status_code=status)
    except httpx.ConnectError as error:
        return TransportFailure("refused", sent=False, detail=type(error).__name__)
    except httpx.DecodingError:
        return TransportFailure("corrupt", sent=True, detail="the answer's content encoding is corrupt",
                                status_code=status)
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.NetworkError) as error:
        kind: FailureKind = "truncated" if status is not None else "dropped"
        return TransportFailure(kind, sent=True, detail=type(error).__name__, status_code=status)
    except httpx.TransportError as error:  # anything else on the wire (proxy, protocol, unsupported)
        return TransportFailure("dropped", sent=True, detail=type(error).__name__, status_code=status)
