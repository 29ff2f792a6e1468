"""Write soapkit's type stubs for every shipped agent, operation and complex type, from the catalog.

    python tools/build_stubs.py [--out soapkit/_typed_agents.pyi] [--check]

The stub module ``soapkit/_typed_agents.pyi`` exists for type checkers only (there is no ``.py`` beside it):
``SuperOfficeClient`` derives from its ``TypedAgents`` while type checking, so ``so.ContactAgent`` is a
``ContactAgentProxy`` whose ``GetContactEntity(ContactEntityId: int | None = None) -> ContactEntity | None``.

How the value layer's plain Python shapes are typed (see docs/typing.md):

* results are zeep objects with attribute access: one class per complex type, its fields as attributes, the
  schema's base type as base class; a list wrapper (``ArrayOfX``, ``StringDictionary``) is ``list[X]`` and never
  None (the value layer turns nil and empty wrappers into ``[]``); ``X | None`` where the schema says nillable;
* arguments take a dict (a ``TypedDict`` per complex type, ``total=False``, named ``<Type>Dict``; a member the
  value layer requires, ``minOccurs`` >= 1 and not nillable, is ``Required[...]``) or the result object itself
  (``ContactEntityDict | ContactEntity``), lists or tuples for arrays (a mapping too where the item is a
  ``Key``/``Value`` pair), and the Python scalars the value layer accepts; every parameter may be left out (the
  value layer sends only what is given) and so defaults to None;
* enumerations are ``Literal`` aliases of their names, in results and in arguments (the value layer also
  matches names regardless of case, and takes an ``enum.Enum`` member by name: the stubs ask for the exact
  names, so a misspelt one is a type error); ``[Flags]`` enums are lists of names;
* ``TypedAgents`` (the sync client's agents) and ``AsyncTypedAgents`` (the async client's) are written from the
  same signatures: an async proxy's operations are ``async def``, so they return awaitables of the same types.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lxml import etree

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from zeep.xsd import ComplexType  # noqa: E402

from soapkit.catalog import DEFAULT_VERSION, PARTNER_SERVICE, Catalog  # noqa: E402
from soapkit.values.codec import agent_label  # noqa: E402
from soapkit.values.schema import (  # noqa: E402
    XSD,
    Enumeration,
    EnumerationIndex,
    builtin_name,
    is_many,
    is_required,
    key_value_item,
    list_item,
)

DEFAULT_OUT = REPO_ROOT / "soapkit" / "_typed_agents.pyi"

# XSD built-in -> (type of a result, type an argument accepts)
SCALARS: dict[str, tuple[str, str]] = {
    **{name: ("int", "int") for name in (
        "byte", "short", "int", "long", "unsignedByte", "unsignedShort", "unsignedInt", "unsignedLong", "integer",
        "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger")},
    "boolean": ("bool", "bool"),
    "double": ("float", "float"),
    "float": ("float", "float"),
    "decimal": ("decimal.Decimal", "decimal.Decimal | float"),
    "dateTime": ("datetime.datetime", "datetime.date"),
    "date": ("datetime.date", "datetime.date"),
    "time": ("datetime.time", "datetime.time"),
    "base64Binary": ("bytes", "bytes | bytearray | memoryview"),
    "hexBinary": ("bytes", "bytes | bytearray | memoryview"),
    "duration": ("datetime.timedelta", "datetime.timedelta | float | str"),
    "string": ("str", "str | uuid.UUID"),
    "anyURI": ("str", "str"),
    "normalizedString": ("str", "str"),
    "token": ("str", "str"),
}


def _identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


class StubWriter:
    """Collects the agents, operations and types of a catalog and writes them as one stub module."""

    def __init__(self, catalog: Catalog, version: str = DEFAULT_VERSION) -> None:
        self.catalog = catalog
        self.version = version
        self.classes: dict[str, Any] = {}  # complex type name -> zeep type (results and arguments alike)
        self.enums: dict[str, Enumeration] = {}
        self.bases: dict[str, str] = _schema_bases(catalog.path(PARTNER_SERVICE).parent / version)
        self.agents: list[tuple[str, list[str]]] = []
        self._enumerations: EnumerationIndex | None = None

    # --- types --------------------------------------------------------------------------------

    def _enum(self, owner: str, name: str, xsd_type: Any) -> Enumeration | None:
        assert self._enumerations is not None
        return self._enumerations.for_element(owner, name, xsd_type)

    def _enum_alias(self, found: Enumeration, xsd_type: Any) -> str:
        # zeep drops the facets (an enumerated type reads as anySimpleType): the name comes from the schema text
        assert self._enumerations is not None
        names = sorted(name for (_, name), enumeration in self._enumerations.by_type.items() if enumeration == found)
        alias = f"{names[0] if names else 'Enum'}Name"
        while alias in self.enums and self.enums[alias] != found:
            alias = f"_{alias}"
        self.enums[alias] = found
        return alias

    def _complex(self, xsd_type: Any, name: str | None = None) -> str:
        """The class name of a complex type (``name`` for an anonymous one), registered with what it uses."""
        if name is None:
            name = str(xsd_type.qname.localname) if xsd_type.qname is not None else str(xsd_type.name)
        if self.classes.get(name) is None:  # new, or a base so far only known from the schema text
            self.classes[name] = xsd_type
            for field_name, element in xsd_type.elements:
                self.output(element, name, field_name)  # registers every type the fields use
            base = self.bases.get(name)
            while base and base not in self.classes:
                self.classes[base] = None  # its fields come with the first type that derives from it
                base = self.bases.get(base)
        return name

    def output(self, element: Any, owner: str, name: str) -> str:
        """The type of a result field (or of an operation's result)."""
        text = self._output_type(element.type, owner, name, element.nillable)
        return f"list[{text}]" if is_many(element) else text

    def _output_type(self, xsd_type: Any, owner: str, name: str, nillable: bool) -> str:
        optional = " | None" if nillable else ""
        if isinstance(xsd_type, ComplexType):
            item = list_item(xsd_type)
            if item is not None:
                return f"list[{self._output_type(item[1].type, _label(xsd_type), item[0], False)}]"
            if not xsd_type.elements and xsd_type.qname is None:
                return "Any"
            return self._complex(xsd_type) + optional
        found = self._enum(owner, name, xsd_type)
        if found is not None:
            alias = self._enum_alias(found, xsd_type)
            return (f"list[{alias}]" if found.flags else alias) + optional
        base = builtin_name(xsd_type)
        if base is None or base not in SCALARS:
            return "Any"
        return SCALARS[base][0] + optional

    def input(self, element: Any, owner: str, name: str) -> str:
        """The type an argument (or a dict field) accepts."""
        text = self._input_type(element.type, owner, name)
        if is_many(element):
            text = f"list[{text}] | tuple[{text}, ...]"
        return text + (" | None" if element.nillable else "")

    def _input_type(self, xsd_type: Any, owner: str, name: str) -> str:
        if isinstance(xsd_type, ComplexType):
            item = list_item(xsd_type)
            if item is not None:
                inner = self._input_type(item[1].type, _label(xsd_type), item[0])
                text = f"list[{inner}] | tuple[{inner}, ...]"
                if key_value_item(item[1].type):
                    value = dict(item[1].type.elements)["Value"]
                    text += f" | Mapping[str, {self._input_type(value.type, _label(item[1].type), 'Value')}]"
                return text
            if not xsd_type.elements and xsd_type.qname is None:
                return "Any"
            complex_name = self._complex(xsd_type)
            return f"{complex_name}Dict | {complex_name}"
        found = self._enum(owner, name, xsd_type)
        if found is not None:
            # the names themselves, so a misspelt one is a type error; an Enum member (matched by name) too
            alias = self._enum_alias(found, xsd_type)
            if found.flags:  # one name, or several (the value layer takes no lone Enum member for a [Flags] enum)
                return f"{alias} | list[{alias} | enum.Enum] | tuple[{alias} | enum.Enum, ...]"
            return f"{alias} | enum.Enum"
        base = builtin_name(xsd_type)
        if base is None or base not in SCALARS:
            return "Any"
        return SCALARS[base][1]

    # --- agents -------------------------------------------------------------------------------

    def collect(self) -> None:
        for service in self.catalog.services(self.version):
            description = self.catalog.describe(service, self.version)
            self._enumerations = EnumerationIndex(description.path)
            lines: list[str] = []
            for operation_name in description.operation_names:
                lines.extend(self._operation(description, operation_name))
            self.agents.append((agent_label(service), lines))
            # the types as this service's enumerations see them: write each class while they are at hand
            pending = True
            while pending:
                pending = False
                for type_name, xsd_type in list(self.classes.items()):
                    if xsd_type is not None and type_name not in self._written:
                        self._class_text[type_name] = self._class(type_name, xsd_type)
                        self._written.add(type_name)
                        pending = True

    _written: set[str]
    _class_text: dict[str, tuple[list[str], list[str]]]

    def _operation(self, description: Any, name: str) -> list[str]:
        operation = description.operation(name)
        body = operation.input.body
        parameters: list[str] = []
        owner = body.qname.localname if body is not None and body.qname is not None else name
        if body is not None and isinstance(body.type, ComplexType):
            for parameter, element in body.type.elements:
                if not _identifier(parameter):
                    continue
                kind = self.input(element, owner, parameter)
                kind = kind if kind.endswith("| None") or kind == "Any" else f"{kind} | None"
                parameters.append(f"{parameter}: {kind} = None")
        result = "None"
        out = operation.output.body
        if out is not None and isinstance(out.type, ComplexType):
            fields = dict(out.type.elements)
            if "Response" in fields:  # soapkit returns the Response value (other out-parameters are dropped)
                result = self.output(fields["Response"], out.qname.localname, "Response")
            elif fields:  # no Response (FileManager.BeginReadFilePart, PartnerSystemUserService): the wrapper
                wrapper = str(out.qname.localname)
                if wrapper in self.classes and self.classes[wrapper] is not out.type:
                    raise SystemExit(f"{description.name}.{name}: the response wrapper {wrapper} is also a type")
                result = self._complex(out.type, wrapper)
        signature = ", ".join(["self", *parameters])
        return [f"def {name}({signature}) -> {result}: ..."]

    # --- classes ------------------------------------------------------------------------------

    def _class(self, name: str, xsd_type: Any) -> tuple[list[str], list[str]]:
        base = self.bases.get(name)
        inherited = {n for n, _ in self.classes[base].elements} if base and self.classes.get(base) else set()
        own = [(n, e) for n, e in xsd_type.elements if n not in inherited and _identifier(n)]
        result = [f"class {name}({base}):" if base else f"class {name}(_Result):"]
        result += [f"    {n}: {self.output(e, name, n)}" for n, e in own] or ["    ..."]
        argument = [f"class {name}Dict({base}Dict, total=False):" if base else
                    f"class {name}Dict(TypedDict, total=False):"]
        argument += [f"    {n}: {_required(self.input(e, name, n), e)}" for n, e in own] or ["    ..."]
        return result, argument

    def _shadowed(self) -> set[str]:
        names = {*self.classes, *(f"{n}Dict" for n in self.classes), *self.enums}
        fields = {n for xsd_type in self.classes.values() if xsd_type is not None for n, _ in xsd_type.elements}
        return names & fields

    def _aliased(self, lines: list[str]) -> list[str]:
        shadowed = self._shadowed()
        pattern = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")

        def fix(line: str) -> str:
            if ": " not in line:
                return line
            head, _, annotation = line.partition(": ")
            return head + ": " + pattern.sub(lambda m: f"_{m[0]}" if m[0] in shadowed else m[0], annotation)

        return [fix(line) for line in lines]

    def render(self) -> str:
        self._written = set()
        self._class_text = {}
        self.collect()
        for type_name in self.classes:  # bases known only from the schema text
            if type_name not in self._class_text:
                empty = f"class {type_name}(_Result): ...", f"class {type_name}Dict(TypedDict, total=False): ..."
                self._class_text[type_name] = ([empty[0]], [empty[1]])
        body: list[str] = []
        for alias in sorted(self.enums):
            found = self.enums[alias]
            body.append(f"{alias} = Literal[{', '.join(repr(v) for v in found.values)}]")
        body.append("")
        out = body
        for type_name in _base_first(sorted(self._class_text), self.bases):
            result, argument = (self._aliased(lines) for lines in self._class_text[type_name])
            out += ["", *result, "", *argument, ""]
        # a field named like a type (``Associate: Associate | None``) hides the type from later annotations of
        # its class: annotations name such types by an alias
        shadowed = sorted(self._shadowed())
        if shadowed:
            out += ["", "# types named like a field, for the annotations of classes with such a field"]
            out += [f"_{name} = {name}" for name in shadowed]
        # one family of signatures, written twice: the sync proxies return the value, the async ones (the same
        # lines as ``async def``) an awaitable of it
        for prefix, family, doc in (("", "", SYNC_DOC), ("async ", "Async", ASYNC_DOC)):
            for agent, lines in self.agents:
                signatures = [f"    {prefix}{line}" for line in lines]
                out += ["", f"class {agent}{family}Proxy:", "    name: str", *signatures, ""]
            out += ["", f"class {family}TypedAgents:", f'    """{doc}"""', ""]
            out += [f"    {agent}: {agent}{family}Proxy" for agent, _ in self.agents if agent != PARTNER_SERVICE]
            out += [""]
        text = "\n".join(out).rstrip() + "\n"
        modules = [name for name in ("datetime", "decimal", "enum", "uuid") if f"{name}." in text]
        imports = [f"import {name}" for name in modules]
        if "Mapping[" in text:
            imports += ["from collections.abc import Mapping"]
        return HEADER.format(imports="\n".join(imports)) + text


SYNC_DOC = "The agents of a client, as attributes (``so.ContactAgent``)."
ASYNC_DOC = ("The agents of an async client (``await so.ContactAgent.GetContactEntity(5)``): the same operations, "
             "each returning an awaitable.")

HEADER = '''\
"""Types of every shipped agent, operation and complex type, for type checkers only.

Generated by tools/build_stubs.py from the shipped WSDLs: do not edit. Results are zeep objects (one class per
complex type, fields as attributes, list wrappers as lists); arguments take a ``<Type>Dict`` (total=False, the
members the schema requires marked ``Required``) or a result object; enumerations are ``Literal`` names.
``TypedAgents`` types the sync client, ``AsyncTypedAgents`` the async one. See docs/typing.md.
"""

{imports}
from typing import Any, Literal, TypedDict

from typing_extensions import Required

class _Result:
    """A zeep object: fields by attribute (``entity.Name``) and by item (``entity["Name"]``)."""

    def __getitem__(self, key: str) -> Any: ...
    def __setitem__(self, key: str, value: Any) -> None: ...
    def __contains__(self, key: object) -> bool: ...

'''


def _required(annotation: str, element: Any) -> str:
    # the value layer's own rule (it refuses a dict without such a member); the TypedDicts are total=False, so
    # every other member is NotRequired already
    return f"Required[{annotation}]" if is_required(element) else annotation


def _label(xsd_type: Any) -> str:
    qname = getattr(xsd_type, "qname", None)
    return str(qname.localname) if qname is not None else str(getattr(xsd_type, "name", ""))


def _base_first(names: Iterable[str], bases: dict[str, str]) -> list[str]:
    """Names in order, each after its base type (stubs allow forward references, but this reads better)."""
    done: list[str] = []
    seen: set[str] = set()
    wanted = set(names)

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        base = bases.get(name)
        if base in wanted:
            visit(base)
        done.append(name)

    for name in names:
        visit(name)
    return done


def _schema_bases(folder: Path) -> dict[str, str]:
    """complexType name -> the local name of the type it extends, from the schema files (zeep flattens them)."""
    bases: dict[str, str] = {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for path in sorted([*folder.glob("*.xsd"), folder.parent / f"{PARTNER_SERVICE}.wsdl"]):
        tree = etree.parse(str(path), parser)
        for complex_type in tree.iter(f"{{{XSD}}}complexType"):
            extension = complex_type.find(f"{{{XSD}}}complexContent/{{{XSD}}}extension")
            name = complex_type.get("name")
            if name and extension is not None and extension.get("base"):
                bases[name] = (extension.get("base") or "").rpartition(":")[2]
    return bases


def build(catalog: Catalog | None = None) -> str:
    return StubWriter(catalog or Catalog(include_bundled=True)).render()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if the committed stubs are not current")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run python tools/build_stubs.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text) // 1024} KiB, {len(catalog_agents(text))} agents)")
    return 0


def catalog_agents(text: str) -> list[str]:
    return [line.split()[1].split(":")[0] for line in text.splitlines() if line.startswith("class ") and
            line.rstrip(":").endswith("Proxy") and not line.rstrip(":").endswith("AsyncProxy")]


if __name__ == "__main__":
    raise SystemExit(main())
