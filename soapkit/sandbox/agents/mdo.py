"""MDO agent (``MDO.svc``) and Associate agent (``Associate.svc``): the common lists, from the seed data.

``GetList(Name)`` and ``GetListWithRestriction(Name, SearchValue)`` know the lists ``category``,
``business``, ``position``, ``country``, ``associate`` and ``priority`` (names case-insensitive; SuperOffice's
aliases such as ``Category`` and ``Associate`` work the same); items are ``MDOListItem`` with SuperOffice's ids.
``udlist`` with ``AdditionalInfo`` the ``UDListDefinitionId`` of a user-defined List field (or ``udlist{id}``) gives
that field's choices (see :mod:`.udf`); item ids are ``{id}01``, ``{id}02`` ...
``GetListWithRestriction`` keeps the items whose name contains ``SearchValue`` (case-insensitive). Any other
list name fails with ``ArgumentException`` naming the lists the sandbox has.

``AssociateAgent.GetAssociate`` / ``GetAssociateList`` answer the tenant's associates (the system user is 1);
an unknown id is nil / skipped.
"""

from __future__ import annotations

from typing import Any

from zeep.xsd import Nil

from soapkit.sandbox import seed
from soapkit.sandbox.agents import views
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure, handles

LIST_NAMES = ("category", "business", "position", "country", "associate", "priority")


def _item(item_id: int, name: str, tooltip: str, rank: int) -> dict[str, Any]:
    return {"Id": item_id, "Name": name, "ToolTip": tooltip, "Deleted": False, "Rank": rank, "Type": "",
            "ChildItems": {"MDOListItem": []}, "IconHint": "", "ColorBlock": 0, "ExtraInfo": "", "StyleHint": "",
            "FullName": name}


def list_items(call: AgentCall, name: str) -> list[dict[str, Any]]:
    store, wanted = call.crm.store, name.strip().lower()
    if wanted == "country":
        rows = store.all("SELECT * FROM country ORDER BY rank, country_id")
        return [_item(r["country_id"], r["name"], r["english_name"], r["rank"]) for r in rows]
    if wanted == "associate":
        rows = store.all("SELECT * FROM associate WHERE ctx = ? ORDER BY associate_id", (call.ctx,))
        return [_item(r["associate_id"], r["user_name"], r["full_name"], i) for i, r in enumerate(rows)]
    if wanted.startswith("udlist"):
        number = wanted[len("udlist"):] or str(call.param("AdditionalInfo", "")).strip()
        values = seed.USER_DEFINED_LISTS.get(int(number)) if number.isdigit() else None
        if values is None:
            raise AgentFailure("ArgumentException", f"Unknown user-defined list {name!r} (AdditionalInfo "
                               f"{call.param('AdditionalInfo', '')!r}): the sandbox has the UDListDefinitionIds "
                               f"{', '.join(map(str, seed.USER_DEFINED_LISTS))}.")
        return [_item(int(number) * 100 + i, v, v, i) for i, v in enumerate(values, start=1)]
    if wanted in LIST_NAMES:
        rows = store.all("SELECT * FROM list_item WHERE list_name = ? ORDER BY rank, id", (wanted,))
        return [_item(r["id"], r["value"], r["tooltip"] or "", r["rank"]) for r in rows]
    raise AgentFailure("ArgumentException", f"Unknown MDO list {name!r}: the sandbox has "
                       f"{', '.join(LIST_NAMES)} and udlist (case-insensitive).")


@handles("MDO", "GetList")
def get_list(call: AgentCall) -> dict[str, Any]:
    return {"Response": {"MDOListItem": list_items(call, str(call.param("Name", "")))}}


@handles("MDO", "GetListWithRestriction")
def get_list_with_restriction(call: AgentCall) -> dict[str, Any]:
    search = str(call.param("SearchValue", "")).lower()
    items = [item for item in list_items(call, str(call.param("Name", ""))) if search in item["Name"].lower()]
    return {"Response": {"MDOListItem": items}}


@handles("Associate", "GetAssociate")
def get_associate(call: AgentCall) -> dict[str, Any]:
    carrier = views.associate_carrier(call.crm.associate(int(call.param("AssociateId", 0))))
    return {"Response": carrier if carrier is not None else Nil}


@handles("Associate", "GetAssociateList")
def get_associate_list(call: AgentCall) -> dict[str, Any]:
    ids = [int(i) for i in (call.param("AssociateIds", {}) or {}).get("int") or []]
    carriers = [views.associate_carrier(call.crm.associate(i)) for i in ids]
    return {"Response": {"Associate": [c for c in carriers if c is not None]}}
