"""Build soapkit's own cached WSDLs from SuperOffice's published contract.

SuperOffice publishes one self-contained WSDL per agent, each carrying its whole schema (List.wsdl alone
is 1 MB; the 58 agents repeat the same types again and again). soapkit ships every agent and every
operation of the published contract, in its own compact layout:

    wsdl/PartnerSystemUserService.wsdl      self-contained (inline schema)
    wsdl/Services88/NetServerTypes.xsd      every type of the Services88 namespace (and the SOAP header
                                            elements), shared by all agents: parsed once per process
    wsdl/Services88/Arrays.xsd, ...         side schemas (Arrays, Cryptography, Serialization)
    wsdl/Services88/<Service>.wsdl          that service's operation wrappers (inline, including the shared
                                            schema), messages, portType, SOAP 1.1 binding, placeholder address

Operation wrappers stay in their service's WSDL because services define some wrapper names differently
(``Delete``, ``Merge``, ``Search``, ``ChangeCountry``, ...): one schema could not hold them all. Every other
global component must be defined the same way by every service that uses it; the generator fails loudly
when one is not (or when a name is both a wrapper and a shared component), since no layout could place it.

For every operation the generator takes the transitive closure of what the contract uses (body
wrappers, the SOAP header elements the binding declares, every type they reference, base types included)
and re-serialises it with soapkit's prefixes, without documentation, annotations, policies or SOAP 1.2.

    python tools/build_wsdl.py [REFERENCE_DIR] [--out DIR] [--check]

REFERENCE_DIR defaults to ../shared/reference/superoffice-wsdl relative to the repository root.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "superoffice-wsdl"
DEFAULT_OUT = REPO_ROOT / "wsdl"

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
NS88 = "http://www.superoffice.net/ws/crm/NetServer/Services88"
SERIALIZATION = "http://schemas.microsoft.com/2003/10/Serialization/"
ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
CRYPTOGRAPHY = "http://schemas.datacontract.org/2004/07/System.Security.Cryptography"
PSU = "http://www.superoffice.com/superid/partnersystemuser/0.1"

# soapkit's own prefixes, used in every generated file.
PREFIXES: dict[str, str] = {
    XS: "xs",
    WSDL: "wsdl",
    SOAP11: "soap",
    WSAW: "wsaw",
    NS88: "so",
    SERIALIZATION: "ser",
    ARRAYS: "arr",
    CRYPTOGRAPHY: "crypto",
    PSU: "psu",
}
# Namespaces that get their own schema file next to NetServerTypes.xsd when the closure needs them.
SIDE_SCHEMAS: dict[str, str] = {
    SERIALIZATION: "Serialization.xsd",
    ARRAYS: "Arrays.xsd",
    CRYPTOGRAPHY: "Cryptography.xsd",  # SoPrincipal's license info carries a .NET DSAParameters value
}
SHARED_SCHEMA = "NetServerTypes.xsd"

# Attributes whose value is a QName (or a list of QNames) and must be re-prefixed.
QNAME_ATTRIBUTES = ("type", "base", "ref", "itemType", "memberTypes")
# Attribute order in the output: the ones a reader looks for first, the rest alphabetically.
ATTRIBUTE_ORDER = (
    "name",
    "ref",
    "type",
    "base",
    "itemType",
    "memberTypes",
    "minOccurs",
    "maxOccurs",
    "nillable",
)
# Schema constructs the generator understands; anything else must fail rather than be half-copied.
KNOWN_SCHEMA_TAGS = frozenset(
    {
        "element",
        "complexType",
        "simpleType",
        "sequence",
        "choice",
        "all",
        "complexContent",
        "simpleContent",
        "extension",
        "restriction",
        "list",
        "union",
        "enumeration",
        "pattern",
        "minInclusive",
        "maxInclusive",
        "minExclusive",
        "maxExclusive",
        "minLength",
        "maxLength",
        "length",
        "totalDigits",
        "fractionDigits",
        "whiteSpace",
        "attribute",
        "any",
        "anyAttribute",
    }
)
# Defaults that say nothing: dropped to keep the files short.
DEFAULT_ATTRIBUTES = {("complexContent", "mixed", "false")}


@dataclass(frozen=True)
class ServiceSpec:
    """One service to ship: where its reference WSDL lives and which of its operations ship."""

    name: str
    reference: str  # path of the reference WSDL, relative to the reference folder
    output: str  # path of the generated WSDL, relative to the output folder
    address: str  # placeholder: clients always bind the tenant's own URL
    operations: tuple[str, ...] | None = None  # None: every operation of the binding, in binding order

    @property
    def shared_schema(self) -> bool:
        return self.output.startswith(f"{AGENT_FOLDER}/")


PARTNER_SERVICE = "PartnerSystemUserService"
AGENT_FOLDER = "Services88"


def agent_spec(name: str, operations: tuple[str, ...] | None = None) -> ServiceSpec:
    path = f"{AGENT_FOLDER}/{name}.wsdl"
    address = f"https://example.invalid/Cust00000/Remote/{AGENT_FOLDER}/{name}.svc"
    return ServiceSpec(name=name, reference=path, output=path, address=address, operations=operations)


def partner_spec(operations: tuple[str, ...] | None = None) -> ServiceSpec:
    path = f"{PARTNER_SERVICE}.wsdl"
    address = f"https://example.invalid/Login/services/{PARTNER_SERVICE}.svc"
    return ServiceSpec(name=PARTNER_SERVICE, reference=path, output=path, address=address, operations=operations)


def discover(reference_dir: Path) -> tuple[ServiceSpec, ...]:
    """What ships: the partner service and every agent of the published contract, each with all operations."""
    folder = reference_dir / AGENT_FOLDER
    agents = sorted(path.stem for path in folder.glob("*.wsdl")) if folder.is_dir() else []
    if not agents:
        raise ContractError(f"no agent WSDLs in {folder}: is {reference_dir} SuperOffice's published contract?")
    return (partner_spec(), *(agent_spec(name) for name in agents))


class ContractError(Exception):
    """The reference contract does not contain, or cannot consistently provide, what soapkit ships."""


def _x(local: str) -> str:
    return f"{{{XS}}}{local}"


def _w(local: str) -> str:
    return f"{{{WSDL}}}{local}"


def _s(local: str) -> str:
    return f"{{{SOAP11}}}{local}"


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    return etree.parse(str(path), parser).getroot()


def _resolve(node: etree._Element, value: str) -> etree.QName:
    prefix, _, local = value.rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    if namespace is None:
        raise ContractError(f"unknown prefix in QName {value!r} (line {node.sourceline})")
    return etree.QName(namespace, local)


# --------------------------------------------------------------------------------------------- reading


@dataclass
class MessageSide:
    """The input or output of one operation: its body wrapper element and its SOAP header elements."""

    name: str  # wsdl:input/@name
    action: str  # wsaw:Action
    message: str  # body message name
    part: str  # body part name
    body: etree.QName
    header_message: str | None
    headers: list[tuple[str, etree.QName]]  # (part name, element) in binding order


@dataclass
class OperationInfo:
    name: str
    soap_action: str
    input: MessageSide
    output: MessageSide


@dataclass
class Contract:
    """One reference WSDL, indexed: its schema components and the operations of its SOAP 1.1 binding."""

    path: Path
    root: etree._Element
    definitions_name: str
    target_namespace: str
    port_type: str
    binding: str
    service: str
    port: str
    components: dict[tuple[str, str], etree._Element] = field(default_factory=dict)  # (kind, {ns}name)

    @classmethod
    def load(cls, path: Path) -> Contract:
        root = _parse(path)
        target = root.get("targetNamespace") or ""
        service = root.find(_w("service"))
        if service is None:
            raise ContractError(f"{path}: no wsdl:service")
        # The first SOAP 1.1 port is the plain BasicHttpBinding; later ones add transport policies.
        for port in service.findall(_w("port")):
            if port.find(_s("address")) is not None:
                break
        else:
            raise ContractError(f"{path}: no SOAP 1.1 port")
        binding_name = _resolve(port, port.get("binding", "")).localname
        binding = root.find(f"{_w('binding')}[@name='{binding_name}']")
        if binding is None:
            raise ContractError(f"{path}: binding {binding_name} missing")
        contract = cls(
            path=path,
            root=root,
            definitions_name=root.get("name", ""),
            target_namespace=target,
            port_type=_resolve(binding, binding.get("type", "")).localname,
            binding=binding_name,
            service=service.get("name", ""),
            port=port.get("name", ""),
        )
        for schema in root.iter(_x("schema")):
            namespace = schema.get("targetNamespace", "")
            for child in schema:
                if not isinstance(child.tag, str) or child.tag in (_x("import"), _x("annotation")):
                    continue
                key = (etree.QName(child).localname, f"{{{namespace}}}{child.get('name')}")
                contract.components[key] = child
        return contract

    def _find(self, tag: str, name: str) -> etree._Element:
        node = self.root.find(f"{_w(tag)}[@name='{name}']")
        if node is None:
            raise ContractError(f"{self.path.name}: wsdl:{tag} {name!r} not found")
        return node

    def operation_names(self) -> tuple[str, ...]:
        """Every operation of the SOAP 1.1 binding, in the binding's order."""
        binding = self._find("binding", self.binding)
        return tuple(node.get("name", "") for node in binding.findall(_w("operation")))

    def operation(self, name: str) -> OperationInfo:
        abstract = self._find("portType", self.port_type).find(f"{_w('operation')}[@name='{name}']")
        concrete = self._find("binding", self.binding).find(f"{_w('operation')}[@name='{name}']")
        if abstract is None or concrete is None:
            raise ContractError(f"{self.path.name}: operation {name!r} is not in the published contract")
        soap_operation = concrete.find(_s("operation"))
        if soap_operation is None or soap_operation.get("style", "document") != "document":
            raise ContractError(f"{self.path.name}: {name} is not a document/literal operation")
        return OperationInfo(
            name=name,
            soap_action=soap_operation.get("soapAction", ""),
            input=self._side(abstract, concrete, "input"),
            output=self._side(abstract, concrete, "output"),
        )

    def _side(self, abstract: etree._Element, concrete: etree._Element, which: str) -> MessageSide:
        port_side = abstract.find(_w(which))
        binding_side = concrete.find(_w(which))
        if port_side is None or binding_side is None:
            raise ContractError(f"{self.path.name}: {abstract.get('name')} has no {which}")
        message = _resolve(port_side, port_side.get("message", "")).localname
        parts = self._find("message", message).findall(_w("part"))
        if len(parts) != 1 or parts[0].get("element") is None:
            raise ContractError(f"{self.path.name}: message {message} is not a single-element wrapper")
        headers: list[tuple[str, etree.QName]] = []
        header_message: str | None = None
        for header in binding_side.findall(_s("header")):
            header_message = _resolve(header, header.get("message", "")).localname
            part_name = header.get("part", "")
            part = self._find("message", header_message).find(f"{_w('part')}[@name='{part_name}']")
            if part is None:
                raise ContractError(f"{self.path.name}: header part {header_message}/{part_name} missing")
            headers.append((part_name, _resolve(part, part.get("element", ""))))
        return MessageSide(
            name=port_side.get("name", ""),
            action=port_side.get(f"{{{WSAW}}}Action", ""),
            message=message,
            part=parts[0].get("name", "parameters"),
            body=_resolve(parts[0], parts[0].get("element", "")),
            header_message=header_message,
            headers=headers,
        )


# --------------------------------------------------------------------------------------------- closure


def _references(node: etree._Element) -> Iterator[tuple[str, etree.QName]]:
    """The (kind, QName) of every global component that a schema component refers to."""
    for child in node.iter():
        if not isinstance(child.tag, str) or etree.QName(child).namespace != XS:
            continue
        for attribute in QNAME_ATTRIBUTES:
            value = child.get(attribute)
            if value is None:
                continue
            for item in value.split():
                qname = _resolve(child, item)
                if qname.namespace == XS:
                    continue
                if attribute == "ref":
                    yield (etree.QName(child).localname, qname)
                else:
                    yield ("type", qname)


def closure(contract: Contract, roots: Iterable[etree.QName]) -> list[tuple[str, str]]:
    """Every global component the root elements need, transitively, as (kind, {ns}name) keys."""
    found: dict[tuple[str, str], None] = {}
    pending: list[tuple[str, etree.QName]] = [("element", qname) for qname in roots]
    while pending:
        kind, qname = pending.pop()
        candidates = ("complexType", "simpleType") if kind == "type" else (kind,)
        for candidate in candidates:
            key = (candidate, qname.text)
            if key in contract.components:
                break
        else:
            raise ContractError(f"{contract.path.name}: {kind} {qname.text} is referenced but not defined")
        if key in found:
            continue
        found[key] = None
        pending.extend(_references(contract.components[key]))
    return list(found)


# --------------------------------------------------------------------------------------------- writing


def _prefixed(qname: etree.QName) -> str:
    if qname.namespace not in PREFIXES:
        raise ContractError(f"no soapkit prefix for namespace {qname.namespace}")
    return f"{PREFIXES[qname.namespace]}:{qname.localname}"


def _sorted_attributes(node: etree._Element) -> list[tuple[str, str]]:
    local = etree.QName(node).localname
    items = [
        (str(name), str(value)) for name, value in node.attrib.items() if (local, name, value) not in DEFAULT_ATTRIBUTES
    ]
    if any("}" in name for name, _ in items):
        raise ContractError(f"namespaced attribute on xs:{local} (line {node.sourceline}) is not supported")

    def rank(item: tuple[str, str]) -> tuple[int, str]:
        name = item[0]
        return (ATTRIBUTE_ORDER.index(name), "") if name in ATTRIBUTE_ORDER else (len(ATTRIBUTE_ORDER), name)

    return sorted(items, key=rank)


def render_component(source: etree._Element) -> etree._Element:
    """A clean copy of a schema component: soapkit prefixes, no annotations, stable attribute order."""
    local = etree.QName(source).localname
    if etree.QName(source).namespace != XS or (local not in KNOWN_SCHEMA_TAGS):
        raise ContractError(f"unsupported schema construct {source.tag} (line {source.sourceline})")
    copy = etree.Element(_x(local))
    for name, value in _sorted_attributes(source):
        if name in QNAME_ATTRIBUTES:
            value = " ".join(_prefixed(_resolve(source, item)) for item in value.split())
        copy.set(name, value)
    for child in source:
        if not isinstance(child.tag, str) or child.tag == _x("annotation"):
            continue
        copy.append(render_component(child))
    return copy


def _fingerprint(component: etree._Element) -> bytes:
    return etree.tostring(component, method="c14n")


class SharedSchema:
    """Global components collected from several services; a name defined two ways is an error."""

    def __init__(self) -> None:
        self.components: dict[tuple[str, str], etree._Element] = {}
        self.origin: dict[tuple[str, str], str] = {}

    def add(self, key: tuple[str, str], component: etree._Element, origin: str) -> None:
        rendered = render_component(component)
        known = self.components.get(key)
        if known is None:
            self.components[key] = rendered
            self.origin[key] = origin
        elif _fingerprint(known) != _fingerprint(rendered):
            raise ContractError(
                f"{key[0]} {key[1]} differs between {self.origin[key]} and {origin}: "
                "one shared schema cannot hold both (keep that name per service)"
            )


def _schema_root(namespace: str, imports: dict[str, str], attribute_qualified: bool = False) -> etree._Element:
    used = {XS: PREFIXES[XS], namespace: PREFIXES[namespace]}
    used.update({ns: PREFIXES[ns] for ns in imports})
    schema = etree.Element(_x("schema"), nsmap={prefix: ns for ns, prefix in used.items()})
    schema.set("targetNamespace", namespace)
    schema.set("elementFormDefault", "qualified")
    if attribute_qualified:
        schema.set("attributeFormDefault", "qualified")
    for imported, location in sorted(imports.items()):
        node = etree.SubElement(schema, _x("import"), namespace=imported)
        if location:
            node.set("schemaLocation", location)
    return schema


def _namespaces_used(nodes: Iterable[etree._Element]) -> set[str]:
    used: set[str] = set()
    for node in nodes:
        for child in node.iter():
            for attribute in QNAME_ATTRIBUTES:
                for item in (child.get(attribute) or "").split():
                    prefix = item.partition(":")[0]
                    used.update(ns for ns, known in PREFIXES.items() if known == prefix)
    return used - {XS}


def _section(schema: etree._Element, title: str) -> None:
    schema.append(etree.Comment(f" {title} "))


def _document(root: etree._Element, banner: str) -> bytes:
    etree.indent(root, space="  ")
    body = etree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n<!--\n{banner}\n-->\n{body}\n'.encode()


def _banner(what: str, services: Iterable[BuiltService]) -> str:
    lines = [
        f"  {what}",
        "  Generated by tools/build_wsdl.py from SuperOffice's published contract; do not edit by hand.",
    ]
    for service in services:
        count = len(service.operations)
        published = len(service.contract.operation_names())
        scope = f"all {count}" if count == published else f"{count} of {published}"
        lines.append(f"  {service.spec.name}: {scope} operations of the published contract")
    return "\n".join(lines)


@dataclass
class BuiltService:
    spec: ServiceSpec
    contract: Contract
    operations: list[OperationInfo]
    keys: list[tuple[str, str]]  # the closure of everything the shipped operations use
    wrappers: list[tuple[str, str]]  # the body wrapper elements among them, in operation order

    @property
    def shared_keys(self) -> list[tuple[str, str]]:
        """What the service takes from the shared schemas: everything but its own operation wrappers."""
        own = set(self.wrappers)
        return [key for key in self.keys if key not in own]

    @property
    def header_elements(self) -> list[str]:
        """The SOAP header elements of the shipped operations: request headers first, then response headers."""
        names: dict[str, None] = {}
        for which in ("input", "output"):
            for operation in self.operations:
                names.update((element.text, None) for _, element in getattr(operation, which).headers)
        return list(names)


def _fill_schema(
    schema: etree._Element, components: dict[tuple[str, str], etree._Element], first: list[str], title: str
) -> None:
    """Append components to a schema root: the elements named in ``first`` under ``title``, then the rest."""
    leading = [("element", name) for name in first if ("element", name) in components]
    if leading:
        _section(schema, title)
        schema.extend(components[key] for key in leading)
    kind_rank = {"element": 0, "complexType": 1, "simpleType": 2, "attribute": 3}
    placed = set(leading)
    rest = sorted(
        (key for key in components if key not in placed),
        key=lambda key: (kind_rank.get(key[0], 9), etree.QName(key[1]).localname),
    )
    if rest:
        _section(schema, "Types")
    schema.extend(components[key] for key in rest)


def _shared_components(services: list[BuiltService]) -> SharedSchema:
    shared = SharedSchema()
    for service in services:
        for key in service.shared_keys:
            shared.add(key, service.contract.components[key], service.spec.reference)
    wrappers = {key: service.spec.name for service in services for key in service.wrappers}
    for service in services:
        for key in service.shared_keys:
            component = service.contract.components[key]  # the source: its prefixes still resolve
            used = [("element", qname.text) for kind, qname in _references(component) if kind == "element"]
            for wrapper in [key, *used]:
                if wrapper in wrappers:
                    raise ContractError(
                        f"{wrapper[1]} is an operation wrapper of {wrappers[wrapper]} and also needed by the "
                        f"shared schema ({key[1]} from {service.spec.reference}): neither the service's WSDL "
                        "nor the shared schema can hold it alone"
                    )
    return shared


def build_schema_files(services: list[BuiltService]) -> dict[str, bytes]:
    """NetServerTypes.xsd plus the side schemas (Arrays, Cryptography, ...) the shared closure needs."""
    shared = _shared_components(services)
    headers: dict[str, None] = {}
    for service in services:
        headers.update(dict.fromkeys(service.header_elements))
    files: dict[str, bytes] = {}
    by_namespace: dict[str, dict[tuple[str, str], etree._Element]] = {}
    for key, node in shared.components.items():
        by_namespace.setdefault(etree.QName(key[1]).namespace or "", {})[key] = node
    unexpected = set(by_namespace) - {NS88, *SIDE_SCHEMAS}
    if unexpected:
        raise ContractError(f"the Services88 closure uses namespaces without a schema file: {sorted(unexpected)}")
    for namespace, components in sorted(by_namespace.items()):
        file_name = SIDE_SCHEMAS.get(namespace, SHARED_SCHEMA)
        imports = {ns: SIDE_SCHEMAS[ns] for ns in sorted(_namespaces_used(components.values()) - {namespace})}
        schema = _schema_root(namespace, imports, attribute_qualified=namespace == SERIALIZATION)
        _fill_schema(schema, components, list(headers), "SOAP header elements")
        what = f"soapkit's schema for namespace {namespace}, shared by the {len(services)} agents"
        files[f"{AGENT_FOLDER}/{file_name}"] = _document(schema, _banner(what, []))
    return files


def _message(root: etree._Element, name: str, parts: list[tuple[str, etree.QName]], seen: dict[str, bytes]) -> None:
    message = etree.Element(_w("message"), name=name)
    for part_name, element in parts:
        etree.SubElement(message, _w("part"), name=part_name, element=_prefixed(element))
    fingerprint = _fingerprint(message)
    if name in seen:
        if seen[name] != fingerprint:
            raise ContractError(f"message {name} is used with different parts")
        return
    seen[name] = fingerprint
    root.append(message)


def build_service_wsdl(service: BuiltService, schemas: list[etree._Element]) -> bytes:
    """The WSDL of one service: ``schemas`` go into wsdl:types (inline, or an import of the shared XSD)."""
    contract = service.contract
    tns = contract.target_namespace
    nsmap = {"wsdl": WSDL, "soap": SOAP11, "wsaw": WSAW, "xs": XS, PREFIXES[tns]: tns}
    root = etree.Element(_w("definitions"), nsmap=nsmap)
    root.set("name", contract.definitions_name)
    root.set("targetNamespace", tns)
    types = etree.SubElement(root, _w("types"))
    types.extend(schemas)

    seen: dict[str, bytes] = {}
    for operation in service.operations:
        for side in (operation.input, operation.output):
            _message(root, side.message, [(side.part, side.body)], seen)
            if side.header_message is not None:
                _message(root, side.header_message, side.headers, seen)

    port_type = etree.SubElement(root, _w("portType"), name=contract.port_type)
    for operation in service.operations:
        node = etree.SubElement(port_type, _w("operation"), name=operation.name)
        for tag, side in (("input", operation.input), ("output", operation.output)):
            child = etree.SubElement(node, _w(tag))
            child.set(f"{{{WSAW}}}Action", side.action)
            child.set("name", side.name)
            child.set("message", f"{PREFIXES[tns]}:{side.message}")

    binding = etree.SubElement(root, _w("binding"), name=contract.binding)
    binding.set("type", f"{PREFIXES[tns]}:{contract.port_type}")
    etree.SubElement(binding, _s("binding"), transport="http://schemas.xmlsoap.org/soap/http")
    for operation in service.operations:
        node = etree.SubElement(binding, _w("operation"), name=operation.name)
        etree.SubElement(node, _s("operation"), soapAction=operation.soap_action, style="document")
        for tag, side in (("input", operation.input), ("output", operation.output)):
            child = etree.SubElement(node, _w(tag), name=side.name)
            for part_name, _ in side.headers:
                header = etree.SubElement(child, _s("header"))
                header.set("message", f"{PREFIXES[tns]}:{side.header_message}")
                header.set("part", part_name)
                header.set("use", "literal")
            etree.SubElement(child, _s("body"), use="literal")

    service_node = etree.SubElement(root, _w("service"), name=contract.service)
    port = etree.SubElement(service_node, _w("port"), name=contract.port)
    port.set("binding", f"{PREFIXES[tns]}:{contract.binding}")
    etree.SubElement(port, _s("address"), location=service.spec.address)

    what = f"soapkit's WSDL for {service.spec.name} (SOAP 1.1; the address is a placeholder, always re-pointed)"
    return _document(root, _banner(what, [service]))


def _wrapper_schema(service: BuiltService) -> etree._Element:
    """The service's own operation wrappers, in the agents' namespace, including the shared schema.

    ``xs:include`` is how one namespace is spread over several schema documents (an ``xs:import`` of one's
    own namespace is not allowed), and it is what other SOAP stacks (suds, .NET) follow to find the types.
    """
    components = {key: render_component(service.contract.components[key]) for key in service.wrappers}
    side = _namespaces_used(components.values()) - {NS88}
    schema = _schema_root(NS88, {namespace: SIDE_SCHEMAS[namespace] for namespace in sorted(side)})
    schema.insert(0, etree.Element(_x("include"), schemaLocation=SHARED_SCHEMA))
    _fill_schema(schema, components, [etree.QName(key[1]).text for key in service.wrappers], "Operation wrappers")
    return schema


def _inline_schemas(service: BuiltService) -> list[etree._Element]:
    components: dict[str, dict[tuple[str, str], etree._Element]] = {}
    for key in service.keys:
        namespace = etree.QName(key[1]).namespace or ""
        components.setdefault(namespace, {})[key] = render_component(service.contract.components[key])
    schemas = []
    for namespace in sorted(components, key=lambda ns: ns != service.contract.target_namespace):
        imports = {ns: "" for ns in sorted(_namespaces_used(components[namespace].values()) - {namespace})}
        schema = _schema_root(namespace, imports, attribute_qualified=namespace == SERIALIZATION)
        wrappers = [etree.QName(key[1]).text for key in service.wrappers]
        _fill_schema(schema, components[namespace], service.header_elements + wrappers, "Elements")
        schemas.append(schema)
    return schemas


def load_service(reference_dir: Path, spec: ServiceSpec) -> BuiltService:
    path = reference_dir / spec.reference
    if not path.is_file():
        raise ContractError(f"reference WSDL {path} not found")
    contract = Contract.load(path)
    names = spec.operations if spec.operations is not None else contract.operation_names()
    operations = [contract.operation(name) for name in names]
    roots: list[etree.QName] = []
    wrappers: dict[tuple[str, str], None] = {}
    for operation in operations:
        for side in (operation.input, operation.output):
            roots.append(side.body)
            roots.extend(element for _, element in side.headers)
            wrappers[("element", side.body.text)] = None
    return BuiltService(
        spec=spec,
        contract=contract,
        operations=operations,
        keys=sorted(closure(contract, roots)),
        wrappers=list(wrappers),
    )


def build(reference_dir: Path, specs: Iterable[ServiceSpec] | None = None) -> dict[str, bytes]:
    """Every generated file, as {path relative to the output folder: content}; by default the whole contract."""
    chosen = discover(reference_dir) if specs is None else tuple(specs)
    services = [load_service(reference_dir, spec) for spec in chosen]
    agents = [service for service in services if service.spec.shared_schema]
    files = build_schema_files(agents) if agents else {}
    for service in services:
        schemas = [_wrapper_schema(service)] if service.spec.shared_schema else _inline_schemas(service)
        files[service.spec.output] = build_service_wsdl(service, schemas)
    return dict(sorted(files.items()))


def write(files: dict[str, bytes], out: Path) -> list[Path]:
    written = []
    for relative, content in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != content:
            target.write_bytes(content)
            written.append(target)
    return written


def stale(files: dict[str, bytes], out: Path) -> list[str]:
    return [
        relative
        for relative, content in files.items()
        if not (out / relative).is_file() or (out / relative).read_bytes() != content
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "reference",
        nargs="?",
        type=Path,
        default=DEFAULT_REFERENCE,
        help="folder of SuperOffice's published WSDLs (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the output is stale")
    args = parser.parse_args(argv)
    try:
        files = build(args.reference)
    except ContractError as error:
        print(f"build_wsdl: {error}", file=sys.stderr)
        return 2
    if args.check:
        outdated = stale(files, args.out)
        for relative in outdated:
            print(f"stale: {args.out / relative}", file=sys.stderr)
        return 1 if outdated else 0
    for path in write(files, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
