"""The enumeration tables of a WSDL's schema files: the same whether read from the files or from the catalog's
on-disk cache, and the cache never serves tables of files that changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from soapkit.catalog import Catalog, bundled_wsdl_dir
from soapkit.catalog_cache import IndexCache
from soapkit.values import schema
from soapkit.values.schema import Enumeration, EnumerationIndex

VERSION = "Services88"


Table = list[tuple[tuple[str, str], Enumeration]]


def _reference(wsdl: Path) -> tuple[Table, Table]:
    """The tables as the plain definition reads: every named element declaration whose type resolves to an
    enumerated simple type, by (owner, name); later declarations win (no shortcut of the index's)."""
    trees = schema._schema_trees(wsdl)
    by_type: dict[tuple[str, str], Enumeration] = {}
    for tree in trees:
        for node in tree.iter(f"{schema._XS}schema"):
            namespace = node.get("targetNamespace") or ""
            for simple in node.findall(f"{schema._XS}simpleType"):
                found = schema._enumeration(simple)
                if found is not None and simple.get("name"):
                    by_type[(namespace, simple.get("name") or "")] = found
    by_element: dict[tuple[str, str], Enumeration] = {}
    for tree in trees:
        for element in tree.iter(f"{schema._XS}element"):
            reference, name = element.get("type"), element.get("name")
            owner = schema._owner_name(element)
            if reference and name and owner and schema._resolve(element, reference) in by_type:
                by_element[(owner, name)] = by_type[schema._resolve(element, reference)]
    return list(by_type.items()), list(by_element.items())


def _items(index: EnumerationIndex) -> tuple[Table, Table]:
    return list(index.by_type.items()), list(index.by_element.items())


@pytest.fixture(scope="module")
def wsdls() -> list[Path]:
    found = sorted((bundled_wsdl_dir() / VERSION).glob("*.wsdl"))
    assert len(found) > 50
    return found


def test_every_shipped_wsdl_gives_the_tables_of_the_plain_definition(wsdls: list[Path]) -> None:
    for wsdl in wsdls:
        assert _items(EnumerationIndex(wsdl)) == _reference(wsdl), wsdl.name


def test_the_cached_tables_are_the_tables_read_from_the_files(wsdls: list[Path], tmp_path: Path) -> None:
    cache = IndexCache(tmp_path / "catalog")
    for wsdl in wsdls:
        fresh = EnumerationIndex(wsdl, cache=cache)
        again = EnumerationIndex(wsdl, cache=cache)
        assert not fresh.from_cache and again.from_cache, wsdl.name
        assert _items(again) == _items(fresh) == _items(EnumerationIndex(wsdl)), wsdl.name
        # one object per enumerated type, shared by the elements of that type, as when read from the files
        assert {id(found) for found in again.by_element.values()} <= {id(found) for found in again.by_type.values()}
    assert cache.hits == len(wsdls) and cache.misses == len(wsdls)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "wsdl" / VERSION
    folder.mkdir(parents=True)
    for name in ("Contact.wsdl", "NetServerTypes.xsd", "Arrays.xsd", "Serialization.xsd", "Cryptography.xsd"):
        shutil.copy(bundled_wsdl_dir() / VERSION / name, folder / name)
    return folder / "Contact.wsdl"


def test_a_changed_shared_schema_file_is_read_again(tmp_path: Path) -> None:
    wsdl = _copy(tmp_path)
    cache = IndexCache(tmp_path / "catalog")
    first = EnumerationIndex(wsdl, cache=cache)
    types = wsdl.parent / "NetServerTypes.xsd"
    text = types.read_text(encoding="utf-8")
    value = next(found.values[0] for found in first.by_type.values() if found.values)
    types.write_text(text.replace(f'value="{value}"', 'value="RenamedByTheTest"', 1), encoding="utf-8")
    schema._trees.clear()  # the process keeps parsed shared files; a new process would read the changed one
    second = EnumerationIndex(wsdl, cache=cache)
    assert not second.from_cache
    assert any("RenamedByTheTest" in found.values for found in second.by_type.values())
    assert _items(second) == _reference(wsdl)
    assert EnumerationIndex(wsdl, cache=cache).from_cache  # and cached again, for the new content


def test_a_schema_file_that_appears_is_read(tmp_path: Path) -> None:
    wsdl = _copy(tmp_path)
    (wsdl.parent / "Arrays.xsd").rename(tmp_path / "Arrays.xsd")  # imported but missing: skipped
    cache = IndexCache(tmp_path / "catalog")
    EnumerationIndex(wsdl, cache=cache)
    assert EnumerationIndex(wsdl, cache=cache).from_cache
    (tmp_path / "Arrays.xsd").rename(wsdl.parent / "Arrays.xsd")
    assert not EnumerationIndex(wsdl, cache=cache).from_cache


@pytest.mark.parametrize("damage", [
    lambda data: {**data, "extra": 1},
    lambda data: {**data, "elements": [[owner, name, 10**6] for owner, name, _ in data["elements"]]},
    lambda data: {**data, "types": [[ns, name, values, "yes"] for ns, name, values, _ in data["types"]]},
    lambda data: {**data, "files": [[path, "0" * 64] for path, _ in data["files"]]},
    lambda data: {**data, "files": []},
    lambda data: [data],
])
def test_a_damaged_or_stale_entry_is_ignored(tmp_path: Path, damage: object) -> None:
    wsdl = _copy(tmp_path)
    cache = IndexCache(tmp_path / "catalog")
    expected = _items(EnumerationIndex(wsdl, cache=cache))
    [entry] = [path for path in (tmp_path / "catalog").glob("*.json")]
    entry.write_text(json.dumps(damage(json.loads(entry.read_text()))))  # type: ignore[operator]
    again = EnumerationIndex(wsdl, cache=cache)
    assert not again.from_cache and _items(again) == expected


def test_the_catalog_hands_its_cache_to_the_value_codec(tmp_path: Path) -> None:
    from soapkit.values.codec import ServiceCodec

    cache = IndexCache(tmp_path / "catalog")
    description = Catalog(index_cache=cache).describe("Contact")
    assert description.index_cache is cache
    assert not ServiceCodec(description).enumerations.from_cache
    assert ServiceCodec(description).enumerations.from_cache
    assert Catalog(index_cache=False).describe("Contact").index_cache is None
