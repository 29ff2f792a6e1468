"""List the persons of a company (PersonAgent.GetPersonsFromContact).

    python samples/03_list_persons_of_company.py [--sandbox DIR] [--contact-id 1]

WCF arrays (ArrayOfPerson) come back as Python lists.
"""

from __future__ import annotations

import sys

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit import SystemUser


def main(argv: list[str] | None = None) -> int:
    parser = sample_parser(__doc__)
    parser.add_argument("--contact-id", type=int, default=1)
    args = parser.parse_args(argv)
    with sandbox_config(args.sandbox) as config, soapkit.connect(
        config["context_identifier"], env=config["base_url"], app_token=config["client_secret"],
        credentials=SystemUser(config["system_user_token"], config["private_key_pem"]),
    ) as so:
        company = so.ContactAgent.GetContact(args.contact_id)
        persons = so.PersonAgent.GetPersonsFromContact(args.contact_id) or []
        print(f"{len(persons)} person(s) at {company.Name if company else f'company #{args.contact_id}'}:")
        print(f"  {'id':>4}  {'name':<28} {'title':<26} email")
        for person in persons:
            print(f"  {person.PersonId:>4}  {person.FullName or '':<28} {person.Title or '':<26} {person.Email or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
