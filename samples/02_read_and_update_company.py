"""Read a company (ContactAgent.GetContactEntity), change it, save it (SaveContactEntity), read it back.

    python samples/02_read_and_update_company.py [--sandbox DIR] [--contact-id 1] [--department Sales]

Entities come back as zeep objects with the WSDL's field names (the .NET property names); change fields
and pass the same object to the Save operation.
"""

from __future__ import annotations

import datetime as dt
import sys

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit import SystemUser


def main(argv: list[str] | None = None) -> int:
    parser = sample_parser(__doc__)
    parser.add_argument("--contact-id", type=int, default=1)
    parser.add_argument("--department", help="the new department (default: a timestamp)")
    args = parser.parse_args(argv)
    with sandbox_config(args.sandbox) as config, soapkit.connect(
        config["context_identifier"], env=config["base_url"], app_token=config["client_secret"],
        credentials=SystemUser(config["system_user_token"], config["private_key_pem"]),
    ) as so:
        company = so.ContactAgent.GetContactEntity(args.contact_id)
        if company is None:
            print(f"no company with id {args.contact_id}", file=sys.stderr)
            return 1
        print(f"read:  #{company.ContactId} {company.Name!r}, department {company.Department!r}")

        company.Department = args.department or f"Updated {dt.datetime.now():%H:%M:%S}"
        saved = so.ContactAgent.SaveContactEntity(company)
        assert saved is not None, "a save answers with the saved company"
        print(f"saved: #{saved.ContactId} department {saved.Department!r}, updated {saved.UpdatedDate:%Y-%m-%d %H:%M}")

        again = so.ContactAgent.GetContactEntity(args.contact_id)
        if again is None:
            print(f"company {args.contact_id} is gone", file=sys.stderr)
            return 1
        print(f"again: #{again.ContactId} department {again.Department!r}")
        return 0 if again.Department == company.Department else 1


if __name__ == "__main__":
    sys.exit(main())
