"""The synchronous driver: runs flows with ``requests`` in the calling thread.

:func:`send` reads every answer in pieces as they arrive (never blocking for more than what is left of the
request's deadline or its per-wait ``timeout``), stops at ``max_bytes``, and reports anything short of a complete
answer as a :class:`~soapkit.flow.TransportFailure` for the flow to classify.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
import urllib.request
import weakref
from contextlib import AbstractContextManager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

import requests
import requests.utils
import urllib3.exceptions
import urllib3.response

from soapkit.credentials.base import cache_lock
from soapkit.drivers import deadline_detail, thread_locks
from soapkit.errors import SoapkitError
from soapkit.flow import Flow, Headers, Hold, HttpRequest, HttpResponse, Release, Sleep, TransportFailure

if TYPE_CHECKING:
    from soapkit.debug import Recorder

T = TypeVar("T")
_PIECE = 64 * 1024


class SyncDriver:
    """Carries out flows' steps: HTTP with ``session``, ``time.sleep``, thread + cache locks, the recorder."""

    def __init__(self, session: requests.Session, *, recorder: Recorder | None = None,
                 sleep: Any = time.sleep) -> None:
        self.session = session
        self.recorder = recorder
        self._sleep = sleep

    def run(self, flow: Flow[T]) -> T:
        """Run ``flow`` to its end and return its value (or raise its error); locks it holds are always released."""
        held: list[tuple[Release, list[AbstractContextManager[None]]]] = []
        try:
            step = next(flow)
            while True:
                try:
                    outcome = self._carry_out(step, held)
                except SoapkitError as error:  # a lock that cannot be taken: the flow decides
                    step = flow.throw(error)
                    continue
                step = flow.send(outcome)
        except StopIteration as stop:
            return stop.value
        finally:
            flow.close()
            for _, contexts in reversed(held):
                for context in reversed(contexts):
                    context.__exit__(None, None, None)

    def _carry_out(self, step: object, held: list[tuple[Release, list[AbstractContextManager[None]]]]) -> Any:
        if isinstance(step, HttpRequest):
            return self.send(step)
        if isinstance(step, Sleep):
            if step.seconds > 0:
                self._sleep(step.seconds)
            return None
        if isinstance(step, Hold):
            process = thread_locks(step.owner).hold(step.key)
            process.__enter__()
            contexts: list[AbstractContextManager[None]] = [process]
            try:
                shared = cache_lock(step.cache, step.key)
                shared.__enter__()
                contexts.append(shared)
            except BaseException:
                process.__exit__(None, None, None)
                raise
            held.append((Release(step.key, step.owner), contexts))
            return None
        if isinstance(step, Release):
            for index in range(len(held) - 1, -1, -1):
                if held[index][0] == step:
                    _, contexts = held.pop(index)
                    for context in reversed(contexts):
                        context.__exit__(None, None, None)
                    break
            return None
        raise TypeError(f"a flow yielded {type(step).__name__}, which is not a step")

    def send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        started = time.perf_counter()
        outcome = send(self.session, request)
        if self.recorder is not None:
            self.recorder.record(request.url, dict(request.headers), request.body,
                                 outcome if isinstance(outcome, HttpResponse) else None,
                                 time.perf_counter() - started, method=request.method)
        return outcome


def send(session: requests.Session, request: HttpRequest) -> HttpResponse | TransportFailure:
    """Send ``request`` and read its whole answer within its deadline and size cap."""
    started = time.monotonic()
    deadline = request.deadline if request.deadline is not None else started + 4 * request.timeout

    def remaining() -> float:
        return deadline - time.monotonic()

    wait = min(request.timeout, remaining())
    if wait <= 0:
        return TransportFailure("timeout", sent=False, detail=deadline_detail(request.timeout))
    try:
        response = _request(session, request, (wait, wait))
    except requests.exceptions.ConnectTimeout:
        return TransportFailure("timeout", sent=False, detail=f"connecting took longer than {wait:.3g} s")
    except requests.Timeout:
        return TransportFailure("timeout", sent=True, detail=f"no answer within {wait:.3g} s")
    except requests.exceptions.ContentDecodingError:
        return TransportFailure("corrupt", sent=True, detail="the answer's content encoding is corrupt")
    except requests.ConnectionError as error:
        return TransportFailure(*_connection_failure(error))
    try:
        return _read(response, request, deadline, started)
    finally:
        response.close()


def _request(session: requests.Session, request: HttpRequest, timeout: tuple[float, float]) -> requests.Response:
    """``session.request(...)`` streamed, as requests does it, but with the environment's proxy settings looked up
    once per origin while the environment stays the same (:func:`_environment_settings`)."""
    if not _plain_session(session):  # a subclass's request() is what its author wants called
        return session.request(request.method, request.url, data=request.body or None,
                               headers=dict(request.headers), timeout=timeout, stream=True)
    prepared = session.prepare_request(requests.Request(request.method, request.url, data=request.body or None,
                                                        headers=dict(request.headers)))
    settings = _environment_settings(session, prepared.url or request.url)
    return session.send(prepared, timeout=timeout, allow_redirects=True, **settings)


def _plain_session(session: requests.Session) -> bool:
    kind = type(session)
    return kind.request is requests.Session.request and \
        kind.merge_environment_settings is requests.Session.merge_environment_settings


SendSettings = dict[str, Any]
_Known = tuple[dict[Any, Any], SendSettings]  # the environment it was looked up in, and what requests gave
#: session -> (origin, the session's proxies, verify, cert, trust_env) -> what was found; a session that goes away
#: takes its entries with it
_settings_cache: weakref.WeakKeyDictionary[requests.Session, dict[tuple[Any, ...], _Known]] = \
    weakref.WeakKeyDictionary()
_settings_lock = threading.Lock()
_ORIGINS_PER_SESSION = 64


def _environment_settings(session: requests.Session, url: str) -> SendSettings:
    """What ``session.merge_environment_settings(url, {}, True, None, None)`` gives, which ``session.request``
    computes for every request: with ``trust_env`` it reads every environment variable twice to find the proxies
    and ``no_proxy`` (about 90 µs of a 0.7 ms call). Where the proxies come from the environment alone (Linux:
    urllib's ``getproxies`` is ``getproxies_environment``; macOS and Windows also ask the system, so they are
    never cached) the answer is kept per origin and session settings, and used only while ``os.environ`` is
    unchanged: any change to any variable looks it up again, exactly as requests would."""
    environ = getattr(os.environ, "_data", None)
    key = _settings_key(session, url)
    if key is None or not isinstance(environ, dict) or not _proxies_from_environment_only():
        return dict(session.merge_environment_settings(url, {}, True, None, None))
    with _settings_lock:
        known = _settings_cache.get(session)
        entry = None if known is None else known.get(key)
        if entry is not None and entry[0] == environ:
            return _copy(entry[1])
    settings: SendSettings = dict(session.merge_environment_settings(url, {}, True, None, None))
    with _settings_lock:
        known = _settings_cache.setdefault(session, {})
        if len(known) >= _ORIGINS_PER_SESSION:
            known.clear()
        known[key] = (dict(environ), _copy(settings))
    return settings


def _settings_key(session: requests.Session, url: str) -> tuple[Any, ...] | None:
    scheme, netloc = urllib.parse.urlsplit(url)[:2]
    try:
        key = (scheme.lower(), netloc.lower(), session.trust_env, tuple(sorted((session.proxies or {}).items())),
               session.verify, session.cert, session.stream)
        hash(key)
    except TypeError:  # settings requests accepts but that cannot be a key (a list as cert): no cache
        return None
    return key


def _proxies_from_environment_only() -> bool:
    return getattr(requests.utils, "getproxies", None) is urllib.request.getproxies_environment and \
        getattr(requests.utils, "proxy_bypass", None) is getattr(urllib.request, "proxy_bypass_environment", 0)


def _copy(settings: SendSettings) -> SendSettings:
    return {**settings, "proxies": dict(settings.get("proxies") or {})}


def _connection_failure(error: requests.ConnectionError) -> tuple[Any, bool, str]:
    reason = error.args[0] if error.args else error
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    if isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError)):
        return "refused", False, type(reason).__name__
    if isinstance(reason, ConnectionRefusedError):
        return "refused", False, "ConnectionRefusedError"
    return "dropped", True, f"{type(reason).__name__}"


def _read(response: requests.Response, request: HttpRequest, deadline: float,
          started: float) -> HttpResponse | TransportFailure:
    raw = response.raw
    if raw is None or getattr(response, "_content_consumed", False):  # read already (a test adapter)
        content = response.content or b""
        if len(content) > request.max_bytes:
            return TransportFailure("too_large", sent=True, status_code=response.status_code,
                                    detail=f"the answer is larger than {request.max_bytes} bytes")
        return HttpResponse(response.status_code, Headers(response.headers.items()), content, url=request.url,
                            elapsed=time.monotonic() - started)
    streaming = isinstance(raw, urllib3.response.BaseHTTPResponse)
    pieces: list[bytes] = []
    size = 0
    by_deadline = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pieces.clear()
                return TransportFailure("timeout", sent=True, detail=deadline_detail(request.timeout),
                                        status_code=response.status_code)
            by_deadline = left < request.timeout
            _set_read_timeout(raw, min(request.timeout, left))
            piece = raw.read1(_PIECE, decode_content=True) if streaming else raw.read(_PIECE)
            if not piece:
                break
            size += len(piece)
            if size > request.max_bytes:
                pieces.clear()  # a traceback would keep this frame alive: do not keep the body with it
                return TransportFailure("too_large", sent=True, status_code=response.status_code,
                                        detail=f"the answer is larger than {request.max_bytes} bytes; soapkit "
                                        "stopped reading it")
            pieces.append(piece)
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
        detail = deadline_detail(request.timeout) if by_deadline else f"the answer stalled for {request.timeout:g} s"
        return TransportFailure("timeout", sent=True, detail=detail, status_code=response.status_code)
    except urllib3.exceptions.DecodeError:
        return TransportFailure("corrupt", sent=True, detail="the answer's content encoding is corrupt",
                                status_code=response.status_code)
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.HTTPError, OSError) as error:
        return TransportFailure("truncated", sent=True, detail=f"{type(error).__name__}: {str(error)[:200]}",
                                status_code=response.status_code)
    return HttpResponse(response.status_code, Headers(response.headers.items()), b"".join(pieces),
                        url=request.url, elapsed=time.monotonic() - started)


def _set_read_timeout(raw: Any, seconds: float) -> None:
    """Bound the next socket read by ``seconds`` (what is left of the deadline, at most the per-wait timeout)."""
    connection = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with suppress(OSError):
            sock.settimeout(max(seconds, 0.001))
