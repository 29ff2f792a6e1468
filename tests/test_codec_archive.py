"""Archive pages read straight from XML (soapkit.codec.archive) give exactly the rows the codec's decoding and
``decode_row`` give, or hand the answer back to them: on schema-generated answers, on hypothesis mutations of a
page, and through ``so.archive`` against the sandbox on both drivers."""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections import Counter
from typing import Any

import pytest
from codec_messages import XSI, AnswerMaker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import soapkit
from soapkit import connect
from soapkit.catalog import Catalog, ServiceDescription
from soapkit.codec import CodecFallback, OperationCodec, compiled
from soapkit.codec.archive import ArchivePageReader
from soapkit.sandbox import Sandbox
from soapkit.values.archive import ArchivePage, ArchiveQuery, ArchiveRow

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OPERATION = "GetArchiveListByColumns"

#: DisplayValues as Archive writes them, and some that do not decode (kept as text)
DISPLAY_VALUES = ["[I:12]", "[I:-3]", "[F:1.5]", "[M:12.50]", "[D:30.11.2026]", "[DT:11/30/2026 14:05:00]",
                  "[DT:11/30/2026 14:05:00.1234567]", "[T:08:30]", "[B:AAEC]", 'US:"Legal";NO:"Lovlig";',
                  "Acme AS", "", " ", "[I:x]", "[DT:yesterday]", "[B:!!]", "[Q:1]", "[I:12"]


@pytest.fixture(scope="module")
def description() -> ServiceDescription:
    return Catalog(index_cache=False).describe("Archive")


@pytest.fixture(scope="module")
def codec(description: ServiceDescription) -> OperationCodec:
    return compiled(description, OPERATION)


def facts(rows: list[ArchiveRow]) -> list[Any]:
    """Everything a row holds, with the values' types (== alone lets 1 == 1.0 and "" == MultiLanguageText
    through)."""
    return [([(key, type(value), repr(value), getattr(value, "translations", None)) for key, value in row.items()],
             row.primary_key, type(row.primary_key), row.entity_name, row.link_hint, row.style_hint, row.page)
            for row in rows]


def check(codec: OperationCodec, content: bytes, page: int = 3, culture: str | None = None) -> str:
    """'fast', 'handed back' or 'both fall back'; fails on any difference from the ordinary reading."""
    query = ArchiveQuery("Contact", ["contactId"], culture=culture)
    reader = ArchivePageReader(page, culture)
    taken: list[str] = []

    def spy(wrapper: Any, decoder: Any) -> Any:
        try:
            rows = reader(wrapper, decoder)
        except CodecFallback:
            taken.append("handed back")
            raise
        taken.append("fast")
        return rows

    try:
        ordinary = codec.decode(content)
    except CodecFallback:
        with pytest.raises(CodecFallback):  # the reader never reads what the codec hands to zeep
            codec.decode(content, reader=spy)
        return "both fall back"
    read = codec.decode(content, reader=spy)
    assert read.header == ordinary.header
    if taken == ["fast"]:
        assert isinstance(read.value, ArchivePage)
    assert facts(query.rows(read.value, page)) == facts(query.rows(ordinary.value, page)), content
    return taken[0]


def _encoded_display_values(content: bytes, rng: random.Random) -> bytes:
    root = etree.fromstring(content)
    for node in root.iter(f"{{{NS}}}DisplayValue"):
        if node.get(f"{{{XSI}}}nil") is None and rng.random() < 0.9:
            node.text = rng.choice(DISPLAY_VALUES)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def test_generated_answers_give_the_ordinary_rows(description: ServiceDescription, codec: OperationCodec) -> None:
    outcomes: Counter[str] = Counter()
    for seed in range(400):
        rng = random.Random(f"archive/{seed}")
        maker = AnswerMaker(description, OPERATION, rng, max_items=4, unknown=0.1 if seed % 4 == 0 else 0.0)
        content = _encoded_display_values(maker.envelope(), rng)
        outcomes[check(codec, content, page=seed % 5, culture=rng.choice([None, "NO", "us"]))] += 1
    # schema-valid answers (nil, empty lists, xsi:type subtypes, unknown elements) are read every way; most fast
    assert outcomes["fast"] > 150, outcomes
    assert outcomes["handed back"] > 0 and outcomes["both fall back"] > 0, outcomes


def page(*rows: str, header: str = "") -> bytes:
    items = "".join(f"<ArchiveListItem>{row}</ArchiveListItem>" for row in rows)
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{ENV}" xmlns:i="{XSI}">'
            f'<s:Header>{header}</s:Header><s:Body><{OPERATION}Response xmlns="{NS}"><Response>{items}</Response>'
            f"</{OPERATION}Response></s:Body></s:Envelope>").encode()


def cells(**columns: str | None) -> str:
    pairs = "".join(f"<ColumnDataKeyValuePair><Key>{key}</Key>" + (
        "" if value is None else f"<Value><DisplayValue>{value}</DisplayValue></Value>") + "</ColumnDataKeyValuePair>"
        for key, value in columns.items())
    return f"<ColumnData>{pairs}</ColumnData>"


PLAIN_PAGE = page(
    f"<EntityName>contact</EntityName><PrimaryKey>12</PrimaryKey>"
    f"{cells(contactId='[I:12]', name='Acme AS', registeredDate='[DT:11/30/2026 14:05:00]', category=None)}"
    "<LinkHint>contact_id=12</LinkHint><StyleHint/>",
    f"<EntityName i:nil=\"true\"/><PrimaryKey>13</PrimaryKey>{cells(contactId='[I:13]', name='')}",
    "",
    header="<Succeeded xmlns=\"" + NS + "\">true</Succeeded>")


def test_a_plain_page_is_read_fast_into_decoded_rows(codec: OperationCodec) -> None:
    assert check(codec, PLAIN_PAGE, page=2) == "fast"
    rows = codec.decode(PLAIN_PAGE, reader=ArchivePageReader(2)).value
    assert [dict(row) for row in rows] == [
        {"contactId": 12, "name": "Acme AS", "registeredDate": dt.datetime(2026, 11, 30, 14, 5),
         "category": None},
        {"contactId": 13, "name": ""},
        {}]
    assert [(r.primary_key, r.entity_name, r.link_hint, r.style_hint, r.page) for r in rows] == [
        (12, "contact", "contact_id=12", "", 2), (13, None, None, None, 2), (None, None, None, None, 2)]


def _mutate(root: etree._Element, draw: Any) -> None:
    """One hostile or unusual change somewhere below the body's wrapper."""
    wrapper = root.find(f"{{{ENV}}}Body")[0]  # type: ignore[index]
    by_name: dict[str, list[etree._Element]] = {}
    for element in wrapper.iter():
        if isinstance(element.tag, str):  # elements, not PIs
            by_name.setdefault(etree.QName(element).localname, []).append(element)
    node = draw(st.sampled_from(by_name[draw(st.sampled_from(sorted(by_name)))]))  # every kind of element alike
    kind = draw(st.sampled_from(["attribute", "nil", "xsi-type", "reorder", "duplicate", "drop", "unknown",
                                 "pi", "text", "empty", "tableright", "nested"]))
    if kind == "attribute":
        node.set(draw(st.sampled_from(["extra", f"{{{XSI}}}schemaLocation", f"{{{NS}}}mark"])), "1")
    elif kind == "nil":
        node.set(f"{{{XSI}}}nil", draw(st.sampled_from(["true", "false", "1"])))
    elif kind == "xsi-type":
        node.set(f"{{{XSI}}}type", draw(st.sampled_from(["xs:string", "ArchiveListItem", "s:Nothing"])))
    elif kind == "reorder" and len(node) > 1:
        children = list(node)
        first, second = draw(st.permutations(range(len(children))))[:2]
        children[first].addprevious(children[second]) if first < second else children[second].addprevious(
            children[first])
    elif kind == "duplicate" and len(node):
        child = draw(st.sampled_from(list(node)))
        child.addnext(copy.deepcopy(child))
    elif kind == "drop" and node is not wrapper:
        node.getparent().remove(node)  # type: ignore[union-attr]
    elif kind == "unknown":
        node.insert(draw(st.integers(0, len(node))), etree.Element(f"{{{NS}}}NotInTheSchema"))
    elif kind == "pi":
        node.insert(draw(st.integers(0, len(node))), etree.ProcessingInstruction("odd", "x"))
    elif kind == "text":
        node.text = draw(st.sampled_from(["  ", "text", "[I:5]"]))
    elif kind == "empty":
        for child in list(node):
            node.remove(child)
        node.text = None
    elif kind == "tableright" and node.tag == f"{{{NS}}}ArchiveListItem":
        right = etree.Element(f"{{{NS}}}TableRight")
        etree.SubElement(right, f"{{{NS}}}Mask").text = draw(st.sampled_from(["Read", "Nothing", "bogus"]))
        node.insert(0, right)
    elif kind == "nested" and len(node) == 0:
        etree.SubElement(node, f"{{{NS}}}DisplayValue").text = "[I:1]"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_pages_give_the_ordinary_rows_or_are_handed_back(codec: OperationCodec, data: st.DataObject) -> None:
    root = etree.fromstring(PLAIN_PAGE)
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(root, data.draw)
    check(codec, bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8")),
          page=data.draw(st.integers(0, 9)), culture=data.draw(st.sampled_from([None, "NO"])))


def test_a_failed_answer_still_raises_from_its_header(codec: OperationCodec) -> None:
    from soapkit.calls import unwrap
    failed = page(header=f'<Succeeded xmlns="{NS}">false</Succeeded>'
                  f'<ExceptionInfo xmlns="{NS}"><Message>no archive</Message></ExceptionInfo>')
    with pytest.raises(soapkit.AgentError, match="no archive"):
        unwrap(codec.decode(failed, reader=ArchivePageReader(0)))


def test_a_wrapper_of_another_shape_is_never_read_as_rows(description: ServiceDescription) -> None:
    contact = Catalog(index_cache=False).describe("Contact")
    other = compiled(contact, "GetContactEntity")
    answer = (f'<s:Envelope xmlns:s="{ENV}"><s:Header><Succeeded xmlns="{NS}">true</Succeeded></s:Header><s:Body>'
              f'<GetContactEntityResponse xmlns="{NS}"><Response><ContactId>5</ContactId></Response>'
              "</GetContactEntityResponse></s:Body></s:Envelope>").encode()
    assert other.decode(answer, reader=ArchivePageReader(0)).value.ContactId == 5


def _client(sb: Sandbox, codec: str) -> Any:
    cfg = sb.config
    return connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                           credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_xml"]),
                           codec=codec)


@pytest.mark.usefixtures("driver")  # both drivers (tests/both_drivers.py)
@pytest.mark.parametrize("provider", ["Contact", "Person"])
def test_so_archive_rows_are_read_fast_and_equal_the_zeep_rows(sandbox: Sandbox, provider: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    columns = ["contactId", "name", "registeredDate", "category", "stop"] if provider == "Contact" else \
        ["personId", "firstName", "contactId", "birthdate", "email/emailAddress", "personCategory"]
    expected = list(_client(sandbox, "zeep").archive(provider, columns, page_size=3))
    assert expected, "the sandbox has rows"

    def not_taken(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rows were decoded from value objects on the compiled path")

    monkeypatch.setattr("soapkit.values.archive.decode_row", not_taken)
    rows = list(_client(sandbox, "compiled").archive(provider, columns, page_size=3))
    assert facts(rows) == facts(expected)


def test_reading_plans_are_kept_with_the_compiled_decoder_and_go_with_their_description() -> None:
    import gc
    import weakref

    description = Catalog(index_cache=False).describe("Archive")
    codec = compiled(description, OPERATION)
    codec.decode(PLAIN_PAGE, reader=ArchivePageReader(0))
    plan = codec._wrapper_decoder.derived["soapkit.codec.archive"]  # type: ignore[union-attr]
    codec.decode(PLAIN_PAGE, reader=ArchivePageReader(1))
    assert codec._wrapper_decoder.derived["soapkit.codec.archive"] is plan  # type: ignore[union-attr]
    gone = weakref.ref(description)
    del description, codec, plan
    gc.collect()
    assert gone() is None


def test_across_the_contract_the_reader_serves_only_answers_of_archive_rows() -> None:
    """Every operation's answer wrapper: a reading plan is made exactly for those whose Response is a list of
    ArchiveListItem (they read generated answers like the codec does); every other wrapper is handed back."""
    from soapkit.codec import archive

    catalog = Catalog(index_cache=False)
    readable: list[str] = []
    for service in catalog.services():
        description = catalog.describe(service)
        for name in description.operation_names:
            codec = compiled(description, name)
            wrapper = codec._wrapper_decoder
            response = description.operation(name).output.body
            members = [getattr(element.type, "name", None) for _, element in response.type.elements] \
                if response is not None else []
            rows = members == ["ArrayOfArchiveListItem"]
            try:
                archive._plan(wrapper)
            except CodecFallback:
                assert not rows, f"{service}.{name} answers Archive rows but gets no plan"
                continue
            assert rows, f"{service}.{name} got a reading plan for an answer that is not Archive rows"
            readable.append(f"{service}.{name}")
            for seed in range(5):
                rng = random.Random(f"{service}/{name}/{seed}")
                content = _encoded_display_values(AnswerMaker(description, name, rng, max_items=3).envelope(), rng)
                check(codec, content, page=seed)
    assert "Archive.GetArchiveListByColumns" in readable
