"""The catalog: bundled WSDLs, parse once (thread-safe), re-pointing, and any folder of real WSDLs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from lxml import etree

from soapkit.catalog import Catalog, ServiceDescription, bundled_wsdl_dir, service_name
from soapkit.errors import UnknownOperationError, WsdlError
from soapkit.headers import SOAP11_ENV, SuperOfficeHeaders

NS88 = "http://www.superoffice.net/ws/crm/NetServer/Services88"


def _headers(envelope: etree._Element) -> list[str]:
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    return [] if header is None else [etree.QName(child).localname for child in header]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("ContactAgent", "Contact"), ("WcfContactService", "Contact"), ("Contact.svc", "Contact"), ("Contact", "Contact"),
     ("SoPrincipalAgent", "SoPrincipal"), ("PartnerSystemUserService", "PartnerSystemUserService")],
)
def test_service_names_from_every_world_map_to_one(given: str, expected: str) -> None:
    assert service_name(given) == expected


def test_bundled_services_are_found() -> None:
    catalog = Catalog()
    assert {"Contact", "Person", "SoPrincipal", "PartnerSystemUserService"} <= set(catalog.services())
    assert catalog.path("ContactAgent").parent == bundled_wsdl_dir() / "Services88"


def test_each_wsdl_is_parsed_once_even_under_concurrency() -> None:
    catalog = Catalog()
    results = []
    barrier = threading.Barrier(16)

    def describe() -> None:
        barrier.wait()
        results.append(catalog.describe("Contact"))

    threads = [threading.Thread(target=describe) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert catalog.parse_count == 1
    assert all(r is results[0] for r in results)


def test_a_one_operation_catalog_builds_each_operation_alone() -> None:
    """``chunk=1`` (what ``soapkit call`` asks for): the document of an operation holds that operation only."""
    described = Catalog(index_cache=False, chunk=1).describe("Contact")
    assert described.chunk == 1
    entity = described.operation("GetContactEntity")
    bindings = described.document("GetContactEntity").bindings[described.binding_name]
    assert list(bindings._operations) == ["GetContactEntity"] and described.compile_count == 1
    described.operation("GetContactList")
    assert described.compile_count == 2
    # the same model as in a chunk of sixteen
    chunked = Catalog(index_cache=False).describe("Contact")
    assert chunked.chunk == ServiceDescription.CHUNK == 16
    assert [name for name, _ in chunked.operation("GetContactEntity").input.body.type.elements] == \
        [name for name, _ in entity.input.body.type.elements]
    assert len(chunked.document("GetContactEntity").bindings[chunked.binding_name]._operations) == 16
    with pytest.raises(ValueError, match="at least 1"):
        Catalog(chunk=0)


def test_a_caller_asking_for_its_own_chunk_gets_its_own_catalog() -> None:
    from soapkit.catalog import default_catalog
    from soapkit.config import catalog_from_settings

    assert catalog_from_settings({}) is default_catalog()
    own = catalog_from_settings({}, chunk=1)
    assert own is not default_catalog() and own.chunk == 1


def test_bind_uses_the_given_address_never_the_one_in_the_wsdl() -> None:
    _, service = Catalog().bind("Contact", "http://127.0.0.1:9/Cust1/Remote/Services88/Contact.svc", "GetContactEntity")
    assert service._binding_options["address"] == "http://127.0.0.1:9/Cust1/Remote/Services88/Contact.svc"
    assert "example.invalid" not in service._binding_options["address"]


def test_unknown_service_suggests_close_names() -> None:
    with pytest.raises(UnknownOperationError) as caught:
        Catalog().path("ContactAgnt")
    assert "ContactAgent" in str(caught.value)


def test_unknown_operation_suggests_close_names() -> None:
    with pytest.raises(UnknownOperationError) as caught:
        Catalog().describe("Contact").operation("GetContactEntty")
    assert caught.value.suggestions[0] == "GetContactEntity"


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WsdlError, match="does not exist"):
        Catalog([tmp_path / "nope"])


def test_broken_wsdl_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "Broken.wsdl").write_text("<not-a-wsdl")
    with pytest.raises(WsdlError, match=r"Cannot parse .*Broken.wsdl"):
        Catalog([tmp_path], include_bundled=False).describe("Broken")


def test_user_folder_takes_precedence_over_bundled(tmp_path: Path) -> None:
    own = tmp_path / "Services88"
    own.mkdir()
    (own / "Contact.wsdl").write_bytes((bundled_wsdl_dir() / "Services88" / "Contact.wsdl").read_bytes())
    (own / "NetServerTypes.xsd").write_bytes((bundled_wsdl_dir() / "Services88" / "NetServerTypes.xsd").read_bytes())
    for extra in (bundled_wsdl_dir() / "Services88").glob("*.xsd"):
        (own / extra.name).write_bytes(extra.read_bytes())
    assert Catalog([tmp_path]).path("Contact") == own / "Contact.wsdl"


def _first_operation_with_simple_input(description) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    for name in description.operation_names:
        body = description.operation(name).input.body
        elements = body.type.elements if body is not None and hasattr(body.type, "elements") else []
        if all(getattr(el.type, "accepts_multiple", False) is False and el.type.name in
               ("int", "string", "boolean") for _, el in elements):
            values = {n: {"int": 1, "string": "x", "boolean": True}[el.type.name] for n, el in elements}
            return name, values
    name = description.operation_names[0]
    return name, {}


def test_every_real_services88_wsdl_loads_and_carries_the_agent_headers(reference_wsdl_dir: Path) -> None:
    """A user may point the catalog at the full set of 58 agents saved from a tenant."""
    catalog = Catalog([reference_wsdl_dir], include_bundled=False)
    services = sorted(p.stem for p in (reference_wsdl_dir / "Services88").glob("*.wsdl"))
    assert len(services) >= 58
    plugin = SuperOfficeHeaders("app-secret", ticket=lambda: "8A:Cust1.token")
    with_credentials = 0
    for service in services:
        description = catalog.describe(service)
        operation, values = _first_operation_with_simple_input(description)
        client, proxy = catalog.bind(service, f"http://127.0.0.1:9/Cust1/Remote/Services88/{service}.svc",
                                     operation, plugins=[plugin])
        envelope = client.create_message(proxy, operation, **values)
        expected = [h for h in _declared_input_headers(description.path, operation) if h != "TimeZone"]
        assert _headers(envelope) == expected, (service, operation)
        assert expected[0] == "ApplicationToken"
        if "Credentials" in expected:
            with_credentials += 1
            header = envelope.find(f"{{{SOAP11_ENV}}}Header")
            assert header.findtext(f"{{{NS88}}}Credentials/{{{NS88}}}Ticket") == "8A:Cust1.token"
        assert "ContextIdentifier" not in etree.tostring(envelope).decode()
    assert with_credentials >= len(services) - 3


def _declared_input_headers(path: Path, operation: str) -> list[str]:
    """The header parts the binding declares for an operation's input, read with lxml (not zeep)."""
    ns = {"wsdl": "http://schemas.xmlsoap.org/wsdl/", "soap": "http://schemas.xmlsoap.org/wsdl/soap/"}
    tree = etree.parse(str(path))
    binding = tree.find("wsdl:binding", ns)
    op = binding.find(f"wsdl:operation[@name='{operation}']", ns)
    return [h.get("part") for h in op.findall("wsdl:input/soap:header", ns)]


def test_real_partner_wsdl_gets_context_identifier(reference_wsdl_dir: Path) -> None:
    catalog = Catalog([reference_wsdl_dir], include_bundled=False)
    client, proxy = catalog.bind("PartnerSystemUserService", "http://127.0.0.1:9/login/services/x.svc", "Authenticate",
                                 plugins=[SuperOfficeHeaders("app-secret", context_identifier="Cust1")])
    envelope = client.create_message(proxy, "Authenticate", SignedSystemToken="s", ReturnTokenType="Jwt")
    assert _headers(envelope) == ["ApplicationToken", "ContextIdentifier"]
