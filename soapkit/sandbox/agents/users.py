"""User agent (``User.svc``) and more of the Associate agent: the tenant's users, from its associates.

A user is an associate (``UserId`` = ``AssociateId``; the system user is 1). The calling principal itself is what
``SoPrincipalAgent.AuthenticateWithAccessToken`` answers for the ticket (:mod:`.principal`); these read it, or any
other user, by id or name:

* ``UserAgent.GetUser(UserId)`` / ``GetUserFromName(UserName)`` (case-insensitive) -- the ``User`` carrier with
  its ``UserGroup``; ``GetUserInfo(UserInfoId)`` / ``GetUserInfoList`` -- ``UserInfo``; unknown: nil / skipped;
* ``AssociateAgent.GetAssociatesByGroup(GroupId, Type)`` -- the group's associates (``Type`` is not used);
  ``GetAssociateByPersonId`` -- nil (the sandbox's associates are not persons in the CRM).
"""

from __future__ import annotations

from typing import Any

from zeep.xsd import Nil

from soapkit.sandbox.agents import schema, views
from soapkit.sandbox.agents.registry import AgentCall, handles

SERVICE = "User"


def _response_type(call: AgentCall, service: str, operation: str) -> tuple[Any, Any]:
    described = call.backend.catalog.describe(service)
    response = dict(described.operation(operation).output.body.type.elements)["Response"].type
    return response, schema.enumerations(described.path)


def _group(call: AgentCall, group_id: int) -> dict[str, Any]:
    user_type, enums = _response_type(call, SERVICE, "GetUserGroup")
    group = schema.default_members(user_type, enums)
    group.update({"Id": group_id, "Value": f"Group {group_id}", "Tooltip": f"Group {group_id}", "Rank": group_id})
    return {k: v for k, v in group.items() if k in dict(user_type.elements)}


def _user(call: AgentCall, row: dict[str, Any] | None) -> Any:
    if row is None:
        return Nil
    user_type, enums = _response_type(call, SERVICE, "GetUser")
    user = schema.default_members(user_type, enums)
    user.update({"AssociateId": row["associate_id"], "Name": row["user_name"], "Tooltip": row["full_name"],
                 "UserName": row["user_name"], "NickName": row["initials"], "Type": row["user_type"],
                 "UserGroup": _group(call, row["group_id"])})
    return user


def _user_info(call: AgentCall, row: dict[str, Any] | None) -> Any:
    if row is None:
        return None
    info_type, enums = _response_type(call, SERVICE, "GetUserInfo")
    info = schema.default_members(info_type, enums)
    info.update({"UserInfoId": row["associate_id"], "UserName": row["user_name"], "Tooltip": row["full_name"],
                 "UserGroupId": row["group_id"], "UserType": row["user_type"], "CanLogon": True,
                 "RoleName": "System" if row["user_type"] == "SystemAssociate" else "User",
                 "UserGroupName": f"Group {row['group_id']}", "UserGroupTooltip": f"Group {row['group_id']}"})
    return info


def _associates(call: AgentCall) -> list[dict[str, Any]]:
    return call.crm.store.all("SELECT * FROM associate WHERE ctx = ? ORDER BY associate_id", (call.ctx,))


@handles(SERVICE, "GetUser")
def get_user(call: AgentCall) -> dict[str, Any]:
    return {"Response": _user(call, call.crm.associate(int(call.param("UserId", 0))))}


@handles(SERVICE, "GetUserFromName")
def get_user_from_name(call: AgentCall) -> dict[str, Any]:
    wanted = str(call.param("UserName", "")).strip().lower()
    return {"Response": _user(call, next((r for r in _associates(call) if r["user_name"].lower() == wanted), None))}


@handles(SERVICE, "GetUserInfo")
def get_user_info(call: AgentCall) -> dict[str, Any]:
    info = _user_info(call, call.crm.associate(int(call.param("UserInfoId", 0))))
    return {"Response": Nil if info is None else info}


@handles(SERVICE, "GetUserInfoList")
def get_user_info_list(call: AgentCall) -> dict[str, Any]:
    ids = [int(i) for i in (call.param("UserInfoIds", {}) or {}).get("int") or []]
    infos = [_user_info(call, call.crm.associate(i)) for i in ids]
    return {"Response": {"UserInfo": [i for i in infos if i is not None]}}


@handles("Associate", "GetAssociatesByGroup")
def get_associates_by_group(call: AgentCall) -> dict[str, Any]:
    group = int(call.param("GroupId", 0))
    rows = [r for r in _associates(call) if r["group_id"] == group]
    return {"Response": {"Associate": [views.associate_carrier(r) for r in rows]}}


@handles("Associate", "GetAssociateByPersonId")
def get_associate_by_person_id(call: AgentCall) -> dict[str, Any]:
    return {"Response": Nil}
