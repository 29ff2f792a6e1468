"""Rows -> the carriers of the WSDL (ContactEntity, Contact, PersonEntity, Person and their parts).

Values are plain dicts keyed by element name; zeep serialises them in schema order, so key order here
does not matter. Non-nillable values are always given (NetServer writes every member; unset dates are
``DateTime.MinValue``, written as ``0001-01-01T00:00:00``). Dates are UTC without an offset, as NetServer
writes unspecified-kind ``DateTime`` values.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from soapkit.sandbox.agents.records import Crm, Row

MIN_DATE = dt.datetime(1, 1, 1)
ADDRESS_FIELDS = ("Address1", "Address2", "Address3", "City", "County", "State", "Zipcode")


def parse_date(text: str | None) -> dt.datetime:
    if not text:
        return MIN_DATE
    return dt.datetime.fromisoformat(text).replace(tzinfo=None)


def json_list(text: str | None) -> list[dict[str, Any]]:
    value = json.loads(text) if text else []
    return value if isinstance(value, list) else []


def first_value(text: str | None) -> str:
    items = json_list(text)
    return str(items[0].get("Value") or "") if items else ""


def first_description(text: str | None) -> str:
    items = json_list(text)
    return str(items[0].get("Description") or "") if items else ""


def entity_elements(text: str | None) -> dict[str, Any]:
    return {"EntityElement": [
        {"Value": item.get("Value") or "", "StrippedValue": _stripped(item.get("Value") or ""),
         "Description": item.get("Description") or ""}
        for item in json_list(text)
    ]}


def _stripped(value: str) -> str:
    """What SuperOffice keeps for searching: phone numbers without spaces and punctuation."""
    if "@" in value or "://" in value:
        return value
    return "".join(ch for ch in value if ch.isalnum() or ch == "+")


def kept_values(row: Row) -> dict[str, Any]:
    """The members a save stored as sent (see :func:`soapkit.sandbox.agents.edits.kept`)."""
    text = row.get("extra")
    value = json.loads(text, object_hook=_json_object) if text else {}
    return value if isinstance(value, dict) else {}


def _json_object(value: dict[str, Any]) -> Any:
    if list(value) == ["$datetime"]:
        return dt.datetime.fromisoformat(value["$datetime"])
    return value


def _selected_count(interests: Any) -> int:
    items = (interests or {}).get("SelectableMDOListItem") or [] if isinstance(interests, dict) else []
    return sum(1 for item in items if isinstance(item, dict) and item.get("Selected"))


def empty_array(item: str) -> dict[str, Any]:
    return {item: []}


def empty_dictionary() -> dict[str, Any]:
    return {"StringKeyValuePair": []}


# --- lookups -------------------------------------------------------------------------------------

def associate_carrier(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "AssociateId": row["associate_id"], "Name": row["user_name"], "PersonId": 0, "Rank": 0,
        "Tooltip": row["full_name"], "Type": row["user_type"], "GroupIdx": row["group_id"],
        "FullName": row["full_name"], "FormalName": row["full_name"], "Deleted": False, "EjUserId": 0,
        "UserName": row["user_name"], "ExtraFields": empty_dictionary(), "CustomFields": empty_dictionary(),
    }


def list_carrier(row: Row | None) -> dict[str, Any] | None:
    """Business, Category and Position share the shape Id/Value/Tooltip."""
    if row is None:
        return None
    return {"Id": row["id"], "Value": row["value"], "Tooltip": row["tooltip"] or ""}


def country_carrier(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "CountryId": row["country_id"], "Name": row["name"], "CurrencyId": row["currency_id"],
        "EnglishName": row["english_name"], "TwoLetterISOCountry": row["iso2"],
        "ThreeLetterISOCountry": row["iso3"], "ImageDescription": "", "OrgNrText": row["org_nr_text"] or "",
        "InterAreaPrefix": row["dial_prefix"] or "", "DialInPrefix": row["dial_prefix"] or "",
        "ZipPrefix": row["zip_prefix"] or "", "DomainName": row["domain"] or "", "AddressLayoutId": 0,
        "DomesticAddressLayoutId": 0, "ForeignAddressLayoutId": 0, "Rank": row["rank"], "Tooltip": row["name"],
        "Deleted": False,
    }


# --- addresses -----------------------------------------------------------------------------------

def _format_lines(part: dict[str, Any]) -> str:
    lines = [part.get(key) or "" for key in ("Address1", "Address2", "Address3")]
    place = " ".join(x for x in (part.get("Zipcode") or "", part.get("City") or "") if x)
    return "\n".join(line for line in [*lines, place] if line)


def address_parts(text: str | None) -> dict[str, dict[str, Any]]:
    data = json.loads(text) if text else {}
    data = data if isinstance(data, dict) else {}
    return {kind: data.get(kind) or {} for kind in ("street", "postal")}


def address_carrier(text: str | None, street_type: str, postal_type: str) -> dict[str, Any]:
    parts = address_parts(text)

    def structured(part: dict[str, Any], address_type: str) -> dict[str, Any]:
        values: dict[str, Any] = {key: part.get(key) or "" for key in ADDRESS_FIELDS}
        return {"AtypeIdx": address_type, **values, "Formatted": _format_lines(part)}

    position = (json.loads(text) if text else {}).get("wgs84") or [0.0, 0.0]
    return {
        "Wgs84Latitude": float(position[0]), "Wgs84Longitude": float(position[1]),
        "Street": structured(parts["street"], street_type),
        "Postal": structured(parts["postal"], postal_type),
        "Formatted": _format_lines(parts["postal"] or parts["street"]),
    }


def city(text: str | None) -> str:
    parts = address_parts(text)
    return str(parts["postal"].get("City") or parts["street"].get("City") or "")


# --- contacts ------------------------------------------------------------------------------------

def contact_full_name(row: Row) -> str:
    return " ".join(x for x in (row["name"], row["department"] or "") if x)


def contact_item(crm: Crm, row: Row) -> dict[str, Any]:
    """The ``Contact`` carrier (a list row)."""
    associate = crm.associate(row["associate_id"])
    business, category = crm.list_item("business", row["business_id"]), crm.list_item("category", row["category_id"])
    country = crm.country(row["country_id"])
    address = address_carrier(row["address"], "ContactStreetAddress", "ContactPostalAddress")
    return {
        "ContactId": row["contact_id"], "Name": row["name"], "OrgNr": row["org_nr"] or "",
        "Department": row["department"] or "", "URL": first_value(row["urls"]), "City": city(row["address"]),
        "DirectPhone": first_value(row["phones"]), "AssociateId": row["associate_id"] or 0,
        "CountryId": row["country_id"] or 0, "EmailAddress": first_value(row["emails"]),
        "Kananame": row["kananame"] or "", "EmailAddressName": first_description(row["emails"]),
        "URLName": first_description(row["urls"]),
        "AssociateFullName": associate["full_name"] if associate else "",
        "BusinessName": business["value"] if business else "", "CategoryName": category["value"] if category else "",
        "CountryName": country["name"] if country else "", "Address": address,
        "FormattedAddress": address["Formatted"], "FullName": contact_full_name(row), "IsOwnerContact": False,
        "ActiveErpLinks": 0, "Number1": row["number1"] or "", "Number2": row["number2"] or "",
    }


def contact_entity(crm: Crm, row: Row) -> dict[str, Any]:
    kept = kept_values(row)
    entity = _contact_entity(crm, row)
    entity.update(kept)
    entity["ActiveInterests"] = _selected_count(kept.get("Interests"))
    return entity


def _contact_entity(crm: Crm, row: Row) -> dict[str, Any]:
    associate = crm.associate(row["associate_id"])
    return {
        "ContactId": row["contact_id"], "Name": row["name"], "Department": row["department"] or "",
        "OrgNr": row["org_nr"] or "", "Number1": row["number1"] or "", "Number2": row["number2"] or "",
        "UpdatedDate": parse_date(row["updated_at"]), "CreatedDate": parse_date(row["created_at"]),
        "Emails": entity_elements(row["emails"]), "Interests": empty_array("SelectableMDOListItem"),
        "Urls": entity_elements(row["urls"]), "Phones": entity_elements(row["phones"]),
        "Faxes": entity_elements(row["faxes"]), "Description": row["description"] or "",
        "UpdatedBy": associate_carrier(crm.associate(row["updated_by"])),
        "CreatedBy": associate_carrier(crm.associate(row["created_by"])),
        "Associate": associate_carrier(associate),
        "Business": list_carrier(crm.list_item("business", row["business_id"])),
        "Category": list_carrier(crm.list_item("category", row["category_id"])),
        "Country": country_carrier(crm.country(row["country_id"])),
        "Persons": {"Person": [person_item(crm, p, row) for p in crm.persons_of(row["contact_id"])]},
        "NoMailing": bool(row["no_mailing"]), "Kananame": row["kananame"] or "", "Xstop": bool(row["xstop"]),
        "ActiveInterests": 0, "GroupId": associate["group_id"] if associate else 0, "ActiveStatusMonitorId": 0,
        "Deleted": 0, "DbiAgentId": 0, "DbiLastSyncronized": MIN_DATE, "DbiKey": "", "DbiLastModified": MIN_DATE,
        "Address": address_carrier(row["address"], "ContactStreetAddress", "ContactPostalAddress"),
        "Source": 0, "ActiveErpLinks": 0, "BounceEmails": empty_array("string"), "Domains": empty_array("string"),
        "UserDefinedFields": empty_dictionary(), "ExtraFields": empty_dictionary(),
        "CustomFields": empty_dictionary(),
    }


# --- persons -------------------------------------------------------------------------------------

def person_full_name(row: Row) -> str:
    return " ".join(x for x in (row["firstname"], row["middlename"], row["lastname"]) if x)


def person_formal_name(row: Row) -> str:
    return " ".join(x for x in (row["mrmrs"], row["firstname"], row["lastname"]) if x)


def person_item(crm: Crm, row: Row, contact: Row | None = None) -> dict[str, Any]:
    """The ``Person`` carrier (a list row)."""
    contact = contact if contact is not None else crm.contact(row["contact_id"])
    associate = crm.associate(row["associate_id"])
    position, category = crm.list_item("position", row["position_id"]), crm.list_item("category", row["category_id"])
    return {
        "Position": position["value"] if position else "", "PersonId": row["person_id"],
        "Mrmrs": row["mrmrs"] or "", "Firstname": row["firstname"] or "", "Lastname": row["lastname"] or "",
        "MiddleName": row["middlename"] or "", "Title": row["title"] or "", "Description": row["description"] or "",
        "Email": first_value(row["emails"]), "FullName": person_full_name(row), "DirectPhone": first_value(
            row["office_phones"]), "FormalName": person_formal_name(row), "CountryId": row["country_id"] or 0,
        "ContactId": row["contact_id"] or 0, "ContactName": contact["name"] if contact else "",
        "Retired": int(bool(row["retired"])), "Rank": row["rank"] or 0, "ActiveInterests": 0,
        "ContactDepartment": (contact["department"] or "") if contact else "",
        "ContactCountryId": (contact["country_id"] or 0) if contact else 0,
        "ContactOrgNr": (contact["org_nr"] or "") if contact else "", "FaxPhone": first_value(row["faxes"]),
        "MobilePhone": first_value(row["mobile_phones"]),
        "ContactPhone": first_value(contact["phones"]) if contact else "",
        "AssociateName": associate["user_name"] if associate else "", "AssociateId": row["associate_id"] or 0,
        "UsePersonAddress": bool(row["use_person_address"]),
        "ContactFax": first_value(contact["faxes"]) if contact else "",
        "Kanafname": row["kanafname"] or "", "Kanalname": row["kanalname"] or "", "Post1": "", "Post2": "",
        "Post3": "", "EmailName": first_description(row["emails"]),
        "ContactFullName": contact_full_name(contact) if contact else "", "ActiveErpLinks": 0,
        "TicketPriorityId": 0, "SupportLanguageId": 0, "SupportAssociateId": 0,
        "CategoryName": category["value"] if category else "", "PersonNumber": row["person_number"] or "",
    }


def person_entity(crm: Crm, row: Row) -> dict[str, Any]:
    kept = kept_values(row)
    entity = _person_entity(crm, row)
    entity.update(kept)
    entity["ActiveInterests"] = _selected_count(kept.get("Interests"))
    return entity


def _person_entity(crm: Crm, row: Row) -> dict[str, Any]:
    contact = crm.contact(row["contact_id"])
    return {
        "PersonId": row["person_id"], "Firstname": row["firstname"] or "", "MiddleName": row["middlename"] or "",
        "Lastname": row["lastname"] or "", "Mrmrs": row["mrmrs"] or "", "Title": row["title"] or "",
        "UpdatedDate": parse_date(row["updated_at"]), "CreatedDate": parse_date(row["created_at"]),
        "BirthDate": parse_date(row["birth_date"]),
        "CreatedBy": associate_carrier(crm.associate(row["created_by"])),
        "Emails": entity_elements(row["emails"]), "Description": row["description"] or "", "IsAssociate": False,
        "PrivatePhones": entity_elements(row["private_phones"]), "Faxes": entity_elements(row["faxes"]),
        "MobilePhones": entity_elements(row["mobile_phones"]), "OfficePhones": entity_elements(row["office_phones"]),
        "OtherPhones": entity_elements(row["other_phones"]),
        "Position": list_carrier(crm.list_item("position", row["position_id"])),
        "UpdatedBy": associate_carrier(crm.associate(row["updated_by"])),
        "Contact": contact_item(crm, contact) if contact else None,
        "Country": country_carrier(crm.country(row["country_id"])),
        "Interests": empty_array("SelectableMDOListItem"), "PersonNumber": row["person_number"] or "",
        "FullName": person_full_name(row), "NoMailing": bool(row["no_mailing"]),
        "UsePersonAddress": bool(row["use_person_address"]), "Retired": bool(row["retired"]),
        "Urls": entity_elements(row["urls"]), "FormalName": person_formal_name(row),
        "Address": address_carrier(row["address"], "PersonPrivateAddress", "PersonPrivateAddress"),
        "Post3": "", "Post2": "", "Post1": "", "Kanalname": row["kanalname"] or "", "Kanafname": row["kanafname"] or "",
        "Category": list_carrier(crm.list_item("category", row["category_id"])),
        "Business": list_carrier(crm.list_item("business", row["business_id"])),
        "Associate": associate_carrier(crm.associate(row["associate_id"])), "Salutation": row["salutation"] or "",
        "ActiveInterests": 0, "DbiAgentId": 0, "DbiKey": "", "DbiLastModified": MIN_DATE,
        "DbiLastSyncronized": MIN_DATE, "SentInfo": 0, "ShowContactTickets": 0,
        "ChatEmails": entity_elements(None), "InternetPhones": entity_elements(None), "Source": 0,
        "ActiveErpLinks": 0, "ShipmentTypes": empty_array("SelectableMDOListItem"),
        "Consents": empty_array("ConsentInfo"), "BounceEmails": empty_array("string"), "ActiveStatusMonitorId": 0,
        "CreatedByFormId": 0, "LeadstatusId": 0, "UserDefinedFields": empty_dictionary(),
        "ExtraFields": empty_dictionary(), "CustomFields": empty_dictionary(),
    }
