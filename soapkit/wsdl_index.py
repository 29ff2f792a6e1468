"""What a WSDL says about its operations, read with lxml alone, and a one-operation slice of it.

Building zeep's model of a whole service is the expensive part of loading an agent (List's 305 operations take
about 75 ms); reading the same file with lxml takes a few milliseconds. So an agent is *indexed* from the raw
XML when it is first used (names, SOAP actions, body wrappers, parameters), and each operation gets its zeep
model only when it is first called, from an :func:`operation_slice`: the WSDL cut down to a few operations,
whose types still come from the shared schemas the WSDL imports.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"

SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                              huge_tree=False)


class WsdlIndexError(Exception):
    """The file is not a WSDL soapkit can index (the catalog turns this into a WsdlError)."""


@dataclass(frozen=True)
class Parameter:
    """One child element of an operation's body wrapper: a parameter (input) or the result (output)."""

    name: str
    type: str  # prefixed as written in the WSDL's schema, e.g. "xs:int", "so:ContactEntity"
    optional: bool
    repeated: bool


@dataclass(frozen=True)
class OperationInfo:
    """One operation as the WSDL text describes it; no zeep model is built to know this."""

    name: str
    soap_action: str
    input_element: str  # '{namespace}local' of the request's body wrapper
    output_element: str


class WsdlIndex:
    """The operations of one WSDL's SOAP 1.1 binding; the parsed XML itself is kept (or re-read) for slicing."""

    def __init__(self, path: Path, target_namespace: str, binding_name: str, operations: dict[str, OperationInfo],
                 schema_files: tuple[str, ...]) -> None:
        self.path = path
        self.target_namespace = target_namespace
        self.binding_name = binding_name
        self.operations = operations  # in binding order
        self.schema_files = schema_files  # schema files beside the WSDL that its types import or include
        self._parameters: dict[str, tuple[Parameter, ...]] | None = None

    @property
    def binding_qname(self) -> str:
        """How zeep names the binding: '{targetNamespace}name'."""
        return f"{{{self.target_namespace}}}{self.binding_name}"

    def root(self) -> etree._Element:
        """The WSDL's XML, parsed afresh: trees are not kept (the 58 agents' trees would outweigh zeep's model)."""
        return parse_xml(self.path)


def parse_xml(path: Path) -> etree._Element:
    try:
        return etree.parse(str(path), SAFE_PARSER).getroot()
    except (OSError, etree.XMLSyntaxError) as error:
        raise WsdlIndexError(f"{type(error).__name__}: {error}") from None


def parse_bytes(content: bytes) -> etree._Element:
    try:
        return etree.fromstring(content, SAFE_PARSER)
    except etree.XMLSyntaxError as error:
        raise WsdlIndexError(f"{type(error).__name__}: {error}") from None


def _resolve(node: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    return f"{{{node.nsmap.get(prefix or None, '')}}}{local}"


def _local(qname: str) -> str:
    return qname.rpartition("}")[2]


def soap11_binding(root: etree._Element) -> etree._Element:
    """The plain SOAP 1.1 binding: WCF often publishes the same contract twice (http and https policy);
    the shortest name is the plain one."""
    bindings = [b for b in root.findall(f"{{{WSDL}}}binding") if b.find(f"{{{SOAP11}}}binding") is not None]
    if not bindings:
        raise WsdlIndexError("no SOAP 1.1 binding")
    return sorted(bindings, key=lambda b: len(b.get("name", "")))[0]


def index_wsdl(path: Path, root: etree._Element | None = None) -> WsdlIndex:
    root = parse_xml(path) if root is None else root
    if root.tag != f"{{{WSDL}}}definitions":
        raise WsdlIndexError(f"the root element is {root.tag}, not wsdl:definitions")
    binding = soap11_binding(root)
    port_type = _by_name(root, "portType", _local(_resolve(binding, binding.get("type", ""))))
    abstract_operations = {node.get("name"): node for node in port_type.iterfind(f"{{{WSDL}}}operation")}
    messages = {m.get("name", ""): m for m in root.iterfind(f"{{{WSDL}}}message")}
    operations: dict[str, OperationInfo] = {}
    for node in binding.iterfind(f"{{{WSDL}}}operation"):
        name = node.get("name", "")
        abstract = abstract_operations.get(name)
        soap_operation = node.find(f"{{{SOAP11}}}operation")
        if abstract is None or soap_operation is None:
            raise WsdlIndexError(f"operation {name} is not in portType {port_type.get('name')}")
        operations[name] = OperationInfo(
            name=name,
            soap_action=soap_operation.get("soapAction", ""),
            input_element=_body_element(abstract, "input", messages),
            output_element=_body_element(abstract, "output", messages),
        )
    return WsdlIndex(path, root.get("targetNamespace", ""), binding.get("name", ""), operations,
                     _schema_files_beside(root))


def parameters(index: WsdlIndex, element: str) -> tuple[Parameter, ...]:
    """The children of a body wrapper defined inline in the WSDL (empty when it lives in an imported schema)."""
    if index._parameters is None:  # one parse for all of the WSDL's wrappers
        index._parameters = {name: _children(node) for name, node in _global_elements(index.root()).items()}
    return index._parameters.get(element, ())


def _by_name(root: etree._Element, tag: str, name: str) -> etree._Element:
    found = root.find(f"{{{WSDL}}}{tag}[@name='{name}']")
    if found is None:
        raise WsdlIndexError(f"wsdl:{tag} {name!r} not found")
    return found


def _body_element(abstract: etree._Element, which: str, messages: dict[str, etree._Element]) -> str:
    side = abstract.find(f"{{{WSDL}}}{which}")
    if side is None:
        raise WsdlIndexError(f"operation {abstract.get('name')} has no {which}")
    message = messages.get(_local(_resolve(side, side.get("message", ""))))
    parts = [] if message is None else message.findall(f"{{{WSDL}}}part")
    if len(parts) != 1 or parts[0].get("element") is None:
        raise WsdlIndexError(f"operation {abstract.get('name')}: the {which} is not one document/literal wrapper")
    return _resolve(parts[0], parts[0].get("element", ""))


def _global_elements(root: etree._Element) -> dict[str, etree._Element]:
    found: dict[str, etree._Element] = {}
    types = root.find(f"{{{WSDL}}}types")
    for schema in [] if types is None else types.findall(f"{{{XS}}}schema"):
        namespace = schema.get("targetNamespace", "")
        for element in schema.findall(f"{{{XS}}}element"):
            found[f"{{{namespace}}}{element.get('name')}"] = element
    return found


def _children(wrapper: etree._Element | None) -> tuple[Parameter, ...]:
    if wrapper is None:  # defined in an imported schema: the index knows the wrapper, not its children
        return ()
    return tuple(
        Parameter(
            name=child.get("name") or child.get("ref", ""),
            type=child.get("type", "(anonymous)"),
            optional=child.get("minOccurs", "1") == "0",
            repeated=child.get("maxOccurs", "1") not in ("0", "1"),
        )
        for child in wrapper.iterfind(f"{{{XS}}}complexType/{{{XS}}}sequence/{{{XS}}}element")
    )


def _relative(location: str | None) -> bool:
    return bool(location) and "://" not in str(location) and not str(location).startswith("/")


def _beside(location: str | None) -> bool:
    """A schema file in the WSDL's own folder (a bare file name): the only kind the catalog shares."""
    return bool(location) and _relative(location) and "/" not in str(location) and "\\" not in str(location) \
        and not str(location).startswith(".")


def _schema_files_beside(root: etree._Element) -> tuple[str, ...]:
    types = root.find(f"{{{WSDL}}}types")
    if types is None:
        return ()
    locations = [node.get("schemaLocation") for node in types.iter(f"{{{XS}}}import", f"{{{XS}}}include")]
    if any(_relative(location) and not _beside(location) for location in locations):
        return ()  # schemas elsewhere: let zeep load the whole document as written
    return tuple(dict.fromkeys(str(location) for location in locations if _beside(location)))


def operation_slice(index: WsdlIndex, names: Sequence[str]) -> bytes:
    """The WSDL with only the operations ``names``: their wrappers, messages, portType and binding entries.

    Everything else in ``wsdl:types`` (imports, and any non-wrapper component of an inline schema) is kept,
    except ``xs:include`` of schema files beside the WSDL: the caller supplies those already parsed (zeep would
    otherwise parse an included file again into every slice). With them, the slice means exactly what the
    whole WSDL means for those operations.
    """
    root = index.root()
    binding = _by_name(root, "binding", index.binding_name)
    port_type = _by_name(root, "portType", _local(_resolve(binding, binding.get("type", ""))))
    wanted = set(names)
    abstract = [node for node in port_type.iterfind(f"{{{WSDL}}}operation") if node.get("name") in wanted]
    concrete = [node for node in binding.iterfind(f"{{{WSDL}}}operation") if node.get("name") in wanted]
    needed_messages = {_local(_resolve(side, side.get("message", ""))) for node in abstract for side in node
                       if isinstance(side.tag, str) and side.get("message")}
    needed_messages |= {_local(_resolve(header, header.get("message", "")))
                        for node in concrete for header in node.iter(f"{{{SOAP11}}}header")}
    kept = {element for name in names for element in (index.operations[name].input_element,
                                                       index.operations[name].output_element)}
    other_wrappers = {element for info in index.operations.values()
                      for element in (info.input_element, info.output_element)} - kept

    sliced = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=root.nsmap)
    for child in root:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local == "types":
            sliced.append(_types_without(child, other_wrappers))
        elif local == "message" and child.get("name") in needed_messages:
            sliced.append(copy.deepcopy(child))
        elif local == "portType" and child.get("name") == port_type.get("name"):
            sliced.append(_with_only(child, abstract))
        elif local == "binding" and child.get("name") == index.binding_name:
            sliced.append(_with_only(child, concrete))
        elif local in ("service", "import"):
            sliced.append(copy.deepcopy(child))
    return etree.tostring(sliced)


def _types_without(types: etree._Element, dropped_elements: set[str]) -> etree._Element:
    kept = etree.Element(types.tag, attrib=dict(types.attrib), nsmap=types.nsmap)
    for schema in types:
        if not isinstance(schema.tag, str):
            continue
        namespace = schema.get("targetNamespace", "")
        copied = etree.SubElement(kept, schema.tag, attrib=dict(schema.attrib), nsmap=schema.nsmap)
        for component in schema:
            if not isinstance(component.tag, str):
                continue
            if component.tag == f"{{{XS}}}element" and f"{{{namespace}}}{component.get('name')}" in dropped_elements:
                continue
            if component.tag == f"{{{XS}}}include" and _beside(component.get("schemaLocation")):
                continue
            copied.append(copy.deepcopy(component))
    return kept


def _with_only(container: etree._Element, operations: list[etree._Element]) -> etree._Element:
    copied = etree.Element(container.tag, attrib=dict(container.attrib), nsmap=container.nsmap)
    for child in container:
        if isinstance(child.tag, str) and (etree.QName(child).localname != "operation" or child in operations):
            copied.append(copy.deepcopy(child))
    return copied


# --------------------------------------------------------------------------------------------- plain form

INDEX_FORMAT = 2


def index_to_json(index: WsdlIndex) -> dict[str, object]:
    """The index as JSON-ready data (for the on-disk catalog cache: a format that only ever holds data)."""
    return {
        "format": INDEX_FORMAT,
        "target_namespace": index.target_namespace,
        "binding": index.binding_name,
        "schema_files": list(index.schema_files),
        "operations": [list(astuple(info)) for info in index.operations.values()],
    }


def index_from_json(path: Path, data: object) -> WsdlIndex | None:
    """An index read back from :func:`index_to_json`'s form; None for anything not exactly of that shape."""
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        return None
    rows = data.get("operations")
    texts = (data.get("target_namespace"), data.get("binding"))
    if not isinstance(rows, list) or not all(isinstance(text, str) for text in texts):
        return None
    files = data.get("schema_files")
    if not (isinstance(files, list) and all(isinstance(name, str) and _beside(name) for name in files)):
        return None
    operations: dict[str, OperationInfo] = {}
    for row in rows:
        if not (isinstance(row, list) and len(row) == 4 and all(isinstance(item, str) for item in row)):
            return None
        operations[row[0]] = OperationInfo(*row)
    return WsdlIndex(path, str(texts[0]), str(texts[1]), operations, tuple(files))


# --- the types a few operations need --------------------------------------------------------------------

_TYPE_REFERENCES = ("type", "base", "itemType")
_COMPONENTS = {"element": "element", "complexType": "type", "simpleType": "type", "group": "group",
               "attributeGroup": "attributeGroup", "attribute": "attribute"}


def _references(node: etree._Element, namespace: str) -> Iterator[tuple[str, str, bool]]:
    """``(kind, name, used)`` for every reference in ``node`` to a component of ``namespace``: ``used`` is
    False for the base of a derivation (its other subtypes are not needed), True for everything else."""
    for child in node.iter():
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        for attribute in (*_TYPE_REFERENCES, "ref", "element", "memberTypes"):
            value = child.get(attribute)
            if not value:
                continue
            for word in value.split() if attribute == "memberTypes" else (value,):
                prefix, _, name = word.rpartition(":")
                if child.nsmap.get(prefix or None) != namespace:
                    continue
                if attribute == "ref":
                    kind = _COMPONENTS.get(local, "element")
                elif attribute == "element":
                    kind = "element"
                else:
                    kind = "type"
                yield kind, name, attribute != "base"


def _untyped(component: etree._Element) -> bool:
    """Whether the component holds anything of ``xs:anyType`` or a wildcard (its values may carry an
    ``xsi:type`` naming any type of the schema)."""
    for node in component.iter(f"{{{XS}}}element", f"{{{XS}}}any", f"{{{XS}}}anyAttribute"):
        if node.tag != f"{{{XS}}}element":
            return True
        declared = node.get("type")
        if declared is None and node.get("ref") is None and node.find(f"{{{XS}}}complexType") is None \
                and node.find(f"{{{XS}}}simpleType") is None:
            return True
        if declared is not None:
            prefix, _, name = declared.rpartition(":")
            if name == "anyType" and node.nsmap.get(prefix or None) == XS:
                return True
    return False


class SchemaComponents:
    """The top-level components of one schema file, by kind and name, and which types derive from which."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.namespace = root.get("targetNamespace", "")
        self.components: dict[tuple[str, str], etree._Element] = {}
        self.subtypes: dict[str, list[str]] = {}
        for child in root:
            if not isinstance(child.tag, str) or etree.QName(child).namespace != XS:
                continue
            kind = _COMPONENTS.get(etree.QName(child).localname)
            name = child.get("name")
            if kind is None or name is None:
                continue
            self.components[(kind, name)] = child
            if kind == "type":
                for derivation in child.iter(f"{{{XS}}}extension", f"{{{XS}}}restriction"):
                    prefix, _, base = (derivation.get("base") or "").rpartition(":")
                    if derivation.nsmap.get(prefix or None) == self.namespace:
                        self.subtypes.setdefault(base, []).append(name)

    def closure(self, seeds: Iterator[tuple[str, str, bool]]) -> set[tuple[str, str]] | None:
        """The components the seeds need: what they reference, recursively, with every subtype of a type used
        as a declared type (a value of it may carry ``xsi:type`` of any subtype). None when one of them holds
        ``xs:anyType`` or a wildcard, or references a component the file does not have: then every type may
        be needed."""
        needed: set[tuple[str, str]] = set()
        walked: set[tuple[str, str, bool]] = set()
        pending = list(seeds)
        while pending:
            kind, name, used = pending.pop()
            if (kind, name, used) in walked:
                continue
            walked.add((kind, name, used))
            component = self.components.get((kind, name))
            if component is None:
                return None
            if (kind, name) not in needed:
                if _untyped(component):
                    return None
                needed.add((kind, name))
                pending.extend(_references(component, self.namespace))
            if used and kind == "type":
                pending.extend(("type", subtype, True) for subtype in self.subtypes.get(name, ()))
        return needed

    def pruned(self, needed: set[tuple[str, str]]) -> bytes:
        """The schema file with only the ``needed`` components (imports and everything else kept, in order)."""
        root = etree.Element(self.root.tag, attrib=dict(self.root.attrib), nsmap=self.root.nsmap)
        for child in self.root:
            if not isinstance(child.tag, str):
                continue
            kind = _COMPONENTS.get(etree.QName(child).localname) if etree.QName(child).namespace == XS else None
            if kind is not None and child.get("name") is not None and (kind, child.get("name")) not in needed:
                continue
            root.append(copy.deepcopy(child))
        return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def slice_references(wsdl_slice: bytes, namespace: str) -> list[tuple[str, str, bool]]:
    """What an :func:`operation_slice` needs from the components of ``namespace`` in the schema files: what
    its inline schemas (the wrappers) and its messages' parts reference, less what the inline schemas define."""
    root = etree.fromstring(wsdl_slice, SAFE_PARSER)
    defined: set[tuple[str, str]] = set()
    found: list[tuple[str, str, bool]] = []
    for schema in root.iterfind(f"{{{WSDL}}}types/{{{XS}}}schema"):
        inline = schema.get("targetNamespace", "") == namespace
        for component in schema:
            if not isinstance(component.tag, str) or etree.QName(component).namespace != XS:
                continue
            kind = _COMPONENTS.get(etree.QName(component).localname)
            if inline and kind is not None and component.get("name") is not None:
                defined.add((kind, component.get("name") or ""))
            found.extend(_references(component, namespace))
    for part in root.iterfind(f"{{{WSDL}}}message/{{{WSDL}}}part"):
        found.extend(_references(part, namespace))
    return [reference for reference in found if reference[:2] not in defined]
