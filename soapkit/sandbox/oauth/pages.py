"""The sandbox's sign-in and consent page: plain HTML, one form, no script.

The form posts back to the authorize URL with the original request as hidden fields, plus ``username``,
``password`` and ``consent`` (``allow`` or ``deny``). Tests can post the same fields without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from soapkit.sandbox.web import Response

_STYLE = "body{font-family:sans-serif;max-width:28em;margin:3em auto}label{display:block;margin:.6em 0}"


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n{body}\n</body></html>\n")


def html(status: int, title: str, body: str, **log: object) -> Response:
    response = Response(status, _page(title, body).encode("utf-8"), "text/html; charset=utf-8", log=dict(log))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def sign_in_page(action: str, request_fields: Mapping[str, str], *, application: str, tenant: str | None,
                 username: str = "", signed_in_as: str | None = None, error: str | None = None,
                 status: int = 200) -> Response:
    """The sign-in and consent form for ``application``; ``request_fields`` travel as hidden inputs."""
    hidden = "\n".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                       for k, v in request_fields.items() if v)
    notice = f'<p role="alert"><strong>{escape(error)}</strong></p>' if error else ""
    where = f" in tenant <strong>{escape(tenant)}</strong>" if tenant else ""
    if signed_in_as:
        credentials = (f"<p>Signed in as <strong>{escape(signed_in_as)}</strong>.</p>"
                       '<input type="hidden" name="use_session" value="1">')
    else:
        credentials = (f'<label>User name or e-mail <input name="username" value="{escape(username)}" '
                       'autocomplete="username" required></label>'
                       '<label>Password <input name="password" type="password" autocomplete="current-password" '
                       "required></label>")
    body = (f"{notice}<p><strong>{escape(application)}</strong> asks to sign you in{where} and act on your "
            f'behalf (scope openid).</p>\n<form method="post" action="{escape(action)}">\n{hidden}\n{credentials}\n'
            '<button name="consent" value="allow" type="submit">Allow</button> '
            '<button name="consent" value="deny" type="submit">Deny</button>\n</form>\n'
            "<p><small>soapkit sandbox: seeded users sign in with the password <code>sandbox</code>.</small></p>")
    return html(status, "Sign in to SuperOffice (soapkit sandbox)", body, operation="oauth.authorize")


def error_page(status: int, message: str) -> Response:
    """An authorization request that cannot be answered by redirecting (bad client or redirect URI)."""
    return html(status, "Sign-in request refused", f"<p>{escape(message)}</p>", operation="oauth.authorize",
                outcome="refused")


def signed_out_page() -> Response:
    return html(200, "Signed out", "<p>You are signed out of the soapkit sandbox.</p>", operation="oauth.logout")
