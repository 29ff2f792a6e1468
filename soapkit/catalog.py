"""The catalog of cached WSDLs: find, parse once per process, bind to the tenant's URL.

Lookup order for ``(version, service)`` in each folder, first folder first:
``{folder}/{version}/{Service}.wsdl``, then ``{folder}/{Service}.wsdl`` (a flat folder such as the 58
agents a user saved from a tenant). PartnerSystemUserService lives at ``{folder}/PartnerSystemUserService.wsdl``.
The addresses written inside WSDLs are never used: :meth:`Catalog.bind` always sets the address.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import zeep
from zeep.proxy import ServiceProxy
from zeep.wsdl import Document
from zeep.wsdl.bindings.soap import Soap11Binding

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


@dataclass(frozen=True)
class ServiceDescription:
    """A parsed WSDL and the SOAP 1.1 binding soapkit uses from it."""

    name: str
    version: str
    path: Path
    document: Document
    binding_name: str

    @property
    def binding(self) -> Soap11Binding:
        binding = self.document.bindings[self.binding_name]
        assert isinstance(binding, Soap11Binding)
        return binding

    @property
    def operation_names(self) -> list[str]:
        return sorted(self.binding._operations)

    def operation(self, name: str) -> Any:
        try:
            return self.binding._operations[name]
        except KeyError:
            raise UnknownOperationError(
                f"{self.name} has no operation {name!r}.",
                suggestions=difflib.get_close_matches(name, self.operation_names, n=3, cutoff=0.5),
            ) from None


class Catalog:
    """Resolves services to cached WSDLs and parses each at most once per process (thread-safe)."""

    def __init__(self, folders: Sequence[str | os.PathLike[str]] | None = None, *, include_bundled: bool = True):
        chosen = [Path(f).expanduser() for f in (folders or [])]
        for folder in chosen:
            if not folder.is_dir():
                raise WsdlError(
                    f"WSDL folder {folder} does not exist.", hint="Point wsdl_dirs at a folder of .wsdl files."
                )
        if include_bundled:
            chosen.append(bundled_wsdl_dir())
        self.folders: list[Path] = chosen
        self._settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
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
        raise UnknownOperationError(
            f"No WSDL for service {service!r} ({version}) in {', '.join(str(f) for f in self.folders)}.",
            suggestions=[f"{s}Agent" for s in difflib.get_close_matches(name, known, n=3, cutoff=0.5)],
            hint=None if difflib.get_close_matches(name, known, n=1, cutoff=0.5) else
            "Save the service's WSDL from your tenant ({Service}.svc?wsdl) into a folder and pass it as wsdl_dirs.",
        )

    def services(self, version: str = DEFAULT_VERSION) -> list[str]:
        names: set[str] = set()
        for folder in self.folders:
            for directory in (folder / version, folder):
                if directory.is_dir():
                    names.update(p.stem for p in directory.glob("*.wsdl"))
        return sorted(names)

    # --- parsing ---------------------------------------------------------------------------------

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
                described = self._parse(key[1], version)
                self._parsed[key] = described
        return described

    def _parse(self, name: str, version: str) -> ServiceDescription:
        path = self.path(name, version)
        try:
            document = Document(str(path), zeep.Transport(), settings=self._settings)  # type: ignore[arg-type]
        except Exception as error:  # zeep raises many types for a broken file
            raise WsdlError(f"Cannot parse {path}: {type(error).__name__}: {error}") from None
        self.parse_count += 1
        return ServiceDescription(name, version, path, document, _soap11_binding(document, path))

    # --- binding ---------------------------------------------------------------------------------

    def bind(
        self,
        service: str,
        address: str,
        *,
        version: str = DEFAULT_VERSION,
        transport: zeep.Transport | None = None,
        plugins: Iterable[zeep.Plugin] = (),
    ) -> tuple[zeep.Client, ServiceProxy]:
        """A zeep client on the cached WSDL and a service proxy bound to ``address``."""
        described = self.describe(service, version)
        client = zeep.Client(described.document, transport=transport, plugins=list(plugins), settings=self._settings)
        return client, client.create_service(described.binding_name, address)


def _soap11_binding(document: Document, path: Path) -> str:
    candidates = [name for name, b in document.bindings.items() if isinstance(b, Soap11Binding)]
    if not candidates:
        raise WsdlError(f"{path} has no SOAP 1.1 binding.")
    # WCF often publishes the same contract twice (http and https policy); the shortest name is the plain one.
    return sorted(candidates, key=len)[0]


_default_catalog: Catalog | None = None
_default_lock = threading.Lock()


def default_catalog() -> Catalog:
    """The process-wide catalog of bundled WSDLs (parsed lazily, once)."""
    global _default_catalog
    with _default_lock:
        if _default_catalog is None:
            _default_catalog = Catalog()
        return _default_catalog
