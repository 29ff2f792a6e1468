"""Run the end-to-end tests on both drivers: the async client seen through a blocking view.

A module opts in with ``pytestmark = pytest.mark.usefixtures("driver")``: the parametrized ``driver`` fixture
(this file is a plugin of tests/conftest.py) runs each test twice; with ``"async"`` it replaces the module's
``connect`` by one that returns ``Blocking(connect_async(...))``. The view awaits whatever the async client
returns on an event loop of its own (in a thread), so the same test body checks the same behaviour through
:class:`~soapkit.client.AsyncSuperOfficeClient` and the httpx driver.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import soapkit
from soapkit.agents import AgentProxy, Operation


class EventLoopThread:
    """One asyncio event loop running in a daemon thread, for the blocking view."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, awaitable: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(_awaited(awaitable), self.loop).result(timeout=120)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


class Blocking:
    """Attribute access passes through; anything awaitable that comes back is awaited on ``loop``."""

    def __init__(self, target: Any, loop: EventLoopThread) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_loop", loop)

    def __getattr__(self, name: str) -> Any:
        return self._wrap(getattr(self._target, name))

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    def __dir__(self) -> list[str]:
        return dir(self._target)

    def __repr__(self) -> str:
        return f"Blocking({self._target!r})"

    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.run(self._target.aclose())

    def close(self) -> None:
        self._loop.run(self._target.aclose())

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, (AgentProxy, Operation)):
            return Blocking(value, self._loop)
        if hasattr(value, "__anext__"):
            return BlockingIterator(value, self._loop)
        if callable(value) and not isinstance(value, type):
            def call(*args: Any, **kwargs: Any) -> Any:
                result = value(*args, **kwargs)
                if inspect.isawaitable(result):
                    return self._loop.run(result)
                return self._wrap(result) if isinstance(result, (AgentProxy, Operation)) or \
                    hasattr(result, "__anext__") else result
            return call
        return value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self._target(*args, **kwargs)
        return self._loop.run(result) if inspect.isawaitable(result) else result


class BlockingIterator:
    """An async iterator (the async client's Archive rows) read with a plain ``for``; attributes pass through."""

    def __init__(self, target: Any, loop: EventLoopThread) -> None:
        self._target, self._loop = target, loop

    def __iter__(self) -> BlockingIterator:
        return self

    def __next__(self) -> Any:
        try:
            return self._loop.run(self._target.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def blocking_connect(loop: EventLoopThread, opened: list[Any]) -> Callable[..., Any]:
    def connect(*args: Any, **kwargs: Any) -> Any:
        client = soapkit.connect_async(*args, **kwargs)
        opened.append(client)
        return Blocking(client, loop)
    return connect


@pytest.fixture(scope="session")
def event_loop_thread() -> Iterator[EventLoopThread]:
    loop = EventLoopThread()
    yield loop
    loop.close()


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
           event_loop_thread: EventLoopThread) -> Iterator[str]:
    """Every test of a module that imports this fixture runs twice: sync client, then async client (closed after
    the test, so no connection outlives it)."""
    opened: list[Any] = []
    if request.param == "async":
        module = sys.modules[request.module.__name__]
        blocking = blocking_connect(event_loop_thread, opened)
        if getattr(module, "connect", None) is soapkit.connect:
            monkeypatch.setattr(module, "connect", blocking)  # `from soapkit import connect`
        monkeypatch.setattr(soapkit, "connect", blocking)  # helpers that call soapkit.connect(...)
    yield str(request.param)
    for client in opened:
        event_loop_thread.run(client.aclose())
