"""Onsite NetServer: sign in with a user name and password, then call agents; no tenant lookup, no app token.

    python samples/08_onsite_username_password.py [--sandbox DIR]

The port of a .NET console program that set ``DefaultMode=Remote`` and ``RemoteBaseURL`` and called
``SoSession.Authenticate(user, password)``: soapkit signs in through ``SoPrincipalAgent.AuthenticateUsernamePassword``
on the first call, caches the ticket and signs in again once if NetServer rejects it. The password is read from
a file (or an environment variable), never written in the program. See docs/migrating-from-wcf.md.
"""

from __future__ import annotations

import sys

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit import Onsite, UsernamePassword
from soapkit.redaction import mask


def main(argv: list[str] | None = None) -> int:
    args = sample_parser(__doc__).parse_args(argv)
    with sandbox_config(args.sandbox) as config:
        onsite = config["onsite"]                        # your App.config's RemoteBaseURL and user, for real
        user = UsernamePassword(onsite["user"], password_file=onsite["password_file"])
        with soapkit.connect(env=Onsite(onsite["base_url"]), credentials=user) as so:
            print(f"services:       {so.services_url()}")
            company = so.ContactAgent.GetContactEntity(1)    # signs in first: SoPrincipal.AuthenticateUsernamePassword
            if company is None:
                print("company #1 does not exist", file=sys.stderr)
                return 1
            print(f"signed in as:   {user.user}, ticket {mask(so.ticket(), 3)}")
            print(f"company #1:     {company.Name} ({len(company.Persons)} persons)")
            persons = so.PersonAgent.GetPersonsFromContact(ContactId=1)
            print(f"persons:        {', '.join(p.FullName or '' for p in persons)}")
            print(f"sign-ins:       {user.fetch_count}; tenant lookups: {so.tenants.lookups}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
