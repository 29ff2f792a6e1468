"""UserDefinedFieldInfo agent (``UserDefinedFieldInfo.svc``): user-defined fields, read-only, from the seed.

Every tenant has the fields of :data:`soapkit.sandbox.seed.USER_DEFINED_FIELDS` (five on contacts, three on
persons), all published, with ProgIds ``SuperOffice:1`` ... as SuperOffice names them. Their values live in
the entities' ``UserDefinedFields`` under the ProgId. A List field's ``UDListDefinitionId`` is the
``AdditionalInfo`` of ``MDOAgent.GetList("udlist", ...)``, which gives its choices.

* ``GetUserDefinedFieldList(OwnerType)`` / ``GetPublishedUserDefinedFieldList`` -- the fields of that owner;
* ``GetUserDefinedFieldFromProgId(ProgId, OwnerType)``, ``...FromFieldLabel``, their ``Published`` forms --
  the field, nil when no field matches (case-insensitive);
* ``GetUserDefinedFieldFromProgIds``, ``GetUserDefinedFieldFromIds``, ``GetUserDefinedFieldInfo(id)``;
* ``IsPublishEventActive`` / ``IsAnyPublishEventActive`` -- false (nothing is ever being published).
"""

from __future__ import annotations

from typing import Any

from zeep.xsd import Nil

from soapkit.sandbox import seed
from soapkit.sandbox.agents import schema
from soapkit.sandbox.agents.registry import AgentCall, handles

SERVICE = "UserDefinedFieldInfo"


def _info_type(call: AgentCall) -> tuple[Any, Any]:
    described = call.backend.catalog.describe(SERVICE)
    operation = described.operation("GetUserDefinedFieldInfo")
    return dict(operation.output.body.type.elements)["Response"].type, schema.enumerations(described.path)


def _carrier(call: AgentCall, row: tuple[int, str, str, str, str, int, int], rank: int) -> dict[str, Any]:
    field_id, owner, prog_id, label, field_type, list_id, length = row
    info_type, enums = _info_type(call)
    carrier = schema.default_members(info_type, enums)
    carrier.update({
        "UDefFieldId": field_id, "ColumnId": field_id, "FieldLabel": label, "ShortLabel": label[:10],
        "FieldType": field_type, "Type": owner, "ProgId": prog_id, "TextLength": length, "Tooltip": label,
        "UdefIdentity": field_id, "UDListDefinitionId": list_id, "ListTableId": 136 if list_id else 0,
        "MdoListName": "udlist" if list_id else "", "Page1LineNo": rank, "TabOrder": rank, "Version": 1,
        "LastVersionId": 1, "HasBeenPublished": True, "TemplateVariableName": f"udef{field_id}",
    })
    return carrier


def _fields(call: AgentCall, owner: Any = None) -> list[dict[str, Any]]:
    rows = [r for r in seed.USER_DEFINED_FIELDS if owner is None or r[1].lower() == str(owner).lower()]
    return [_carrier(call, row, rank) for rank, row in enumerate(rows, start=1)]


def _listed(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Response": {"UserDefinedFieldInfo": items}}


def _one(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Response": items[0] if items else Nil}


def _strings(call: AgentCall, name: str, item: str) -> list[Any]:
    return list((call.param(name, {}) or {}).get(item) or [])


def _by(call: AgentCall, member: str, wanted: str) -> list[dict[str, Any]]:
    return [f for f in _fields(call, call.param("OwnerType")) if str(f[member]).lower() == wanted.strip().lower()]


@handles(SERVICE, "GetUserDefinedFieldList")
@handles(SERVICE, "GetPublishedUserDefinedFieldList")
def get_field_list(call: AgentCall) -> dict[str, Any]:
    return _listed(_fields(call, call.param("OwnerType", "")))


@handles(SERVICE, "GetUserDefinedFieldFromProgId")
@handles(SERVICE, "GetPublishedUserDefinedFieldFromProgId")
def get_field_from_prog_id(call: AgentCall) -> dict[str, Any]:
    return _one(_by(call, "ProgId", str(call.param("ProgId", ""))))


@handles(SERVICE, "GetUserDefinedFieldFromFieldLabel")
@handles(SERVICE, "GetPublishedUserDefinedFieldFromFieldLabel")
def get_field_from_label(call: AgentCall) -> dict[str, Any]:
    return _one(_by(call, "FieldLabel", str(call.param("FieldLabel", ""))))


@handles(SERVICE, "GetUserDefinedFieldFromProgIds")
def get_fields_from_prog_ids(call: AgentCall) -> dict[str, Any]:
    wanted = [str(p).lower() for p in _strings(call, "ProgIds", "string")]
    fields = {f["ProgId"].lower(): f for f in _fields(call, call.param("OwnerType"))}
    return _listed([fields[p] for p in wanted if p in fields])


@handles(SERVICE, "GetUserDefinedFieldFromIds")
def get_fields_from_ids(call: AgentCall) -> dict[str, Any]:
    fields = {f["UDefFieldId"]: f for f in _fields(call)}
    return _listed([fields[int(i)] for i in _strings(call, "Ids", "int") if int(i) in fields])


@handles(SERVICE, "GetUserDefinedFieldInfo")
def get_field_info(call: AgentCall) -> dict[str, Any]:
    wanted = int(call.param("UserDefinedFieldInfoId", 0))
    return _one([f for f in _fields(call) if f["UDefFieldId"] == wanted])


@handles(SERVICE, "IsPublishEventActive")
@handles(SERVICE, "IsAnyPublishEventActive")
def is_publish_event_active(call: AgentCall) -> dict[str, Any]:
    return {"Response": False}
