"""``soapkit login``: sign a user in through the browser and keep the refresh token for later runs.

The code comes back to a one-shot receiver on ``http://127.0.0.1:{port}/`` (an ephemeral port unless
``--port``); PKCE S256, ``state`` and the id_token (issuer, audience, nonce, key by kid) are checked. The
refresh token is stored in ``--store DIR`` (default ``~/.config/soapkit/sign-ins``, files of mode 0600);
``OAuthUser(client_id, store=SignInStore(env, ctx, client_id))`` uses it. ``--logout`` revokes and forgets it.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soapkit.cli._output import stdout_output
from soapkit.cli._settings import add_connection_options, effective_settings, refuse_onsite, require
from soapkit.config import Settings, build_client, client_secret, context_identifier, sign_in_store

if TYPE_CHECKING:
    from soapkit.credentials.oauth import SignInStore
    from soapkit.tenant import Environment

EXAMPLES = """\
examples:
  soapkit login --env sod --client-id 0123abcd --ctx Cust12345      (client secret from SOAPKIT_APP_TOKEN)
  soapkit login --sandbox ./sb --no-browser                          (prints the URL to open)
  soapkit login --sandbox ./sb --logout
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "login", help="sign a user in through the browser (OAuth, PKCE) and store the refresh token",
        description="Open the SuperOffice sign-in page, receive the authorization code on a loopback address, "
        "redeem it with PKCE, validate the id_token and store the refresh token (mode 0600) for later runs.",
        epilog=EXAMPLES)
    parser.add_argument("--no-browser", action="store_true", help="print the sign-in URL instead of opening it")
    parser.add_argument("--port", type=int, default=0,
                        help="loopback port for the redirect (default: any free port; use a fixed one when the "
                        "application registered http://127.0.0.1:PORT/)")
    parser.add_argument("--login-timeout", type=float, default=300.0, metavar="SECONDS",
                        help="how long to wait for the browser (default 300)")
    parser.add_argument("--login-hint", metavar="USER", help="pre-fill the user name on the sign-in page")
    parser.add_argument("--client-auth", choices=("basic", "post"), dest="client_auth",
                        help="how the client secret is sent to the token endpoint (default: basic; "
                        "or SOAPKIT_CLIENT_AUTH)")
    parser.add_argument("--store", metavar="DIR", dest="sign_in_store",
                        help=f"where sign-ins are kept (default {_default_store()}; "
                        "or SOAPKIT_SIGN_IN_STORE)")
    parser.add_argument("--logout", action="store_true",
                        help="revoke the stored refresh token at the identity service and forget it")
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def _default_store() -> Path:
    """soapkit.credentials.oauth.default_sign_in_directory(), without loading the OAuth machinery for --help."""
    from soapkit.config.layers import default_sign_in_directory

    return default_sign_in_directory()


def run(args: argparse.Namespace, open_url: Callable[[str], Any] | None = None) -> int:
    from soapkit.credentials.oauth import sign_in
    from soapkit.tenant import Environment

    settings = effective_settings(args)
    refuse_onsite(settings, "login", "it signs a user in through SuperOffice Online's identity service "
                  "(OAuth in a browser), and an onsite installation has none; onsite users sign in with a "
                  "user name and password (SoPrincipal.AuthenticateUsernamePassword).",
                  "Set the user with SOAPKIT_USER_NAME (user_name in soapkit.toml) and the password with "
                  "SOAPKIT_PASSWORD_FILE (password_file in soapkit.toml) or SOAPKIT_PASSWORD, then call: "
                  "soapkit call --env onsite:URL --auth username_password ... signs in by itself and "
                  "caches the ticket.")
    # everything `login` needs, reported at once (the tenant only to forget a sign-in: signing in may pick it)
    require(settings, ("client_id", "app_token", "context_identifier") if args.logout else ("client_id", "app_token"),
            needs_credential=False)
    client = client_secret(settings)
    environment = Environment.resolve(str(settings.get("env")))

    def store_for(ctx: str) -> SignInStore:
        return sign_in_store(settings, ctx)

    if args.logout:
        return _logout(args, settings, store_for(context_identifier(settings)))

    def announce(url: str) -> None:
        verb = "Open this URL to sign in" if args.no_browser else "Opening the sign-in page; if it does not open, visit"
        print(f"{verb}:\n  {url}", file=sys.stderr, flush=True)

    browser = open_url or ((lambda url: None) if args.no_browser else webbrowser.open)
    result = sign_in(environment, client, tenant=settings.get("context_identifier"), login_hint=args.login_hint,
                     open_url=browser, announce=announce, port=args.port, timeout=args.login_timeout,
                     store_for=store_for)
    _report(args, environment, result.context_identifier, dict(result.claims), store_for(result.context_identifier))
    return 0


def _report(args: argparse.Namespace, environment: Environment, ctx: str, claims: dict[str, Any],
            store: SignInStore) -> None:
    from soapkit.credentials.jwt_validation import CLAIM_PREFIX

    out = stdout_output(args)
    summary = {
        "environment": environment.base_url, "context_identifier": ctx,
        "user": claims.get(CLAIM_PREFIX + "upn"), "email": claims.get(CLAIM_PREFIX + "email"),
        "associate_id": claims.get(CLAIM_PREFIX + "associateid"),
        "netserver_url": claims.get(CLAIM_PREFIX + "netserver_url"),
        "stored_in": str(getattr(store.cache, "directory", store.cache)),
    }
    if out.json_mode:
        out.json(summary)
        return
    out.line(f"Signed in as {summary['user']} ({summary['email']}) to {ctx} at {environment.base_url}.", "green")
    out.fields([(name, value) for name, value in summary.items() if name not in ("environment",)])


def _logout(args: argparse.Namespace, settings: Settings, store: SignInStore) -> int:
    from soapkit.credentials.oauth import OAuthUser

    secret = client_secret(settings)
    user = OAuthUser(store.client_id, store=store, client_secret=secret.secret, client_auth=secret.auth)
    if not user.has_refresh_token:
        print(f"No stored sign-in for {store.context_identifier} at {store.environment.base_url}.", file=sys.stderr)
        return 0
    with build_client(settings, credentials=user) as client:
        revoked = user.sign_out(client.context)
    what = "revoked and forgotten" if revoked else "forgotten (this environment publishes no revocation endpoint)"
    print(f"Signed out of {store.context_identifier}: the refresh token was {what}.", file=sys.stderr)
    return 0
