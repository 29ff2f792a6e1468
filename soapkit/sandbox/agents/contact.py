"""Contact agent (``Contact.svc``): companies.

Not found: ``GetContactEntity``/``GetContact`` of an unknown id answer ``Response`` nil with
``Succeeded=true``; ``GetContactList`` skips unknown ids; ``GetPersons`` of an unknown contact is an
empty list. ``SaveContactEntity`` of an unknown non-zero id and ``DeleteContactEntity`` of an unknown
id fail with ``EntityNotFoundException``.
"""

from __future__ import annotations

from typing import Any

from zeep.xsd import Nil

from soapkit.sandbox.agents import edits, views
from soapkit.sandbox.agents.person import persons_of_contact
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure, handles

SERVICE = "Contact"
NOT_FOUND = "EntityNotFoundException"


def _entity_or_nil(call: AgentCall, contact_id: int) -> Any:
    crm = call.crm
    row = crm.contact(contact_id)
    return views.contact_entity(crm, row) if row else Nil


@handles(SERVICE, "GetContactEntity")
def get_contact_entity(call: AgentCall) -> dict[str, Any]:
    return {"Response": _entity_or_nil(call, int(call.param("ContactEntityId", 0)))}


@handles(SERVICE, "GetMyContact")
def get_my_contact(call: AgentCall) -> dict[str, Any]:
    # The sandbox's owner company is not a contact row; the first contact stands in for it.
    first = call.crm.store.one("SELECT MIN(contact_id) AS id FROM contact WHERE ctx = ?", (call.ctx,))
    return {"Response": _entity_or_nil(call, int(first["id"] or 0) if first else 0)}


@handles(SERVICE, "CreateDefaultContactEntity")
def create_default_contact_entity(call: AgentCall) -> dict[str, Any]:
    crm = call.crm
    row: dict[str, Any] = {
        "contact_id": 0, "name": "", "department": "", "org_nr": "", "number1": "", "number2": "",
        "kananame": "", "description": "", "associate_id": call.associate_id, "business_id": None,
        "category_id": None, "country_id": call.tenant.default_country_id, "no_mailing": 0, "xstop": 0,
        "address": None, "emails": None, "phones": None, "faxes": None, "urls": None,
        "created_at": None, "updated_at": None, "created_by": call.associate_id, "updated_by": None,
    }
    return {"Response": views.contact_entity(crm, row)}


@handles(SERVICE, "SaveContactEntity")
def save_contact_entity(call: AgentCall) -> dict[str, Any]:
    entity = call.param("ContactEntity")
    if not isinstance(entity, dict):
        raise AgentFailure(edits.VALIDATION, "SaveContactEntity needs a ContactEntity.")
    crm = call.crm
    values = edits.contact_values(crm, entity, user=call.associate_id, default_country=call.tenant.default_country_id)
    stamp = call.timestamp
    contact_id = int(entity.get("ContactId") or 0)
    if contact_id:
        if not crm.update_contact(contact_id, {**values, "updated_at": stamp, "updated_by": call.associate_id}):
            raise AgentFailure(NOT_FOUND, f"Contact {contact_id} does not exist; save with ContactId 0 to create it.")
    else:
        contact_id = crm.insert_contact({**values, "created_at": stamp, "updated_at": None,
                                         "created_by": call.associate_id, "updated_by": None})
    row = crm.contact(contact_id)
    assert row is not None
    return {"Response": views.contact_entity(crm, row)}


@handles(SERVICE, "DeleteContactEntity")
def delete_contact_entity(call: AgentCall) -> dict[str, Any]:
    contact_id = int(call.param("ContactEntityId", 0))
    if not call.crm.delete_contact(contact_id):
        raise AgentFailure(NOT_FOUND, f"Contact {contact_id} does not exist.")
    return {}


@handles(SERVICE, "GetContact")
def get_contact(call: AgentCall) -> dict[str, Any]:
    crm = call.crm
    row = crm.contact(int(call.param("ContactId", 0)))
    return {"Response": views.contact_item(crm, row) if row else Nil}


@handles(SERVICE, "GetContactList")
def get_contact_list(call: AgentCall) -> dict[str, Any]:
    crm = call.crm
    ids = [int(i) for i in (call.param("ContactIds", {}) or {}).get("int") or []]
    return {"Response": {"Contact": [views.contact_item(crm, row) for row in crm.contacts(ids)]}}


@handles(SERVICE, "GetPersons")
def get_persons(call: AgentCall) -> dict[str, Any]:
    # The same question as PersonAgent.GetPersonsFromContact, asked of the other agent.
    return persons_of_contact(call)

