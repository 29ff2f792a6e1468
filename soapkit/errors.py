"""The one exception hierarchy of soapkit.

Every error says what happened (``str(error)``) and what to do about it (``error.hint``).
Messages never contain secrets: anything that may carry a ticket, token or key is passed
through :func:`soapkit.redaction.redact_text` before it is stored on an exception. Messages, hints and
server text are first cut to :data:`soapkit.redaction.MAX_MESSAGE_CHARS` characters (HTTP bodies to
:data:`MAX_BODY_CHARS`), so hostile server text costs bounded time and memory.
"""

from __future__ import annotations

from typing import Any

#: How much of an HTTP body an :class:`HttpError` keeps (characters).
MAX_BODY_CHARS = 2000


def _server_text(text: str | None, limit: int | None = None) -> str:
    """Text that came from outside, cut to a bounded length and then redacted."""
    from soapkit.redaction import MAX_MESSAGE_CHARS, clip, redact_text

    return redact_text(clip(text, MAX_MESSAGE_CHARS if limit is None else limit))


class SoapkitError(Exception):
    """Base class of every error soapkit raises."""

    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = _server_text(message)
        self.hint = _server_text(hint if hint is not None else self.default_hint)
        super().__init__(self.message)

    @property
    def docs(self) -> str | None:
        """Where the documentation about this kind of error is (``soapkit docs credentials``, or the page's URL
        once the site is hosted; the command line prints it as ``docs:``), None for plain bad arguments."""
        from soapkit._docs import UnknownTopic, page, topic_for_error

        topic = topic_for_error(type(self))
        try:
            return page(topic) if topic else None
        except UnknownTopic:  # a build without its documentation: say nothing rather than fail in a message
            return None

    def __str__(self) -> str:
        lines = [self.message]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        docs = self.docs
        if docs:
            lines.append(f"  docs: {docs}")
        return "\n".join(lines)


# --- bad input from the user -------------------------------------------------------------------


class ConfigurationError(SoapkitError, ValueError):
    """An argument, configuration value or file given by the user is unusable."""


class KeyFormatError(ConfigurationError):
    """A private or public key could not be read."""

    default_hint = "Give an RSA key as PEM (PKCS#1 or PKCS#8) or as .NET <RSAKeyValue> XML."


class WsdlError(ConfigurationError):
    """A cached WSDL is missing or cannot be parsed."""


class CaptureFormatError(ConfigurationError):
    """A capture file or saved envelope cannot be read (not JSON/XML, wrong format or version)."""

    default_hint = "Give a capture file written by soapkit (Recorder.save, --save-capture) or a raw SOAP envelope."


class UnknownOperationError(ConfigurationError, AttributeError):
    """An agent or operation name that the WSDL does not describe."""

    def __init__(self, message: str, *, suggestions: list[str] | None = None, hint: str | None = None):
        self.suggestions = suggestions or []
        if hint is None and self.suggestions:
            hint = "Did you mean " + " or ".join(self.suggestions) + "?"
        super().__init__(message, hint=hint)


class InvalidValue(ConfigurationError):
    """A value or argument given for an operation does not fit its WSDL; raised before anything is sent.

    ``operation`` is ``ContactAgent.SaveContactEntity``, ``path`` the place in the arguments
    (``ContactEntity.Emails[1].Value``), ``expected`` what the schema allows there and ``suggestions``
    the close names when a name was misspelt.
    """

    def __init__(self, message: str, *, operation: str | None = None, path: str | None = None,
                 expected: str | None = None, suggestions: list[str] | None = None, hint: str | None = None):
        self.operation = operation
        self.path = path
        self.expected = expected
        self.suggestions = suggestions or []
        if hint is None and self.suggestions:
            hint = "Did you mean " + " or ".join(self.suggestions) + "?"
        super().__init__(message, hint=hint)


# --- credentials -------------------------------------------------------------------------------


class CredentialError(SoapkitError):
    """Obtaining, validating or using a credential failed."""


class AuthenticationFailed(CredentialError):
    """The server refused to issue a credential (for example ``IsSuccessful=false``)."""

    default_hint = (
        "Check the client secret (ApplicationToken), the context identifier, the system-user token "
        "and that the private key matches the application registered with SuperOffice."
    )

    def __init__(self, message: str, *, server_message: str | None = None, hint: str | None = None):
        self.server_message = _server_text(server_message) if server_message else None
        super().__init__(message, hint=hint)


class TokenValidationError(CredentialError):
    """A JWT or SAML token returned by the server failed validation and must not be trusted."""

    default_hint = (
        "Do not use this token. Check that the environment (sod/qaonline/online or base URL) matches the "
        "one that issued it and that the machine clock is correct."
    )


class CredentialRejected(CredentialError):
    """The service said the ticket or access token is no longer valid."""

    default_hint = "soapkit retried once with a fresh credential; if it persists, check the user's licence/rights."


class OAuthError(CredentialError):
    """The identity service answered an OAuth request with an RFC 6749 error (``invalid_grant``, ...)."""

    def __init__(self, message: str, *, error: str | None = None, description: str | None = None,
                 status: int | None = None, hint: str | None = None):
        self.error = _server_text(error, 200) if error else error
        self.description = _server_text(description) if description else None
        self.status = status
        super().__init__(message, hint=hint)


class SignInRequired(OAuthError):
    """The stored sign-in (refresh token) is missing, revoked or expired: the user must sign in again."""

    default_hint = "Sign in again with `soapkit login` (or your application's sign-in), then retry."


class LoginFailed(CredentialError):
    """The interactive sign-in did not complete: denied, timed out, or its answer failed a check."""

    default_hint = "Run `soapkit login` again; with --no-browser, open the printed URL yourself."


# --- tenant and routing ------------------------------------------------------------------------


class TenantError(SoapkitError):
    """The tenant could not be located or is not available."""


class TenantNotFound(TenantError):
    default_hint = "Check the context identifier (e.g. Cust12345) and the environment (sod, qaonline, online)."


class TenantNotRunning(TenantError):
    """The tenant exists but its state does not allow API calls."""

    def __init__(self, context_identifier: str, state: str, *, hint: str | None = None):
        self.context_identifier = context_identifier
        self.state = state
        super().__init__(
            f"Tenant {context_identifier} is not running (state {state}).",
            hint=hint or "Wait until the tenant is Running again (maintenance, suspension or provisioning).",
        )


# --- transport and service ---------------------------------------------------------------------


class TransportError(SoapkitError):
    """The HTTP exchange itself failed."""


class HttpError(TransportError):
    def __init__(self, status: int, message: str, *, body: str = "", hint: str | None = None):
        self.status = status
        self.body = _server_text(body, MAX_BODY_CHARS)
        super().__init__(message, hint=hint)


class WrongSubdomain(HttpError):
    """HTTP 421: the tenant is served from another numbered host."""

    default_hint = "soapkit looks the tenant up again and retries once; if it persists the tenant is moving."


class RateLimited(HttpError):
    def __init__(self, message: str, *, retry_after: float | None, body: str = ""):
        self.retry_after = retry_after
        wait = f"wait {retry_after:g} s" if retry_after is not None else "wait"
        super().__init__(429, message, body=body, hint=f"The server asks to slow down: {wait} and retry.")


class ResponseRejected(HttpError):
    """The server's answer is unsafe or unreadable: not XML, a DTD or entities, too deep, too large."""

    default_hint = (
        "soapkit refuses answers with DTDs, entities, excessive nesting or size, and malformed XML or JSON. "
        "Check the address points at SuperOffice (or the sandbox); capture the exchange with --trace."
    )


class ResponseTooLarge(ResponseRejected):
    """The answer is larger than the client's ``max_response_bytes``; soapkit stopped reading it."""

    default_hint = ("Ask for less (smaller Archive pages, fewer columns), or raise max_response_bytes= on "
                    "connect() if the answer is legitimately this large.")


class RequestTimeout(TransportError):
    """No complete answer within ``timeout`` (a wait for the server) or the call's deadline (the whole call)."""

    default_hint = "The server did not answer in time; raise `timeout=` or retry later."

    def __init__(self, message: str, *, sent: bool = True, hint: str | None = None) -> None:
        #: whether the request may have reached the server
        self.sent = sent
        super().__init__(message, hint=hint)


class ConnectionFailed(TransportError):
    """The connection was refused, dropped, or cut before the answer was complete."""

    default_hint = "Check the host name and network; for the sandbox, check that it is running."

    def __init__(self, message: str, *, sent: bool = True, hint: str | None = None) -> None:
        #: whether the request may have reached the server (False: the connection was never made)
        self.sent = sent
        super().__init__(message, hint=hint)


class OutcomeUnknown(TransportError):
    """A write failed after its request may have reached the server: it may or may not have been applied.

    soapkit never sends a write twice on its own. ``operation`` is ``ContactAgent.SaveContactEntity``,
    ``cause`` the failure (a timeout, a dropped connection, HTTP 503, ...).
    """

    def __init__(self, operation: str, cause: SoapkitError) -> None:
        self.operation = operation
        self.cause = cause
        super().__init__(
            f"{operation} may or may not have been applied: {cause.message}",
            hint="soapkit does not send a write twice by itself. Read the entity back (e.g. by its id, or search "
                 "for what you saved) to see whether it arrived, then save again only if it did not.",
        )


class ServiceError(SoapkitError):
    """The service answered, but with an error."""


class SoapFault(ServiceError):
    default_hint = "The service reported an error: see the fault code and detail (--trace shows the envelope)."

    def __init__(self, message: str, *, code: str | None = None, detail: Any = None, hint: str | None = None):
        self.code = _server_text(code, 200) if code else code
        self.detail = _server_text(detail) if isinstance(detail, str) else detail
        super().__init__(message, hint=hint)


class AgentError(ServiceError):
    """``Succeeded=false`` with ``ExceptionInfo`` in the response headers."""

    def __init__(
        self,
        message: str,
        *,
        exception_type: str | None = None,
        friendly_text: str | None = None,
        source: str | None = None,
        hint: str | None = None,
    ):
        self.exception_type = _server_text(exception_type, 200) if exception_type else exception_type
        self.friendly_text = _server_text(friendly_text) if friendly_text else friendly_text
        self.source = _server_text(source, 200) if source else source
        super().__init__(message, hint=hint)


# --- credential caches -------------------------------------------------------------------------


class CacheError(SoapkitError):
    """A credential cache (file, Redis, ...) cannot be read, written or locked."""


class CacheCorrupted(CacheError):
    """A cache entry cannot be read (truncated, not JSON, unreadable): soapkit treats it as missing."""

    default_hint = "soapkit fetches a fresh credential and overwrites the entry; delete the file if this repeats."


class CacheKeyError(CacheError, ConfigurationError):
    """The cache is encrypted with another key than the one configured, or no key is configured."""

    default_hint = (
        "Set SOAPKIT_CACHE_KEY (or cache_key_file) to the key the cache was written with, "
        "or delete the cache entry to start over with the new key."
    )


class CacheLockTimeout(CacheError):
    """Another thread or process held the cache lock for a credential too long."""

    default_hint = "Another process is obtaining this credential and has not finished; check it is not stuck."


class CacheUnavailable(CacheError):
    """The cache back-end (for example the Redis server) cannot be reached."""

    default_hint = "Check the cache URL (SOAPKIT_CACHE) and that the server is running and reachable."
