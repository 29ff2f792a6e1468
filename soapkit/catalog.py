"""The catalog of cached WSDLs: find, index once per process, build each operation once, bind to the tenant's URL.

soapkit ships all 58 Services88 agents (1,964 operations). Using an agent indexes its WSDL with lxml (a few
milliseconds); calling an operation builds zeep's model of a chunk of 16 operations around it (a few ms), against
the shared schemas (``NetServerTypes.xsd`` ...) that are parsed once per process for all agents. See
docs/decisions.md for why the layout and the loading look like this.

Lookup order for ``(version, service)`` in each folder, first folder first:
``{folder}/{version}/{Service}.wsdl``, then ``{folder}/{Service}.wsdl`` (a flat folder such as the 58
agents a user saved from a tenant). PartnerSystemUserService lives at ``{folder}/PartnerSystemUserService.wsdl``.
The addresses written inside WSDLs are never used: :meth:`Catalog.bind` always sets the address.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import zeep
from lxml import etree
from zeep.proxy import ServiceProxy
from zeep.wsdl import Document
from zeep.wsdl.bindings.soap import Soap11Binding
from zeep.xsd import Schema

from soapkit import wsdl_index
from soapkit.catalog_cache import IndexCache, default_cache_dir
from soapkit.errors import UnknownOperationError, WsdlError

DEFAULT_VERSION = "Services88"
PARTNER_SERVICE = "PartnerSystemUserService"


def bundled_wsdl_dir() -> Path:
    """The WSDLs that ship with soapkit: inside the installed package, or ``wsdl/`` of a source checkout."""
    packaged = Path(str(resources.files("soapkit"))) / "wsdl"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "wsdl"
    if checkout.is_dir():
        return checkout
    raise WsdlError("soapkit's bundled WSDL folder is missing.", hint="Reinstall soapkit (pip install soapkit).")


def service_name(name: str) -> str:
    """``ContactAgent``, ``WcfContactService``, ``Contact.svc`` and ``Contact`` all name the service ``Contact``."""
    base = name.strip()
    for suffix in (".svc", ".wsdl"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    if base.startswith("Wcf") and base.endswith("Service") and len(base) > len("WcfService"):
        base = base[3 : -len("Service")]
    elif base.endswith("Agent") and len(base) > len("Agent"):
        base = base[: -len("Agent")]
    return base


class _SliceTransport(zeep.Transport):
    """Serves one in-memory WSDL slice to zeep's loader; everything else is read as usual (local files)."""

    def __init__(self, location: str, content: bytes) -> None:
        super().__init__()
        self._location = location
        self._content = content

    def load(self, url: str) -> bytes:
        if url == self._location:
            return self._content
        return bytes(super().load(url))


class _SharingDocument(Document):
    """A zeep WSDL document whose imported schema files come already parsed (zeep reuses a schema document it
    holds for the same namespace and location instead of loading it again)."""

    def __init__(self, location: str, transport: zeep.Transport, settings: zeep.Settings, shared: Schema | None):
        self._shared = shared
        super().__init__(location, transport, settings=settings)  # type: ignore[arg-type]

    def load(self, location: str) -> None:
        if self._shared is not None:
            self.types.merge(self._shared)
        super().load(location)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Building zeep's model allocates tens of thousands of objects; collections in between only cost time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class SharedSchemas:
    """Schema files beside WSDLs (``NetServerTypes.xsd`` ...), parsed once per process and shared by every WSDL
    that uses them: the common types of all agents exist once in memory.

    A parsed file is keyed by its path, size and modification time (a changed file is parsed again) and carries
    what it imports. A WSDL that references several files reuses a parsed file whose imports cover the others;
    only a combination no single file covers is parsed as its own set. Files are never mixed beyond what a WSDL
    references, so two imported copies of one namespace in a folder cannot shadow each other.
    """

    def __init__(self, settings: zeep.Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[Path, ...], threading.Lock] = {}
        self._parsed: dict[tuple[tuple[Path, int, int], ...], Schema] = {}
        self.parse_count = 0

    def for_files(self, files: Sequence[Path]) -> Schema:
        for candidate in files:
            schema = self._schema((candidate,))
            locations = {document._location for document in schema.documents}
            if all(str(path) in locations for path in files):
                return schema
        return self._schema(tuple(files))

    def _schema(self, files: tuple[Path, ...]) -> Schema:
        key = tuple((path, path.stat().st_size, path.stat().st_mtime_ns) for path in files)
        with self._lock:
            key_lock = self._key_locks.setdefault(files, threading.Lock())
        with key_lock:
            schema = self._parsed.get(key)
            if schema is None:
                schema = self._parse(files)
                self._parsed = {k: v for k, v in self._parsed.items() if tuple(p for p, _, _ in k) != files}
                self._parsed[key] = schema
            return schema

    def _parse(self, files: tuple[Path, ...]) -> Schema:
        schema = Schema(node=None, transport=zeep.Transport(), location=str(files[0]), settings=self._settings)
        try:
            with _gc_paused():
                for path in files:  # a file already imported by an earlier one is not loaded twice
                    if str(path) not in {document._location for document in schema.documents}:
                        schema.add_document_by_url(str(path))
        except Exception as error:  # zeep raises many types for a broken schema
            names = ", ".join(path.name for path in files)
            raise WsdlError(f"Cannot parse {names} in {files[0].parent}: {type(error).__name__}: {error}") from None
        self.parse_count += 1
        return schema


TypesMode = Literal["shared", "needed"]


class _FilesTransport(zeep.Transport):
    """Serves given contents for some local schema files (by path); everything else is read as usual."""

    def __init__(self, contents: dict[str, bytes]) -> None:
        super().__init__()
        self._contents = {os.path.normpath(path): content for path, content in contents.items()}

    def load(self, url: str) -> bytes:
        found = self._contents.get(os.path.normpath(url))
        return found if found is not None else bytes(super().load(url))


class NeededSchemas:
    """For a process that makes a call or two and exits: a zeep schema of only the types some operations need.

    zeep parses a whole schema file before it can build one operation; the shared ``NetServerTypes.xsd`` holds
    all 860 components (types and elements) of the 58 agents, where ``GetContactEntity`` needs 40 of them. The
    file is read once with lxml (:class:`~soapkit.wsdl_index.SchemaComponents`) and, for each zeep document, cut
    down to what the document's operations reference, recursively, with every subtype of every type they use
    (answers may carry ``xsi:type`` of any of them). Where that is not exact (``xs:anyType`` or a wildcard among
    the needed types, a reference the file does not resolve, more than one included file) the whole shared
    schema is used.
    """

    def __init__(self, settings: zeep.Settings, shared: SharedSchemas) -> None:
        self._settings = settings
        self._shared = shared
        self._lock = threading.Lock()
        self._components: dict[tuple[Path, int, int], wsdl_index.SchemaComponents] = {}

    def components(self, path: Path) -> wsdl_index.SchemaComponents:
        key = (path, path.stat().st_size, path.stat().st_mtime_ns)
        with self._lock:
            found = self._components.get(key)
            if found is None:
                root = etree.parse(str(path), wsdl_index.SAFE_PARSER).getroot()
                found = wsdl_index.SchemaComponents(root)
                self._components = {k: v for k, v in self._components.items() if k[0] != path}
                self._components[key] = found
            return found

    def for_slice(self, index: wsdl_index.WsdlIndex, folder: Path, wsdl_slice: bytes) -> Schema:
        """The schema for an operation slice of a WSDL whose types come from ``index.schema_files``."""
        files = [folder / name for name in index.schema_files]
        included = [path for path in files if self._namespace(path) == index.target_namespace]
        if len(included) != 1:
            return self._shared.for_files(files)
        components = self.components(included[0])
        needed = components.closure(iter(wsdl_index.slice_references(wsdl_slice, components.namespace)))
        if needed is None:
            return self._shared.for_files(files)
        transport = _FilesTransport({str(included[0]): components.pruned(needed)})
        schema = Schema(node=None, transport=transport, location=str(included[0]), settings=self._settings)
        try:
            for path in [included[0], *(path for path in files if path != included[0])]:
                if str(path) not in {document._location for document in schema.documents}:
                    schema.add_document_by_url(str(path))
        except Exception as error:  # zeep raises many types for a broken schema
            raise WsdlError(f"Cannot parse {included[0].name} in {folder}: {type(error).__name__}: {error}") \
                from None
        return schema

    def _namespace(self, path: Path) -> str | None:
        try:
            return self.components(path).namespace
        except (OSError, etree.LxmlError):
            return None


class ServiceDescription:
    """One service's WSDL: indexed from the raw XML at once, operations' zeep models built on first use.

    A WSDL whose types come from schema files beside it (soapkit's own layout) gets small zeep documents, each
    for a chunk of :data:`CHUNK` operations (in binding order), made from a slice of the WSDL and the shared
    schemas; a self-contained WSDL (as saved from a tenant) gets one zeep document for the whole service,
    built the first time it is needed. Chunks trade first-call latency (a chunk builds in a few ms) against
    memory and total build time (zeep's fixed cost per document is paid once per chunk, not per operation).
    """

    CHUNK = 16

    def __init__(self, name: str, version: str, path: Path, index: wsdl_index.WsdlIndex,
                 settings: zeep.Settings, shared: SharedSchemas, index_cache: IndexCache | None = None,
                 chunk: int | None = None, needed: NeededSchemas | None = None) -> None:
        self.name = name
        #: with a :class:`NeededSchemas`, each zeep document parses only the types its operations need
        self.needed = needed
        #: operations per zeep document (:data:`CHUNK` unless the catalog says otherwise)
        self.chunk = chunk or self.CHUNK
        self.version = version
        self.path = path
        #: the catalog's on-disk cache, for data derived from this WSDL (its enumeration tables), or None
        self.index_cache = index_cache
        self.binding_name = index.binding_qname
        self._index = index
        self._settings = settings
        self._shared = shared
        self._lock = threading.Lock()
        self._documents: dict[int, Document] = {}  # chunk number (-1: the whole service) -> document
        self._position = {name: number for number, name in enumerate(index.operations)}
        self._by_action = {info.soap_action: info.name for info in index.operations.values() if info.soap_action}
        self.compile_count = 0

    def __repr__(self) -> str:
        return f"<ServiceDescription {self.version}/{self.name}: {len(self._index.operations)} operations>"

    @property
    def operation_names(self) -> list[str]:
        return sorted(self._index.operations)

    @property
    def per_operation(self) -> bool:
        """True when operations are built one at a time against shared schemas (soapkit's layout)."""
        return bool(self._index.schema_files)

    def info(self, name: str) -> wsdl_index.OperationInfo:
        """What the WSDL text says about an operation (no zeep model is built)."""
        try:
            return self._index.operations[name]
        except KeyError:
            raise UnknownOperationError(
                f"{self.name} has no operation {name!r}.",
                suggestions=difflib.get_close_matches(name, self.operation_names, n=3, cutoff=0.5),
            ) from None

    def parameters(self, name: str) -> tuple[wsdl_index.Parameter, ...]:
        """The operation's parameters as the WSDL text declares them (no zeep model is built)."""
        return wsdl_index.parameters(self._index, self.info(name).input_element)

    def results(self, name: str) -> tuple[wsdl_index.Parameter, ...]:
        return wsdl_index.parameters(self._index, self.info(name).output_element)

    def operation_for_action(self, soap_action: str) -> str | None:
        return self._by_action.get(soap_action)

    def operation_for_element(self, element: str) -> str | None:
        """The operation whose request body wrapper is ``element`` ('{ns}local' or a bare local name)."""
        for info in self._index.operations.values():
            if element in (info.input_element, info.input_element.rpartition("}")[2]):
                return info.name
        return None

    def document(self, name: str) -> Document:
        """A zeep document that holds operation ``name`` (built once, thread-safe)."""
        self.info(name)
        chunk = self._position[name] // self.chunk if self.per_operation else -1
        document = self._documents.get(chunk)
        if document is None:
            with self._lock:
                document = self._documents.get(chunk)
                if document is None:
                    document = self._build(chunk)
                    self._documents[chunk] = document
        return document

    def operation(self, name: str) -> Any:
        """zeep's model of one operation (a binding operation), built on first use."""
        binding = self.document(name).bindings[self.binding_name]
        assert isinstance(binding, Soap11Binding)
        return binding._operations[name]

    @property
    def types(self) -> Schema:
        """zeep's schema of the service's types (the shared types: every chunk's document holds them all, unless
        the catalog parses only the types each document needs)."""
        return self.document(next(iter(self._index.operations))).types

    def compile_all(self) -> None:
        """Build every operation's model now (benchmarks, whole-service tools)."""
        for name in self._index.operations:
            self.document(name)

    def _build(self, chunk: int) -> Document:
        location = str(self.path)
        try:
            with _gc_paused():
                if chunk < 0:
                    document = Document(location, zeep.Transport(), settings=self._settings)  # type: ignore[arg-type]
                else:
                    names = list(self._index.operations)[chunk * self.chunk:(chunk + 1) * self.chunk]
                    location = f"{self.path}#chunk{chunk}"
                    sliced = wsdl_index.operation_slice(self._index, names)
                    transport = _SliceTransport(location, sliced)
                    if self.needed is not None:
                        shared = self.needed.for_slice(self._index, self.path.parent, sliced)
                    else:
                        shared = self._shared.for_files([self.path.parent / name for name in self._index.schema_files])
                    document = _SharingDocument(location, transport, self._settings, shared)
        except WsdlError:
            raise
        except Exception as error:  # zeep raises many types for a broken file
            raise WsdlError(f"Cannot parse {self.path}: {type(error).__name__}: {error}") from None
        self.compile_count += 1
        return document


class Catalog:
    """Resolves services to cached WSDLs; indexes each at most once per process and builds each operation's
    zeep model at most once (thread-safe)."""

    def __init__(self, folders: Sequence[str | os.PathLike[str]] | None = None, *, include_bundled: bool = True,
                 index_cache: IndexCache | Literal[False] | None = None, chunk: int | None = None,
                 types: TypesMode = "shared"):
        """``index_cache``: where WSDL indexes are cached on disk (default: the user's cache folder, see
        :mod:`soapkit.catalog_cache`; ``False`` for none). ``chunk``: how many operations of a service each
        zeep document holds (default :data:`ServiceDescription.CHUNK`); 1 suits a process that makes one call
        and exits (``soapkit call``), where building the chunk's other operations is wasted. ``types``:
        ``"shared"`` (the default) parses the shared schema files once per process for every agent, right for a
        process that makes many calls; ``"needed"`` gives each zeep document only the types its operations
        need (:class:`NeededSchemas`), right for one that makes a call or two and exits."""
        if chunk is not None and chunk < 1:
            raise ValueError(f"chunk must be at least 1, not {chunk}")
        if types not in ("shared", "needed"):
            raise ValueError(f'types must be "shared" or "needed", not {types!r}')
        self.chunk = chunk
        self.types = types
        chosen = [Path(f).expanduser() for f in (folders or [])]
        for folder in chosen:
            if not folder.is_dir():
                raise WsdlError(
                    f"WSDL folder {folder} does not exist.", hint="Point wsdl_dirs at a folder of .wsdl files."
                )
        if include_bundled:
            chosen.append(bundled_wsdl_dir())
        self.folders: list[Path] = [folder.resolve() for folder in chosen]
        self._settings = ZEEP_SETTINGS
        self._shared = _SHARED_SCHEMAS
        self._needed = NeededSchemas(self._settings, self._shared) if types == "needed" else None
        if index_cache is None:
            directory = default_cache_dir()
            index_cache = IndexCache(directory) if directory is not None else False
        self.index_cache: IndexCache | None = index_cache or None
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self._parsed: dict[tuple[str, str], ServiceDescription] = {}
        self.parse_count = 0

    # --- finding ---------------------------------------------------------------------------------

    def path(self, service: str, version: str = DEFAULT_VERSION) -> Path:
        name = service_name(service)
        for folder in self.folders:
            for candidate in (folder / version / f"{name}.wsdl", folder / f"{name}.wsdl"):
                if candidate.is_file():
                    return candidate
        known = self.services(version)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        raise UnknownOperationError(
            f"No WSDL for service {service!r} ({version}) in {', '.join(str(f) for f in self.folders)}.",
            suggestions=[f"{s}Agent" for s in close],
            hint=None if close else
            "Save the service's WSDL from your tenant ({Service}.svc?wsdl) into a folder and pass it as wsdl_dirs=.",
        )

    def services(self, version: str = DEFAULT_VERSION) -> list[str]:
        names: set[str] = set()
        for folder in self.folders:
            for directory in (folder / version, folder):
                if directory.is_dir():
                    names.update(p.stem for p in directory.glob("*.wsdl"))
        return sorted(names)

    def is_bundled(self, path: Path) -> bool:
        return path.resolve().is_relative_to(bundled_wsdl_dir().resolve())

    # --- describing ------------------------------------------------------------------------------

    def describe(self, service: str, version: str = DEFAULT_VERSION) -> ServiceDescription:
        key = (version, service_name(service))
        described = self._parsed.get(key)
        if described is not None:
            return described
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            described = self._parsed.get(key)
            if described is None:
                described = self._index(key[1], version)
                self._parsed[key] = described
        return described

    def _index(self, name: str, version: str) -> ServiceDescription:
        path = self.path(name, version)
        try:
            index = self.index_cache.index(path) if self.index_cache else wsdl_index.index_wsdl(path)
        except (OSError, wsdl_index.WsdlIndexError) as error:
            raise WsdlError(f"Cannot parse {path}: {error}") from None
        self.parse_count += 1
        return ServiceDescription(name, version, path, index, self._settings, self._shared, self.index_cache,
                                  self.chunk, self._needed)

    # --- binding ---------------------------------------------------------------------------------

    def bind(
        self,
        service: str,
        address: str,
        operation: str,
        *,
        version: str = DEFAULT_VERSION,
        transport: zeep.Transport | None = None,
        plugins: Iterable[zeep.Plugin] = (),
    ) -> tuple[zeep.Client, ServiceProxy]:
        """A zeep client holding ``operation`` and a service proxy bound to ``address`` (never the WSDL's)."""
        described = self.describe(service, version)
        document = described.document(operation)
        client = zeep.Client(document, transport=transport, plugins=list(plugins), settings=self._settings)
        return client, client.create_service(described.binding_name, address)


# soapkit's zeep settings for every WSDL and schema: strict, no DTDs, entities or external loads.
ZEEP_SETTINGS = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
# The shared schemas parsed so far, for every catalog (and client) of the process.
_SHARED_SCHEMAS = SharedSchemas(ZEEP_SETTINGS)


def ships(service: str, version: str = DEFAULT_VERSION) -> bool:
    """True when soapkit itself ships a WSDL for ``service`` (whatever folders a catalog adds in front)."""
    name, folder = service_name(service), bundled_wsdl_dir()
    return (folder / version / f"{name}.wsdl").is_file() or (folder / f"{name}.wsdl").is_file()


_default_catalog: Catalog | None = None
_default_lock = threading.Lock()


def default_catalog() -> Catalog:
    """The process-wide catalog of bundled WSDLs (parsed lazily, once)."""
    global _default_catalog
    with _default_lock:
        if _default_catalog is None:
            _default_catalog = Catalog()
        return _default_catalog
