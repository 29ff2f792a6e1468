"""The sandbox's REST Agents API: regional headers, its 421, the application check of Bearer calls, and onsite.

* ``SO-TimeZone`` converts date-times between the asked zone and the base zone (UTC) both ways;
  ``SO-Language`` / ``Accept-Language`` translate multi-language texts; ``SO-Culture`` is checked;
* a call on the wrong host gets 421 in the REST error shape (JSON), not the SOAP endpoint's text;
* ``Bearer`` without ``SO-AppToken`` still checks the application the token was issued to;
* the onsite installation serves the REST Agents API too, without the application check.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from sandbox_rest_client import Rest, error_of

import soapkit
from soapkit.sandbox import Sandbox
from soapkit.sandbox.credentials import CredentialKind
from soapkit.sandbox.regional import TIME_ZONES, language, time_zone, translate
from soapkit.sandbox.seed import SYSTEM_ASSOCIATE_ID


@pytest.fixture(scope="module")
def rest(own_sandbox: Sandbox) -> Iterator[Rest]:
    client = Rest(own_sandbox)
    yield client
    client.http.close()


def save_appointment(rest: Rest, start: str, end: str, **headers: str) -> dict[str, Any]:
    entity = rest.ok("Appointment/CreateDefaultAppointmentEntity")
    entity.update(StartDate=start, EndDate=end, Contact={"ContactId": 1})
    saved: dict[str, Any] = rest.ok("Appointment/SaveAppointmentEntity", json=entity, headers=rest.auth(**headers))
    return saved


def read_appointment(rest: Rest, appointment_id: int, **headers: str) -> dict[str, Any]:
    found: dict[str, Any] = rest.ok("Appointment/GetAppointmentEntity", params={"appointmentEntityId": appointment_id},
                                    headers=rest.auth(**headers))
    return found


# --- SO-TimeZone ----------------------------------------------------------------------------------


def test_so_timezone_converts_dates_both_ways(rest: Rest, own_sandbox: Sandbox) -> None:
    # written as Oslo wall time in summer (UTC+2): stored in the base zone (UTC)
    saved = save_appointment(rest, "2026-06-01T10:00:00", "2026-06-01T11:30:00", **{"SO-TimeZone": "NO"})
    assert (saved["StartDate"], saved["EndDate"]) == ("2026-06-01T10:00:00", "2026-06-01T11:30:00")
    ident = saved["AppointmentId"]
    plain = read_appointment(rest, ident)
    assert (plain["StartDate"], plain["EndDate"]) == ("2026-06-01T08:00:00", "2026-06-01T09:30:00")
    # the SOAP side (no TimeZone header) reads the same base-zone values
    cfg = own_sandbox.config
    so = soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                         credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_pem"]))
    with so:
        assert so.AppointmentAgent.GetAppointmentEntity(ident).StartDate == dt.datetime(2026, 6, 1, 8, 0)
    for zone, start in (("US-NY", "2026-06-01T04:00:00"), ("us-ny", "2026-06-01T04:00:00"),
                        ("America/New_York", "2026-06-01T04:00:00"), ("UTC", "2026-06-01T08:00:00"),
                        ("AU-ACT", "2026-06-01T18:00:00"), ("Europe/Oslo", "2026-06-01T10:00:00")):
        assert read_appointment(rest, ident, **{"SO-TimeZone": zone})["StartDate"] == start, zone


def test_so_timezone_follows_daylight_saving_and_leaves_what_it_must(rest: Rest) -> None:
    # January: Oslo is UTC+1
    saved = save_appointment(rest, "2026-01-15T09:00:00", "2026-01-15T10:00:00", **{"SO-TimeZone": "NO"})
    assert read_appointment(rest, saved["AppointmentId"])["StartDate"] == "2026-01-15T08:00:00"
    # "no date" (DateTime.MinValue) stays as it is in every zone
    for zone in ("NO", "US-HI"):
        assert read_appointment(rest, saved["AppointmentId"], **{"SO-TimeZone": zone})["UpdatedDate"] == \
            "0001-01-01T00:00:00"
    # a value with an offset names the moment itself, whatever the header says
    exact = save_appointment(rest, "2026-01-15T09:00:00Z", "2026-01-15T10:00:00+01:00", **{"SO-TimeZone": "US-NY"})
    stored = read_appointment(rest, exact["AppointmentId"])
    assert (stored["StartDate"], stored["EndDate"]) == ("2026-01-15T09:00:00", "2026-01-15T09:00:00")


def test_an_unknown_time_zone_is_refused_naming_the_header(rest: Rest) -> None:
    for zone in ("Mars", "Europe/Atlantis", "../../etc/passwd", "+02:00"):
        document = error_of(rest.post("Contact/GetContactEntity", params={"contactEntityId": 1},
                                      headers=rest.auth(**{"SO-TimeZone": zone})), 400, "BadRequestException")
        assert document["Parameter"] == "SO-TimeZone" and "US-NY" in document["Message"], zone


def test_every_listed_time_zone_code_resolves() -> None:
    for code in TIME_ZONES:
        zone = time_zone(code)
        assert zone is not None and dt.datetime(2026, 1, 1, tzinfo=zone).utcoffset() is not None, code
    assert time_zone("") is None and time_zone(None) is None


# --- SO-Language / Accept-Language ----------------------------------------------------------------


@pytest.fixture(scope="module")
def supplier(own_sandbox: Sandbox) -> Iterator[int]:
    """A category whose name is a multi-language text, as SuperOffice stores list names."""
    store = own_sandbox.backend.store
    store.execute("INSERT INTO list_item VALUES (?, ?, ?, ?, ?)",
                  ("category", 90, 'NO:"Leverandør";US:"Supplier";GE:"Lieferant"', "", 90))
    yield 90
    store.execute("DELETE FROM list_item WHERE list_name = ? AND id = ?", ("category", 90))


def category_name(rest: Rest, item_id: int, **headers: str) -> str:
    items = rest.ok("MDO/GetList", json={"Name": "category", "ForceFlatList": True, "AdditionalInfo": "",
                                        "OnlyHistory": False}, headers=rest.auth(**headers))
    return str(next(item["Name"] for item in items if item["Id"] == item_id))


def test_language_headers_translate_multi_language_texts(rest: Rest, supplier: int) -> None:
    untranslated = 'NO:"Leverandør";US:"Supplier";GE:"Lieferant"'
    assert category_name(rest, supplier) == untranslated  # no language asked: unchanged, as SuperOffice does
    assert category_name(rest, supplier, **{"SO-Language": "en"}) == "Supplier"
    assert category_name(rest, supplier, **{"SO-Language": "nb-NO"}) == "Leverandør"
    assert category_name(rest, supplier, **{"SO-Language": "de"}) == "Lieferant"
    assert category_name(rest, supplier, **{"Accept-Language": "en-GB,en;q=0.9"}) == "Supplier"
    # SO-Language wins over the browser's Accept-Language; * and x cancel translation
    assert category_name(rest, supplier, **{"Accept-Language": "en-US; en-GB", "SO-Language": "nb-no"}) == \
        "Leverandør"
    for cancel in ("*", "x"):
        assert category_name(rest, supplier, **{"Accept-Language": "en", "SO-Language": cancel}) == untranslated
    # a language the text has no entry for gets its first text
    assert category_name(rest, supplier, **{"SO-Language": "fi"}) == "Leverandør"
    # ordinary texts are never touched
    assert category_name(rest, 1, **{"SO-Language": "nb"}) == "Customer"


def test_language_also_applies_to_entity_texts(rest: Rest) -> None:
    company = rest.ok("Contact/CreateDefaultContactEntity")
    company["Name"] = 'NO:"Nordlys";US:"Northern Lights"'
    ident = rest.ok("Contact/SaveContactEntity", json=company)["ContactId"]
    read = rest.ok("Contact/GetContactEntity", params={"contactEntityId": ident},
                   headers=rest.auth(**{"SO-Language": "en-US"}))
    assert read["Name"] == "Northern Lights"


def test_translate_reads_superoffice_multi_language_texts() -> None:
    assert translate('US:"Legal";NO:"Lovlig";', "nb") == "Lovlig"
    assert translate('US:"Say ""hi""";NO:"Si ""hei"""', "en") == 'Say "hi"'
    assert translate("Mr. Smith: \"quoted\"", "en") == "Mr. Smith: \"quoted\""  # not wholly a multi-language text
    assert translate('US:"Legal" and more', "en") == 'US:"Legal" and more'
    assert translate("", "en") == ""
    assert language(None, "da-DK,da;q=0.9") == "da-dk" and language(None, "*") is None
    assert language(None, None) is None


def test_malformed_language_and_culture_are_refused_naming_the_header(rest: Rest) -> None:
    for header, value in (("SO-Language", "not a language"), ("SO-Culture", "nb NO!"), ("SO-Culture", "123")):
        document = error_of(rest.post("Contact/GetContactEntity", params={"contactEntityId": 1},
                                      headers=rest.auth(**{header: value})), 400, "BadRequestException")
        assert document["Parameter"] == header and header in document["Message"]


def test_so_culture_leaves_culture_neutral_answers_alone(rest: Rest) -> None:
    query = {"params": {"contactEntityId": 1}}
    plain = rest.ok("Contact/GetContactEntity", **query)
    for culture in ("nb-NO", "en-US", "de-DE", "sv_SE"):
        assert rest.ok("Contact/GetContactEntity", headers=rest.auth(**{"SO-Culture": culture}), **query) == plain


# --- 421 --------------------------------------------------------------------------------------------


def test_a_call_on_the_wrong_host_gets_421_in_the_rest_error_shape(rest: Rest) -> None:
    sb = rest.sb
    port = urlsplit(sb.base_url).port
    moved = sb.move_tenant(sb.context_identifier, f"localhost:{port}")
    try:
        wrong = rest.post("Contact/GetContactEntity", params={"contactEntityId": 1},
                          base=f"http://127.0.0.1:{port}/{sb.context_identifier}")
        document = error_of(wrong, 421, "WrongSubdomainException")
        assert document["Message"].startswith("Wrong subdomain used to access tenant")
        assert f"/api/state/{sb.context_identifier}" in document["Message"]
        assert rest.ok("Contact/GetContactEntity", params={"contactEntityId": 1}, base=moved)["ContactId"] == 1
        # the SOAP endpoint keeps IIS's plain-text answer
        soap = requests.post(f"http://127.0.0.1:{port}/{sb.context_identifier}/Remote/Services88/Contact.svc",
                             data=b"<x/>", headers={"Content-Type": "text/xml"}, timeout=30)
        assert soap.status_code == 421 and soap.headers["Content-Type"].startswith("text/plain")
    finally:
        sb.move_tenant(sb.context_identifier, None)


# --- Bearer without SO-AppToken -----------------------------------------------------------------------


def access_token(sb: Sandbox, client_id: str | None, name: str) -> str:
    backend = sb.backend
    token = f"8A:{sb.context_identifier}.{name}"
    backend.credentials.add(token, CredentialKind.ACCESS_TOKEN, sb.context_identifier, client_id,
                            SYSTEM_ASSOCIATE_ID, backend.now(), expires_at=backend.now() + dt.timedelta(hours=1))
    return token


def test_bearer_without_app_token_still_checks_the_tokens_application(rest: Rest) -> None:
    sb, path = rest.sb, "Contact/GetContactEntity?contactEntityId=1"
    backend = sb.backend
    installed = backend.apps.first()
    assert installed is not None
    good = access_token(sb, installed.client_id, "installed-app")
    assert rest.ok(path, headers={"Authorization": f"Bearer {good}"})["ContactId"] == 1
    # an application registered with the sandbox but not installed in this tenant
    other, _ = backend.apps.register("Not Installed App", rsa.generate_private_key(public_exponent=65537,
                                                                                  key_size=2048).public_key(),
                                     backend.now())
    stranger = access_token(sb, other.client_id, "not-installed-app")
    document = error_of(rest.post(path, headers={"Authorization": f"Bearer {stranger}"}), 401,
                        "ApplicationTokenInvalidException")
    assert "'Not Installed App'" in document["Message"] and sb.context_identifier in document["Message"]
    # an application the sandbox does not know (any more)
    orphan = access_token(sb, "0" * 32, "unknown-app")
    error_of(rest.post(path, headers={"Authorization": f"Bearer {orphan}"}), 401, "ApplicationTokenInvalidException")
    # with SO-AppToken the secret's application is the one checked, as before
    assert rest.ok(path, headers={"Authorization": f"Bearer {good}",
                                  "SO-AppToken": sb.config["client_secret"]})["ContactId"] == 1


def test_bearer_reference_tokens_have_no_application_to_check(rest: Rest) -> None:
    personal = access_token(rest.sb, None, "no-application")
    assert rest.ok("Contact/GetContactEntity?contactEntityId=1",
                   headers={"Authorization": f"Bearer {personal}"})["ContactId"] == 1


# --- onsite -------------------------------------------------------------------------------------------


def onsite_ticket(sb: Sandbox) -> str:
    onsite = sb.config["onsite"]
    with soapkit.connect(env=soapkit.Onsite(onsite["base_url"]),
                         credentials=soapkit.UsernamePassword(onsite["user"],
                                                              password_file=onsite["password_file"])) as so:
        return str(so.credentials.token(so.context))


def test_the_onsite_installation_serves_the_rest_api_without_the_application_check(rest: Rest) -> None:
    sb = rest.sb
    onsite, base = sb.config["onsite"], f"{sb.base_url}/onsite"
    ticket = onsite_ticket(sb)
    read = rest.ok("Contact/GetContactEntity?contactEntityId=1", base=base,
                   headers={"Authorization": f"SOTicket {ticket}"})
    assert read["ContactId"] == 1
    basic = base64.b64encode(f"{onsite['user'].lower()}:{onsite['password']}".encode()).decode()
    assert rest.ok("Contact/GetContactEntity?contactEntityId=1", base=base,
                   headers={"Authorization": f"Basic {basic}", "SO-TimeZone": "NO"})["ContactId"] == 1
    wrong = base64.b64encode(f"{onsite['user']}:not-the-password".encode()).decode()
    document = error_of(rest.post("Contact/GetContactEntity?contactEntityId=1", base=base,
                                  headers={"Authorization": f"Basic {wrong}"}), 401, "CredentialsInvalidException")
    assert onsite["password"] not in document["Message"]
    error_of(rest.post("Contact/GetContactEntity?contactEntityId=1", base=base, headers={"Authorization": "Basic !!"}),
             401, "CredentialsInvalidException")
    error_of(rest.post("Contact/GetContactEntity?contactEntityId=1", base=base, headers={}), 401,
             "CredentialsMissingException")
    error_of(rest.post("SoPrincipal/GetSystemInfo", base=base, headers={"Authorization": f"SOTicket {ticket}"}),
             404, "SoapOnlyException")
    # Basic is an onsite sign-in only: the tenant's REST API refuses it
    error_of(rest.post("Contact/GetContactEntity?contactEntityId=1", headers={"Authorization": f"Basic {basic}"}),
             401, "CredentialsInvalidException")


# --- the SOAP TimeZone header ---------------------------------------------------------------------------


def soap_client(sb: Sandbox, zone: soapkit.TimeZoneHeader | None) -> Any:
    cfg = sb.config
    return soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                           credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_pem"]),
                           time_zone=zone)


def test_the_soap_time_zone_header_converts_as_so_timezone_does(rest: Rest) -> None:
    sb = rest.sb
    ident = save_appointment(rest, "2026-06-01T08:00:00", "2026-06-01T09:00:00")["AppointmentId"]  # base zone
    for zone, start in ((soapkit.TimeZoneHeader(so_time_zone_location_code="NO"), dt.datetime(2026, 6, 1, 10)),
                        (soapkit.TimeZoneHeader(so_time_zone_id=460), dt.datetime(2026, 6, 1, 4)),
                        (soapkit.TimeZoneHeader(so_time_zone_id=0), dt.datetime(2026, 6, 1, 8)),
                        (None, dt.datetime(2026, 6, 1, 8))):
        with soap_client(sb, zone) as so:
            assert so.AppointmentAgent.GetAppointmentEntity(ident).StartDate == start, zone
    # written in Oslo wall time over SOAP: stored in the base zone, read back in any zone over REST
    with soap_client(sb, soapkit.TimeZoneHeader(so_time_zone_location_code="NO")) as so:
        entity = so.AppointmentAgent.GetAppointmentEntity(ident)
        entity.StartDate, entity.EndDate = dt.datetime(2026, 6, 2, 12), dt.datetime(2026, 6, 2, 13)
        so.AppointmentAgent.SaveAppointmentEntity(entity)
    assert read_appointment(rest, ident)["StartDate"] == "2026-06-02T10:00:00"
    assert read_appointment(rest, ident, **{"SO-TimeZone": "NO"})["StartDate"] == "2026-06-02T12:00:00"


def test_an_unknown_soap_time_zone_fails_naming_the_header(rest: Rest) -> None:
    for zone in (soapkit.TimeZoneHeader(so_time_zone_location_code="Mars"), soapkit.TimeZoneHeader(so_time_zone_id=7)):
        with soap_client(rest.sb, zone) as so, pytest.raises(soapkit.AgentError) as failed:
            so.ContactAgent.GetContactEntity(1)
        assert failed.value.exception_type == "ArgumentException" and "TimeZone" in failed.value.message
