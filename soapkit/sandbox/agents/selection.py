"""Selection agent (``Selection.svc``) basics: static selections and their members.

The ``SelectionEntity`` itself is the generic entity store's (``CreateDefault``/``Save``/``Get``/``Delete``
``SelectionEntity``). Members are kept beside it (in the same per-tenant entity table, so tenant snapshots hold
them) and the entity's ``MemberCount``, ``LastMembershipChange`` and ``LastMembershipChangeBy`` follow them:

* ``AddContactSelectionMembers(SelectionId, ContactPersonIds)`` / ``RemoveContactSelectionMembers`` -- companies
  (``PersonId`` 0) and persons (with their ``ContactId``); each must exist (else ``ValidationException``);
  adding a member twice keeps one;
* ``AddSelectionMembers(SelectionId, Ids)`` -- the number added -- and ``RemoveSelectionMembersById``: plain ids,
  for selections of other entities (sales, projects ...), kept as given;
* ``GetSelectionMembersArchiveRows(SelectionId, Select)`` -- one ``ArchiveListItem`` per company/person member
  with the comma-separated ``Select`` columns (the Archive agent's ``Contact``/``Person`` columns and values; a
  column only the other kind has is empty, one neither has fails with ``ArgumentException``).

An unknown ``SelectionId`` fails with ``EntityNotFoundException``. ``DeleteSelectionEntity`` removes the members too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from soapkit.sandbox.agents import archive, schema, views
from soapkit.sandbox.agents.entities import NOT_FOUND, VALIDATION, rows
from soapkit.sandbox.agents.generic import family
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure, handles

SERVICE = "Selection"
MEMBERS = "Selection.Members"


def _selection(call: AgentCall) -> tuple[Any, dict[str, Any]]:
    table = rows(call, family(call, SERVICE, "Selection"))
    selection_id = int(call.param("SelectionId", 0))
    stored = table.get(selection_id)
    if stored is None:
        raise AgentFailure(NOT_FOUND, f"Selection {selection_id} does not exist.")
    return table, stored


def _members(call: AgentCall, selection_id: int) -> dict[str, list[Any]]:
    row = call.crm.store.one("SELECT data FROM entity WHERE ctx = ? AND family = ? AND entity_id = ?",
                             (call.ctx, MEMBERS, selection_id))
    data = schema.from_json(row["data"]) if row else {}
    return {"contact_persons": [tuple(p) for p in data.get("contact_persons", [])], "ids": list(data.get("ids", []))}


def _save_members(call: AgentCall, table: Any, selection: dict[str, Any], members: dict[str, list[Any]]) -> None:
    store = call.crm.store
    selection_id = selection["SelectionId"]
    store.execute("INSERT INTO entity (ctx, family, entity_id, data) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT (ctx, family, entity_id) DO UPDATE SET data = excluded.data",
                  (call.ctx, MEMBERS, selection_id,
                   schema.to_json({"contact_persons": [list(p) for p in members["contact_persons"]],
                                   "ids": members["ids"]})))
    changed = {**selection, "MemberCount": len(members["contact_persons"]) + len(members["ids"]),
               "LastMembershipChange": call.now.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0),
               "LastMembershipChangeBy": call.associate_id,
               "LastMembershipChangeByAssociate": views.associate_carrier(call.crm.associate(call.associate_id))}
    table.save(changed)


def _contact_persons(call: AgentCall, check: bool) -> list[tuple[int, int]]:
    items = (call.param("ContactPersonIds", {}) or {}).get("ContactPersonId") or []
    crm, pairs = call.crm, []
    for item in items:
        contact_id, person_id = int(item.get("ContactId") or 0), int(item.get("PersonId") or 0)
        if person_id:
            person = crm.person(person_id)
            if person is None and check:
                raise AgentFailure(VALIDATION, f"Person {person_id} does not exist.")
            contact_id = int(person["contact_id"]) if person is not None else contact_id
        elif check and crm.contact(contact_id) is None:
            raise AgentFailure(VALIDATION, f"Contact {contact_id} does not exist.")
        pairs.append((contact_id, person_id))
    return pairs


def _ids(call: AgentCall) -> list[int]:
    return [int(i) for i in (call.param("Ids", {}) or {}).get("int") or []]


@handles(SERVICE, "AddContactSelectionMembers")
def add_contact_members(call: AgentCall) -> dict[str, Any]:
    with call.crm.store.transaction():
        table, selection = _selection(call)
        members = _members(call, selection["SelectionId"])
        for pair in _contact_persons(call, check=True):
            if pair not in members["contact_persons"]:
                members["contact_persons"].append(pair)
        _save_members(call, table, selection, members)
    return {}


@handles(SERVICE, "RemoveContactSelectionMembers")
def remove_contact_members(call: AgentCall) -> dict[str, Any]:
    with call.crm.store.transaction():
        table, selection = _selection(call)
        members = _members(call, selection["SelectionId"])
        gone = {(c, p) for c, p in _contact_persons(call, check=False)}
        gone_persons = {p for _, p in gone if p}
        members["contact_persons"] = [(c, p) for c, p in members["contact_persons"]
                                      if (c, p) not in gone and (not p or p not in gone_persons)]
        _save_members(call, table, selection, members)
    return {}


@handles(SERVICE, "AddSelectionMembers")
def add_members(call: AgentCall) -> dict[str, Any]:
    with call.crm.store.transaction():
        table, selection = _selection(call)
        members = _members(call, selection["SelectionId"])
        added = [i for i in dict.fromkeys(_ids(call)) if i not in members["ids"]]
        members["ids"].extend(added)
        _save_members(call, table, selection, members)
    return {"Response": len(added)}


@handles(SERVICE, "RemoveSelectionMembersById")
def remove_members_by_id(call: AgentCall) -> dict[str, Any]:
    with call.crm.store.transaction():
        table, selection = _selection(call)
        members = _members(call, selection["SelectionId"])
        gone = set(_ids(call))
        members["ids"] = [i for i in members["ids"] if i not in gone]
        _save_members(call, table, selection, members)
    return {}


def _column(provider: archive.Provider, name: str) -> archive.Column | None:
    """The provider's column; ``None`` for a column only the other member kind has (an empty value)."""
    try:
        return archive.column_for(provider, name, "column")
    except AgentFailure:
        other = archive.provider_for("Contact" if provider.table == "person" else "Person")
        archive.column_for(other, name, "column")  # unknown to both: the error names the column
        return None


@handles(SERVICE, "GetSelectionMembersArchiveRows")
def get_members_archive_rows(call: AgentCall) -> dict[str, Any]:
    _, selection = _selection(call)
    names = archive.split_names(call.param("Select", "")) or ["contactId", "personId"]
    lookups = archive._lookups(call)
    crm, items = call.crm, []
    for contact_id, person_id in _members(call, selection["SelectionId"])["contact_persons"]:
        provider = archive.provider_for("Person" if person_id else "Contact")
        row = crm.person(person_id) if person_id else crm.contact(contact_id)
        if row is None:
            continue
        data = []
        for name in names:
            column = _column(provider, name)
            shown, tooltip = ("", "") if column is None else archive.display(column, column.value(lookups, row),
                                                                             lookups)
            data.append({"Key": name, "Value": {"DisplayValue": shown, "TooltipHint": tooltip, "LinkHint": ""}})
        items.append({"EntityName": provider.entity(row), "PrimaryKey": person_id or contact_id,
                      "ColumnData": {"ColumnDataKeyValuePair": data},
                      "LinkHint": archive._link(provider.table, row), "StyleHint": ""})
    return {"Response": {"ArchiveListItem": items}}


@handles(SERVICE, "DeleteSelectionEntity")
def delete_selection_entity(call: AgentCall) -> dict[str, Any]:
    """The generic store's delete, and the members with it."""
    selection_id = int(call.param("SelectionEntityId", 0))
    with call.crm.store.transaction():
        if not rows(call, family(call, SERVICE, "Selection")).delete(selection_id):
            raise AgentFailure(NOT_FOUND, f"Selection {selection_id} does not exist.")
        call.crm.store.execute("DELETE FROM entity WHERE ctx = ? AND family = ? AND entity_id = ?",
                               (call.ctx, MEMBERS, selection_id))
    return {}
