"""The generic entity store: every ``Get/Save/CreateDefault/Delete{X}Entity`` family of the contract, from the WSDL.

A family is found from operation names alone and described by zeep's model of its operations: the entity
type is the ``Response`` of ``Get{X}Entity``/``CreateDefault{X}Entity``/``Save{X}Entity`` and must be named
``{X}Entity`` (so ``GetDocumentStreamFromEntity`` is no family). Its id member is :func:`id_member`.

How the verbs answer (the same way the hand-written Contact and Person agents do):

* ``CreateDefault{X}Entity`` -- every member at its schema default (see :mod:`.schema`), the id 0;
* ``Save{X}Entity`` -- id 0 creates (the next id of the family's sequence), another id replaces the stored
  entity or fails with ``EntityNotFoundException``; members left out are stored at their defaults;
  the answer is the stored entity;
* ``Get{X}Entity`` -- the stored entity, or ``Response`` nil (``Succeeded=true``) for an unknown id;
* ``Delete{X}Entity`` -- removes it, or fails with ``EntityNotFoundException``;
* ``Get{X}`` / ``Get{X}List`` -- the list carrier ``{X}`` made from the stored entity's members of the same
  name and type (the others at their defaults); unknown ids are nil / skipped.

The store fills in who and when (:func:`stamped`): on create ``CreatedDate``/``Registered``/``CreatedAt`` now and
``CreatedBy``/``RegisteredAssociateId`` the calling associate; on update ``UpdatedDate``/``Updated``, ``UpdatedBy``/
``UpdatedAssociateId`` and ``UpdatedCount`` + 1, the created members kept as stored (what a client sends there is
ignored, as NetServer ignores it).

Members that name a CRM row -- a ``Contact``, ``Person`` or ``Associate`` carrier -- are read from the CRM
by their id when an entity is saved, so a sale or project links to a real company and person (an unknown
id fails with ``ValidationException``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zeep.xsd import Nil

from soapkit.catalog import ServiceDescription
from soapkit.sandbox.agents import schema, views
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure, Handler
from soapkit.sandbox.store import Store

NOT_FOUND = "EntityNotFoundException"
VALIDATION = "ValidationException"
VERBS = ("Get", "Save", "CreateDefault", "Delete")
_ENTITY_OPERATION = re.compile(r"(Get|Save|CreateDefault|Delete)(\w+)Entity")


@dataclass
class EntityFamily:
    service: str
    name: str                    # X of Get{X}Entity
    entity_type: Any             # zeep's ComplexType {X}Entity
    id_member: str
    operations: dict[str, str]   # verb -> operation name
    enums: Mapping[str, tuple[str, ...]] = field(repr=False, default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.service}.{self.name}"

    def default(self) -> dict[str, Any]:
        return {**schema.default_members(self.entity_type, self.enums), self.id_member: 0}


def id_member(name: str, entity_type: Any) -> str:
    """The member holding an entity's id: ``{X}Id``, else ``Id``, else the int member ending in ``Id`` whose name
    ends most like ``{X}Id`` (``EjMessageId`` for TicketMessage, ``RelationId`` for ContactRelation)."""
    members = [(member, element.type) for member, element in entity_type.elements]
    ints = [member for member, xsd_type in members if getattr(xsd_type, "name", None) == "int"
            and member.endswith("Id")]
    wanted = f"{name}Id"
    for preferred in (wanted, "Id"):
        if preferred in ints:
            return preferred
    if not ints:
        raise LookupError(f"{name}Entity has no int member ending in Id")

    def shared_suffix(member: str) -> int:
        count = 0
        for a, b in zip(reversed(member.lower()), reversed(wanted.lower()), strict=False):
            if a != b:
                break
            count += 1
        return count

    return max(ints, key=shared_suffix)  # max keeps the first of equals: schema order decides ties


def _response_type(operation: Any) -> Any:
    body = operation.output.body
    members = dict(body.type.elements) if body is not None else {}
    return members["Response"].type if "Response" in members else None


def discover(described: ServiceDescription, enums: Mapping[str, tuple[str, ...]]) -> dict[str, EntityFamily]:
    """The entity families of one service, by X."""
    verbs: dict[str, dict[str, str]] = {}
    for name in described.operation_names:
        match = _ENTITY_OPERATION.fullmatch(name)
        if match:
            verbs.setdefault(match[2], {})[match[1]] = name
    families: dict[str, EntityFamily] = {}
    for name, operations in verbs.items():
        entity_type = next((t for verb in ("Get", "CreateDefault", "Save") if verb in operations
                            for t in [_response_type(described.operation(operations[verb]))]
                            if getattr(t, "name", None) == f"{name}Entity"), None)
        if entity_type is None:
            continue
        families[name] = EntityFamily(described.name, name, entity_type, id_member(name, entity_type),
                                      operations, enums)
    return families


class EntityRows:
    """The stored entities of one family in one tenant (JSON of plain values, one row each)."""

    def __init__(self, store: Store, ctx: str, family: EntityFamily) -> None:
        self.store, self.ctx, self.family = store, ctx, family

    def get(self, entity_id: int) -> dict[str, Any] | None:
        row = self.store.one("SELECT data FROM entity WHERE ctx = ? AND family = ? AND entity_id = ?",
                             (self.ctx, self.family.key, entity_id))
        return schema.from_json(row["data"]) if row else None

    def all(self) -> list[dict[str, Any]]:
        rows = self.store.all("SELECT data FROM entity WHERE ctx = ? AND family = ? ORDER BY entity_id",
                              (self.ctx, self.family.key))
        return [schema.from_json(row["data"]) for row in rows]

    def save(self, entity: dict[str, Any]) -> dict[str, Any]:
        """Create (id 0) or replace; returns what is stored. Raises :class:`AgentFailure` for an unknown id."""
        with self.store.transaction():
            entity_id = int(entity.get(self.family.id_member) or 0)
            if entity_id and self.get(entity_id) is None:
                raise AgentFailure(NOT_FOUND, f"{self.family.name} {entity_id} does not exist; save with "
                                   f"{self.family.id_member} 0 to create it.")
            if not entity_id:
                entity_id = self.store.next_id(self.ctx, f"entity:{self.family.key}")
            stored = {**entity, self.family.id_member: entity_id}
            self.store.execute(
                "INSERT INTO entity (ctx, family, entity_id, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ctx, family, entity_id) DO UPDATE SET data = excluded.data",
                (self.ctx, self.family.key, entity_id, schema.to_json(stored)))
        return stored

    def delete(self, entity_id: int) -> bool:
        return self.store.execute("DELETE FROM entity WHERE ctx = ? AND family = ? AND entity_id = ?",
                                  (self.ctx, self.family.key, entity_id)) > 0


def rows(call: AgentCall, family: EntityFamily) -> EntityRows:
    return EntityRows(call.backend.store, call.ctx, family)


# --- what a save keeps --------------------------------------------------------------------------

def _linked(call: AgentCall, type_name: str, value: dict[str, Any]) -> Any:
    """A Contact/Person/Associate carrier re-read from the CRM by its id (nil for id 0)."""
    crm = call.crm
    id_name = f"{type_name}Id"
    identifier = int(value.get(id_name) or 0)
    if not identifier:
        return None
    if type_name == "Contact":
        row = crm.contact(identifier)
        carrier = views.contact_item(crm, row) if row else None
    elif type_name == "Person":
        row = crm.person(identifier)
        carrier = views.person_item(crm, row) if row else None
    else:
        carrier = views.associate_carrier(crm.associate(identifier))
    if carrier is None:
        raise AgentFailure(VALIDATION, f"{type_name} {identifier} does not exist.")
    return carrier


LINKED_CARRIERS = ("Contact", "Person", "Associate")


def normalized(call: AgentCall, family: EntityFamily, entity: Mapping[str, Any]) -> dict[str, Any]:
    """The entity as it is stored: sent members over the defaults, CRM links resolved."""
    result = family.default()
    for member, element in family.entity_type.elements:
        value = entity.get(member)
        if value is None:
            continue
        type_name = getattr(element.type, "name", None)
        if type_name in LINKED_CARRIERS and isinstance(value, dict):
            value = _linked(call, type_name, value)
        result[member] = value
    return result


# Who and when, as NetServer fills them in on save: on create the "created" members, on update the
# "updated" ones (the created ones kept from the stored entity). Only members of the right type are touched.
CREATED_DATES = ("CreatedDate", "Registered", "CreatedAt")
UPDATED_DATES = ("UpdatedDate", "Updated")
CREATED_BY = ("CreatedBy", "RegisteredAssociateId")
UPDATED_BY = ("UpdatedBy", "UpdatedAssociateId")
STAMPED = (*CREATED_DATES, *UPDATED_DATES, *CREATED_BY, *UPDATED_BY, "UpdatedCount")  # the store's, not the client's
_COUNTERS = ("short", "int", "long")


def stamped(call: AgentCall, family: EntityFamily, entity: dict[str, Any],
            previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The entity with its created/updated dates, associates and ``UpdatedCount`` as a save leaves them."""
    types = {member: getattr(element.type, "name", None) for member, element in family.entity_type.elements}
    now = call.now.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    caller = call.associate_id

    def who(member: str) -> Any:
        if types[member] == "Associate":
            return views.associate_carrier(call.crm.associate(caller)) if caller else None
        return caller

    result = dict(entity)
    stamp_dates, stamp_by = (UPDATED_DATES, UPDATED_BY) if previous is not None else (CREATED_DATES, CREATED_BY)
    for member in stamp_dates:
        if types.get(member) == "dateTime":
            result[member] = now
    for member in stamp_by:
        if types.get(member) in ("Associate", "int"):
            result[member] = who(member)
    if previous is not None:
        for member in (*CREATED_DATES, *CREATED_BY):
            if member in types and member in previous:
                result[member] = previous[member]
        if types.get("UpdatedCount") in _COUNTERS:
            result["UpdatedCount"] = int(previous.get("UpdatedCount") or 0) + 1
    return result


def project(entity: Mapping[str, Any], source_type: Any, target_type: Any,
            enums: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """A carrier of ``target_type`` from an entity: members of the same name and type copied, flattened links
    (``ContactId``, ``ContactName``, ``PersonFullName`` from the ``Contact``/``Person`` carriers) read through,
    the others at their defaults."""
    source = {member: getattr(element.type, "name", None) for member, element in source_type.elements}
    result = schema.default_members(target_type, enums)
    for member, element in target_type.elements:
        if member in entity and source.get(member) == getattr(element.type, "name", None):
            result[member] = entity[member]
        elif not isinstance(result[member], (dict, list)):
            linked = _through_link(entity, member)
            if linked is not None and _same_kind(linked, result[member]):
                result[member] = linked
    return result


def _through_link(entity: Mapping[str, Any], member: str) -> Any:
    """``ContactName`` -> ``entity["Contact"]["Name"]``; ``ContactId`` -> ``entity["Contact"]["ContactId"]``."""
    for link, carrier in entity.items():
        if isinstance(carrier, dict) and member.startswith(link) and member != link:
            rest = member[len(link):]
            for name in (rest, member):
                if name in carrier and not isinstance(carrier[name], (dict, list)):
                    return carrier[name]
    return None


def _same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and (isinstance(default, float) or isinstance(value, int))
    return type(value) is type(default)


# --- handlers -----------------------------------------------------------------------------------

def _id_param(call: AgentCall) -> int:
    """The single id parameter of a Get/Delete (``SaleEntityId``, ``QuoteId`` ...)."""
    values = [value for value in call.params.values() if isinstance(value, int) and not isinstance(value, bool)]
    return int(values[0]) if values else 0


def _ids_param(call: AgentCall) -> list[int]:
    for value in call.params.values():
        if isinstance(value, dict) and isinstance(value.get("int"), list):
            return [int(i) for i in value["int"]]
    return []


def verb_handlers(family: EntityFamily) -> dict[str, Handler]:
    """Operation name -> handler for the four verbs of a family."""
    def create_default(call: AgentCall) -> dict[str, Any]:
        return {"Response": family.default()}

    def get(call: AgentCall) -> dict[str, Any]:
        stored = rows(call, family).get(_id_param(call))
        return {"Response": stored if stored is not None else Nil}

    def save(call: AgentCall) -> dict[str, Any]:
        entity = next((v for v in call.params.values() if isinstance(v, dict)), None)
        if entity is None:
            raise AgentFailure(VALIDATION, f"{family.operations['Save']} needs a {family.name}Entity.")
        table = rows(call, family)
        with table.store.transaction():
            values = normalized(call, family, entity)
            entity_id = int(values.get(family.id_member) or 0)
            previous = table.get(entity_id) if entity_id else None
            return {"Response": table.save(stamped(call, family, values, previous))}

    def delete(call: AgentCall) -> dict[str, Any]:
        entity_id = _id_param(call)
        if not rows(call, family).delete(entity_id):
            raise AgentFailure(NOT_FOUND, f"{family.name} {entity_id} does not exist.")
        return {}

    by_verb = {"Get": get, "Save": save, "CreateDefault": create_default, "Delete": delete}
    return {operation: by_verb[verb] for verb, operation in family.operations.items()}


def item_handlers(described: ServiceDescription, family: EntityFamily) -> dict[str, Handler]:
    """``Get{X}`` and ``Get{X}List`` from the stored entities, where the service has them with the list carrier."""
    handlers: dict[str, Handler] = {}
    single, listed = f"Get{family.name}", f"Get{family.name}List"
    names = set(described.operation_names)
    if single in names:
        item_type = _response_type(described.operation(single))
        if getattr(item_type, "name", None) == family.name:
            def get_item(call: AgentCall) -> dict[str, Any]:
                stored = rows(call, family).get(_id_param(call))
                return {"Response": Nil if stored is None else
                        project(stored, family.entity_type, item_type, family.enums)}
            handlers[single] = get_item
    if listed in names:
        array_type = _response_type(described.operation(listed))
        if schema.is_array(array_type) and array_type.elements[0][1].type.name == family.name:
            item_name, item_element = array_type.elements[0]

            def get_list(call: AgentCall) -> dict[str, Any]:
                table = rows(call, family)
                found = (table.get(i) for i in _ids_param(call))
                return {"Response": {item_name: [project(e, family.entity_type, item_element.type, family.enums)
                                                 for e in found if e is not None]}}
            handlers[listed] = get_list
    return handlers


def family_handlers(described: ServiceDescription, families: Iterable[EntityFamily]) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for family in families:
        handlers.update(item_handlers(described, family))
        handlers.update(verb_handlers(family))
    return handlers
