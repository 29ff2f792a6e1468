"""Archive's encoded values, Python restrictions, lazy paging, progress and resuming; the list cache."""

from __future__ import annotations

import builtins
import datetime as dt
import decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soapkit import ConfigurationError, InvalidValue, MultiLanguageText, decode_value
from soapkit.values.archive import ArchiveQuery, ArchiveRows, encode_value, order_infos, restriction_infos
from soapkit.values.lists import ListCache

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

@pytest.mark.parametrize(("encoded", "decoded"), [
    ("[I:123]", 123),
    ("[I:-7]", -7),
    ("[F:1.5]", 1.5),
    ("[M:10.00]", decimal.Decimal("10.00")),
    ("[D:09.11.2017]", dt.date(2017, 11, 9)),
    ("[D:11/09/2017]", dt.date(2017, 11, 9)),
    ("[DT:11/09/2017 14:53:18]", dt.datetime(2017, 11, 9, 14, 53, 18)),
    ("[DT:05/02/2023 13:15:00.0000000]", dt.datetime(2023, 5, 2, 13, 15)),
    ("[DT:05/02/2023 13:15:00.1234567]", dt.datetime(2023, 5, 2, 13, 15, 0, 123456)),
    ("[T:14:52]", dt.time(14, 52)),
    ("[T:14:52:09]", dt.time(14, 52, 9)),
    ("[B:AAEC]", b"\x00\x01\x02"),
    ("Acme AS", "Acme AS"),
    ("", ""),
    ("[I:not a number]", "[I:not a number]"),  # does not parse: left as the server wrote it
    ("[X:1]", "[X:1]"),
    (None, None),
])
def test_encoded_values_decode_to_python(encoded: Any, decoded: Any) -> None:
    value = decode_value(encoded)
    assert value == decoded and type(value) is type(decoded)


def test_culture_tagged_list_names_decode_to_text_with_every_translation() -> None:
    value = decode_value('US:"Legal";NO:"Lovlig";')
    assert isinstance(value, MultiLanguageText) and value == "Legal"
    assert value.translations == {"US": "Legal", "NO": "Lovlig"} and value.in_culture("no") == "Lovlig"
    assert decode_value('US:"Legal";NO:"Lovlig";', culture="NO") == "Lovlig"
    assert decode_value('US:"Legal" trailing') == 'US:"Legal" trailing'
    import copy

    assert copy.deepcopy(value).translations == value.translations


@pytest.mark.parametrize(("value", "encoded"), [
    (10, "[I:10]"), (True, "[I:1]"), (1.5, "[F:1.5]"), (decimal.Decimal("10.00"), "[M:10.00]"),
    (dt.datetime(2017, 11, 9, 14, 53, 18), "[DT:11/09/2017 14:53:18]"),
    (dt.datetime(2017, 11, 9, 15, 53, 18, tzinfo=dt.timezone(dt.timedelta(hours=1))), "[DT:11/09/2017 14:53:18]"),
    (dt.date(2017, 11, 9), "[D:09.11.2017]"), (dt.time(14, 52), "[T:14:52]"), ("Acme", "Acme"),
])
def test_restriction_values_are_encoded_and_decode_back(value: Any, encoded: str) -> None:
    assert encode_value(value) == encoded
    if not isinstance(value, (str, bool)) and getattr(value, "tzinfo", None) is None:
        assert decode_value(encoded) == value


def test_python_restrictions_become_restriction_infos() -> None:
    infos = restriction_infos([("name", "begins", "Acme"), "or",
                               ("updatedDate", "after", dt.datetime(2024, 1, 31, 10)),
                               ("contactId", "oneOf", [1, 2, 3])])
    assert infos == [
        {"Name": "name", "Operator": "begins", "Values": ["Acme"], "IsActive": True, "InterOperator": "Or"},
        {"Name": "updatedDate", "Operator": "after", "Values": ["[DT:01/31/2024 10:00:00]"], "IsActive": True},
        {"Name": "contactId", "Operator": "oneOf", "Values": ["[I:1]", "[I:2]", "[I:3]"], "IsActive": True},
    ]
    with pytest.raises(InvalidValue, match="should be"):
        restriction_infos([("name",)])
    with pytest.raises(InvalidValue, match="'or' only between"):
        restriction_infos(["or", ("name", "begins", "A")])
    assert order_infos(["name", "-updatedDate", ("contactId", "desc"), "fullName desc"]) == [
        {"Name": "name", "Direction": "ASC"}, {"Name": "updatedDate", "Direction": "DESC"},
        {"Name": "contactId", "Direction": "DESC"}, {"Name": "fullName", "Direction": "DESC"}]


def _pages(total: int) -> tuple[list[int], Any]:
    asked: list[int] = []

    def fetch(**request: Any) -> list[dict[str, Any]]:
        asked.append(request["Page"])
        start = request["Page"] * request["PageSize"]
        return [{"EntityName": "contact", "PrimaryKey": n, "ColumnData": [
            {"Key": "contactId", "Value": {"DisplayValue": f"[I:{n}]"}}]}
            for n in range(start + 1, min(total, start + request["PageSize"]) + 1)]
    return asked, fetch


def test_rows_are_fetched_page_by_page_as_they_are_read() -> None:
    asked, fetch = _pages(5)
    rows = ArchiveRows(fetch, ArchiveQuery("Contact", ["contactId"], page_size=2))
    first = next(rows)
    assert first == {"contactId": 1} and first.primary_key == 1 and asked == [0]
    assert [r["contactId"] for r in rows] == [2, 3, 4, 5] and asked == [0, 1, 2]


def test_a_full_last_page_costs_one_empty_page_and_start_page_resumes() -> None:
    asked, fetch = _pages(4)
    assert len(list(ArchiveRows(fetch, ArchiveQuery("Contact", ["contactId"], page_size=2)))) == 4
    assert asked == [0, 1, 2]
    asked, fetch = _pages(5)
    rows = ArchiveRows(fetch, ArchiveQuery("Contact", ["contactId"], page_size=2), start_page=1)
    assert [r["contactId"] for r in rows] == [3, 4, 5] and rows.page == 2


def test_interrupted_export_resumes_from_rows_page() -> None:
    _, fetch = _pages(6)
    rows = ArchiveRows(fetch, ArchiveQuery("Contact", ["contactId"], page_size=2))
    read = [next(rows)["contactId"] for _ in range(3)]
    resumed = ArchiveRows(fetch, ArchiveQuery("Contact", ["contactId"], page_size=2), start_page=rows.page)
    assert read == [1, 2, 3] and rows.page == 1 and [r["contactId"] for r in resumed] == [3, 4, 5, 6]


def test_bad_queries_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="list of column names"):
        ArchiveQuery("Contact", "contactId")
    with pytest.raises(ConfigurationError, match="page_size"):
        ArchiveQuery("Contact", ["contactId"], page_size=0)
    with pytest.raises(ConfigurationError, match="start_page"):
        ArchiveRows(lambda **_: [], ArchiveQuery("Contact", ["contactId"]), start_page=-1)


def test_progress_shows_a_bar_and_says_what_to_install_without_tqdm(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, fetch = _pages(3)
    assert len(list(ArchiveRows(fetch, ArchiveQuery("Contact", ["contactId"]), progress=True, total=3))) == 3
    assert "3/3" in capsys.readouterr().err
    real_import = builtins.__import__

    def no_tqdm(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "tqdm":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    with pytest.raises(ConfigurationError, match=r"soapkit\[progress\]"):
        ArchiveRows(fetch, ArchiveQuery("Contact", ["contactId"]), progress=True)


def test_so_archive_against_the_sandbox(sandbox: Any) -> None:
    from soapkit import SystemUser, connect

    cfg = sandbox.config
    so = connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                 credentials=SystemUser(cfg["system_user_token"], cfg["private_key_xml"]))
    rows = list(so.archive("Contact", ["contactId", "name", "registeredDate", "stop"],
                           restrictions=[("registeredDate", "afterTime", dt.datetime(2000, 1, 1)),
                                         ("contactId", "oneOf", [1, 2, 3])],
                           order=["-contactId"], page_size=2))
    assert [r["contactId"] for r in rows] == [3, 2, 1] and [r.page for r in rows] == [0, 0, 1]
    assert all(isinstance(r["registeredDate"], dt.datetime) and r["stop"] == 0 for r in rows)
    named = list(so.archive("Contact", ["contactId"], restrictions=[("name", "begins", rows[0]["name"][:4])]))
    assert rows[0]["contactId"] in [r["contactId"] for r in named]


def test_the_list_cache_keeps_answers_for_its_time_and_hands_out_copies() -> None:
    now = [0.0]
    cache = ListCache(60, clock=lambda: now[0])
    calls: list[int] = []

    def fetch() -> list[dict[str, int]]:
        calls.append(1)
        return [{"Id": len(calls)}]

    first = cache.get("category", fetch)
    first.append({"Id": 99})
    assert cache.get("category", fetch) == [{"Id": 1}] and len(calls) == 1
    now[0] = 61
    assert cache.get("category", fetch) == [{"Id": 2}] and len(calls) == 2
    cache.clear()
    assert cache.get("category", fetch) == [{"Id": 3}]
    uncached = ListCache(0)
    uncached.get("x", fetch)
    uncached.get("x", fetch)
    assert uncached.fetch_count == 2


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31)), st.booleans())
def test_the_fast_datetime_reading_equals_strptime(moment: dt.datetime, seconds: bool) -> None:
    layout = "%m/%d/%Y %H:%M:%S" if seconds else "%m/%d/%Y %H:%M"
    text = moment.strftime(layout)
    assert decode_value(f"[DT:{text}]") == dt.datetime.strptime(text, layout)
    assert decode_value(f"[DT:{text}.25]") == dt.datetime.strptime(text, layout).replace(microsecond=250000)
