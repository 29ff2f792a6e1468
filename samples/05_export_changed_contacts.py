"""Export the companies registered or changed since a date (ArchiveAgent.GetArchiveListByColumns) to CSV.

    python samples/05_export_changed_contacts.py [--sandbox DIR] [--since 2023-03-01] [-o contacts.csv]

A sync job's query: ``registeredDate afterTime T or updatedDate afterTime T`` (a new row has no
updatedDate). ``so.archive`` reads the rows page by page, decodes Archive's values (``[I:42]`` -> 42,
``[DT:MM/dd/yyyy HH:mm:ss]`` -> datetime) and shows a progress bar on stderr (``soapkit[progress]``); a
first, cheap query of the ids alone tells how many rows there are.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from typing import Any, TextIO

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit import AgentError, SystemUser

COLUMNS = ["contactId", "name", "department", "registeredDate", "updatedDate"]
EXIT_NOT_IMPLEMENTED = 3


def changed_since(since: dt.datetime) -> list[Any]:
    """New or changed rows: Python restrictions, encoded by soapkit the way Archive wants them."""
    return [("registeredDate", "afterTime", since), "or", ("updatedDate", "afterTime", since)]


def csv_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def export(so: soapkit.SuperOfficeClient, since: dt.datetime, out: TextIO, page_size: int) -> int:
    restrictions = changed_since(since)
    total = sum(1 for _ in so.archive("Contact", ["contactId"], restrictions=restrictions, page_size=1000))
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    rows = so.archive("Contact", COLUMNS, restrictions=restrictions, order=["contactId"], page_size=page_size,
                      progress=True, total=total)
    count = 0
    for row in rows:
        writer.writerow({name: csv_value(value) for name, value in row.items()})
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = sample_parser(__doc__)
    parser.add_argument("--since", default="2023-01-01", help="ISO date or date-time, UTC (default 2023-01-01)")
    parser.add_argument("-o", "--output", help="CSV file (default: stdout)")
    parser.add_argument("--page-size", type=int, default=2)
    args = parser.parse_args(argv)
    with sandbox_config(args.sandbox) as config, soapkit.connect(
        config["context_identifier"], env=config["base_url"], app_token=config["client_secret"],
        credentials=SystemUser(config["system_user_token"], config["private_key_pem"]),
    ) as so:
        out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        try:
            count = export(so, dt.datetime.fromisoformat(args.since), out, args.page_size)
        except AgentError as error:
            if error.exception_type == "NotImplementedException":
                print(f"ArchiveAgent is not implemented by this server: {error.message}", file=sys.stderr)
                return EXIT_NOT_IMPLEMENTED
            raise
        finally:
            if out is not sys.stdout:
                out.close()
    print(f"exported {count} compan{'y' if count == 1 else 'ies'} changed since {args.since}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
