"""Person agent (``Person.svc``): people, usually employed by a contact.

Not found follows the Contact agent: ``Get*`` answer nil (or skip, for lists) with ``Succeeded=true``;
saving or deleting an unknown id fails with ``EntityNotFoundException``.
"""

from __future__ import annotations

from typing import Any

from zeep.xsd import Nil

from soapkit.sandbox.agents import edits, views
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure, handles

SERVICE = "Person"
NOT_FOUND = "EntityNotFoundException"


@handles(SERVICE, "GetPersonEntity")
def get_person_entity(call: AgentCall) -> dict[str, Any]:
    crm = call.crm
    row = crm.person(int(call.param("PersonEntityId", 0)))
    return {"Response": views.person_entity(crm, row) if row else Nil}


@handles(SERVICE, "CreateDefaultPersonEntity")
def create_default_person_entity(call: AgentCall) -> dict[str, Any]:
    row: dict[str, Any] = {
        "person_id": 0, "contact_id": 0, "firstname": "", "middlename": "", "lastname": "", "mrmrs": "",
        "title": "", "position_id": None, "description": "", "birth_date": None, "person_number": "",
        "salutation": "", "kanafname": "", "kanalname": "", "associate_id": call.associate_id,
        "business_id": None, "category_id": None, "country_id": call.tenant.default_country_id, "rank": 0,
        "use_person_address": 0, "retired": 0, "no_mailing": 0, "address": None, "emails": None,
        "office_phones": None, "mobile_phones": None, "private_phones": None, "other_phones": None,
        "faxes": None, "urls": None, "created_at": None, "updated_at": None, "created_by": call.associate_id,
        "updated_by": None,
    }
    return {"Response": views.person_entity(call.crm, row)}


@handles(SERVICE, "SavePersonEntity")
def save_person_entity(call: AgentCall) -> dict[str, Any]:
    entity = call.param("PersonEntity")
    if not isinstance(entity, dict):
        raise AgentFailure(edits.VALIDATION, "SavePersonEntity needs a PersonEntity.")
    crm = call.crm
    contact = crm.contact(edits.reference_id(entity, "Contact", "ContactId"))
    default_country = (contact["country_id"] if contact else None) or call.tenant.default_country_id
    values = edits.person_values(crm, entity, user=call.associate_id, default_country=default_country)
    person_id = int(entity.get("PersonId") or 0)
    if person_id:
        if not crm.update_person(person_id, {**values, "updated_at": call.timestamp,
                                             "updated_by": call.associate_id}):
            raise AgentFailure(NOT_FOUND, f"Person {person_id} does not exist; save with PersonId 0 to create it.")
    else:
        person_id = crm.insert_person({**values, "created_at": call.timestamp, "updated_at": None,
                                       "created_by": call.associate_id, "updated_by": None})
    row = crm.person(person_id)
    assert row is not None
    return {"Response": views.person_entity(crm, row)}


@handles(SERVICE, "DeletePersonEntity")
def delete_person_entity(call: AgentCall) -> dict[str, Any]:
    person_id = int(call.param("PersonEntityId", 0))
    if not call.crm.delete_person(person_id):
        raise AgentFailure(NOT_FOUND, f"Person {person_id} does not exist.")
    return {}


@handles(SERVICE, "GetPerson")
def get_person(call: AgentCall) -> dict[str, Any]:
    crm = call.crm
    row = crm.person(int(call.param("PersonId", 0)))
    return {"Response": views.person_item(crm, row) if row else Nil}


@handles(SERVICE, "GetPersonList")
def get_person_list(call: AgentCall) -> dict[str, Any]:
    crm = call.crm
    ids = [int(i) for i in (call.param("PersonIds", {}) or {}).get("int") or []]
    return {"Response": {"Person": [views.person_item(crm, row) for row in crm.persons(ids)]}}


@handles(SERVICE, "GetPersonsFromContact")
def persons_of_contact(call: AgentCall) -> dict[str, Any]:
    """The persons of the contact named by ``ContactId`` (an unknown contact has none)."""
    crm = call.crm
    contact_id = int(call.param("ContactId", 0))
    contact = crm.contact(contact_id)
    rows = crm.persons_of(contact_id) if contact else []
    return {"Response": {"Person": [views.person_item(crm, row, contact) for row in rows]}}
