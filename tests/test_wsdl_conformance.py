"""soapkit's shipped WSDLs against SuperOffice's published contract, operation by operation.

Every operation found in ``wsdl/`` is compared with the reference WSDL of the same service: the body and
header elements of its input and output, recursively through every type they use (names, namespaces,
order, type QNames, minOccurs/maxOccurs, nillability, derivation and facets such as enumeration values),
plus soapAction and the WS-Addressing actions. The walker reads the raw WSDL/XSD (zeep's model drops
list type names, enumeration values, base types and output actions); zeep separately has to load every
shipped WSDL in strict mode and serialize calls.

The generator (tools/build_wsdl.py) is held to being deterministic and to matching the committed files.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import zeep
from lxml import etree

REPO_ROOT = Path(__file__).resolve().parent.parent
OUR_WSDL_DIR = REPO_ROOT / "wsdl"
GENERATOR = REPO_ROOT / "tools" / "build_wsdl.py"

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

reference = pytest.mark.reference  # needs ../shared/reference/superoffice-wsdl


# ------------------------------------------------------------------------------------ our shipped files


def our_wsdl_files() -> list[Path]:
    return sorted(OUR_WSDL_DIR.rglob("*.wsdl"))


def our_operations() -> list[tuple[str, str]]:
    """(WSDL path relative to wsdl/, operation name) for every operation of every shipped binding."""
    found = []
    for path in our_wsdl_files():
        root = etree.parse(str(path), SAFE_PARSER).getroot()
        for binding in root.iter(f"{{{WSDL}}}binding"):
            for operation in binding.findall(f"{{{WSDL}}}operation"):
                found.append((path.relative_to(OUR_WSDL_DIR).as_posix(), operation.get("name", "")))
    return found


SHIPPED = our_operations()


# ------------------------------------------------------------------------------------ reading contracts


@functools.cache
def load_client(path: str) -> zeep.Client:
    return zeep.Client(path, settings=zeep.Settings(strict=True))


def _qname(node: etree._Element, value: str) -> str:
    """A QName attribute value resolved against the node's namespace declarations, as '{ns}local'."""
    prefix, _, local = value.rpartition(":")
    return f"{{{node.nsmap.get(prefix or None, '')}}}{local}"


def _short(qname: str) -> str:
    """'{http://www.w3.org/2001/XMLSchema}int' -> 'xs:int'; other namespaces stay explicit."""
    return qname.replace(f"{{{XS}}}", "xs:")


class Contract:
    """A WSDL and every schema it can see (inline, or imported through schemaLocation), indexed by QName.

    Reads the raw XML rather than zeep's model: zeep drops what the comparison needs (names of list
    types, enumeration values, base types, output wsa actions).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = etree.parse(str(path), SAFE_PARSER).getroot()
        self.components: dict[tuple[str, str], etree._Element] = {}
        for document in self._documents():
            for schema in document.iter(f"{{{XS}}}schema"):
                namespace = schema.get("targetNamespace", "")
                for child in schema:
                    if isinstance(child.tag, str) and child.get("name"):
                        self.components[(etree.QName(child).localname, f"{{{namespace}}}{child.get('name')}")] = child

    def _documents(self) -> list[etree._Element]:
        documents, pending, seen = [self.root], [(self.path.resolve(), self.root)], set()
        while pending:
            location, root = pending.pop()
            for node in root.iter(f"{{{XS}}}import", f"{{{XS}}}include"):
                relative = node.get("schemaLocation")
                target = (location.parent / relative).resolve() if relative else None
                if target is None or target in seen:
                    continue
                seen.add(target)
                imported = etree.parse(str(target), SAFE_PARSER).getroot()
                documents.append(imported)
                pending.append((target, imported))
        return documents

    def component(self, kind: str, qname: str) -> etree._Element | None:
        return self.components.get((kind, qname))

    def wsdl(self, tag: str, name: str) -> etree._Element:
        found = self.root.find(f"{{{WSDL}}}{tag}[@name='{name}']")
        assert found is not None, f"{self.path.name}: no wsdl:{tag} {name}"
        return found


# ------------------------------------------------------------------------------------ structural walker


@dataclass
class Node:
    """One element (or attribute) as the contract describes it, with its children in schema order."""

    name: str
    props: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)


class Walker:
    """Turns the elements of a message into comparable trees.

    Complex types are flattened the way they go on the wire (base type's elements first, then the
    extension's). Each named complex type is expanded once per message: the seen-set stops recursive
    types (SoExceptionInfo.InnerException) and keeps shared ones (Carrier) from being walked at every use.
    """

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.expanded: set[str] = set()

    def global_element(self, qname: str) -> Node:
        declaration = self.contract.component("element", qname)
        if declaration is None:
            return Node(etree.QName(qname).localname, {"missing": f"global element {qname}"})
        return self.element(declaration)

    def element(self, declaration: etree._Element) -> Node:
        target = declaration
        if declaration.get("ref"):
            found = self.contract.component("element", _qname(declaration, declaration.get("ref", "")))
            if found is None:
                return Node(declaration.get("ref", ""), {"missing": "referenced element"})
            target = found
        node = Node(
            target.get("name", ""),
            {
                "namespace": self._namespace(target),
                "minOccurs": declaration.get("minOccurs", "1"),
                "maxOccurs": declaration.get("maxOccurs", "1"),
                "nillable": target.get("nillable", "false"),
            },
        )
        for optional in ("default", "fixed"):
            if target.get(optional) is not None:
                node.props[optional] = target.get(optional, "")
        if target.get("type"):
            type_name = _qname(target, target.get("type", ""))
            node.props["type"] = _short(type_name)
            self._describe_named_type(node, type_name)
        else:
            node.props["type"] = "(anonymous)"
            for child in target:
                if child.tag == f"{{{XS}}}complexType":
                    self._complex_content(node, child)
                elif child.tag == f"{{{XS}}}simpleType":
                    node.props["derivation"] = _derivation(child)
        return node

    def _namespace(self, declaration: etree._Element) -> str:
        schema = next(declaration.iterancestors(f"{{{XS}}}schema"))
        is_global = declaration.getparent() is schema
        qualified = declaration.get("form", schema.get("elementFormDefault", "unqualified")) == "qualified"
        return schema.get("targetNamespace", "") if is_global or qualified else ""

    def _describe_named_type(self, node: Node, type_name: str) -> None:
        if type_name.startswith(f"{{{XS}}}"):
            return
        simple = self.contract.component("simpleType", type_name)
        if simple is not None:
            node.props["derivation"] = _derivation(simple)
            return
        complex_type = self.contract.component("complexType", type_name)
        if complex_type is None:
            node.props["missing"] = f"type {type_name}"
        elif type_name not in self.expanded:
            self.expanded.add(type_name)
            self._complex_content(node, complex_type)

    def _complex_content(self, node: Node, complex_type: etree._Element) -> None:
        """Children of a complex type in wire order: the base type's first (recursively)."""
        for child in complex_type:
            local = etree.QName(child).localname if isinstance(child.tag, str) else ""
            if local in ("complexContent", "simpleContent"):
                for derivation in child:
                    if not isinstance(derivation.tag, str) or derivation.get("base") is None:
                        continue
                    base = _qname(derivation, derivation.get("base", ""))
                    node.props[f"{local} {etree.QName(derivation).localname}"] = _short(base)
                    base_type = self.contract.component("complexType", base)
                    if base_type is not None:
                        self._complex_content(node, base_type)
                    self._complex_content(node, derivation)
            elif local in ("sequence", "choice", "all"):
                self._particles(node, child)
            elif local == "attribute":
                node.children.append(
                    Node(
                        f"@{child.get('name') or child.get('ref')}",
                        {
                            "type": _short(_qname(child, child.get("type", "xs:anySimpleType"))),
                            "use": child.get("use", "optional"),
                        },
                    )
                )

    def _particles(self, node: Node, group: etree._Element) -> None:
        kind = etree.QName(group).localname
        if kind != "sequence":
            node.props.setdefault("content", kind)
        for particle in group:
            local = etree.QName(particle).localname if isinstance(particle.tag, str) else ""
            if local == "element":
                node.children.append(self.element(particle))
            elif local in ("sequence", "choice", "all"):
                self._particles(node, particle)
            elif local == "any":
                node.children.append(
                    Node(
                        "(any)",
                        {
                            "namespace": particle.get("namespace", "##any"),
                            "minOccurs": particle.get("minOccurs", "1"),
                            "maxOccurs": particle.get("maxOccurs", "1"),
                        },
                    )
                )


def _derivation(node: etree._Element) -> str:
    """Derivation and facets of a simple type: e.g. 'restriction xs:string; enumeration=Jwt; ...'."""
    parts: list[str] = []
    for child in node.iter():
        if not isinstance(child.tag, str) or etree.QName(child).namespace != XS:
            continue
        if any(ancestor.tag == f"{{{XS}}}annotation" for ancestor in child.iterancestors()):
            continue
        local = etree.QName(child).localname
        if local in ("restriction", "extension", "list", "union"):
            reference = child.get("base") or child.get("itemType") or child.get("memberTypes")
            parts.append(f"{local} {_short(_qname(child, reference))}" if reference else local)
        elif child.get("value") is not None:
            parts.append(f"{local}={child.get('value')}")
    return "; ".join(parts)


def compare(ours: Node, reference: Node, path: str) -> list[str]:
    """Readable differences between two trees, always written 'ours != reference'."""
    problems = []
    for key in sorted(set(ours.props) | set(reference.props)):
        mine, theirs = ours.props.get(key, "(none)"), reference.props.get(key, "(none)")
        if mine == theirs:
            continue
        if key == "derivation":
            only_ours = [f for f in mine.split("; ") if f not in theirs.split("; ")]
            only_theirs = [f for f in theirs.split("; ") if f not in mine.split("; ")]
            problems.append(f"{path} derivation differs: ours adds {only_ours}, reference adds {only_theirs}")
        else:
            problems.append(f"{path} {key} {mine} != {theirs}")
    our_names = [child.name for child in ours.children]
    reference_names = [child.name for child in reference.children]
    missing = [name for name in reference_names if name not in our_names]
    extra = [name for name in our_names if name not in reference_names]
    if missing:
        problems.append(f"{path} misses {', '.join(missing)}")
    if extra:
        problems.append(f"{path} has {', '.join(extra)} that the reference does not")
    common_ours = [name for name in our_names if name in reference_names]
    common_reference = [name for name in reference_names if name in our_names]
    for position, (mine, theirs) in enumerate(zip(common_ours, common_reference, strict=True), start=1):
        if mine != theirs:
            problems.append(f"{path} order differs at child {position}: {mine} != {theirs}")
            break
    by_name = {child.name: child for child in reference.children}
    for child in ours.children:
        if child.name in by_name:
            problems.extend(compare(child, by_name[child.name], f"{path}/{child.name}"))
    return problems


# ------------------------------------------------------------------------------------ operations


@dataclass
class Side:
    """What one side (input/output) of an operation puts on the wire, and under which wsa:Action."""

    action: str
    body: str  # body wrapper element QName
    headers: list[str]  # header element QNames, in binding order


def _side(contract: Contract, port_operation: etree._Element, binding_operation: etree._Element, which: str) -> Side:
    port_side = port_operation.find(f"{{{WSDL}}}{which}")
    binding_side = binding_operation.find(f"{{{WSDL}}}{which}")
    assert port_side is not None and binding_side is not None
    message = contract.wsdl("message", etree.QName(_qname(port_side, port_side.get("message", ""))).localname)
    parts = message.findall(f"{{{WSDL}}}part")
    assert len(parts) == 1, f"{contract.path.name}: {message.get('name')} is not one wrapper element"
    headers = []
    for header in binding_side.findall(f"{{{SOAP11}}}header"):
        header_message = contract.wsdl("message", etree.QName(_qname(header, header.get("message", ""))).localname)
        part = header_message.find(f"{{{WSDL}}}part[@name='{header.get('part')}']")
        assert part is not None
        headers.append(_qname(part, part.get("element", "")))
    return Side(
        action=port_side.get(f"{{{WSAW}}}Action", ""),
        body=_qname(parts[0], parts[0].get("element", "")),
        headers=headers,
    )


def _operation(contract: Contract, binding_name: str, name: str) -> tuple[dict[str, str], dict[str, Side]] | None:
    binding = contract.wsdl("binding", binding_name)
    binding_operation = binding.find(f"{{{WSDL}}}operation[@name='{name}']")
    port_type = contract.wsdl("portType", etree.QName(_qname(binding, binding.get("type", ""))).localname)
    port_operation = port_type.find(f"{{{WSDL}}}operation[@name='{name}']")
    if binding_operation is None or port_operation is None:
        return None
    soap_operation = binding_operation.find(f"{{{SOAP11}}}operation")
    assert soap_operation is not None
    soap_binding = binding.find(f"{{{SOAP11}}}binding")
    assert soap_binding is not None, f"{contract.path.name}: {binding_name} is not a SOAP 1.1 binding"
    binding_facts = {
        "soapAction": soap_operation.get("soapAction", ""),
        "style": soap_operation.get("style", soap_binding.get("style", "document")),
        "transport": soap_binding.get("transport", ""),
    }
    sides = {which: _side(contract, port_operation, binding_operation, which) for which in ("input", "output")}
    return binding_facts, sides


def _our_binding_name(contract: Contract) -> str:
    bindings = contract.root.findall(f"{{{WSDL}}}binding")
    assert len(bindings) == 1, f"{contract.path.name} should hold exactly one (SOAP 1.1) binding"
    return bindings[0].get("name", "")


@functools.cache
def load_contract(path: str) -> Contract:
    return Contract(Path(path))


def operation_differences(ours_path: Path, reference_path: Path, operation_name: str) -> list[str]:
    """Everything in which one operation of our WSDL differs from the published contract."""
    ours, reference = load_contract(str(ours_path)), load_contract(str(reference_path))
    label = f"{reference_path.stem}.{operation_name}"
    binding_name = _our_binding_name(ours)
    ours_operation = _operation(ours, binding_name, operation_name)
    reference_operation = _operation(reference, binding_name, operation_name)
    assert ours_operation is not None, f"{label} is not in our {ours_path.name}"
    if reference_operation is None:
        return [f"{label}: not an operation of the published contract's {binding_name}"]
    (ours_facts, ours_sides), (reference_facts, reference_sides) = ours_operation, reference_operation
    problems = [
        f"{label} {key} {ours_facts[key]!r} != {reference_facts[key]!r}"
        for key in ours_facts
        if ours_facts[key] != reference_facts[key]
    ]
    for which in ("input", "output"):
        mine, theirs = ours_sides[which], reference_sides[which]
        if mine.action != theirs.action:
            problems.append(f"{label} {which} wsa action {mine.action!r} != {theirs.action!r}")
        ours_walker, reference_walker = Walker(ours), Walker(reference)
        trees = {
            "header": (
                Node("Header", children=[ours_walker.global_element(q) for q in mine.headers]),
                Node("Header", children=[reference_walker.global_element(q) for q in theirs.headers]),
            ),
            "body": (ours_walker.global_element(mine.body), reference_walker.global_element(theirs.body)),
        }
        for part, (our_tree, reference_tree) in trees.items():
            where = f"{label} {which} {part}:"
            problems.extend(f"{where} {p}" for p in compare(our_tree, reference_tree, our_tree.name))
    return problems


def reference_for(reference_dir: Path, relative: str) -> Path:
    path = reference_dir / relative
    assert path.is_file(), f"our wsdl/{relative} has no counterpart in the reference ({path})"
    return path


# ------------------------------------------------------------------------------------ the tests


def test_the_project_ships_operations() -> None:
    assert our_wsdl_files(), "wsdl/ holds no WSDL"
    assert SHIPPED


@reference
@pytest.mark.parametrize(("relative", "operation"), SHIPPED, ids=[f"{Path(r).stem}.{o}" for r, o in SHIPPED])
def test_operation_matches_published_contract(reference_wsdl_dir: Path, relative: str, operation: str) -> None:
    problems = operation_differences(OUR_WSDL_DIR / relative, reference_for(reference_wsdl_dir, relative), operation)
    assert not problems, "ours != reference:\n" + "\n".join(problems)


@reference
@pytest.mark.parametrize("relative", [p.relative_to(OUR_WSDL_DIR).as_posix() for p in our_wsdl_files()])
def test_service_binding_and_port_names_match(reference_wsdl_dir: Path, relative: str) -> None:
    ours = load_client(str(OUR_WSDL_DIR / relative)).wsdl
    reference = load_client(str(reference_for(reference_wsdl_dir, relative))).wsdl
    for service_name, service in ours.services.items():
        assert service_name in reference.services
        for port_name, port in service.ports.items():
            reference_port = reference.services[service_name].ports[port_name]
            assert port.binding.name == reference_port.binding.name
            assert port.binding.port_type.name == reference_port.binding.port_type.name


def _mutated_copy(tmp_path: Path, relative: str, mutate: Any) -> Path:
    """A copy of our wsdl/ folder in tmp_path in which one file was changed by ``mutate(root)``."""
    copy = tmp_path / "wsdl"
    shutil.copytree(OUR_WSDL_DIR, copy)
    target = copy / relative
    tree = etree.parse(str(target), SAFE_PARSER)
    mutate(tree.getroot())
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return copy


def _xs_type(root: etree._Element, name: str) -> etree._Element:
    found = root.find(f"{{{XS}}}complexType[@name='{name}']")
    if found is None:
        found = root.find(f"{{{XS}}}simpleType[@name='{name}']")
    assert found is not None, name
    return found


def _swap_first_two_contact_fields(root: etree._Element) -> None:
    sequence = _xs_type(root, "ContactEntity").find(f".//{{{XS}}}sequence")
    assert sequence is not None
    first, second = sequence[0], sequence[1]
    sequence.remove(first)
    second.addnext(first)


def _flip_ticket_nillable(root: etree._Element) -> None:
    ticket = _xs_type(root, "SoCredentials").find(f".//{{{XS}}}element[@name='Ticket']")
    assert ticket is not None
    ticket.set("nillable", "false")


def _make_archive_rows_single(root: etree._Element) -> None:
    row = _xs_type(root, "ArrayOfArchiveListItem").find(f".//{{{XS}}}element")
    assert row is not None
    row.set("maxOccurs", "1")


def _drop_an_enumeration_value(root: etree._Element) -> None:
    restriction = _xs_type(root, "ETableRight").find(f".//{{{XS}}}restriction")
    assert restriction is not None
    restriction.remove(restriction[-1])


def _change_soap_action(root: etree._Element) -> None:
    for node in root.iter(f"{{{SOAP11}}}operation"):
        node.set("soapAction", node.get("soapAction", "") + "X")


def _change_output_wsa_action(root: etree._Element) -> None:
    for node in root.iter(f"{{{WSDL}}}output"):
        if node.get(f"{{{WSAW}}}Action"):
            node.set(f"{{{WSAW}}}Action", "urn:wrong")


MUTATIONS = {
    "swap": (
        "Services88/NetServerTypes.xsd",
        _swap_first_two_contact_fields,
        "Contact.wsdl",
        "GetContactEntity",
        "output body: GetContactEntityResponse/Response order differs at child 3: Name != ContactId",
    ),
    "nillable": (
        "Services88/NetServerTypes.xsd",
        _flip_ticket_nillable,
        "Contact.wsdl",
        "GetContactEntity",
        "input header: Header/Credentials/Ticket nillable false != true",
    ),
    "maxOccurs": (
        "Services88/NetServerTypes.xsd",
        _make_archive_rows_single,
        "Archive.wsdl",
        "GetArchiveListByColumns",
        "/ArchiveListItem maxOccurs 1 != unbounded",
    ),
    "enumeration": (
        "Services88/NetServerTypes.xsd",
        _drop_an_enumeration_value,
        "Contact.wsdl",
        "GetContactEntity",
        "Response/TableRight/Mask derivation differs: ours adds [], reference adds ['enumeration=F']",
    ),
    "soapAction": (
        "Services88/Contact.wsdl",
        _change_soap_action,
        "Contact.wsdl",
        "GetContactEntity",
        "Contact.GetContactEntity soapAction",
    ),
    "wsa action": (
        "Services88/Person.wsdl",
        _change_output_wsa_action,
        "Person.wsdl",
        "GetPersonEntity",
        "Person.GetPersonEntity output wsa action 'urn:wrong' != ",
    ),
}


@reference
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_walker_catches_a_broken_contract(reference_wsdl_dir: Path, tmp_path: Path, mutation: str) -> None:
    changed_file, mutate, wsdl_name, operation, expected = MUTATIONS[mutation]
    copy = _mutated_copy(tmp_path, changed_file, mutate)
    reference = reference_wsdl_dir / "Services88" / wsdl_name
    assert not operation_differences(OUR_WSDL_DIR / "Services88" / wsdl_name, reference, operation)
    problems = operation_differences(copy / "Services88" / wsdl_name, reference, operation)
    assert any(expected in problem for problem in problems), "\n".join(problems) or "no difference found"


# ------------------------------------------------------------------------------------ the generator


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_wsdl", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_wsdl", module)
    spec.loader.exec_module(module)
    return module


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@reference
def test_generator_is_deterministic_and_committed_files_are_current(reference_wsdl_dir: Path, tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):  # different hash seeds: no set or dict ordering may leak into the files
        out = tmp_path / f"run{seed}"
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, str(GENERATOR), str(reference_wsdl_dir), "--out", str(out)],
            check=True,
            capture_output=True,
            env=environment,
        )
        outputs.append(_tree(out))
    assert outputs[0] == outputs[1], "two runs of tools/build_wsdl.py gave different files"
    committed = {name: content for name, content in _tree(OUR_WSDL_DIR).items() if name.endswith((".wsdl", ".xsd"))}
    stale = sorted(name for name in outputs[0].keys() | committed.keys() if outputs[0].get(name) != committed.get(name))
    assert not stale, f"wsdl/ is out of date with tools/build_wsdl.py ({stale}): run python tools/build_wsdl.py"


@reference
def test_generator_fails_loudly_on_a_missing_operation(reference_wsdl_dir: Path) -> None:
    generator = _load_generator()
    spec = generator.agent_spec("Contact", ("GetContactEntities",))
    with pytest.raises(generator.ContractError, match="GetContactEntities"):
        generator.build(reference_wsdl_dir, [spec])


@reference
def test_generator_refuses_one_name_defined_two_ways(reference_wsdl_dir: Path, tmp_path: Path) -> None:
    generator = _load_generator()
    folder = tmp_path / "reference" / "Services88"
    folder.mkdir(parents=True)
    for name in ("Contact", "Person"):
        shutil.copy(reference_wsdl_dir / "Services88" / f"{name}.wsdl", folder)
    person = folder / "Person.wsdl"
    text = person.read_text(encoding="utf-8")
    needle = '<xs:element minOccurs="0" name="Ticket" nillable="true" type="xs:string" />'
    assert needle in text
    person.write_text(text.replace(needle, needle.replace(' nillable="true"', "")), encoding="utf-8")
    specs = [generator.agent_spec("Contact"), generator.agent_spec("Person")]
    with pytest.raises(generator.ContractError, match="SoCredentials differs"):
        generator.build(folder.parent, specs)


# ------------------------------------------------------------------------------------ our own layout


@pytest.mark.parametrize("path", our_wsdl_files(), ids=lambda p: p.stem)
def test_our_wsdl_is_compact_soap11_with_a_placeholder_address(path: Path) -> None:
    root = etree.parse(str(path), SAFE_PARSER).getroot()
    text = path.read_text(encoding="utf-8")
    assert "Generated by tools/build_wsdl.py" in text
    assert "soap12" not in text and "Policy" not in text and "documentation" not in text
    addresses = [node.get("location", "") for node in root.iter(f"{{{SOAP11}}}address")]
    assert addresses and all(a.startswith("https://example.invalid/") for a in addresses)
    for node in root.iter(f"{{{XS}}}import"):
        location = node.get("schemaLocation")
        assert location is None or ("/" not in location and ":" not in location), location


@pytest.mark.parametrize("path", sorted(OUR_WSDL_DIR.rglob("*.xsd")), ids=lambda p: p.name)
def test_our_schemas_are_generated_and_import_by_relative_location(path: Path) -> None:
    root = etree.parse(str(path), SAFE_PARSER).getroot()
    assert "Generated by tools/build_wsdl.py" in path.read_text(encoding="utf-8")
    assert not list(root.iter(f"{{{XS}}}annotation")), "documentation belongs to the published contract"
    for node in root.iter(f"{{{XS}}}import"):
        location = node.get("schemaLocation", "")
        assert (path.parent / location).is_file() and "/" not in location, location


@pytest.mark.parametrize("path", our_wsdl_files(), ids=lambda p: p.stem)
def test_our_wsdl_loads_strictly_in_zeep_and_every_operation_serializes(path: Path) -> None:
    client = load_client(str(path))
    binding = client.service._binding
    assert binding._operations
    for name, operation in binding._operations.items():
        envelope = operation.input.serialize()
        assert envelope.headers["SOAPAction"].strip('"').endswith(f"/{name}")


def test_contact_wsdl_loads_strictly_and_serializes_a_call() -> None:
    client = load_client(str(OUR_WSDL_DIR / "Services88" / "Contact.wsdl"))
    operation = client.service._binding._operations["GetContactEntity"]
    envelope = operation.input.serialize(
        ContactEntityId=5, _soapheaders={"ApplicationToken": "x", "Credentials": {"Ticket": "7T:a"}}
    )
    xml = etree.tostring(envelope.content).decode()
    assert "<ns0:ContactEntityId>5</ns0:ContactEntityId>" in xml
    assert "7T:a" in xml
    assert envelope.headers["SOAPAction"] == (
        '"http://www.superoffice.net/ws/crm/NetServer/Services88/Contact/GetContactEntity"'
    )
