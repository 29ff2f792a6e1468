"""Call agents with an OAuth access token (8A:...) instead of a system-user ticket (7T:...).

    python samples/04_access_token_instead_of_ticket.py [--sandbox DIR] [--token-file FILE]

The Ticket header takes either kind of credential, so the same generated agents serve both. Give a token
obtained elsewhere with --token-file or SOAPKIT_TICKET; soapkit uses it as is (it cannot renew it). Without
one, soapkit's ClientCredentials provider gets one for the application's System User (client-credentials
grant) and renews it before it expires, like any other credential.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit.credentials import ClientCredentials, Credential, StaticToken
from soapkit.redaction import mask


def main(argv: list[str] | None = None) -> int:
    parser = sample_parser(__doc__)
    parser.add_argument("--token-file", help="file holding an 8A: access token (or set SOAPKIT_TICKET)")
    args = parser.parse_args(argv)
    with sandbox_config(args.sandbox) as config:
        given = Path(args.token_file).read_text().strip() if args.token_file else os.environ.get("SOAPKIT_TICKET")
        credentials: Credential = StaticToken(given) if given else ClientCredentials(config["client_id"])
        with soapkit.connect(config["context_identifier"], env=config["base_url"],
                             app_token=config["client_secret"], credentials=credentials) as so:
            token = credentials.token(so.context)
            print(f"credential: {mask(token, 3)}")
            principal = so.SoPrincipalAgent.AuthenticateWithAccessToken(AccessToken=token)
            if principal is None:
                print("the tenant did not accept the token", file=sys.stderr)
                return 1
            print(f"signed in as {principal.FullName} (associate {principal.AssociateId}, {principal.UserType})")
            company = so.ContactAgent.GetContactEntity(1)
            print(f"company #1:  {company.Name if company is not None else 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
