"""``?wsdl`` and ``?xsd=Name``: the project's WSDLs, served with addresses pointing at the sandbox.

Every ``soap:address`` becomes the URL the client asked for, and every relative ``schemaLocation``
(the shipped WSDLs import a shared ``NetServerTypes.xsd``) becomes ``{service url}?xsd={name}``, served
from the WSDL's folder, so ``zeep.Client(url + "?wsdl")`` loads the whole contract over HTTP.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from lxml import etree

from soapkit.catalog import Catalog
from soapkit.errors import SoapkitError

WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XSD = "http://www.w3.org/2001/XMLSchema"
_SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class WsdlDocuments:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._cache: dict[tuple[Path, str], bytes] = {}

    def wsdl(self, service: str, url: str) -> bytes | None:
        """The WSDL of ``service`` re-pointed at ``url``, or None when the catalog has none."""
        try:
            path = self._catalog.path(service)
        except SoapkitError:
            return None
        return self._rewritten(path, url)

    def schema(self, service: str, name: str, url: str) -> bytes | None:
        """The schema ``name`` (``NetServerTypes`` or ``NetServerTypes.xsd``) beside the service's WSDL."""
        stem = name[:-4] if name.lower().endswith(".xsd") else name
        if not _SCHEMA_NAME.match(stem) or stem.startswith("."):
            return None
        try:
            folder = self._catalog.path(service).parent
        except SoapkitError:
            return None
        path = folder / f"{stem}.xsd"
        if not path.is_file():
            return None
        return self._rewritten(path, url)

    def _rewritten(self, path: Path, url: str) -> bytes:
        key = (path, url)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        tree = etree.parse(str(path), parser)
        for namespace in (WSDL_SOAP11, WSDL_SOAP12):
            for address in tree.iter(f"{{{namespace}}}address"):
                address.set("location", url)
        for tag in ("import", "include"):
            for reference in tree.iter(f"{{{XSD}}}{tag}"):
                location = reference.get("schemaLocation")
                if location and "://" not in location:
                    reference.set("schemaLocation", f"{url}?xsd={Path(location).stem}")
        data: bytes = etree.tostring(tree, encoding="utf-8", xml_declaration=True)
        with self._lock:
            self._cache[key] = data
        return data
