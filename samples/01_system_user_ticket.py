"""Get a system-user ticket: sign the system-user token, exchange it, validate the JWT, read the ticket.

    python samples/01_system_user_ticket.py [--sandbox DIR]

A background integration acts as the tenant's system user. soapkit signs the system-user token with the
partner key, exchanges it at PartnerSystemUserService, validates the returned JWT (RS256, issuer, audience,
expiry, key from the JWKS) and caches the ticket: later calls reuse it instead of exchanging again.
"""

from __future__ import annotations

import sys

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit import SystemUser
from soapkit.credentials.jwt_validation import claim
from soapkit.redaction import mask


def main(argv: list[str] | None = None) -> int:
    args = sample_parser(__doc__).parse_args(argv)
    with sandbox_config(args.sandbox) as config:
        so = soapkit.connect(
            config["context_identifier"],
            env=config["base_url"],                      # "sod", "online", ... for a real tenant
            app_token=config["client_secret"],           # the application's client secret
            credentials=SystemUser(config["system_user_token"], config["private_key_pem"]),
        )
        with so:
            issued = so.credentials.issued(so.context)   # sign + exchange + validate, once
            print(f"ticket:            {mask(issued.value, 3)}   (printed only as a prefix: it is a password)")
            for name in ("ctx", "netserver_url", "associateid", "company_name", "is_administrator"):
                print(f"{name + ':':14} {issued.claims.get(claim(name))}")
            so.ticket()                                  # served from the cache
            print(f"exchanges:         {so.credentials.fetch_count} (the second request for a ticket used the cache)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
