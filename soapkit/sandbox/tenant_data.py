"""A tenant's data as a whole: snapshot and restore, and seed data from a JSON document the user writes.

A snapshot holds every stored row of one tenant -- associates, companies, persons, the generic entity
table (sales, projects, appointments, ...) and the id sequences -- so a restore brings ids back too. It
does not hold credentials or installations: tickets issued before a restore keep working. A snapshot can
be restored into another tenant (its rows are copied under that tenant's name), which is how the pytest
fixture :func:`soapkit.testing.soapkit_tenant` makes a fresh tenant per test cheaply.

Seed documents (``seed.json``), every key optional::

    {
      "sample_data": false,
      "contacts": [{"Name": "Acme AS", "OrgNr": "999888777", "Country": {"CountryId": 578}}],
      "persons":  [{"Firstname": "Ada", "Lastname": "Lovelace", "Contact": {"ContactId": 1}}],
      "entities": {
        "Sale": [{"Heading": "First deal", "Amount": 1000.0, "Contact": {"ContactId": 1}}],
        "Appointment.Appointment": [{"Description": "Kick-off", "StartDate": "2025-03-01T10:00:00"}]
      }
    }

* ``sample_data`` -- keep the sandbox's sample companies and persons (default ``true``); with ``false`` the
  tenant starts with the associates only, so the document's records get ids 1, 2, 3 ... in file order.
* ``contacts`` / ``persons`` -- ``ContactEntity`` / ``PersonEntity`` members by their WSDL names, saved as
  ``SaveContactEntity`` / ``SavePersonEntity`` would save them.
* ``entities`` -- any entity family by name: ``X`` for ``{X}Agent.Save{X}Entity`` (``Sale``, ``Project``,
  ``Quote`` ...) or ``Service.X`` where the agent has another name. Members by their WSDL names.

A record may name its id (``"ContactId": 7``) to get exactly that id, if it is not taken yet. Dates are
ISO 8601 text (``"2025-03-01T10:00:00"``), numbers and flags JSON numbers and booleans.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeep.xsd.types import builtins
from zeep.xsd.types.complex import ComplexType

from soapkit.sandbox.agents import generic, schema
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure
from soapkit.sandbox.backend import Backend
from soapkit.sandbox.seed import SYSTEM_ASSOCIATE_ID
from soapkit.sandbox.store import Store

# Every table holding one tenant's CRM data; credentials, installations and the tenant row stay out.
TENANT_TABLES = ("associate", "contact", "person", "entity", "id_sequence")
SEED_KEYS = {"sample_data", "contacts", "persons", "entities"}


@dataclass(frozen=True)
class TenantSnapshot:
    """Every stored row of one tenant's data, by table (see :data:`TENANT_TABLES`)."""

    ctx: str
    tables: Mapping[str, tuple[dict[str, Any], ...]]

    def count(self, table: str) -> int:
        return len(self.tables.get(table, ()))


def snapshot(store: Store, ctx: str) -> TenantSnapshot:
    with store.transaction():
        tables = {table: tuple(store.all(f"SELECT * FROM {table} WHERE ctx = ?", (ctx,)))  # noqa: S608
                  for table in TENANT_TABLES}
    return TenantSnapshot(ctx, tables)


def clear(store: Store, ctx: str) -> None:
    with store.transaction():
        for table in TENANT_TABLES:
            store.execute(f"DELETE FROM {table} WHERE ctx = ?", (ctx,))  # noqa: S608


def restore(store: Store, ctx: str, saved: TenantSnapshot) -> None:
    """Make tenant ``ctx``'s data exactly ``saved`` (which may come from another tenant)."""
    with store.transaction():
        clear(store, ctx)
        for table, rows in saved.tables.items():
            if not rows:
                continue
            columns = list(rows[0])
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names are ours
                   f"VALUES ({', '.join('?' for _ in columns)})")
            store.executemany(sql, [tuple(ctx if column == "ctx" else row[column] for column in columns)
                                    for row in rows])


def remove_tenant(store: Store, ctx: str) -> None:
    """The tenant, its data, installations and credentials, gone."""
    with store.transaction():
        clear(store, ctx)
        for table in ("credential", "installation", "tenant"):
            store.execute(f"DELETE FROM {table} WHERE ctx = ?", (ctx,))  # noqa: S608


# --- seed documents ---------------------------------------------------------------------------

def read_seed(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A seed document from a path to a JSON file or a mapping, checked for unknown keys."""
    document = dict(source) if isinstance(source, Mapping) else json.loads(Path(source).read_text("utf-8"))
    if not isinstance(document, dict):
        raise ValueError("A seed document is a JSON object (see soapkit.sandbox.tenant_data).")
    unknown = set(document) - SEED_KEYS
    if unknown:
        raise ValueError(f"Unknown keys in the seed document: {', '.join(sorted(unknown))}; "
                         f"it may have {', '.join(sorted(SEED_KEYS))}.")
    return document


def load_seed(backend: Backend, ctx: str, source: str | Path | Mapping[str, Any]) -> dict[str, list[int]]:
    """Save the document's records into tenant ``ctx``; returns the ids given, by ``contacts``/``persons``/
    entity family name. Raises :class:`ValueError` naming the record that could not be saved."""
    document = read_seed(source)
    tenant = backend.tenants.get(ctx)
    if tenant is None:
        raise KeyError(ctx)
    store = backend.store
    if document.get("sample_data", True) is False:
        with store.transaction():
            for table in ("contact", "person", "entity"):
                store.execute(f"DELETE FROM {table} WHERE ctx = ?", (ctx,))  # noqa: S608
            store.execute("DELETE FROM id_sequence WHERE ctx = ?", (ctx,))
    work: list[tuple[str, str, str, list[Any]]] = [
        ("contacts", "Contact", "Contact", list(document.get("contacts") or [])),
        ("persons", "Person", "Person", list(document.get("persons") or [])),
    ]
    for key, records in (document.get("entities") or {}).items():
        service, _, name = key.rpartition(".")
        work.append((key, service or name, name, list(records or [])))
    handlers = generic._agents_of(backend.catalog)
    given: dict[str, list[int]] = {}
    with store.transaction():
        for key, service, name, records in work:
            operation = f"Save{name}Entity"
            try:
                described = backend.catalog.describe(service)
                op = described.operation(operation)
            except Exception:
                raise ValueError(f"Seed key {key!r}: there is no {service}Agent.{operation}.") from None
            handler = handlers.handler(service, operation)
            family = handlers.families(service).get(name)
            if handler is None or family is None:
                raise ValueError(f"Seed key {key!r}: the sandbox does not store {name} entities.")
            part = op.input.body.type.elements[0][0]
            for index, record in enumerate(records):
                try:
                    entity = coerce(record, family.entity_type)
                    wanted = int(entity.pop(family.id_member, 0) or 0)
                    sequence = "contact" if name == "Contact" else "person" if name == "Person" \
                        else f"entity:{family.key}"
                    if wanted:
                        _claim_id(store, ctx, sequence, wanted)
                    call = AgentCall(service, operation, tenant, {part: {**entity, family.id_member: 0}}, backend,
                                     "", backend.now(), SYSTEM_ASSOCIATE_ID, None)
                    saved = handler(call)["Response"]
                except AgentFailure as failure:
                    raise ValueError(f"Seed {key}[{index}]: {failure.exception_type}: {failure.message}") from None
                except (TypeError, ValueError) as error:
                    raise ValueError(f"Seed {key}[{index}]: {error}") from None
                given.setdefault(key, []).append(int(saved[family.id_member]))
    return given


def _claim_id(store: Store, ctx: str, sequence: str, wanted: int) -> None:
    row = store.one("SELECT next_id FROM id_sequence WHERE ctx = ? AND name = ?", (ctx, sequence))
    next_id = row["next_id"] if row else 1
    if wanted < next_id:
        raise ValueError(f"id {wanted} is taken (the next free id is {next_id})")
    store.execute("INSERT INTO id_sequence (ctx, name, next_id) VALUES (?, ?, ?) "
                  "ON CONFLICT (ctx, name) DO UPDATE SET next_id = excluded.next_id", (ctx, sequence, wanted))


def coerce(value: Any, xsd_type: Any) -> Any:
    """JSON values -> the Python values zeep would have read for ``xsd_type`` (dates from ISO text ...)."""
    if value is None:
        return None
    if isinstance(xsd_type, ComplexType):
        if schema.is_array(xsd_type):
            item_name, item_element = xsd_type.elements[0]
            items = value.get(item_name, []) if isinstance(value, dict) else value
            if not isinstance(items, list):
                raise TypeError(f"{xsd_type.name} is a list")
            return {item_name: [coerce(item, item_element.type) for item in items]}
        if not isinstance(value, dict):
            raise TypeError(f"{xsd_type.name} is an object, not {value!r}")
        members = dict(xsd_type.elements)
        unknown = set(value) - set(members)
        if unknown:
            raise TypeError(f"{xsd_type.name} has no member {', '.join(sorted(unknown))}")
        return {member: coerce(item, members[member].type) for member, item in value.items()}
    if isinstance(value, str):
        if isinstance(xsd_type, builtins.DateTime):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(xsd_type, builtins.Date):
            return dt.date.fromisoformat(value)
        if isinstance(xsd_type, builtins.Integer):
            return int(value)
        if isinstance(xsd_type, builtins.Decimal):
            return decimal.Decimal(value)
    if isinstance(xsd_type, (builtins.Double, builtins.Float)) and isinstance(value, int):
        return float(value)
    return value
