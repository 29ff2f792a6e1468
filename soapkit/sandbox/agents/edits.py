"""Incoming carriers -> row values, with the checks a save must pass.

A save writes the whole entity, as NetServer does: members left out or nil are stored empty. A
reference to something that does not exist (associate, business, category, country, position,
contact) and an entity without a name fail with ``ExceptionType=ValidationException``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from soapkit.sandbox.agents.records import Crm, Row
from soapkit.sandbox.agents.registry import AgentFailure
from soapkit.sandbox.agents.views import ADDRESS_FIELDS

VALIDATION = "ValidationException"


def text(entity: dict[str, Any], name: str) -> str | None:
    value = entity.get(name)
    return str(value) if value is not None else None


def flag(entity: dict[str, Any], name: str) -> int:
    return 1 if entity.get(name) else 0


def reference_id(entity: dict[str, Any], name: str, id_field: str) -> int:
    carrier = entity.get(name)
    if not isinstance(carrier, dict):
        return 0
    return int(carrier.get(id_field) or 0)


def elements(entity: dict[str, Any], name: str) -> str:
    container = entity.get(name) or {}
    items = (container.get("EntityElement") or []) if isinstance(container, dict) else []
    kept = [{"Value": str(item.get("Value")), "Description": str(item.get("Description") or "")}
            for item in items if isinstance(item, dict) and item.get("Value")]
    return json.dumps(kept)


def address(entity: dict[str, Any]) -> str:
    carrier = entity.get("Address") or {}
    parts: dict[str, Any] = {}
    for kind, member in (("street", "Street"), ("postal", "Postal")):
        part = carrier.get(member) if isinstance(carrier, dict) else None
        part = part if isinstance(part, dict) else {}
        parts[kind] = {key: str(part[key]) for key in ADDRESS_FIELDS if part.get(key)}
    if isinstance(carrier, dict) and (carrier.get("Wgs84Latitude") or carrier.get("Wgs84Longitude")):
        parts["wgs84"] = [float(carrier.get("Wgs84Latitude") or 0), float(carrier.get("Wgs84Longitude") or 0)]
    return json.dumps(parts)


CONTACT_KEPT = ("Interests", "UserDefinedFields", "ExtraFields", "CustomFields", "BounceEmails", "Domains")
PERSON_KEPT = ("Interests", "UserDefinedFields", "ExtraFields", "CustomFields", "BounceEmails", "ChatEmails",
               "InternetPhones")


def kept(entity: dict[str, Any], names: tuple[str, ...]) -> str:
    """Members the sandbox has no columns for, stored as sent so that a read gives them back."""
    return json.dumps({name: entity.get(name) for name in names if entity.get(name) is not None},
                      default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(type(value).__name__)


def date_value(entity: dict[str, Any], name: str) -> str | None:
    value = entity.get(name)
    if not isinstance(value, dt.datetime) or value.year <= 1:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat()


def _require(found: object, what: str, identifier: int) -> None:
    if identifier and found is None:
        raise AgentFailure(VALIDATION, f"{what} {identifier} does not exist.")


def references(crm: Crm, entity: dict[str, Any], *, default_associate: int, default_country: int) -> Row:
    """Associate, Business, Category and Country ids of an entity, each checked to exist."""
    associate_id = reference_id(entity, "Associate", "AssociateId") or default_associate
    business_id = reference_id(entity, "Business", "Id")
    category_id = reference_id(entity, "Category", "Id")
    country_id = reference_id(entity, "Country", "CountryId") or default_country
    _require(crm.associate(associate_id), "Associate", associate_id)
    _require(crm.list_item("business", business_id), "Business", business_id)
    _require(crm.list_item("category", category_id), "Category", category_id)
    _require(crm.country(country_id), "Country", country_id)
    return {"associate_id": associate_id, "business_id": business_id or None,
            "category_id": category_id or None, "country_id": country_id}


def contact_values(crm: Crm, entity: dict[str, Any], *, user: int, default_country: int) -> Row:
    name = (text(entity, "Name") or "").strip()
    if not name:
        raise AgentFailure(VALIDATION, "A contact must have a name (ContactEntity.Name is empty).",
                           friendly_text="The company name is missing.")
    return {
        "name": name, "department": text(entity, "Department"), "org_nr": text(entity, "OrgNr"),
        "number1": text(entity, "Number1"), "number2": text(entity, "Number2"),
        "kananame": text(entity, "Kananame"), "description": text(entity, "Description"),
        **references(crm, entity, default_associate=user, default_country=default_country),
        "no_mailing": flag(entity, "NoMailing"), "xstop": flag(entity, "Xstop"), "address": address(entity),
        "emails": elements(entity, "Emails"), "phones": elements(entity, "Phones"),
        "faxes": elements(entity, "Faxes"), "urls": elements(entity, "Urls"),
        "extra": kept(entity, CONTACT_KEPT),
    }


def person_values(crm: Crm, entity: dict[str, Any], *, user: int, default_country: int) -> Row:
    firstname, lastname = text(entity, "Firstname"), text(entity, "Lastname")
    if not (firstname or "").strip() and not (lastname or "").strip():
        raise AgentFailure(VALIDATION, "A person must have a first name or a last name.",
                           friendly_text="The person's name is missing.")
    contact_id = reference_id(entity, "Contact", "ContactId")
    _require(crm.contact(contact_id), "Contact", contact_id)
    position_id = reference_id(entity, "Position", "Id")
    _require(crm.list_item("position", position_id), "Position", position_id)
    return {
        "contact_id": contact_id, "firstname": firstname, "middlename": text(entity, "MiddleName"),
        "lastname": lastname, "mrmrs": text(entity, "Mrmrs"), "title": text(entity, "Title"),
        "position_id": position_id or None, "description": text(entity, "Description"),
        "birth_date": date_value(entity, "BirthDate"), "person_number": text(entity, "PersonNumber"),
        "salutation": text(entity, "Salutation"), "kanafname": text(entity, "Kanafname"),
        "kanalname": text(entity, "Kanalname"),
        **references(crm, entity, default_associate=user, default_country=default_country),
        "use_person_address": flag(entity, "UsePersonAddress"), "retired": flag(entity, "Retired"),
        "no_mailing": flag(entity, "NoMailing"), "address": address(entity),
        "emails": elements(entity, "Emails"), "office_phones": elements(entity, "OfficePhones"),
        "mobile_phones": elements(entity, "MobilePhones"), "private_phones": elements(entity, "PrivatePhones"),
        "other_phones": elements(entity, "OtherPhones"), "faxes": elements(entity, "Faxes"),
        "urls": elements(entity, "Urls"), "extra": kept(entity, PERSON_KEPT),
    }
