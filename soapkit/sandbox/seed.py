"""Sample data: reference lists, countries, and a tenant's associates, companies and persons.

Everything is fictional (``.example`` domains, made-up organisation numbers) and deterministic, so
tests can rely on it: a fresh tenant has contacts 1-5 and persons 1-10, two persons per contact.
"""

from __future__ import annotations

import json
from typing import Any

from soapkit.sandbox.store import Store

NORWAY, SWEDEN, DENMARK, UNITED_KINGDOM, GERMANY, NETHERLANDS, UNITED_STATES = 578, 752, 208, 826, 276, 528, 840

COUNTRIES: list[tuple[int, str, str, str, str, int, str, str, str, str]] = [
    # id, name, english name, iso2, iso3, currency id, dial prefix, domain, org nr label, zip prefix
    (NORWAY, "Norge", "Norway", "NO", "NOR", 1, "+47", ".no", "Org.nr", "N-"),
    (SWEDEN, "Sverige", "Sweden", "SE", "SWE", 2, "+46", ".se", "Org.nr", "S-"),
    (DENMARK, "Danmark", "Denmark", "DK", "DNK", 3, "+45", ".dk", "CVR", "DK-"),
    (UNITED_KINGDOM, "United Kingdom", "United Kingdom", "GB", "GBR", 4, "+44", ".uk", "Company No", ""),
    (GERMANY, "Deutschland", "Germany", "DE", "DEU", 5, "+49", ".de", "HRB", "D-"),
    (NETHERLANDS, "Nederland", "Netherlands", "NL", "NLD", 5, "+31", ".nl", "KvK", "NL-"),
    (UNITED_STATES, "United States", "United States", "US", "USA", 6, "+1", ".us", "EIN", ""),
]

LISTS: dict[str, list[str]] = {
    "business": ["IT", "Consulting", "Retail", "Manufacturing", "Finance", "Design"],
    "category": ["Customer", "Prospect", "Partner", "Supplier", "Competitor"],
    "position": ["CEO", "CTO", "CFO", "Sales Manager", "Consultant", "Accountant", "Designer"],
    "priority": ["Low", "Normal", "High", "Critical"],
}

SYSTEM_ASSOCIATE_ID = 1
ASSOCIATES: list[dict[str, Any]] = [
    {"associate_id": SYSTEM_ASSOCIATE_ID, "user_name": "SYSTEM", "full_name": "System User (soapkit sandbox)",
     "initials": "SYS", "email": "system@sandbox.example", "user_type": "SystemAssociate", "group_id": 1,
     "is_administrator": 0},
    {"associate_id": 2, "user_name": "EVA", "full_name": "Eva Andersen", "initials": "EA",
     "email": "eva.andersen@sandbox.example", "user_type": "InternalAssociate", "group_id": 1, "is_administrator": 1},
    {"associate_id": 3, "user_name": "JOHAN", "full_name": "Johan Berg", "initials": "JB",
     "email": "johan.berg@sandbox.example", "user_type": "InternalAssociate", "group_id": 2, "is_administrator": 0},
]


def _address(street: str, zipcode: str, city: str, postal: tuple[str, str, str] | None = None) -> str:
    postal_street, postal_zip, postal_city = postal or (street, zipcode, city)
    return json.dumps({
        "street": {"Address1": street, "Zipcode": zipcode, "City": city},
        "postal": {"Address1": postal_street, "Zipcode": postal_zip, "City": postal_city},
    })


def _elements(*values: str) -> str:
    return json.dumps([{"Value": value, "Description": ""} for value in values])


COMPANIES: list[dict[str, Any]] = [
    {"name": "Nordlys Data AS", "department": "", "org_nr": "912345670", "country_id": NORWAY,
     "business_id": 1, "category_id": 1, "associate_id": 2, "number1": "10001",
     "address": _address("Storgata 12", "0155", "Oslo", ("Postboks 123 Sentrum", "0102", "Oslo")),
     "emails": _elements("post@nordlys-data.example"), "phones": _elements("+47 22 12 34 56"),
     "urls": _elements("https://nordlys-data.example"), "created_at": "2023-02-14T09:30:00"},
    {"name": "Bergvik Rådgivning AS", "department": "Bergen", "org_nr": "923456781", "country_id": NORWAY,
     "business_id": 2, "category_id": 2, "associate_id": 3, "number1": "10002",
     "address": _address("Strandkaien 4", "5013", "Bergen"),
     "emails": _elements("kontakt@bergvik.example"), "phones": _elements("+47 55 30 40 50"),
     "urls": _elements("https://bergvik.example"), "created_at": "2023-05-02T13:15:00"},
    {"name": "Kvarnby Handel AB", "department": "", "org_nr": "556677-8899", "country_id": SWEDEN,
     "business_id": 3, "category_id": 1, "associate_id": 2, "number1": "10003",
     "address": _address("Södra Förstadsgatan 21", "211 43", "Malmö"),
     "emails": _elements("info@kvarnby.example"), "phones": _elements("+46 40 12 34 56"),
     "urls": _elements("https://kvarnby.example"), "created_at": "2023-08-21T08:00:00"},
    {"name": "Havnegade Design ApS", "department": "", "org_nr": "DK38291047", "country_id": DENMARK,
     "business_id": 6, "category_id": 3, "associate_id": 3, "number1": "10004",
     "address": _address("Havnegade 39", "1058", "København K"),
     "emails": _elements("hello@havnegade.example"), "phones": _elements("+45 33 12 45 78"),
     "urls": _elements("https://havnegade.example"), "created_at": "2024-01-09T10:45:00"},
    {"name": "Solberg & Dahl Regnskap", "department": "Stavanger", "org_nr": "934567892", "country_id": NORWAY,
     "business_id": 5, "category_id": 4, "associate_id": 2, "number1": "10005",
     "address": _address("Kongsgata 7", "4005", "Stavanger"),
     "emails": _elements("regnskap@solbergdahl.example"), "phones": _elements("+47 51 89 00 11"),
     "urls": _elements("https://solbergdahl.example"), "created_at": "2024-03-18T14:20:00"},
]

# (contact index, first, last, mrmrs, title, position id, email, office phone, mobile, birth date)
PERSONS: list[tuple[int, str, str, str, str, int, str, str, str, str | None]] = [
    (0, "Ingrid", "Hansen", "Ms", "Chief Executive Officer", 1, "ingrid.hansen@nordlys-data.example",
     "+47 22 12 34 57", "+47 912 34 567", "1978-04-12T00:00:00"),
    (0, "Lars", "Nilsen", "Mr", "Head of Development", 2, "lars.nilsen@nordlys-data.example",
     "+47 22 12 34 58", "+47 913 45 678", None),
    (1, "Kari", "Johansen", "Ms", "Senior Consultant", 5, "kari@bergvik.example",
     "+47 55 30 40 51", "+47 414 22 333", "1985-09-30T00:00:00"),
    (1, "Ole", "Olsen", "Mr", "Managing Partner", 1, "ole@bergvik.example", "+47 55 30 40 52", "+47 415 55 666", None),
    (2, "Anna", "Lindqvist", "Ms", "Inköpschef", 4, "anna.lindqvist@kvarnby.example",
     "+46 40 12 34 57", "+46 70 123 45 67", "1990-01-22T00:00:00"),
    (2, "Erik", "Svensson", "Mr", "Ekonomichef", 3, "erik.svensson@kvarnby.example",
     "+46 40 12 34 58", "+46 70 234 56 78", None),
    (3, "Mette", "Nielsen", "Ms", "Creative Director", 7, "mette@havnegade.example",
     "+45 33 12 45 79", "+45 20 12 34 56", None),
    (3, "Søren", "Jensen", "Mr", "Account Manager", 4, "soren@havnegade.example",
     "+45 33 12 45 80", "+45 21 23 45 67", "1982-06-05T00:00:00"),
    (4, "Marit", "Solberg", "Ms", "Authorised Accountant", 6, "marit@solbergdahl.example",
     "+47 51 89 00 12", "+47 920 11 222", None),
    (4, "Henrik", "Dahl", "Mr", "Partner", 1, "henrik@solbergdahl.example", "+47 51 89 00 13", "+47 921 33 444", None),
]


def seed_reference_data(store: Store) -> None:
    """Countries and lists (shared by all tenants); does nothing when they exist."""
    if store.one("SELECT 1 AS x FROM country LIMIT 1"):
        return
    for rank, row in enumerate(COUNTRIES):
        store.execute("INSERT INTO country VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, rank))
    for list_name, values in LISTS.items():
        for index, value in enumerate(values, start=1):
            store.execute("INSERT INTO list_item VALUES (?, ?, ?, ?, ?)", (list_name, index, value, value, index))


def seed_tenant(store: Store, ctx: str) -> None:
    """Associates, five companies and ten persons for a new tenant."""
    for associate in ASSOCIATES:
        store.insert("associate", {"ctx": ctx, **associate})
    contact_ids = []
    for company in COMPANIES:
        contact_id = store.next_id(ctx, "contact")
        contact_ids.append(contact_id)
        store.insert("contact", {
            "ctx": ctx, "contact_id": contact_id, **company, "updated_at": company["created_at"],
            "created_by": company["associate_id"], "updated_by": company["associate_id"],
        })
    for index, first, last, mrmrs, title, position, email, office, mobile, birth in PERSONS:
        company = COMPANIES[index]
        store.insert("person", {
            "ctx": ctx, "person_id": store.next_id(ctx, "person"), "contact_id": contact_ids[index],
            "firstname": first, "lastname": last, "mrmrs": mrmrs, "title": title, "position_id": position,
            "birth_date": birth, "emails": _elements(email), "office_phones": _elements(office),
            "mobile_phones": _elements(mobile), "country_id": company["country_id"],
            "associate_id": company["associate_id"], "business_id": company["business_id"],
            "category_id": company["category_id"], "created_at": company["created_at"],
            "updated_at": company["created_at"], "created_by": company["associate_id"],
            "updated_by": company["associate_id"],
        })


# User-defined fields of every tenant (SuperOffice's layout is per database; the sandbox's is fixed):
# (UDefFieldId, owner UDefType, ProgId, label, UDefFieldType, UDListDefinitionId or 0, text length).
USER_DEFINED_FIELDS: list[tuple[int, str, str, str, str, int, int]] = [
    (1, "Contact", "SuperOffice:1", "Customer number", "ShortText", 0, 40),
    (2, "Contact", "SuperOffice:2", "Customer since", "Date", 0, 0),
    (3, "Contact", "SuperOffice:3", "Newsletter", "Checkbox", 0, 0),
    (4, "Contact", "SuperOffice:4", "Tier", "List", 1, 0),
    (5, "Contact", "SuperOffice:5", "Yearly revenue", "Decimal", 0, 0),
    (6, "Person", "SuperOffice:6", "Shoe size", "Number", 0, 0),
    (7, "Person", "SuperOffice:7", "Notes", "LongText", 0, 2000),
    (8, "Person", "SuperOffice:8", "Preferred channel", "List", 2, 0),
]

# The user-defined lists the List fields above use, by UDListDefinitionId (MDO list "udlist", AdditionalInfo = id).
USER_DEFINED_LISTS: dict[int, list[str]] = {
    1: ["Gold", "Silver", "Bronze"],
    2: ["Phone", "E-mail", "Letter", "Meeting"],
}
