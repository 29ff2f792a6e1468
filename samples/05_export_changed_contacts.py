"""Export the companies registered or changed since a date (ArchiveAgent.GetArchiveListByColumns) to CSV.

    python samples/05_export_changed_contacts.py [--sandbox DIR] [--since 2023-03-01] [-o contacts.csv]

A sync job's query: ``registeredDate afterTime T or updatedDate afterTime T`` (a new row has no
updatedDate). Rows are read page by page with a progress bar on stderr; a first, cheap query of the ids
alone tells how many there are. Archive values come encoded (``[I:42]``, ``[DT:MM/dd/yyyy HH:mm:ss]``) and
are decoded to plain CSV values.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from typing import Any, TextIO

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit import AgentError, SystemUser

COLUMNS = ["contactId", "name", "department", "registeredDate", "updatedDate"]
EXIT_NOT_IMPLEMENTED = 3


def changed_since(since: str) -> dict[str, Any]:
    """The restriction, in the shape zeep wants for ArrayOfArchiveRestrictionInfo."""
    return {"ArchiveRestrictionInfo": [
        {"Name": "registeredDate", "Operator": "afterTime", "Values": {"string": [since]}, "IsActive": True,
         "InterOperator": "Or"},
        {"Name": "updatedDate", "Operator": "afterTime", "Values": {"string": [since]}, "IsActive": True},
    ]}


def decode(value: str | None) -> str:
    """``[I:42]`` -> ``42``, ``[DT:02/14/2023 09:30:00.0000000]`` -> ``2023-02-14T09:30:00``, text as is."""
    text = value or ""
    if match := re.fullmatch(r"\[I:(-?\d+)\]", text):
        return match.group(1)
    if match := re.fullmatch(r"\[DT:(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)(?:\.\d+)?\]", text):
        return dt.datetime.strptime(match.group(1), "%m/%d/%Y %H:%M:%S").isoformat()
    return text


def row_of(item: Any) -> dict[str, str]:
    pairs = item.ColumnData.ColumnDataKeyValuePair if item.ColumnData else []  # a nested WCF dictionary
    return {pair.Key: decode(pair.Value.DisplayValue if pair.Value else None) for pair in pairs}


def progress(done: int, total: int, stream: TextIO = sys.stderr) -> None:
    width = 30
    filled = width * done // total if total else width
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        stream.write("\n")
    stream.flush()


def export(so: soapkit.SuperOfficeClient, since: str, out: TextIO, page_size: int) -> int:
    query = {"ProviderName": "Contact", "Restriction": changed_since(since),
             "SortOrder": {"ArchiveOrderByInfo": [{"Name": "contactId", "Direction": "ASC"}]}}
    ids = so.ArchiveAgent.GetArchiveListByColumns(Columns={"string": ["contactId"]}, Page=0, PageSize=0, **query)
    total = len(ids or [])
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    done, page = 0, 0
    progress(0, total)
    while done < total:
        items = so.ArchiveAgent.GetArchiveListByColumns(Columns={"string": COLUMNS}, Page=page,
                                                         PageSize=page_size, **query) or []
        if not items:
            break
        writer.writerows(row_of(item) for item in items)
        done, page = done + len(items), page + 1
        progress(done, total)
    return done


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
            count = export(so, args.since, out, args.page_size)
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
