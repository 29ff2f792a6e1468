"""The steps of soapkit's I/O-free core, and the one loop that runs a flow.

Everything soapkit does on the network — a tenant state lookup, a JWKS fetch, an OAuth token request, the
system-user exchange, an agent call with its re-route and credential renewal — is written once, as a
*flow*: a generator that yields what it needs done and receives the outcome, in the shape of httpx's
``auth_flow``. A flow never touches a socket, a lock or a clock's sleep itself:

* it yields an :class:`HttpRequest` and receives an :class:`HttpResponse`, or a :class:`TransportFailure`
  when no complete answer arrived (refused, timed out, dropped, cut short, too large);
* it yields :class:`Sleep` to wait (a retry's backoff);
* it yields :class:`Hold` / :class:`Release` around a credential refresh, so that the driver takes its own
  kind of lock (a thread lock for the sync driver, an asyncio lock for the async one) plus the cache's
  cross-process lock; a lock that cannot be taken is thrown into the flow as the cache's error.

Two small drivers run flows: :mod:`soapkit.drivers.sync` (requests) and :mod:`soapkit.drivers.aio`
(httpx). They only carry out steps; what to send, how to read the answer, when to retry and which error to
raise live here and in the flows, so the two drivers cannot disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from soapkit.credentials.base import CredentialCache

T = TypeVar("T")


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only HTTP headers (the last value of a repeated header wins)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {str(k).lower(): (str(k), str(v)) for k, v in pairs}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self)!r})"


#: What a request is for; the recorder and error messages use it.
Purpose = Literal["soap", "state", "jwks", "oauth", "partner", "rest", "sign-in"]


@dataclass(frozen=True, repr=False)
class HttpRequest:
    """One HTTP request a flow wants sent.

    ``timeout`` bounds every wait for the server (connect, each read); ``deadline`` (a ``time.monotonic()``
    instant) bounds the whole exchange, reading included; ``max_bytes`` caps the answer's body.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    timeout: float = 30.0
    deadline: float | None = None
    max_bytes: int = 64 * 1024 * 1024
    purpose: Purpose = "soap"

    def __repr__(self) -> str:  # never the body or headers: they carry secrets
        return f"<HttpRequest {self.method} {self.url} ({self.purpose})>"


@dataclass(frozen=True, repr=False)
class HttpResponse:
    """A complete answer. It reads like a ``requests.Response`` where soapkit and zeep read one."""

    status_code: int
    headers: Headers
    content: bytes
    url: str = ""
    elapsed: float = 0.0

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status_code} {len(self.content)} bytes>"

    @property
    def encoding(self) -> str | None:
        content_type = self.headers.get("Content-Type", "")
        for part in content_type.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip('"') or None
        return None

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding or "utf-8", "replace")
        except LookupError:  # a charset Python does not know (a hostile or broken server): read it as UTF-8
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.content)


#: Why no complete answer arrived.
FailureKind = Literal["refused", "timeout", "dropped", "truncated", "too_large", "corrupt"]


@dataclass(frozen=True)
class TransportFailure:
    """No (complete) answer. ``sent`` says whether the request may have reached the server: False only when
    the connection was never made (refused, name not resolved, connect timeout), so a write can be retried."""

    kind: FailureKind
    sent: bool
    detail: str = ""
    status_code: int | None = None  # a too-large or cut body still had a status line


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` before the flow goes on (a retry's backoff)."""

    seconds: float


@dataclass(frozen=True)
class Hold:
    """Exclude every other flow working on ``key``: in this process (the driver's lock kind) and, when the
    cache has a ``lock(key)``, in every process sharing the cache. Answered with None, or the cache's
    :class:`~soapkit.errors.CacheLockTimeout` / :class:`~soapkit.errors.CacheUnavailable` thrown in."""

    key: str
    cache: CredentialCache | None = field(repr=False)  # None: no cross-process lock, only the process's
    owner: object = field(repr=False)  # whose key space (the credential): two credentials never share a lock


@dataclass(frozen=True)
class Release:
    """Let go of what the matching :class:`Hold` took."""

    key: str
    owner: object = field(repr=False)


Step = HttpRequest | Sleep | Hold | Release
Outcome = HttpResponse | TransportFailure | None
#: A flow that ends with a value of type ``T``.
Flow = Generator[Step, Outcome, T]


def returns(value: T) -> Flow[T]:
    """A flow that needs nothing done and ends with ``value`` (for providers without network I/O)."""
    return value
    yield  # pragma: no cover - makes this a generator


def response_of(outcome: Outcome) -> HttpResponse:
    """The answer of a request step; a transport failure becomes its soapkit error."""
    if isinstance(outcome, HttpResponse):
        return outcome
    from soapkit.error_table import failure_error

    if isinstance(outcome, TransportFailure):
        raise failure_error(outcome, "")
    raise TypeError(f"a request step was answered with {type(outcome).__name__}")


def request(method: str, url: str, *, purpose: Purpose, timeout: float = 30.0,
            headers: Mapping[str, str] | None = None, body: bytes = b"",
            max_bytes: int | None = None) -> Flow[HttpResponse]:
    """Send one non-SOAP request (state, JWKS, OAuth, REST) and return the complete answer.

    Failures to get one raise the error the table gives (:func:`soapkit.error_table.failure_error`); HTTP 429
    raises :class:`~soapkit.errors.RateLimited`. Other statuses are the caller's to read.
    """
    from soapkit.error_table import failure_error, rate_limited

    kwargs: dict[str, Any] = {} if max_bytes is None else {"max_bytes": max_bytes}
    outcome = yield HttpRequest(method, url, dict(headers or {}), body, timeout=timeout, purpose=purpose, **kwargs)
    if isinstance(outcome, TransportFailure):
        raise failure_error(outcome, f"{method} {url}")
    answer = response_of(outcome)
    if answer.status_code == 429:
        raise rate_limited(answer, f"{method} {url}")
    return answer


def within(deadline: float, flow: Flow[T]) -> Flow[T]:
    """``flow`` with every request bounded by ``deadline`` too (a call's deadline covers its tenant lookup and
    credential exchange, not only the agent request)."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, HttpRequest) and (step.deadline is None or step.deadline > deadline):
                step = dataclasses.replace(step, deadline=deadline)
            try:
                outcome = yield step
            except GeneratorExit:
                flow.close()
                raise
            except BaseException as error:  # thrown in by the driver: the inner flow decides
                step = flow.throw(error)
            else:
                step = flow.send(outcome)
    except StopIteration as stop:
        return stop.value
