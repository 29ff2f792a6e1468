"""Facts about zeep's schema types that the value layer needs: built-ins, list wrappers, enumerations.

zeep keeps element names, types and occurrences, but drops ``xs:enumeration`` facets; the enumerations are
read here from the schema files themselves (the WSDL and the ``.xsd`` files it imports), once per file. With
the catalog's on-disk cache (:mod:`soapkit.catalog_cache`) the tables themselves are kept too, checked against
the digests of every file they were read from: a one-shot command does not parse the shared schema for them.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree
from zeep.xsd import ComplexType
from zeep.xsd.types.collection import ListType

if TYPE_CHECKING:
    from soapkit.catalog_cache import IndexCache

XSD = "http://www.w3.org/2001/XMLSchema"
_XS = f"{{{XSD}}}"
#: the version of the cached tables' form (part of the cache key)
ENUMERATIONS_FORMAT = 1

INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    "byte": (-2**7, 2**7 - 1), "short": (-2**15, 2**15 - 1), "int": (-2**31, 2**31 - 1),
    "long": (-2**63, 2**63 - 1), "unsignedByte": (0, 2**8 - 1), "unsignedShort": (0, 2**16 - 1),
    "unsignedInt": (0, 2**32 - 1), "unsignedLong": (0, 2**64 - 1), "integer": (None, None),
    "nonNegativeInteger": (0, None), "positiveInteger": (1, None), "negativeInteger": (None, -1),
    "nonPositiveInteger": (None, 0),
}


def builtin_name(xsd_type: Any) -> str | None:
    """The XSD built-in a simple type is or derives from (``int``, ``dateTime``, ...), or None."""
    for cls in type(xsd_type).__mro__:
        qname = getattr(cls, "_default_qname", None)
        if qname is not None and qname.namespace == XSD:
            return str(qname.localname)
    return None


def type_label(xsd_type: Any) -> str:
    """``xsd:int`` for built-ins, the local name (``ContactEntity``) for the WSDL's own types."""
    qname = getattr(xsd_type, "qname", None)
    if qname is None:
        return getattr(xsd_type, "name", None) or type(xsd_type).__name__
    return f"xsd:{qname.localname}" if qname.namespace == XSD else str(qname.localname)


def is_many(element: Any) -> bool:
    """Whether an element may repeat (``maxOccurs`` above one)."""
    limit = getattr(element, "max_occurs", 1)
    return limit == "unbounded" or (isinstance(limit, int) and limit > 1)


def is_required(element: Any) -> bool:
    """Whether a complex type's value must have this member: ``minOccurs`` >= 1, not nillable and not repeated
    (zeep cannot write the type without it). The value layer refuses a dict without it; the stubs mark it
    ``Required``."""
    return bool(element.min_occurs) and not element.nillable and not element.accepts_multiple


def list_item(xsd_type: Any) -> tuple[str, Any] | None:
    """For a list wrapper (``ArrayOfX``, ``StringDictionary``: one repeated element, nothing else), that
    element's name and element; None for any other type."""
    if not isinstance(xsd_type, ComplexType) or xsd_type.attributes:
        return None
    elements = xsd_type.elements
    if len(elements) == 1 and is_many(elements[0][1]):
        return elements[0][0], elements[0][1]
    return None


def key_value_item(item_type: Any) -> bool:
    """Whether a list wrapper's item is a ``Key``/``Value`` pair (so a Python dict may stand for the list)."""
    if not isinstance(item_type, ComplexType):
        return False
    return [name for name, _ in item_type.elements] == ["Key", "Value"]


@dataclass(frozen=True)
class Enumeration:
    """The names an enumerated simple type allows; ``flags`` for an ``xs:list`` of them (WCF ``[Flags]``)."""

    values: tuple[str, ...]
    flags: bool = False


class EnumerationIndex:
    """Enumerations of one service description's schema files, by type QName and by (owner, element)."""

    def __init__(self, wsdl_path: Path, *, cache: IndexCache | None = None) -> None:
        """The enumerations of ``wsdl_path``'s schema files; ``cache`` keeps the tables between processes."""
        self.by_type: dict[tuple[str, str], Enumeration] = {}
        self.by_element: dict[tuple[str, str], Enumeration] = {}
        #: whether the tables came from ``cache`` (not from the schema files)
        self.from_cache = False
        if cache is None:
            self._collect([tree for _, tree in _schema_files(wsdl_path)[0]])
            return
        path = wsdl_path.resolve()
        built = False

        def build() -> object:
            nonlocal built
            found, missing = _schema_files(path)
            self._collect([tree for _, tree in found])
            built = True
            return self._to_json([*((file, _digest(file)) for file, _ in found), *((file, None) for file in missing)])

        data = cache.entry(f"enumerations-{ENUMERATIONS_FORMAT}", str(path).encode() + b"\0" + path.read_bytes(),
                           build, _current_entry)
        if not built:
            self._from_json(data)
            self.from_cache = True

    def _collect(self, trees: list[etree._Element]) -> None:
        for tree in trees:
            self._collect_types(tree)
        for tree in trees:
            self._collect_elements(tree)

    def _to_json(self, files: list[tuple[Path, str | None]]) -> dict[str, Any]:
        position = {key: number for number, key in enumerate(self.by_type)}
        identity = {id(found): key for key, found in self.by_type.items()}
        return {
            "files": [[str(file), digest] for file, digest in files],
            "types": [[namespace, name, list(found.values), found.flags]
                      for (namespace, name), found in self.by_type.items()],
            "elements": [[owner, name, position[identity[id(found)]]]
                         for (owner, name), found in self.by_element.items()],
        }

    def _from_json(self, data: Any) -> None:
        """Tables from :meth:`_to_json`'s form (already checked by :func:`_current_entry`)."""
        types = [Enumeration(tuple(values), flags) for _, _, values, flags in data["types"]]
        self.by_type = {(row[0], row[1]): found for row, found in zip(data["types"], types, strict=True)}
        self.by_element = {(owner, name): types[number] for owner, name, number in data["elements"]}

    def for_element(self, owner: str, element_name: str, xsd_type: Any) -> Enumeration | None:
        """The enumeration of ``element_name`` inside the complex type (or wrapper element) named ``owner``."""
        qname = getattr(xsd_type, "qname", None)
        if qname is not None and not isinstance(xsd_type, ListType):
            found = self.by_type.get((qname.namespace or "", qname.localname))
            if found is not None:
                return found
        return self.by_element.get((owner, element_name))

    def _collect_types(self, tree: etree._Element) -> None:
        for schema in tree.iter(f"{_XS}schema"):
            namespace = schema.get("targetNamespace") or ""
            for simple in schema.findall(f"{_XS}simpleType"):
                found = _enumeration(simple)
                if found is not None and simple.get("name"):
                    self.by_type[(namespace, simple.get("name") or "")] = found

    def _collect_elements(self, tree: etree._Element) -> None:
        # Most of the thousands of declarations name a built-in or a complex type: the local name of the type
        # reference rules them out before the costly part (the prefix's namespace, the owner's name).
        enumerated = {local for _, local in self.by_type}
        for element in tree.iter(f"{_XS}element"):
            reference = element.get("type")
            if not reference or reference.rpartition(":")[2] not in enumerated or not element.get("name"):
                continue
            found = self.by_type.get(_resolve(element, reference))
            owner = _owner_name(element)
            if found is not None and owner:
                self.by_element[(owner, element.get("name") or "")] = found


def _enumeration(simple: etree._Element) -> Enumeration | None:
    restriction = simple.find(f"{_XS}restriction")
    flags = False
    if restriction is None:
        inner = simple.find(f"{_XS}list/{_XS}simpleType/{_XS}restriction")
        restriction, flags = inner, True
    if restriction is None:
        return None
    values = tuple(e.get("value") or "" for e in restriction.findall(f"{_XS}enumeration"))
    return Enumeration(values, flags) if values else None


def _resolve(node: etree._Element, reference: str) -> tuple[str, str]:
    prefix, _, local = reference.rpartition(":")
    return (node.nsmap.get(prefix or None) or "", local)


def _owner_name(element: etree._Element) -> str | None:
    """The named complexType or top-level element an element declaration sits in."""
    for ancestor in element.iterancestors():
        if ancestor.tag in (f"{_XS}complexType", f"{_XS}element") and ancestor.get("name"):
            return ancestor.get("name")
    return None


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_trees: dict[Path, etree._Element] = {}
_trees_lock = threading.Lock()


def _schema_trees(path: Path) -> list[etree._Element]:
    """The WSDL and every local schema file it imports or includes (shared schema files parsed once per process)."""
    return [tree for _, tree in _schema_files(path)[0]]


def _schema_files(path: Path) -> tuple[list[tuple[Path, etree._Element]], list[Path]]:
    """The WSDL and every local schema file it imports or includes, each with its tree; and the files they
    name that do not exist (skipped: a cached table is only current while they still do not)."""
    seen: list[Path] = []
    missing: list[Path] = []
    pending = [path.resolve()]
    found = []
    while pending:
        current = pending.pop()
        if current in seen or current in missing:
            continue
        if not current.is_file():
            missing.append(current)
            continue
        seen.append(current)
        tree = _parsed(current)
        found.append((current, tree))
        for link in (*tree.iter(f"{_XS}import"), *tree.iter(f"{_XS}include")):
            location = link.get("schemaLocation")
            if location and "://" not in location:
                pending.append((current.parent / location).resolve())
    return found, missing


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _current_entry(data: object) -> bool:
    """Whether a cached entry has exactly :meth:`EnumerationIndex._to_json`'s shape and every file it was read
    from is unchanged (and every file it found missing still is)."""
    if not isinstance(data, dict) or set(data) != {"files", "types", "elements"}:
        return False
    files, types, elements = data["files"], data["types"], data["elements"]
    if not (isinstance(files, list) and isinstance(types, list) and isinstance(elements, list)):
        return False
    for row in types:
        if not (isinstance(row, list) and len(row) == 4 and isinstance(row[0], str) and isinstance(row[1], str)
                and isinstance(row[2], list) and all(isinstance(value, str) for value in row[2])
                and isinstance(row[3], bool)):
            return False
    for row in elements:
        if not (isinstance(row, list) and len(row) == 3 and isinstance(row[0], str) and isinstance(row[1], str)
                and isinstance(row[2], int) and not isinstance(row[2], bool) and 0 <= row[2] < len(types)):
            return False
    for row in files:
        if not (isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)
                and (row[1] is None or isinstance(row[1], str))):
            return False
        file = Path(row[0])
        try:
            if (row[1] is None) == file.is_file() or (row[1] is not None and _digest(file) != row[1]):
                return False
        except OSError:
            return False
    return bool(files)


def _parsed(path: Path) -> etree._Element:
    """Shared schema files are kept (every agent reads them); a service's own WSDL is read once per codec."""
    if path.suffix != ".xsd":
        return etree.parse(str(path), _PARSER).getroot()
    with _trees_lock:
        tree = _trees.get(path)
        if tree is None:
            tree = etree.parse(str(path), _PARSER).getroot()
            _trees[path] = tree
        return tree
