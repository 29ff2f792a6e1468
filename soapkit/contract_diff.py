"""How two descriptions of a service differ: operations added and removed, and field by field what changed.

Used by ``soapkit wsdl diff`` to compare the contract soapkit ships with what a tenant publishes today
(SuperOffice republishes its WSDLs often). Both sides are read as raw XML (a WSDL plus the schema files it
imports or includes beside it), so the comparison sees names, namespaces, types, occurrence and nillability
exactly as written, whatever the layout: soapkit's shared schemas or a tenant's self-contained WSDL.

An operation's shape is its body wrappers flattened into paths (``Response/Emails/EntityElement/Value``),
each with a short description (``xs:string 0..1 nillable``). A named complex type is expanded once per
operation (recursive types such as ``SoExceptionInfo.InnerException`` would not end otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from soapkit import wsdl_index

XS = wsdl_index.XS


class SchemaSet:
    """Every global schema component a WSDL can see: its inline schemas and the files they reference."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index = wsdl_index.index_wsdl(path)
        self.components: dict[tuple[str, str], etree._Element] = {}
        pending, seen = [(path, self.index.root())], {path.resolve()}
        while pending:
            location, root = pending.pop()
            for schema in root.iter(f"{{{XS}}}schema"):
                namespace = schema.get("targetNamespace", "")
                for child in schema:
                    if isinstance(child.tag, str) and child.get("name"):
                        key = (etree.QName(child).localname, f"{{{namespace}}}{child.get('name')}")
                        self.components.setdefault(key, child)
            for reference in root.iter(f"{{{XS}}}import", f"{{{XS}}}include"):
                name = reference.get("schemaLocation")
                target = (location.parent / name).resolve() if name and "://" not in name else None
                if target is not None and target not in seen and target.is_file():
                    seen.add(target)
                    pending.append((target, wsdl_index.parse_xml(target)))

    def shape(self, operation: str) -> dict[str, str]:
        """``{path: description}`` of the operation's input (``in/...``) and output (``out/...``) bodies."""
        info = self.index.operations[operation]
        found: dict[str, str] = {}
        expanded: set[str] = set()
        for side, element in (("in", info.input_element), ("out", info.output_element)):
            declaration = self.components.get(("element", element))
            if declaration is not None:
                self._walk_type(declaration, side, found, expanded)
        return found

    def _walk_element(self, declaration: etree._Element, path: str, found: dict[str, str], expanded: set[str]) -> None:
        if declaration.get("ref"):
            target = self.components.get(("element", _qname(declaration, declaration.get("ref", ""))))
            if target is None:
                found[path] = "(missing reference)"
                return
        else:
            target = declaration
        path = f"{path}/{target.get('name')}"
        type_text = target.get("type")
        occurs = f"{declaration.get('minOccurs', '1')}..{declaration.get('maxOccurs', '1')}"
        nillable = " nillable" if target.get("nillable") == "true" else ""
        found[path] = f"{_short(_qname(target, type_text)) if type_text else '(anonymous)'} {occurs}{nillable}"
        if type_text:
            type_name = _qname(target, type_text)
            complex_type = self.components.get(("complexType", type_name))
            simple_type = self.components.get(("simpleType", type_name))
            if simple_type is not None:
                values = [node.get("value", "") for node in simple_type.iter(f"{{{XS}}}enumeration")]
                if values:
                    found[path] += " one of " + "|".join(values)
            if complex_type is not None and type_name not in expanded:
                expanded.add(type_name)
                self._walk_type(complex_type, path, found, expanded)
        else:
            self._walk_type(target, path, found, expanded)

    def _walk_type(self, node: etree._Element, path: str, found: dict[str, str], expanded: set[str]) -> None:
        """The elements of a complex type in wire order (a base type's first), or of an anonymous one."""
        for child in node:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local in ("complexType", "sequence", "choice", "all", "complexContent", "simpleContent"):
                self._walk_type(child, path, found, expanded)
            elif local in ("extension", "restriction") and child.get("base"):
                base = self.components.get(("complexType", _qname(child, child.get("base", ""))))
                if base is not None:
                    self._walk_type(base, path, found, expanded)
                self._walk_type(child, path, found, expanded)
            elif local == "element":
                self._walk_element(child, path, found, expanded)


def _qname(node: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    return f"{{{node.nsmap.get(prefix or None, '')}}}{local}"


def _short(qname: str) -> str:
    namespace, _, local = qname[1:].partition("}")
    return f"xs:{local}" if namespace == XS else local


@dataclass
class OperationChange:
    operation: str
    added: dict[str, str] = field(default_factory=dict)  # path -> description, only in theirs
    removed: dict[str, str] = field(default_factory=dict)  # only in ours
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (ours, theirs)
    soap_action: tuple[str, str] | None = None


@dataclass
class ServiceDiff:
    service: str
    added: list[str] = field(default_factory=list)  # operations only in theirs
    removed: list[str] = field(default_factory=list)  # operations only in ours
    changed: list[OperationChange] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "added": self.added,
            "removed": self.removed,
            "changed": [
                {"operation": c.operation, "added": c.added, "removed": c.removed,
                 "changed": {path: {"ours": old, "theirs": new} for path, (old, new) in c.changed.items()},
                 "soap_action": None if c.soap_action is None else {"ours": c.soap_action[0],
                                                                    "theirs": c.soap_action[1]}}
                for c in self.changed
            ],
        }


def diff_service(service: str, ours: Path, theirs: Path) -> ServiceDiff:
    mine, other = SchemaSet(ours), SchemaSet(theirs)
    our_operations, their_operations = mine.index.operations, other.index.operations
    result = ServiceDiff(
        service,
        added=sorted(set(their_operations) - set(our_operations)),
        removed=sorted(set(our_operations) - set(their_operations)),
    )
    for name in sorted(set(our_operations) & set(their_operations)):
        change = _operation_change(name, mine.shape(name), other.shape(name))
        actions = (our_operations[name].soap_action, their_operations[name].soap_action)
        if actions[0] != actions[1]:
            change.soap_action = actions
        if change.added or change.removed or change.changed or change.soap_action:
            result.changed.append(change)
    return result


def _operation_change(name: str, ours: dict[str, str], theirs: dict[str, str]) -> OperationChange:
    return OperationChange(
        name,
        added={path: theirs[path] for path in theirs if path not in ours},
        removed={path: ours[path] for path in ours if path not in theirs},
        changed={path: (ours[path], theirs[path]) for path in ours if path in theirs and ours[path] != theirs[path]},
    )
