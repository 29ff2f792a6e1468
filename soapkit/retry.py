"""Which calls may be retried, and how: :class:`RetryPolicy` and the idempotency table.

A call is retried only when sending it again cannot do anything twice:

* **reads** — operations whose name says they only read (the :data:`READ_PREFIXES` table: ``Get*``,
  ``Find*``, ``Is*``, ``Has*``, ``Can*``, ``Exists*``, ``Read*``, ``Search*``, ``Validate*``, ``Check*``,
  ``Supports*``, ``CreateDefault*`` which builds an unsaved entity), minus the few ``Get*`` operations that
  change state (:data:`NOT_IDEMPOTENT`, e.g. ``TicketAgent.GetNextInQueue`` assigns the next request);
* **any call that certainly never reached the server** (the connection was refused or never made).

Everything else — ``Save*``, ``Delete*``, ``Set*``, ``Create*``, ``Send*``, anything not in the table — is a
write and is never sent twice automatically: a write that failed after its request may have arrived raises
:class:`~soapkit.errors.OutcomeUnknown`. Override per client (``RetryPolicy(idempotent={...})``) or per call
(``so.ContactAgent.SaveContactEntity.with_options(idempotent=True)(...)``).

Retried failures: HTTP 5xx without a SOAP answer, 429 (waiting ``Retry-After``, capped at
``max_retry_after``), dropped connections, cut bodies and timeouts. Waits grow exponentially with full
jitter (a random time between 0 and ``min(max_backoff, backoff * 2**n)``), within ``attempts`` tries and
the call's deadline. See docs/retries.md.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from soapkit.errors import ConfigurationError

#: Operation-name prefixes (a verb followed by an upper-case letter or the end) that only read.
READ_PREFIXES: tuple[str, ...] = (
    "Get", "Find", "Is", "Has", "Can", "Exists", "Read", "Search", "Validate", "Check", "Supports",
    "CreateDefault",
)
#: Operations named like reads that change state: never retried.
NOT_IDEMPOTENT: frozenset[str] = frozenset({
    "Diagnostics.GetNextTableNumber",  # allocates a table number
    "Ticket.GetNextInQueue",  # assigns the next request in the queue to the caller
    "User.GetOrRegisterAccessGatewayInfo",  # registers when missing
    "EMail.GetNewMail",  # fetches from the mail server into the store
    "ViewState.GetNextCurrent",  # moves the user's current item
})

_READ = re.compile(r"^(?:{})(?=[A-Z0-9_]|$)".format("|".join(READ_PREFIXES)))


def is_read(service: str, operation: str) -> bool:
    """True when ``service.operation`` only reads (by the table above)."""
    if f"{service}.{operation}" in NOT_IDEMPOTENT:
        return False
    return bool(_READ.match(operation))


@dataclass(frozen=True)
class RetryPolicy:
    """How calls are retried. ``RetryPolicy(attempts=1)`` (or ``retries=0``) turns retries off.

    ``attempts`` counts every try of one call (the first included); ``deadline`` bounds the whole call,
    retries, waits, tenant lookup and sign-in included (seconds; ``None``: twice the client's ``timeout``,
    which bounds each single wait for the server);
    ``idempotent`` overrides the table per operation (``{"ContactAgent.SaveContactEntity": True}`` or
    ``{"Contact.SaveContactEntity": True}``; ``"Contact.*"`` for a whole agent).
    """

    attempts: int = 4
    backoff: float = 0.2
    max_backoff: float = 5.0
    max_retry_after: float = 30.0
    deadline: float | None = None
    idempotent: Mapping[str, bool] = field(default_factory=dict)
    retry_on_status: frozenset[int] = frozenset({500, 502, 503, 504})
    #: the random source of the jitter (tests give a seeded one)
    jitter: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise ConfigurationError(f"RetryPolicy(attempts={self.attempts!r}): give a whole number of at least 1.",
                                     hint="attempts counts every try, the first included: 1 means no retries.")
        for name in ("backoff", "max_backoff", "max_retry_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigurationError(f"RetryPolicy({name}={value!r}) must be a number of seconds, at least 0.")
        if self.deadline is not None and (not isinstance(self.deadline, (int, float)) or self.deadline <= 0):
            raise ConfigurationError(f"RetryPolicy(deadline={self.deadline!r}) must be a positive number of seconds.")
        for key, value in self.idempotent.items():
            if not isinstance(key, str) or "." not in key or not isinstance(value, bool):
                raise ConfigurationError(
                    f"RetryPolicy(idempotent=...): {key!r}: {value!r} is not 'Agent.Operation': True/False.",
                    hint='Write {"ContactAgent.SaveContactEntity": True} or {"Contact.*": False}.')

    def idempotent_call(self, service: str, operation: str, override: bool | None = None) -> bool:
        """Whether ``service.operation`` may be sent again: the per-call override, then the policy's table
        (operation, then ``Agent.*``), then :func:`is_read`."""
        if override is not None:
            return override
        for key in (f"{service}.{operation}", f"{service}Agent.{operation}", f"{service}.*", f"{service}Agent.*"):
            if key in self.idempotent:
                return self.idempotent[key]
        return is_read(service, operation)

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first): full jitter, or the server's
        ``Retry-After`` when it gave one (capped at ``max_retry_after``)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * (2 ** (retry - 1)))
        return self.jitter() * ceiling


#: The default: four tries of a read, none of a write that may have arrived.
DEFAULT_POLICY = RetryPolicy()
#: No retries at all.
NO_RETRIES = RetryPolicy(attempts=1)


def policy_from(retries: RetryPolicy | int | None) -> RetryPolicy:
    """``retries=`` of :func:`soapkit.connect`: a policy, a number of retries (0 for none) or None (default)."""
    if retries is None:
        return DEFAULT_POLICY
    if isinstance(retries, RetryPolicy):
        return retries
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigurationError(f"retries={retries!r}: give a RetryPolicy or a number of retries (0 for none).")
    return RetryPolicy(attempts=retries + 1)
