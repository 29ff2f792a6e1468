"""The soapkit sandbox: a local SuperOffice CRM Online on loopback, for development and tests.

    from soapkit.sandbox import Sandbox
    with Sandbox(data_dir=tmp_path, port=0) as sb:
        sb.base_url        # http://127.0.0.1:54321
        sb.config          # the content of data_dir/sandbox.json

What it serves (paths as on ``https://{env}.superoffice.com``), see ``docs/sandbox.md`` for details:

* ``GET /api/state/{ctx}`` -- tenant state JSON. Unknown tenant: HTTP 404 with the same JSON shape,
  ``State: "Unknown"``, ``IsRunning: false``, ``Endpoint``/``Api`` null. Tenants live at
  ``{base_url}/{ctx}`` unless given another endpoint.
* ``GET /login/.well-known/openid-configuration`` and ``/login/.well-known/jwks`` -- the identity key.
* ``POST /login/services/PartnerSystemUserService.svc`` (SOAP 1.1, ``?wsdl``) and
  ``POST /Login/api/PartnerSystemUser/Authenticate`` (JSON): signed system-user token -> RS256 JWT
  with a ``7T:`` ticket. Failures are ``IsSuccessful=false`` with ``ErrorMessage`` starting with the
  documented error name and code, e.g. ``InvalidSignature (7): ...``, ``InvalidTimestamp (6): ...``,
  ``Denied (4): unknown application token ...`` (see :mod:`soapkit.sandbox.partner`).
* ``POST /{ctx}/Remote/Services88/{Service}.svc`` (``?wsdl``, ``?xsd=Name``) -- Contact, Person and
  SoPrincipal agents on SQLite (``data_dir/sandbox.sqlite3``), seeded with 5 companies and 10 persons.

Credentials on agent calls (every operation whose WSDL declares the header is checked; HTTP 200,
``Succeeded=false``, ``ExceptionInfo`` with ``Source="SoapKit.Sandbox"`` and these ``ExceptionType``):

* no/empty ``ApplicationToken``, unknown client secret, or app not installed in the tenant
  -> ``ApplicationTokenInvalidException``
* no ``Credentials``/``Ticket`` -> ``CredentialsMissingException``
* ticket unknown, revoked, issued for another tenant or another application -> ``CredentialsInvalidException``
* ticket expired -> ``CredentialsExpiredException``

Tickets live ``ticket_lifetime`` (6 h) after their last use. Data errors: unknown ids on ``Get*`` give a
nil ``Response`` with ``Succeeded=true``; saving/deleting an unknown id -> ``EntityNotFoundException``;
invalid data -> ``ValidationException``; an operation in the WSDL without a sandbox implementation ->
``NotImplementedException``. Malformed requests get an HTTP 500 SOAP Fault (``s:Client``; unknown
SOAPAction ``a:ActionNotSupported``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soapkit._lazy import lazy_exports

# Imported on first use, as in soapkit/__init__.py: `soapkit sandbox --help` builds its parser from
# soapkit.sandbox.cli without loading the server (zeep, lxml, cryptography, jwt, xmlsec).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "soapkit.sandbox.app": ("Sandbox",),
    "soapkit.sandbox.cli": ("main", "run"),
    "soapkit.sandbox.settings": ("SandboxSettings",),
}
_MODULE_OF, _lazy_getattr, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_MODULE_OF)

if TYPE_CHECKING:  # `X as X`: an explicit re-export, for type checkers in strict mode
    from soapkit.sandbox.app import Sandbox as Sandbox
    from soapkit.sandbox.cli import main as main
    from soapkit.sandbox.cli import run as run
    from soapkit.sandbox.settings import SandboxSettings as SandboxSettings


if not TYPE_CHECKING:  # type checkers see the imports above; a misspelt name stays an error for them
    __getattr__ = _lazy_getattr
