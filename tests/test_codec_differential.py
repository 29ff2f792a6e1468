"""The compiled codec against zeep, for every shipped operation: what the codec gives must be exactly what
today's zeep path gives (same classes, same values, same bytes), or a CodecFallback, never another value."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import zeep.exceptions
from codec_messages import AnswerMaker, ArgumentMaker, subtypes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from soapkit.catalog import Catalog, ServiceDescription
from soapkit.codec import CodecFallback, CodecFault, DecodedReply, compiled
from soapkit.codec.reference import zeep_reply, zeep_request
from soapkit.errors import ResponseRejected, SoapFault
from soapkit.transport import soap_errors
from soapkit.values.codec import codec_for

HEADERS = {"ApplicationToken": "app-secret", "Credentials": {"Ticket": "7T:ticket"},
           "TimeZone": {"SoTimeZoneId": 7, "SoTimeZoneLocationCode": None}, "ContextIdentifier": "Cust12345"}
CONTACT_NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(index_cache=False)


def every_operation(catalog: Catalog) -> Iterator[tuple[ServiceDescription, str]]:
    for service in catalog.services():
        description = catalog.describe(service)
        for name in description.operation_names:
            yield description, name


def same(mine: DecodedReply, theirs: DecodedReply) -> bool:
    return (mine.value, mine.header, mine.body) == (theirs.value, theirs.header, theirs.body) and _types(
        mine.value) == _types(theirs.value)


def _types(value: Any) -> Any:
    """The Python types of a value tree (== alone lets 1 == 1.0 == True and naive/aware mix-ups through)."""
    if isinstance(value, list):
        return [_types(v) for v in value]
    if hasattr(value, "__values__"):
        return (type(value), {k: _types(v) for k, v in value.__values__.items()})
    offset = value.utcoffset() if hasattr(value, "utcoffset") and not isinstance(value, type) else None
    return type(value), offset


def compare(description: ServiceDescription, name: str, content: bytes) -> str:
    """'same', 'fallback: reason' or 'both refuse'; fails the test on any difference."""
    codec = compiled(description, name)
    try:
        mine: DecodedReply | CodecFallback = codec.decode(content)
    except CodecFallback as fallback:
        mine = fallback
    try:
        theirs: DecodedReply | Exception = zeep_reply(description, name, content)
    except zeep.exceptions.Error as error:
        theirs = error
    if isinstance(mine, CodecFallback):
        return "both refuse" if isinstance(theirs, Exception) else f"fallback: {mine.reason}"
    assert not isinstance(theirs, Exception), f"{name}: zeep refuses ({theirs}) what the codec read"
    assert same(mine, theirs), f"{description.name}.{name}: the codec read {content!r} differently"
    return "same"


def test_every_operation_decodes_generated_answers_exactly_like_zeep(catalog: Catalog) -> None:
    outcomes: Counter[str] = Counter()
    for description, name in every_operation(catalog):
        for seed in range(2):
            content = AnswerMaker(description, name, random.Random(f"{name}/{seed}")).envelope()
            outcomes[compare(description, name, content)] += 1
    assert set(outcomes) == {"same"}, outcomes  # valid answers are never handed to zeep
    assert sum(outcomes.values()) == 2 * 1965  # 1,964 agent operations and PartnerSystemUserService.Authenticate


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rng=st.randoms(use_true_random=False))
def test_hypothesis_answers_with_unknown_elements_are_read_like_zeep_or_handed_to_it(
        catalog: Catalog, data: st.DataObject, rng: random.Random) -> None:
    operations = _operations(catalog)
    description, name = data.draw(st.sampled_from(operations))
    unknown = data.draw(st.sampled_from([0.0, 0.0, 0.3]))
    content = AnswerMaker(description, name, rng, unknown=unknown, max_items=4).envelope()
    compare(description, name, content)


_cached_operations: list[tuple[ServiceDescription, str]] = []


def _operations(catalog: Catalog) -> list[tuple[ServiceDescription, str]]:
    if not _cached_operations:
        _cached_operations.extend(every_operation(catalog))
    return _cached_operations


def test_every_operation_encodes_generated_arguments_byte_for_byte_like_zeep(catalog: Catalog) -> None:
    outcomes: Counter[str] = Counter()
    for description, name in every_operation(catalog):
        codec = compiled(description, name)
        for seed in range(2):
            kwargs = ArgumentMaker(description, name, random.Random(f"{name}/{seed}")).arguments()
            values = codec_for(description).inputs(name).bind((), kwargs)
            mine = codec.encode(values, HEADERS)  # a valid request is never handed to zeep
            theirs, http_headers = zeep_request(description, name, values, HEADERS)
            assert etree.tostring(etree.fromstring(mine), method="c14n") == etree.tostring(
                etree.fromstring(theirs), method="c14n"), f"{name}: {mine!r} != {theirs!r}"
            assert mine == theirs and codec.http_headers == http_headers
            outcomes["same"] += 1
    assert outcomes["same"] == sum(outcomes.values()), outcomes


@pytest.mark.parametrize("headers", [
    {},
    {"ApplicationToken": "app-secret"},
    {"ApplicationToken": "app-secret", "Credentials": {"Ticket": "8A:token"}, "TimeZone": None},
    {"Credentials": {"Ticket": "7T:t"}, "TimeZone": {"SoTimeZoneId": None, "SoTimeZoneLocationCode": "NO"}},
])
def test_headers_are_written_in_the_binding_order_only_when_given(catalog: Catalog,
                                                                  headers: dict[str, Any]) -> None:
    description = catalog.describe("Contact")
    codec = compiled(description, "GetContactEntity")
    values = codec_for(description).inputs("GetContactEntity").bind((5,), {})
    mine = codec.encode(values, headers)
    assert mine == zeep_request(description, "GetContactEntity", values, headers)[0]
    written = [etree.QName(child).localname for child in etree.fromstring(mine).iterfind(f"{{{ENV}}}Header/*")]
    assert written == [name for name in ("ApplicationToken", "Credentials", "TimeZone") if headers.get(name)]
    assert b"addressing" not in mine
    assert codec.header_names == ("ApplicationToken", "Credentials", "TimeZone")
    assert compiled(catalog.describe("PartnerSystemUserService"), "Authenticate").header_names == (
        "ApplicationToken", "ContextIdentifier")


def test_empty_strings_stay_empty_and_none_stays_nil(catalog: Catalog) -> None:
    description = catalog.describe("Contact")
    codec = compiled(description, "SaveContactEntity")
    values = codec_for(description).inputs("SaveContactEntity").bind(
        ({"Name": "Acme", "Department": "", "OrgNr": None, "Emails": [], "Phones": [{"Value": ""}]},), {})
    mine = codec.encode(values, HEADERS)
    assert mine == zeep_request(description, "SaveContactEntity", values, HEADERS)[0]
    assert b"<ns0:Department></ns0:Department>" in mine or b"<ns0:Department/>" in mine


def answer(body: str, header: str = "") -> bytes:
    return (f'<s:Envelope xmlns:s="{ENV}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
            f'<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>').encode()


def contact_answer(response: str, header: str = "") -> bytes:
    return answer(f'<GetContactEntityResponse xmlns="{CONTACT_NS}">{response}</GetContactEntityResponse>',
                  header or f'<Succeeded xmlns="{CONTACT_NS}">true</Succeeded>')


@pytest.mark.parametrize("response", [
    '<Response i:nil="true"/>',
    "",
    "<Response/>",
    "<Response><ContactId>5</ContactId><Name/><Department i:nil=\"true\"/><Emails/><Phones i:nil=\"true\"/>"
    "<Faxes><EntityElement><Value/></EntityElement><EntityElement i:nil=\"true\"/></Faxes></Response>",
    "<Response><UpdatedDate>2024-05-01T12:30:00</UpdatedDate><CreatedDate>2024-05-01T12:30:00.1230000"
    "</CreatedDate><Emails><EntityElement><Value>a@x</Value></EntityElement></Emails>"
    "<Persons><Person><Firstname>Ann</Firstname></Person><Person i:nil=\"true\"/></Persons></Response>",
])
def test_nil_empty_and_nested_lists(catalog: Catalog, response: str) -> None:
    assert compare(catalog.describe("Contact"), "GetContactEntity", contact_answer(response)) == "same"


def test_unknown_elements_and_types_go_to_zeep(catalog: Catalog) -> None:
    description = catalog.describe("Contact")
    for response in ("<Response><NotInTheSchema/></Response>",
                     '<Response xmlns:x="urn:x" i:type="x:Nothing"><ContactId>5</ContactId></Response>',
                     "<Response><ContactId>five</ContactId></Response>",
                     "<Response><ContactId>5</ContactId><ContactId>6</ContactId></Response>"):
        with pytest.raises(CodecFallback):
            compiled(description, "GetContactEntity").decode(contact_answer(response))
    with pytest.raises(CodecFallback):  # an undeclared header
        compiled(description, "GetContactEntity").decode(
            contact_answer("", '<Action xmlns="http://www.w3.org/2005/08/addressing">x</Action>'))


def test_xsi_type_subtypes_of_carrier_are_read_as_their_own_class(catalog: Catalog) -> None:
    description = catalog.describe("Contact")
    derived = subtypes(description.path)[(CONTACT_NS, "Carrier")]
    assert len(derived) > 50
    found = 0
    for description, name in every_operation(catalog):
        maker = AnswerMaker(description, name, random.Random(name))
        content = maker.envelope()
        if b":type=" in content and compare(description, name, content) == "same":
            found += 1
        if found >= 40:
            break
    assert found >= 40


def test_a_fault_is_zeeps_fault_and_becomes_the_same_soapkit_error(catalog: Catalog) -> None:
    description = catalog.describe("Contact")
    content = answer("<s:Fault><faultcode>s:Client</faultcode><faultstring>Bad id</faultstring>"
                     "<detail><Why>no such contact</Why></detail></s:Fault>")
    with pytest.raises(CodecFault) as caught:
        compiled(description, "GetContactEntity").decode(content, 500)
    with pytest.raises(zeep.exceptions.Fault) as reference:
        zeep_reply(description, "GetContactEntity", content, 500)
    mine, theirs = caught.value, reference.value
    assert (mine.code, mine.message, mine.actor) == (theirs.code, theirs.message, theirs.actor) == (
        "s:Client", "Bad id", None)
    assert etree.tostring(mine.detail) == etree.tostring(theirs.detail)
    errors = []
    for error in (mine, theirs):
        with pytest.raises(SoapFault) as translated, soap_errors():
            raise error
        errors.append((translated.value.message, translated.value.code, translated.value.detail))
    assert errors[0] == errors[1]


def test_unsafe_answers_are_refused_as_today(catalog: Catalog) -> None:
    codec = compiled(catalog.describe("Contact"), "GetContactEntity")
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + contact_answer("")[0:]
    for content in (dtd, b'<!DOCTYPE s:Envelope SYSTEM "http://127.0.0.1:9/x.dtd">' + contact_answer("")):
        with pytest.raises(ResponseRejected) as refused, soap_errors():
            codec.decode(content)
        with pytest.raises(ResponseRejected) as reference, soap_errors():
            zeep_reply(catalog.describe("Contact"), "GetContactEntity", content)
        assert refused.value.message == reference.value.message
    for broken in (b"<s:Envelope", b"not xml", b'<a xmlns="urn:a"/>', contact_answer("")[:-5]):
        with pytest.raises(CodecFallback):
            codec.decode(broken)


def test_results_behave_like_zeeps_for_users(catalog: Catalog) -> None:
    """Attribute and item access, plain(), changing and sending back: the codec's objects are zeep's."""
    from soapkit import plain

    description = catalog.describe("Contact")
    content = contact_answer("<Response><ContactId>5</ContactId><Name>Acme</Name><Emails><EntityElement>"
                             "<Value>a@x</Value></EntityElement></Emails></Response>")
    entity = compiled(description, "GetContactEntity").decode(content).value
    reference = zeep_reply(description, "GetContactEntity", content).value
    assert entity.Name == entity["Name"] == "Acme" and entity.Emails[0].Value == "a@x"
    assert plain(entity) == plain(reference) and repr(entity) == repr(reference)
    entity.Emails = [*entity.Emails, {"Value": "b@x"}]
    values = codec_for(description).inputs("SaveContactEntity").bind((entity,), {})
    assert compiled(description, "SaveContactEntity").encode(values, HEADERS) == zeep_request(
        description, "SaveContactEntity", values, HEADERS)[0]


def test_compiled_is_cached_per_description_and_operation(catalog: Catalog) -> None:
    description = catalog.describe("Contact")
    assert compiled(description, "GetContactEntity") is compiled(description, "GetContactEntity")
    assert compiled(description, "GetContactEntity") is not compiled(description, "GetContactList")


def test_the_hot_path_builds_no_zeep_objects_the_zeep_way(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither decoding nor encoding goes through zeep's parsing, rendering or object construction."""
    from zeep.xsd import ComplexType
    from zeep.xsd.elements import Element
    from zeep.xsd.valueobjects import CompoundValue

    description = catalog.describe("Contact")
    content = AnswerMaker(description, "GetContactEntity", random.Random(3)).envelope()
    reader, writer = compiled(description, "GetContactEntity"), compiled(description, "SaveContactEntity")
    values = codec_for(description).inputs("SaveContactEntity").bind(({"Name": "Acme", "Emails": [{"Value": "a"}]},),
                                                                     {})
    reader.decode(content), writer.encode(values, HEADERS)  # compiled before the watch starts

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("zeep's object machinery was used")

    for target, name in ((CompoundValue, "__init__"), (ComplexType, "parse_xmlelement"), (ComplexType, "render"),
                         (Element, "parse"), (Element, "render")):
        monkeypatch.setattr(target, name, forbidden)
    assert reader.decode(content).header is not None
    assert writer.encode(values, HEADERS).startswith(b"<?xml")


def test_compiling_and_decoding_from_many_threads_at_once() -> None:
    import threading

    description = Catalog(index_cache=False).describe("Sale")  # nothing compiled yet
    names = description.operation_names[:24]
    answers = {name: AnswerMaker(description, name, random.Random(name)).envelope() for name in names}
    expected = {name: zeep_reply(description, name, answers[name]) for name in names}  # zeep only: no codec
    failures: list[str] = []
    barrier = threading.Barrier(8)

    def work(offset: int) -> None:
        barrier.wait()
        for i in range(len(names)):
            name = names[(i + offset) % len(names)]
            if not same(compiled(description, name).decode(answers[name]), expected[name]):
                failures.append(name)

    threads = [threading.Thread(target=work, args=(n * 3,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len({id(compiled(description, name)) for name in names}) == len(names)


def test_compiled_codecs_go_with_their_description() -> None:
    import gc
    import weakref

    description = Catalog(index_cache=False).describe("Contact")
    codec = compiled(description, "GetContactEntity")
    codec.decode(contact_answer("<Response><ContactId>5</ContactId></Response>"))
    gone = weakref.ref(description)
    del description
    gc.collect()
    assert gone() is None
    assert repr(codec) == "<OperationCodec Contact.GetContactEntity>"


@pytest.mark.parametrize("kind", ["decoder", "encoder"])
def test_no_thread_sees_a_half_built_reader_or_writer(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A complex type's entry is stored before its members (recursive types); another thread asking for it
    meanwhile must wait for the whole build, never get it half built: a writer without its members writes an
    empty element, and a request silently loses its content (found under a 16-thread first call)."""
    import threading

    from soapkit.codec.compiler import ComplexDecoder, DecoderRegistry, EncoderRegistry

    description = Catalog(index_cache=False).describe("Contact")
    operation = description.operation("SaveContactEntity")
    contact_type = operation.input.body.type.elements[0][1].type  # ContactEntity
    registry: Any = DecoderRegistry(operation.binding.wsdl.types, shaped=True) if kind == "decoder" \
        else EncoderRegistry()
    inside, release = threading.Event(), threading.Event()
    if kind == "decoder":
        compile_members = ComplexDecoder.compile

        def slow_compile(self: Any) -> Any:
            if self.xsd_type is contact_type:
                inside.set()
                release.wait(10)
            return compile_members(self)

        monkeypatch.setattr(ComplexDecoder, "compile", slow_compile)
    else:
        compile_members = EncoderRegistry._compile

        def slow_compile(self: Any, encoder: Any, xsd_type: Any) -> Any:
            if xsd_type is contact_type:
                inside.set()
                release.wait(10)
            return compile_members(self, encoder, xsd_type)

        monkeypatch.setattr(EncoderRegistry, "_compile", slow_compile)
    got: dict[str, Any] = {}
    builder = threading.Thread(target=lambda: got.setdefault("builder", registry.for_type(contact_type)))
    builder.start()
    assert inside.wait(10)  # the entry exists now, its members do not yet
    reader = threading.Thread(target=lambda: got.setdefault("reader", registry.for_type(contact_type)))
    reader.start()
    reader.join(0.3)
    assert "reader" not in got, "another thread was handed an entry still being built"
    release.set()
    builder.join(10)
    reader.join(10)
    assert got["reader"] is got["builder"]
    assert got["reader"].fields  # complete: every member compiled


def _first_calls_at_once(threads: int) -> list[tuple[bool, str]]:
    """``threads`` threads making the first GetContactEntity encode and decode of a fresh description at once."""
    import threading

    description = Catalog(index_cache=False).describe("Contact")
    arguments = codec_for(description).inputs("GetContactEntity").bind((7,), {})
    answer = contact_answer("<Response><ContactId>7</ContactId><Name>Acme</Name></Response>")
    barrier, seen = threading.Barrier(threads), []

    def work() -> None:
        barrier.wait()
        codec = compiled(description, "GetContactEntity")
        seen.append((b"<ns0:ContactEntityId>7</ns0:ContactEntityId>" in codec.encode(arguments, HEADERS),
                     codec.decode(answer).value.Name))

    started = [threading.Thread(target=work) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return seen


def test_first_calls_from_many_threads_write_and_read_whole_messages() -> None:
    import sys

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave inside the builds
    try:
        for _ in range(8):
            assert _first_calls_at_once(12) == [(True, "Acme")] * 12
    finally:
        sys.setswitchinterval(switch)
