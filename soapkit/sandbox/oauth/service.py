"""OAuth 2.0 / OpenID Connect at SuperOffice's paths, for sandbox users and registered applications.

* ``GET|POST /login/common/oauth/authorize``: the sign-in and consent page (:mod:`.pages`); a ``POST`` of
  its fields (``username``, ``password``, ``consent=allow``) is how tests consent without a browser.
  Signing in also starts a session (cookie ``soapkit_sandbox_session``, path ``/login``); with it,
  ``prompt=none`` answers at once, without it ``prompt=none`` is refused with ``login_required``.
* ``POST /login/common/oauth/tokens``: ``authorization_code`` (PKCE S256/plain or none),
  ``refresh_token`` (answered without a new refresh token, as SuperOffice does) and
  ``client_credentials`` (the application's System User in the tenant named by ``acr_values``).
* ``POST /login/common/oauth/revoke``: RFC 7009 revocation of refresh and access tokens.
* ``GET|POST /login/logout``: ends the sign-in session; redirects to ``post_logout_redirect_uri`` when it
  is registered for the client (named by ``client_id`` or ``id_token_hint``).

Errors of the token and revocation endpoints are RFC 6749 JSON (``{"error": ..., "error_description": ...}``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode

import jwt

from soapkit.credentials.jwt_validation import claim
from soapkit.sandbox.apps import Application
from soapkit.sandbox.backend import Backend
from soapkit.sandbox.credentials import CredentialKind, CredentialRecord, Verdict
from soapkit.sandbox.oauth import pages
from soapkit.sandbox.oauth.records import (
    AuthorizationCode,
    ClientPolicy,
    Codes,
    Grants,
    OAuthClients,
    Passwords,
    ensure_schema,
)
from soapkit.sandbox.store import secret_hash
from soapkit.sandbox.tenants import Tenant
from soapkit.sandbox.web import Request, Response

AUTHORIZE_PATH = "/login/common/oauth/authorize"
TOKEN_PATH = "/login/common/oauth/tokens"
REVOKE_PATH = "/login/common/oauth/revoke"
LOGOUT_PATH = "/login/logout"
SESSION_COOKIE = "soapkit_sandbox_session"

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_TENANT_ACR = re.compile(r"^tenant:(Cust\d+)$", re.IGNORECASE)
_AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
                     "code_challenge_method", "acr_values", "login_hint", "prompt")


@dataclass
class OAuthSettings:
    """Lifetimes of what the identity service issues (PROTOCOL.md section 4; the rest is our choice)."""

    access_token_lifetime: dt.timedelta = dt.timedelta(seconds=3600)
    code_lifetime: dt.timedelta = dt.timedelta(minutes=10)
    id_token_lifetime: dt.timedelta = dt.timedelta(hours=1)
    session_lifetime: dt.timedelta = dt.timedelta(hours=8)
    # None: refresh tokens live until revoked (SuperOffice does not publish their lifetime).
    refresh_token_lifetime: dt.timedelta | None = None


class OAuthProblem(Exception):
    """An RFC 6749 error: ``error`` code, description and HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        self.error = error
        self.description = description
        self.status = status
        super().__init__(f"{error}: {description}")


def _single_values(data: dict[str, list[str]]) -> dict[str, str]:
    repeated = [name for name, values in data.items() if len(values) > 1]
    if repeated:
        raise OAuthProblem("invalid_request", f"parameter {repeated[0]!r} is given more than once.")
    return {name: values[0] for name, values in data.items()}


def form_fields(request: Request) -> dict[str, str]:
    """The ``application/x-www-form-urlencoded`` body, each parameter at most once."""
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthProblem("invalid_request", "the body is not UTF-8 form data.") from None
    return _single_values(parse_qs(text, keep_blank_values=True))


def json_response(status: int, data: dict[str, Any], **log: Any) -> Response:
    response = Response.json(status, data, **log)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def problem_response(problem: OAuthProblem, operation: str, *, basic: bool = False) -> Response:
    response = json_response(problem.status, {"error": problem.error, "error_description": problem.description},
                             operation=operation, outcome=problem.error)
    if problem.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="soapkit sandbox"' if basic else "Bearer"
    return response


def redirect(location: str, **log: Any) -> Response:
    response = Response(302, b"", log=log)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


def with_query(uri: str, parameters: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in parameters.items() if v is not None})
    if not query:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return hmac.compare_digest(computed, challenge)
    return hmac.compare_digest(verifier, challenge)


@dataclass
class AuthorizeRequest:
    """A validated authorization request: the client, where to answer, and what was asked."""

    application: Application
    policy: ClientPolicy
    fields: dict[str, str]
    tenant: Tenant | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.fields.get(name) or None

    def error_redirect(self, error: str, description: str) -> Response:
        location = with_query(self.fields["redirect_uri"], {
            "error": error, "error_description": description, "state": self.get("state")})
        return redirect(location, operation="oauth.authorize", outcome=error)


class OAuthService:
    """The identity service's OAuth endpoints, over the sandbox's backend."""

    def __init__(self, backend: Backend, settings: OAuthSettings | None = None) -> None:
        self.backend = backend
        self.settings = settings or OAuthSettings()
        ensure_schema(backend.store)
        self.clients = OAuthClients(backend.store)
        self.codes = Codes(backend.store)
        self.grants = Grants(backend.store)
        self.passwords = Passwords(backend.store)

    # --- authorize ---------------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        try:
            raw = request.query_params if request.method != "POST" else parse_qs(
                request.body.decode("utf-8", "replace"), keep_blank_values=True)
            fields = _single_values(raw)
        except OAuthProblem as problem:
            return pages.error_page(400, problem.description)
        checked = self._check_client(fields)
        if isinstance(checked, Response):
            return checked
        try:
            self._check_request(checked)
        except OAuthProblem as problem:
            return checked.error_redirect(problem.error, problem.description)
        if request.method == "POST":
            return self._consent(request, checked)
        session = self._session(request, checked.tenant)
        if checked.get("prompt") == "none":
            if session is None:
                return checked.error_redirect("login_required", "no sign-in session; sign in interactively.")
            return self._issue_code(checked, session.ctx, session.associate_id)
        return self._form(request, checked, signed_in=session)

    def _check_client(self, fields: dict[str, str]) -> AuthorizeRequest | Response:
        """Client and redirect URI: failures here must not redirect (RFC 6749 section 4.1.2.1)."""
        client_id = fields.get("client_id") or ""
        application = self.backend.apps.get(client_id) if client_id else None
        if application is None:
            return pages.error_page(400, "Unknown client_id: no application with this id is registered.")
        policy = self.clients.policy(application.client_id)
        if not policy.accepts_redirect(fields.get("redirect_uri")):
            return pages.error_page(400, "The redirect_uri is missing or not registered for this application "
                                         "(redirect URIs must match exactly).")
        return AuthorizeRequest(application, policy, {k: fields.get(k, "") for k in _AUTHORIZE_FIELDS},
                                extra={k: v for k, v in fields.items() if k not in _AUTHORIZE_FIELDS})

    def _check_request(self, request: AuthorizeRequest) -> None:
        if request.get("response_type") != "code":
            raise OAuthProblem("unsupported_response_type", "only response_type=code is supported.")
        if "openid" not in (request.get("scope") or "").split():
            raise OAuthProblem("invalid_scope", "scope must include openid.")
        method, challenge = request.get("code_challenge_method"), request.get("code_challenge")
        if method and not challenge:
            raise OAuthProblem("invalid_request", "code_challenge_method without code_challenge.")
        if challenge:
            if (method or "plain") not in ("S256", "plain"):
                raise OAuthProblem("invalid_request", "code_challenge_method must be S256 or plain.")
            if not _VERIFIER.match(challenge):
                raise OAuthProblem("invalid_request", "code_challenge must be 43-128 characters of [A-Za-z0-9-._~].")
            request.fields["code_challenge_method"] = method or "plain"
        request.tenant = self._requested_tenant(request.get("acr_values"))

    def _requested_tenant(self, acr_values: str | None) -> Tenant | None:
        for value in (acr_values or "").split():
            match = _TENANT_ACR.match(value)
            if match:
                return self._running_tenant(match.group(1))
        if acr_values:
            raise OAuthProblem("invalid_request", "acr_values must be tenant:CustNNN.")
        return None

    def _running_tenant(self, ctx: str) -> Tenant:
        tenant = self.backend.tenants.get(ctx)
        if tenant is None:
            raise OAuthProblem("invalid_request", f"unknown tenant {ctx}.")
        if not tenant.is_running:
            raise OAuthProblem("invalid_request", f"tenant {tenant.ctx} is {tenant.state.name}, not running.")
        return tenant

    def _form(self, request: Request, checked: AuthorizeRequest, *, signed_in: CredentialRecord | None = None,
              username: str = "", error: str | None = None, status: int = 200) -> Response:
        who = None
        if signed_in is not None:
            associate = self.backend.associate(signed_in.ctx, signed_in.associate_id) or {}
            who = f"{associate.get('full_name', '?')} ({signed_in.ctx})"
        tenant = checked.tenant.ctx if checked.tenant else None
        return pages.sign_in_page(request.base_url + AUTHORIZE_PATH, checked.fields,
                                  application=checked.application.name, tenant=tenant,
                                  username=username or checked.get("login_hint") or "", signed_in_as=who,
                                  error=error, status=status)

    def _consent(self, request: Request, checked: AuthorizeRequest) -> Response:
        if checked.extra.get("consent") != "allow":
            return checked.error_redirect("access_denied", "the user did not allow the sign-in.")
        session = self._session(request, checked.tenant) if checked.extra.get("use_session") else None
        if session is not None:
            return self._issue_code(checked, session.ctx, session.associate_id)
        username = checked.extra.get("username", "")
        found = self._sign_in(username, checked.extra.get("password", ""), checked.tenant)
        if found is None:
            return self._form(request, checked, username=username, status=401,
                              error="Wrong user name or password (seeded users: password 'sandbox').")
        ctx, associate_id = found
        response = self._issue_code(checked, ctx, associate_id)
        self._start_session(response, ctx, associate_id)
        return response

    def _sign_in(self, username: str, password: str, tenant: Tenant | None) -> tuple[str, int] | None:
        candidates = [tenant] if tenant else [t for t in self.backend.tenants.all() if t.is_running]
        for candidate in candidates:
            row = self.backend.store.one(
                "SELECT associate_id FROM associate WHERE ctx = ? AND user_type != 'SystemAssociate' AND "
                "(lower(user_name) = lower(?) OR lower(email) = lower(?))", (candidate.ctx, username, username))
            if row is not None:
                if self.passwords.matches(candidate.ctx, row["associate_id"], password):
                    return candidate.ctx, int(row["associate_id"])
                return None
        return None

    def _issue_code(self, checked: AuthorizeRequest, ctx: str, associate_id: int) -> Response:
        code = secrets.token_urlsafe(32)
        self.codes.add(code, client_id=checked.application.client_id, ctx=ctx, associate_id=associate_id,
                       redirect_uri=checked.fields["redirect_uri"], code_challenge=checked.get("code_challenge"),
                       code_challenge_method=checked.get("code_challenge_method"), nonce=checked.get("nonce"),
                       now=self.backend.now(), lifetime=self.settings.code_lifetime)
        location = with_query(checked.fields["redirect_uri"], {"code": code, "state": checked.get("state")})
        return redirect(location, operation="oauth.authorize", ctx=ctx, outcome="code")

    # --- sessions ----------------------------------------------------------------------------------

    def _session(self, request: Request, tenant: Tenant | None) -> CredentialRecord | None:
        value = _cookie(request, SESSION_COOKIE)
        if not value:
            return None
        record = self.backend.credentials.lookup(value)
        if record is None or record.kind is not CredentialKind.SESSION or record.revoked \
                or record.expired(self.backend.now()):
            return None
        if tenant is not None and record.ctx.lower() != tenant.ctx.lower():
            return None
        return record

    def _start_session(self, response: Response, ctx: str, associate_id: int) -> None:
        value = secrets.token_urlsafe(32)
        now = self.backend.now()
        self.backend.credentials.add(value, CredentialKind.SESSION, ctx, None, associate_id, now,
                                     expires_at=now + self.settings.session_lifetime)
        response.headers["Set-Cookie"] = f"{SESSION_COOKIE}={value}; Path=/login; HttpOnly; SameSite=Lax"

    # --- token endpoint ----------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        basic = (request.header("authorization") or "").lower().startswith("basic ")
        try:
            fields = form_fields(request)
            application = self._authenticate_client(request, fields)
            grant_type = fields.get("grant_type")
            if grant_type == "authorization_code":
                return self._authorization_code(request, application, fields)
            if grant_type == "refresh_token":
                return self._refresh(request, application, fields)
            if grant_type == "client_credentials":
                return self._client_credentials(application, fields)
            raise OAuthProblem("unsupported_grant_type", f"grant_type {grant_type!r} is not supported; use "
                               "authorization_code, refresh_token or client_credentials.")
        except OAuthProblem as problem:
            return problem_response(problem, "oauth.token", basic=basic)

    def _authenticate_client(self, request: Request, fields: dict[str, str]) -> Application:
        """``client_secret_basic`` or ``client_secret_post``, exactly one of them."""
        header = request.header("authorization") or ""
        if header.lower().startswith("basic "):
            if "client_secret" in fields:
                raise OAuthProblem("invalid_request", "use one client authentication method, not two.")
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
                raw_id, raw_secret = decoded.split(":", 1)
            except (ValueError, UnicodeDecodeError):
                raise OAuthProblem("invalid_client", "malformed Basic credentials.", 401) from None
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if fields.get("client_id") not in (None, client_id):
                raise OAuthProblem("invalid_request", "client_id differs from the Basic credentials.")
        else:
            client_id, secret = fields.get("client_id", ""), fields.get("client_secret", "")
        application = self.backend.apps.get(client_id) if client_id else None
        if application is None or not secret or not self.backend.apps.secret_matches(client_id, secret):
            raise OAuthProblem("invalid_client", "unknown client or wrong client secret.", 401)
        return application

    def _authorization_code(self, request: Request, application: Application, fields: dict[str, str]) -> Response:
        record = self._redeem_code(application, fields)
        tenant = self._running_tenant_for_grant(record.ctx)
        access = self._issue_access_token(tenant.ctx, application.client_id, record.associate_id, record.code_hash)
        refresh = self._issue_refresh_token(tenant.ctx, application.client_id, record.associate_id)
        self.grants.link(record.code_hash, refresh)
        id_token = self._id_token(request.base_url, application.client_id, tenant, record.associate_id,
                                  record.nonce)
        return self._token_answer(access, tenant.ctx, "authorization_code", refresh_token=refresh, id_token=id_token)

    def _redeem_code(self, application: Application, fields: dict[str, str]) -> AuthorizationCode:
        code = fields.get("code")
        if not code:
            raise OAuthProblem("invalid_request", "code is required.")
        record, first_use = self.codes.consume(code)
        if record is None or record.client_id != application.client_id:
            raise OAuthProblem("invalid_grant", "unknown authorization code.")
        if not first_use:
            self.grants.revoke_issued(record.code_hash)  # a replayed code may be stolen: revoke its tokens
            raise OAuthProblem("invalid_grant", "the authorization code was already used.")
        if record.expires_at <= self.backend.now().timestamp():
            raise OAuthProblem("invalid_grant", "the authorization code has expired (codes live 10 minutes).")
        if fields.get("redirect_uri") != record.redirect_uri:
            raise OAuthProblem("invalid_grant", "redirect_uri differs from the one of the authorization request.")
        self._check_pkce(record, fields.get("code_verifier"))
        return record

    @staticmethod
    def _check_pkce(record: AuthorizationCode, verifier: str | None) -> None:
        if not record.code_challenge:
            if verifier:
                raise OAuthProblem("invalid_grant", "code_verifier given, but the request had no code_challenge.")
            return
        if not verifier or not _VERIFIER.match(verifier):
            raise OAuthProblem("invalid_grant", "code_verifier is missing or malformed.")
        if not pkce_matches(verifier, record.code_challenge, record.code_challenge_method or "plain"):
            raise OAuthProblem("invalid_grant", "code_verifier does not match the code_challenge.")

    def _refresh(self, request: Request, application: Application, fields: dict[str, str]) -> Response:
        value = fields.get("refresh_token")
        if not value:
            raise OAuthProblem("invalid_request", "refresh_token is required.")
        record = self.backend.credentials.lookup(value)
        if record is None or record.kind is not CredentialKind.REFRESH_TOKEN \
                or record.client_id != application.client_id:
            raise OAuthProblem("invalid_grant", "unknown refresh token.")
        check = self.backend.credentials.check(value, ctx=record.ctx, now=self.backend.now(),
                                               client_id=application.client_id,
                                               kinds=(CredentialKind.REFRESH_TOKEN,))
        if check.verdict is Verdict.REVOKED:
            raise OAuthProblem("invalid_grant", "the refresh token was revoked: sign in again.")
        if check.verdict is Verdict.EXPIRED:
            raise OAuthProblem("invalid_grant", "the refresh token has expired: sign in again.")
        if not check.valid:
            raise OAuthProblem("invalid_grant", f"the refresh token is not valid ({check.verdict.value}).")
        tenant = self._running_tenant_for_grant(record.ctx)
        access = self._issue_access_token(tenant.ctx, application.client_id, record.associate_id, secret_hash(value))
        id_token = self._id_token(request.base_url, application.client_id, tenant, record.associate_id, None)
        return self._token_answer(access, tenant.ctx, "refresh_token", id_token=id_token)

    def _client_credentials(self, application: Application, fields: dict[str, str]) -> Response:
        policy = self.clients.policy(application.client_id)
        if not policy.system_user_allowed:
            raise OAuthProblem("unauthorized_client", "this application may not use a System User "
                               "(client_credentials is not enabled for it).")
        tenant = self._client_credentials_tenant(application, fields.get("acr_values"))
        installation = self.backend.apps.installation(tenant.ctx, application.client_id)
        if installation is None:
            raise OAuthProblem("unauthorized_client", f"the application is not installed in tenant {tenant.ctx}, "
                               "so it has no System User there.")
        access = self._issue_access_token(tenant.ctx, application.client_id, installation.system_associate_id, None)
        return self._token_answer(access, tenant.ctx, "client_credentials")

    def _client_credentials_tenant(self, application: Application, acr_values: str | None) -> Tenant:
        tenant = self._requested_tenant(acr_values)
        if tenant is not None:
            return tenant
        installed = [t for t in self.backend.tenants.all()
                     if self.backend.apps.installation(t.ctx, application.client_id) is not None]
        if len(installed) != 1:
            raise OAuthProblem("invalid_request", "name the tenant: acr_values=tenant:CustNNN.")
        return self._running_tenant(installed[0].ctx)

    def _running_tenant_for_grant(self, ctx: str) -> Tenant:
        try:
            return self._running_tenant(ctx)
        except OAuthProblem as problem:
            raise OAuthProblem("invalid_grant", problem.description) from None

    # --- issuing -----------------------------------------------------------------------------------

    def _issue_access_token(self, ctx: str, client_id: str, associate_id: int, grant_hash: str | None) -> str:
        value = f"8A:{ctx}.{secrets.token_urlsafe(32)}"
        now = self.backend.now()
        self.backend.credentials.add(value, CredentialKind.ACCESS_TOKEN, ctx, client_id, associate_id, now,
                                     expires_at=now + self.settings.access_token_lifetime)
        if grant_hash:
            self.grants.link(grant_hash, value)
        return value

    def _issue_refresh_token(self, ctx: str, client_id: str, associate_id: int) -> str:
        value = f"8R:{secrets.token_urlsafe(32)}"
        now = self.backend.now()
        lifetime = self.settings.refresh_token_lifetime
        self.backend.credentials.add(value, CredentialKind.REFRESH_TOKEN, ctx, client_id, associate_id, now,
                                     expires_at=now + lifetime if lifetime else None)
        return value

    def _token_answer(self, access_token: str, ctx: str, grant_type: str, *, refresh_token: str | None = None,
                      id_token: str | None = None) -> Response:
        answer: dict[str, Any] = {"token_type": "Bearer", "access_token": access_token,
                                  "expires_in": int(self.settings.access_token_lifetime.total_seconds())}
        if refresh_token:
            answer["refresh_token"] = refresh_token
        if id_token:
            answer["id_token"] = id_token
        return json_response(200, answer, operation="oauth.token", ctx=ctx, outcome=grant_type)

    def _id_token(self, base_url: str, client_id: str, tenant: Tenant, associate_id: int, nonce: str | None) -> str:
        now = int(self.backend.now().timestamp())
        associate = self.backend.associate(tenant.ctx, associate_id) or {}
        claims: dict[str, Any] = {
            "iss": base_url, "aud": client_id, "sub": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                    f"{base_url}/{tenant.ctx}/{associate_id}")),
            "iat": now, "nbf": now, "exp": now + int(self.settings.id_token_lifetime.total_seconds()),
            claim("ctx"): tenant.ctx, claim("serial"): tenant.serial,
            claim("netserver_url"): tenant.netserver_url(base_url), claim("webapi_url"): tenant.webapi_url(base_url),
            claim("associateid"): str(associate_id),
            claim("is_administrator"): "True" if associate.get("is_administrator") else "False",
            claim("email"): str(associate.get("email") or ""), claim("upn"): str(associate.get("user_name") or ""),
            claim("company_name"): tenant.company_name, claim("initials"): str(associate.get("initials") or ""),
        }
        if nonce:
            claims["nonce"] = nonce
        return self.backend.identity.sign_jwt(claims)

    # --- revocation and logout ---------------------------------------------------------------------

    def revoke(self, request: Request) -> Response:
        """RFC 7009: 200 for any token the client may revoke or that is unknown; its grant's tokens too."""
        basic = (request.header("authorization") or "").lower().startswith("basic ")
        try:
            fields = form_fields(request)
            application = self._authenticate_client(request, fields)
            value = fields.get("token")
            if not value:
                raise OAuthProblem("invalid_request", "token is required.")
        except OAuthProblem as problem:
            return problem_response(problem, "oauth.revoke", basic=basic)
        record = self.backend.credentials.lookup(value)
        revocable = (CredentialKind.ACCESS_TOKEN, CredentialKind.REFRESH_TOKEN)
        if record is not None and record.kind in revocable and record.client_id == application.client_id:
            self.backend.credentials.revoke(value)
            if record.kind is CredentialKind.REFRESH_TOKEN:
                self.grants.revoke_issued(secret_hash(value))
            return json_response(200, {}, operation="oauth.revoke", ctx=record.ctx, outcome="revoked")
        return json_response(200, {}, operation="oauth.revoke", outcome="ignored")

    def logout(self, request: Request) -> Response:
        try:
            fields = form_fields(request) if request.method == "POST" else _single_values(request.query_params)
        except OAuthProblem as problem:
            return pages.error_page(400, problem.description)
        session = _cookie(request, SESSION_COOKIE)
        if session:
            self.backend.credentials.revoke(session)
        target = fields.get("post_logout_redirect_uri")
        if target:
            client_id = fields.get("client_id") or self._hinted_client(fields.get("id_token_hint"))
            if not client_id or not self.clients.policy(client_id).accepts_redirect(target):
                return pages.error_page(400, "post_logout_redirect_uri is not registered for the client named "
                                             "by client_id or id_token_hint.")
            response = redirect(with_query(target, {"state": fields.get("state")}), operation="oauth.logout")
        else:
            response = pages.signed_out_page()
        response.headers["Set-Cookie"] = f"{SESSION_COOKIE}=; Path=/login; Max-Age=0; HttpOnly; SameSite=Lax"
        return response

    def _hinted_client(self, id_token_hint: str | None) -> str | None:
        if not id_token_hint:
            return None
        identity = self.backend.identity
        for key in (identity.key, *(old.key for old in identity.retired)):  # a hint may predate a key rotation
            try:
                claims = jwt.decode(id_token_hint, key.public_key(), algorithms=["RS256"],
                                    options={"verify_aud": False, "verify_exp": False})
            except jwt.PyJWTError:
                continue
            audience = claims.get("aud")
            return audience if isinstance(audience, str) else None
        return None


def _cookie(request: Request, name: str) -> str | None:
    header = request.header("cookie")
    if not header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except Exception:  # a malformed Cookie header is no session
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel is not None and morsel.value else None
