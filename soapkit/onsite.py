"""Onsite NetServer: a base URL as the environment, and a username/password credential.

An onsite installation has no tenant state endpoint and no partner sign-in: the agents live at
``{base}/{services_path}/{Service}.svc`` with ``services_path`` = ``Remote/{version}`` by default, so
``Onsite("http://host/SuperOffice/")`` calls ``http://host/SuperOffice/Remote/Services88/Contact.svc``.
A .NET ``RemoteBaseURL`` names the web-services site (``http://host/WebServices/``); when it already ends
in ``/Remote/ServicesNN`` the services are directly under it (``services_path=""``). Give
``services_path=`` to override either reading.

:class:`UsernamePassword` signs in with ``SoPrincipalAgent.AuthenticateUsernamePassword(UserName, Password)``
and uses the ticket it answers (``Credentials/Ticket``) in every call; the ticket is cached and renewed once
when a call is rejected. The password is read when needed from a callable, a file or an environment
variable, never kept in a repr, a log line or an error message. ``ApplicationToken`` is optional onsite
(NetServer does not check it there); it is sent when given.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from soapkit.credentials.base import AuthContext, Credential, CredentialCache, IssuedCredential
from soapkit.errors import AuthenticationFailed, ConfigurationError
from soapkit.flow import Flow
from soapkit.tenant import Environment

ONSITE_PREFIX = "onsite:"
DEFAULT_SERVICES_PATH = "Remote/{version}"
#: the context identifier an onsite client uses in its cache keys (an onsite NetServer has no tenants)
ONSITE_CONTEXT = "onsite"
_SERVICES_FOLDER = re.compile(r"/Remote/Services\d+/?$", re.IGNORECASE)

SO_PRINCIPAL = "SoPrincipal"


@dataclass(frozen=True, init=False)
class Onsite(Environment):
    """An onsite NetServer's base URL (``http://host/SuperOffice/``); agents are not looked up anywhere.

    An :class:`~soapkit.tenant.Environment` whose ``name`` is ``onsite:{base_url}``; only its services
    folder is used (there is no sign-in host, state endpoint or partner service onsite).
    """

    services_path: str | None = None

    def __init__(self, base_url: str, services_path: str | None = None) -> None:
        url = (base_url or "").strip()
        if not url.lower().startswith(("http://", "https://")):
            raise ConfigurationError(f"An onsite base URL must start with http:// or https://, not {url!r}.",
                                     hint="Like Onsite('http://crmserver/SuperOffice/') or "
                                     "env='onsite:http://crmserver/SuperOffice/'.")
        url = url.rstrip("/")
        object.__setattr__(self, "name", f"{ONSITE_PREFIX}{url}")
        object.__setattr__(self, "base_url", url)
        object.__setattr__(self, "services_path", services_path)

    @classmethod
    def parse(cls, text: str) -> Onsite:
        """``onsite:http://host/SuperOffice/`` -> ``Onsite("http://host/SuperOffice")``."""
        if not text.lower().startswith(ONSITE_PREFIX):
            raise ConfigurationError(f"{text!r} is not an onsite environment (onsite:http://host/...).")
        return cls(text[len(ONSITE_PREFIX):])

    def services_url(self, version: str = "Services88") -> str:
        """The folder the ``.svc`` files are in, ending in ``/``."""
        path = self.services_path
        if path is None:
            path = "" if _SERVICES_FOLDER.search(self.base_url) else DEFAULT_SERVICES_PATH
        path = path.format(version=version).strip("/")
        return f"{self.base_url}/{path}/" if path else f"{self.base_url}/"


def is_onsite(env: object) -> bool:
    return isinstance(env, Onsite) or (isinstance(env, str) and env.strip().lower().startswith(ONSITE_PREFIX))


def resolve(env: str | Environment) -> Environment:
    """:meth:`Environment.resolve`, which also reads ``onsite:http://host/...`` (an :class:`Onsite`)."""
    return Environment.resolve(env)


PasswordSource = Callable[[], str]


class UsernamePassword(Credential):
    """An onsite user's ticket, signed in through ``SoPrincipalAgent.AuthenticateUsernamePassword``.

    Exactly one of ``password`` (a callable returning it), ``password_file`` (its first line) or
    ``password_env`` (an environment variable's name) tells where the password is; it is read at each
    sign-in, so a rotated file is picked up when the ticket is renewed. ``ticket_lifetime`` (seconds) is
    how long a ticket is reused before signing in again (onsite tickets are renewed anyway when a call is
    rejected); ``None`` reuses it until then.
    """

    kind = "username_password"

    def __init__(
        self,
        user: str,
        *,
        password: PasswordSource | None = None,
        password_file: str | os.PathLike[str] | None = None,
        password_env: str | None = None,
        ticket_lifetime: float | None = None,
        cache: CredentialCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(cache=cache, refresh_margin=0.0, clock=clock)
        if not user or not user.strip():
            raise ConfigurationError("The onsite user name is empty.")
        given = [source for source in (password, password_file, password_env) if source is not None]
        if len(given) != 1:
            raise ConfigurationError("UsernamePassword needs exactly one of password= (a callable), "
                                     "password_file= or password_env=.",
                                     hint="Keep the password in a file (password_file=) or an environment "
                                     "variable (password_env=), never in the code.")
        if isinstance(password, str):
            raise ConfigurationError("password= must be a callable returning the password, not the password.",
                                     hint="Give password_file or password_env instead, or a function that "
                                     "returns the password.")
        self.user = user.strip()
        self._password = password
        self._password_file = Path(password_file).expanduser() if password_file is not None else None
        self._password_env = password_env
        self.ticket_lifetime = ticket_lifetime

    def __repr__(self) -> str:
        return f"UsernamePassword(user={self.user!r}, password={self._source()})"

    def _source(self) -> str:
        if self._password_file is not None:
            return f"file {str(self._password_file)!r}"
        if self._password_env is not None:
            return f"${self._password_env}"
        return "callable"

    def identity(self) -> str:
        return self.user.lower()

    def password(self) -> str:
        """The password, read now from its source."""
        if self._password_file is not None:
            try:
                text = self._password_file.read_text(encoding="utf-8")
            except OSError as error:
                raise ConfigurationError(f"Cannot read the password file {str(self._password_file)!r}: "
                                         f"{error.strerror or type(error).__name__}.") from None
            value = text.splitlines()[0].strip() if text.strip() else ""
        elif self._password_env is not None:
            value = os.environ.get(self._password_env, "")
        else:
            assert self._password is not None
            value = self._password() or ""
        if not value:
            raise ConfigurationError(f"The password of {self.user!r} ({self._source()}) is empty.")
        return value

    def fetch_flow(self, context: AuthContext) -> Flow[IssuedCredential]:
        from soapkit.calls import soap_exchange
        from soapkit.headers import HeaderValues

        environment = context.environment
        if not isinstance(environment, Onsite):
            raise ConfigurationError("UsernamePassword signs in to an onsite NetServer only.",
                                     hint="Use env=Onsite('http://host/SuperOffice/') (or 'onsite:http://...').")
        address = f"{environment.services_url(context.services_version)}{SO_PRINCIPAL}.svc"
        headers = HeaderValues(context.application_token, application_token_optional=True)
        answer = yield from soap_exchange(
            context.catalog, SO_PRINCIPAL, "AuthenticateUsernamePassword", address,
            {"UserName": self.user, "Password": self.password()}, headers,
            version=context.services_version, timeout=context.timeout, purpose="sign-in")
        body = _body(answer)
        ticket = _ticket_of(body)
        succeeded = _part(body, "AuthenticationSucceeded")
        if not succeeded or not ticket:
            raise AuthenticationFailed(
                f"{address} refused the sign-in of {self.user!r} (AuthenticationSucceeded=false).",
                hint="Check the user name and the password (its file or environment variable).",
            )
        expires_at = float("inf") if self.ticket_lifetime is None else self._clock() + self.ticket_lifetime
        return IssuedCredential(ticket, expires_at, {"user": self.user})


def _part(value: object, name: str) -> object:
    try:
        return value[name]  # type: ignore[index]
    except (KeyError, TypeError, AttributeError, IndexError):
        return getattr(value, name, None)


def _body(answer: object) -> object:
    """The response body (zeep answers ``{body, header}`` when the operation declares output headers)."""
    from soapkit.calls import raise_if_failed

    header = _part(answer, "header") if _part(answer, "body") is not None else None
    if header is not None:
        raise_if_failed(header)
    body = _part(answer, "body")
    return body if body is not None else answer


def _ticket_of(body: object) -> str | None:
    credentials = _part(body, "Credentials")
    ticket = _part(credentials, "Ticket") if credentials is not None else None
    return ticket if isinstance(ticket, str) and ticket.strip() else None
