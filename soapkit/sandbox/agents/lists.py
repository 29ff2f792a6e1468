"""List agent (``List.svc``): the business, category and country lists, from the seeded SQLite tables.

* ``GetBusinesses``, ``GetCategories`` -- ``Business``/``Category`` carriers (``Id``, ``Value``,
  ``Tooltip``) in list rank order; the ids are the ones contacts and persons refer to.
* ``GetCountries`` -- the countries in rank order; ``GetAllCountries`` the same, since the sandbox has
  no deleted countries (``IncludeDeleted`` changes nothing).

The lists are shared by all tenants (seeded by :func:`soapkit.sandbox.seed.seed_reference_data`).
"""

from __future__ import annotations

from typing import Any

from soapkit.sandbox.agents import views
from soapkit.sandbox.agents.registry import AgentCall, handles

SERVICE = "List"


def _list(call: AgentCall, list_name: str) -> list[dict[str, Any] | None]:
    rows = call.crm.store.all("SELECT * FROM list_item WHERE list_name = ? ORDER BY rank, id", (list_name,))
    return [views.list_carrier(row) for row in rows]


def _countries(call: AgentCall) -> dict[str, Any]:
    rows = call.crm.store.all("SELECT * FROM country ORDER BY rank, country_id")
    return {"Response": {"Country": [views.country_carrier(row) for row in rows]}}


@handles(SERVICE, "GetBusinesses")
def get_businesses(call: AgentCall) -> dict[str, Any]:
    return {"Response": {"Business": _list(call, "business")}}


@handles(SERVICE, "GetCategories")
def get_categories(call: AgentCall) -> dict[str, Any]:
    return {"Response": {"Category": _list(call, "category")}}


@handles(SERVICE, "GetCountries")
def get_countries(call: AgentCall) -> dict[str, Any]:
    return _countries(call)


@handles(SERVICE, "GetAllCountries")
def get_all_countries(call: AgentCall) -> dict[str, Any]:
    return _countries(call)
