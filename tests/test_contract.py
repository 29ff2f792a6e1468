"""The whole Services88 contract ships, loads lazily, shares its types, caches its index safely, and can be
searched and compared with what a tenant publishes."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree

from soapkit import wsdl_index
from soapkit.catalog import Catalog, bundled_wsdl_dir
from soapkit.catalog_cache import IndexCache, default_cache_dir
from soapkit.cli import main
from soapkit.headers import SOAP11_ENV, SuperOfficeHeaders
from soapkit.sandbox import Sandbox

REPO_ROOT = Path(__file__).resolve().parent.parent
NS88 = "http://www.superoffice.net/ws/crm/NetServer/Services88"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SHIPPED = bundled_wsdl_dir() / "Services88"


def _reference_operations(reference_dir: Path) -> set[tuple[str, str]]:
    found = set()
    agents = sorted((reference_dir / "Services88").glob("*.wsdl"))
    for path in [*agents, reference_dir / "PartnerSystemUserService.wsdl"]:
        index = wsdl_index.index_wsdl(path)
        found.update((path.stem, name) for name in index.operations)
    return found


def _copy_of_shipped(tmp_path: Path) -> Path:
    copy = tmp_path / "wsdl"
    shutil.copytree(bundled_wsdl_dir(), copy)
    return copy


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


# ------------------------------------------------------------------------------------ what ships


def test_every_agent_and_every_operation_of_the_published_contract_ships(reference_wsdl_dir: Path) -> None:
    catalog = Catalog(index_cache=False)
    shipped = {(service, name) for service in catalog.services() for name in catalog.describe(service).operation_names}
    reference = _reference_operations(reference_wsdl_dir)
    assert shipped == reference
    assert len({service for service, _ in shipped}) == 59  # 58 agents and PartnerSystemUserService
    assert len([1 for service, _ in shipped if service != "PartnerSystemUserService"]) == 1964


def test_wrappers_that_services_define_differently_stay_each_services_own() -> None:
    catalog = Catalog(index_cache=False)
    appointment = [p.name for p in catalog.describe("Appointment").parameters("Delete")]
    database_table = [p.name for p in catalog.describe("DatabaseTable").parameters("Delete")]
    assert appointment != database_table
    for service, parameters in (("Appointment", appointment), ("DatabaseTable", database_table)):
        operation = catalog.describe(service).operation("Delete")
        assert [name for name, _ in operation.input.body.type.elements] == parameters


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_wsdl", REPO_ROOT / "tools" / "build_wsdl.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_wsdl", module)
    spec.loader.exec_module(module)
    return module


def test_generator_refuses_a_wrapper_that_a_shared_type_needs(reference_wsdl_dir: Path, tmp_path: Path) -> None:
    generator = _load_generator()
    folder = tmp_path / "reference" / "Services88"
    folder.mkdir(parents=True)
    text = (reference_wsdl_dir / "Services88" / "Contact.wsdl").read_text(encoding="utf-8")
    needle = '<xs:element minOccurs="0" name="Department" nillable="true" type="xs:string" />'
    assert needle in text
    prefix = next(p for p, ns in etree.fromstring(text.encode()).nsmap.items() if ns == NS88)
    (folder / "Contact.wsdl").write_text(text.replace(needle, f'<xs:element ref="{prefix}:GetContactEntity"/>', 1),
                                         encoding="utf-8")
    with pytest.raises(generator.ContractError, match="GetContactEntity is an operation wrapper of Contact"):
        generator.build(folder.parent, [generator.agent_spec("Contact")])


def test_generator_discovers_every_agent_of_a_reference_folder(reference_wsdl_dir: Path) -> None:
    generator = _load_generator()
    specs = generator.discover(reference_wsdl_dir)
    assert specs[0].name == "PartnerSystemUserService"
    assert len(specs) == 59 and all(spec.operations is None for spec in specs)


# ------------------------------------------------------------------------------------ loading


def test_every_operation_builds_from_its_slice_and_carries_the_headers_it_declares() -> None:
    """All 1,964 operations through the catalog's own path (slice + shared types), not only plain zeep."""
    catalog = Catalog(index_cache=False)
    plugin = SuperOfficeHeaders("secret", ticket=lambda: "7T:t", context_identifier="Cust1")
    built = 0
    for service in catalog.services():
        described = catalog.describe(service)
        binding = described._index.root().find(f"{{{WSDL}}}binding")
        assert binding is not None
        for name in described.operation_names:
            info = described.info(name)
            operation = described.operation(name)
            assert operation.soapaction == info.soap_action
            assert operation.input.body.qname.text == info.input_element
            client, proxy = catalog.bind(service, f"http://127.0.0.1:9/Cust1/Remote/Services88/{service}.svc",
                                         name, plugins=[plugin])
            envelope = client.create_message(proxy, name)
            declared = [h.get("part") for h in binding.iterfind(
                f"{{{WSDL}}}operation[@name='{name}']/{{{WSDL}}}input/{{http://schemas.xmlsoap.org/wsdl/soap/}}header")]
            header = envelope.find(f"{{{SOAP11_ENV}}}Header")
            sent = [] if header is None else [etree.QName(child).localname for child in header]
            assert sent == [h for h in declared if h != "TimeZone"], (service, name)
            built += 1
    assert built == 1965


def test_describing_an_agent_builds_nothing_and_an_operation_builds_only_itself(tmp_path: Path) -> None:
    catalog = Catalog([_copy_of_shipped(tmp_path)], include_bundled=False, index_cache=False)
    described = catalog.describe("List")
    assert described.compile_count == 0 and len(described.operation_names) == 305
    described.operation("GetCategories")
    described.operation("GetCategories")
    assert described.compile_count == 1


def test_shared_types_are_parsed_once_for_every_agent(tmp_path: Path) -> None:
    catalog = Catalog([_copy_of_shipped(tmp_path)], include_bundled=False, index_cache=False)
    before = catalog._shared.parse_count
    for service in ("Contact", "Person", "Sale", "Appointment", "Project", "List", "Ticket", "MDO", "Archive"):
        described = catalog.describe(service)
        described.operation(described.operation_names[0])
    assert catalog._shared.parse_count == before + 1
    again = Catalog([tmp_path / "wsdl"], include_bundled=False, index_cache=False)
    again.describe("Quote").operation("GetQuote")
    assert catalog._shared.parse_count == before + 1  # another catalog of the same files shares them too


def test_a_changed_schema_file_is_parsed_again(tmp_path: Path) -> None:
    folder = _copy_of_shipped(tmp_path)
    Catalog([folder], include_bundled=False, index_cache=False).describe("Contact").operation("GetContactEntity")
    catalog = Catalog([folder], include_bundled=False, index_cache=False)
    before = catalog._shared.parse_count
    types = folder / "Services88" / "NetServerTypes.xsd"
    types.write_text(types.read_text(encoding="utf-8").replace('name="Department" type="xs:string"',
                                                               'name="Departement" type="xs:string"'),
                     encoding="utf-8")
    operation = catalog.describe("Contact").operation("GetContactEntity")
    assert catalog._shared.parse_count == before + 1
    assert "Departement" in [name for name, _ in operation.output.body.type.elements[0][1].type.elements]


def test_one_operation_is_built_once_under_concurrency(tmp_path: Path) -> None:
    described = Catalog([_copy_of_shipped(tmp_path)], include_bundled=False, index_cache=False).describe("Contact")
    barrier, results = threading.Barrier(16), []

    def build() -> None:
        barrier.wait()
        results.append(described.operation("GetContactEntity"))

    threads = [threading.Thread(target=build) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert described.compile_count == 1 and all(r is results[0] for r in results)


def test_older_services_versions_work_from_a_user_folder(reference_wsdl_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "old" / "Services87"
    folder.mkdir(parents=True)
    text = (reference_wsdl_dir / "Services88" / "Contact.wsdl").read_text(encoding="utf-8")
    (folder / "Contact.wsdl").write_text(text.replace("Services88", "Services87"), encoding="utf-8")
    catalog = Catalog([folder.parent], index_cache=False)
    described = catalog.describe("ContactAgent", "Services87")
    assert described.path == folder / "Contact.wsdl" and not described.per_operation
    client, proxy = catalog.bind("Contact", "http://127.0.0.1:9/Cust1/Remote/Services87/Contact.svc",
                                 "GetContactEntity", version="Services87",
                                 plugins=[SuperOfficeHeaders("s", ticket=lambda: "7T:t")])
    envelope = client.create_message(proxy, "GetContactEntity", ContactEntityId=5)
    body = envelope.find(f"{{{SOAP11_ENV}}}Body")
    assert body is not None and body[0].tag == "{http://www.superoffice.net/ws/crm/NetServer/Services87}GetContactEntity"
    assert described.info("GetContactEntity").soap_action.endswith("/Services87/Contact/GetContactEntity")
    assert catalog.describe("Contact").path.parent == SHIPPED  # Services88 still comes from what ships


# ------------------------------------------------------------------------------------ the index cache


def test_the_index_cache_is_used_and_private(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path / "cache")
    first = Catalog(index_cache=cache)
    for service in first.services():
        first.describe(service)
    assert (cache.hits, cache.misses) == (0, 59)
    assert os.stat(cache.directory).st_mode & 0o777 == 0o700
    assert {os.stat(entry).st_mode & 0o777 for entry in cache.directory.iterdir()} == {0o600}
    second = Catalog(index_cache=cache)
    for service in second.services():
        assert second.describe(service).operation_names == first.describe(service).operation_names
    assert cache.hits == 59
    assert second.describe("Contact").operation("GetContactEntity") is not None  # the tree is read when needed


def test_a_changed_wsdl_misses_the_cache(tmp_path: Path) -> None:
    folder = _copy_of_shipped(tmp_path)
    cache = IndexCache(tmp_path / "cache")
    Catalog([folder], include_bundled=False, index_cache=cache).describe("Contact")
    path = folder / "Services88" / "Contact.wsdl"
    path.write_text(path.read_text(encoding="utf-8").replace('name="GetMyContact"', 'name="GetMyCompany"'),
                    encoding="utf-8")
    described = Catalog([folder], include_bundled=False, index_cache=cache).describe("Contact")
    assert cache.misses == 2 and "GetMyCompany" in described.operation_names


def test_an_untrusted_cache_folder_is_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "shared-cache"
    directory.mkdir()
    directory.chmod(0o777)
    cache = IndexCache(directory)
    assert Catalog(index_cache=cache).describe("Contact").operation_names
    assert list(directory.iterdir()) == [] and cache.hits == 0
    assert "only you can write" in caplog.text
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    assert Catalog(index_cache=IndexCache(link)).describe("Contact").operation_names
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_planted_or_broken_entries_are_ignored(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path / "cache")
    Catalog(index_cache=cache).describe("Contact")
    (entry,) = cache.directory.iterdir()
    forged = {"format": wsdl_index.INDEX_FORMAT, "target_namespace": NS88, "binding": "B",
              "schema_files": ["../../etc/passwd"], "operations": [["Evil", "a", "b", "c"]]}
    for content in (b"not json", json.dumps(forged).encode(), json.dumps([1, 2]).encode()):
        entry.write_bytes(content)
        assert "Evil" not in Catalog(index_cache=cache).describe("Contact").operation_names
    entry.unlink()
    (tmp_path / "target.json").write_text(json.dumps(forged))
    entry.symlink_to(tmp_path / "target.json")
    assert "GetContactEntity" in Catalog(index_cache=cache).describe("Contact").operation_names
    entry.unlink()
    os.mkfifo(entry)  # a FIFO would block a plain open(); it must read as a missing entry
    assert "GetContactEntity" in Catalog(index_cache=cache).describe("Contact").operation_names


def test_the_cache_can_be_switched_off_or_moved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOAPKIT_CATALOG_CACHE", "off")
    assert default_cache_dir() is None and Catalog().index_cache is None
    monkeypatch.setenv("SOAPKIT_CATALOG_CACHE", str(tmp_path / "here"))
    assert Catalog().index_cache is not None and default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("SOAPKIT_CATALOG_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "soapkit" / "catalog"


# ------------------------------------------------------------------------------------ discovery


def test_dir_of_a_client_lists_every_agent() -> None:
    import soapkit

    so = soapkit.connect("Cust12345", env="sod", app_token="x", ticket="7T:abc")
    names = dir(so)
    assert {"ContactAgent", "SaleAgent", "TicketAgent", "WorkflowAgent"} <= set(names)
    assert len([n for n in names if n.endswith("Agent")]) == 58 and "PartnerSystemUserServiceAgent" not in names
    assert "GetSaleEntity" in dir(so.SaleAgent)


def test_describe_lists_agents_with_their_operation_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "describe")
    assert code == 0 and "58 agents (1,964 operations) and PartnerSystemUserService" in out
    assert any(line.split() == ["ListAgent", "305"] for line in out.splitlines())
    code, out = _run(capsys, "describe", "--json")
    rows = {row["service"]: row for row in json.loads(out)["services"]}
    assert rows["TicketAgent"]["operations"] == 68 and rows["TicketAgent"]["source"] == "shipped"


def test_describe_find_searches_operation_parameter_and_type_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "describe", "--find", "getsaleentity", "--json")
    matches = json.loads(out)["matches"]
    assert {"operation": "SaleAgent.GetSaleEntity", "kind": "operation", "name": "GetSaleEntity"} in matches
    code, out = _run(capsys, "describe", "--find", "ContactEntityId", "--json")
    found = {(m["operation"], m["kind"]) for m in json.loads(out)["matches"]}
    assert ("ContactAgent.GetContactEntity", "parameter") in found
    code, out = _run(capsys, "describe", "--find", "QuoteEntity")
    assert code == 0 and "QuoteAgent." in out and "result Response: QuoteEntity" in out
    code, out = _run(capsys, "describe", "--find", "zzzznothing")
    assert code == 0 and "Nothing in Services88" in out


def test_an_imported_wsdl_wins_and_describe_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    own = tmp_path / "mine" / "Services88"
    own.mkdir(parents=True)
    for name in ("Sale.wsdl", "NetServerTypes.xsd", "Arrays.xsd", "Serialization.xsd", "Cryptography.xsd"):
        shutil.copy(SHIPPED / name, own / name)
    code, out = _run(capsys, "describe", "SaleAgent", "--wsdl-dir", str(own.parent))
    assert code == 0 and f"{own / 'Sale.wsdl'} (overrides the shipped one)" in out
    code, out = _run(capsys, "describe", "--wsdl-dir", str(own.parent), "--json")
    rows = {row["service"]: row["source"] for row in json.loads(out)["services"]}
    assert rows["SaleAgent"].endswith("(overrides the shipped one)") and rows["ContactAgent"] == "shipped"


# ------------------------------------------------------------------------------------ drift


def test_wsdl_diff_of_the_published_contract_is_equal(capsys: pytest.CaptureFixture[str],
                                                      reference_wsdl_dir: Path) -> None:
    code, out = _run(capsys, "wsdl", "diff", str(reference_wsdl_dir), "--json")
    result = json.loads(out)
    assert code == 0 and result["equal"] and len(result["services"]) == 59 and not result["not_shipped"]


def test_wsdl_diff_names_added_removed_and_changed(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   reference_wsdl_dir: Path) -> None:
    text = (reference_wsdl_dir / "Services88" / "Contact.wsdl").read_text(encoding="utf-8")
    changed = (text.replace('name="Department"', 'name="Departement"')
               .replace('name="GetMyContact"', 'name="GetMyCompany"'))
    source = tmp_path / "Contact.wsdl"
    source.write_text(changed, encoding="utf-8")
    code, out = _run(capsys, "wsdl", "diff", str(source), "--json")
    (service,) = json.loads(out)["services"]
    assert code == 1 and service["added"] == ["GetMyCompany"] and service["removed"] == ["GetMyContact"]
    entity = next(c for c in service["changed"] if c["operation"] == "GetContactEntity")
    assert entity["added"] == {"out/Response/Departement": "xs:string 0..1 nillable"}
    assert entity["removed"] == {"out/Response/Department": "xs:string 0..1 nillable"}
    code, out = _run(capsys, "wsdl", "diff", str(source))
    assert code == 1 and "+ GetMyCompany" in out and "- GetMyContact" in out and "~ GetContactEntity" in out


def test_wsdl_diff_reads_a_tenants_wsdl_url(capsys: pytest.CaptureFixture[str], sandbox: Sandbox) -> None:
    url = f"{sandbox.config['base_url']}/{sandbox.config['context_identifier']}/Remote/Services88/Person.svc?wsdl"
    code, out = _run(capsys, "wsdl", "diff", url)
    assert code == 0 and "PersonAgent: same as shipped" in out


def test_wsdl_diff_reports_an_agent_that_does_not_ship(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (SHIPPED / "Sale.wsdl").read_text(encoding="utf-8").replace("WcfSaleService", "WcfAudienceService")
    folder = tmp_path / "gone"
    folder.mkdir()
    for name in ("NetServerTypes.xsd", "Arrays.xsd", "Serialization.xsd", "Cryptography.xsd"):
        shutil.copy(SHIPPED / name, folder / name)
    (folder / "Audience.wsdl").write_text(text, encoding="utf-8")
    code, out = _run(capsys, "wsdl", "diff", str(folder / "Audience.wsdl"))
    assert code == 1 and "AudienceAgent: not shipped by soapkit" in out

