"""The sandbox's List agent (businesses, categories, countries) through soapkit and a strict reference client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zeep

import soapkit
from soapkit.sandbox import Sandbox
from soapkit.sandbox.seed import COUNTRIES, LISTS

NS = "{http://www.superoffice.net/ws/crm/NetServer/Services88}"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(data_dir=tmp_path_factory.mktemp("lists"), port=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def so(sb: Sandbox) -> Any:
    cfg = sb.config
    return soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                           credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_pem"]))


def test_businesses_and_categories_are_the_seeded_lists(so: Any) -> None:
    businesses = so.ListAgent.GetBusinesses()
    assert [(b["Id"], b["Value"]) for b in businesses] == list(enumerate(LISTS["business"], start=1))
    categories = so.ListAgent.GetCategories()
    assert [(c["Id"], c["Value"]) for c in categories] == list(enumerate(LISTS["category"], start=1))
    assert categories[0]["Tooltip"] == "Customer"


def test_countries(so: Any) -> None:
    countries = so.ListAgent.GetCountries()
    assert [c["CountryId"] for c in countries] == [row[0] for row in COUNTRIES]
    norway = countries[0]
    assert (norway["Name"], norway["EnglishName"], norway["TwoLetterISOCountry"], norway["Deleted"]) == \
        ("Norge", "Norway", "NO", False)
    assert [c["CountryId"] for c in so.ListAgent.GetAllCountries(IncludeDeleted=True)] == \
        [c["CountryId"] for c in countries]


def test_ids_match_what_contacts_refer_to(so: Any) -> None:
    contact = so.ContactAgent.GetContactEntity(ContactEntityId=1)
    businesses = {b["Id"]: b["Value"] for b in so.ListAgent.GetBusinesses()}
    categories = {c["Id"]: c["Value"] for c in so.ListAgent.GetCategories()}
    assert businesses[contact["Business"]["Id"]] == contact["Business"]["Value"]
    assert categories[contact["Category"]["Id"]] == contact["Category"]["Value"]


@pytest.mark.parametrize(("operation", "kwargs", "item"), [
    ("GetBusinesses", {}, "Business"),
    ("GetCategories", {}, "Category"),
    ("GetCountries", {}, "Country"),
    ("GetAllCountries", {"IncludeDeleted": False}, "Country"),
])
def test_reference_wsdl_client_parses_every_operation(sb: Sandbox, reference_wsdl_dir: Path, operation: str,
                                                      kwargs: dict[str, Any], item: str) -> None:
    cfg = sb.config
    client = zeep.Client(str(reference_wsdl_dir / "Services88/List.wsdl"), settings=zeep.Settings(strict=True))
    service = client.create_service(f"{NS}BasicHttpBinding_List",
                                    f"{cfg['base_url']}/{cfg['context_identifier']}/Remote/Services88/List.svc")
    headers = {"ApplicationToken": cfg["client_secret"], "Credentials": {"Ticket": sb.issue_ticket()}}
    answer = getattr(service, operation)(**kwargs, _soapheaders=headers)
    assert answer.header.Succeeded is True
    items = getattr(answer.body.Response, item)
    assert len(items) >= 5
    assert all(isinstance(i.Value if item != "Country" else i.Name, str) for i in items)
