"""Fetching a WSDL and every schema it imports into one folder, with references rewritten to local files.

Sources are a local file or an ``http(s)`` URL (a tenant's ``Service.svc?wsdl``). Remote documents may only
reference the same origin; local ones only local files. XML is parsed without DTDs, entities or network.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree

from soapkit.catalog import service_name
from soapkit.errors import ConfigurationError, HttpError

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
MAX_BYTES = 20_000_000
MAX_DOCUMENTS = 64
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_REFERENCES = ((f"{{{XSD_NS}}}import", "schemaLocation"), (f"{{{XSD_NS}}}include", "schemaLocation"),
               (f"{{{WSDL_NS}}}import", "location"))
_SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


class _Reader:
    """Reads documents from the source's origin: one host for URLs, the local disk for files."""

    def __init__(self, source: str, timeout: float) -> None:
        self.remote = is_url(source)
        self.origin = urlsplit(source)[:2] if self.remote else None
        self.timeout = timeout

    def locate(self, source: str) -> str:
        return source if self.remote else str(Path(source).expanduser().resolve())

    def join(self, base: str, reference: str) -> str:
        if self.remote:
            absolute = urljoin(base, reference)
            if urlsplit(absolute)[:2] != self.origin:
                raise ConfigurationError(f"{base} imports {absolute} from another origin; not followed.")
            return absolute
        if is_url(reference):
            raise ConfigurationError(f"{base} imports the remote document {reference}; import it from its URL.")
        return str((Path(base).parent / reference).resolve())

    def read(self, location: str) -> bytes:
        return self._get(location) if self.remote else self._file(location)

    def _file(self, location: str) -> bytes:
        path = Path(location)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise ConfigurationError(f"{path} is larger than {MAX_BYTES // 1_000_000} MB.")
            return path.read_bytes()
        except FileNotFoundError:
            raise ConfigurationError(f"{path} does not exist.") from None
        except OSError as error:
            raise ConfigurationError(f"Cannot read {path}: {error.strerror}.") from None

    def _get(self, url: str) -> bytes:
        from soapkit.http import new_session, send

        with new_session() as session:
            response = send(session, "GET", url, timeout=self.timeout)
        if response.status_code != 200:
            raise HttpError(response.status_code, f"GET {url} answered HTTP {response.status_code}.",
                            body=response.text)
        if len(response.content) > MAX_BYTES:
            raise ConfigurationError(f"{url} is larger than {MAX_BYTES // 1_000_000} MB.")
        return response.content

    def parse(self, location: str) -> etree._ElementTree:
        try:
            return etree.ElementTree(etree.fromstring(self.read(location), _PARSER))
        except etree.XMLSyntaxError as error:
            raise ConfigurationError(f"{location} is not XML: {error}") from None


def _service(root: etree._Element, location: str, given: str | None) -> str:
    if etree.QName(root).namespace != WSDL_NS or etree.QName(root).localname != "definitions":
        raise ConfigurationError(f"{location} is not a WSDL (its root element is <{etree.QName(root).localname}>).")
    path_stem = Path(urlsplit(location).path if is_url(location) else location).name.split(".")[0]
    name = service_name(given or root.get("name") or path_stem)
    if not _SAFE_NAME.match(name):
        raise ConfigurationError(f"{name!r} is not a usable service name.", hint="Give one with --name, e.g. Contact.")
    return name


def _local_name(service: str, location: str, taken: set[str]) -> str:
    query = parse_qs(urlsplit(location).query) if is_url(location) else {}
    for kind in ("xsd", "wsdl"):
        if query.get(kind):
            candidate = f"{service}.{re.sub(r'[^A-Za-z0-9_-]', '_', query[kind][0])}.{kind}"
            break
    else:
        base = Path(urlsplit(location).path if is_url(location) else location).name or "schema.xsd"
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", base)
        candidate = f"{service}.{stem}" if stem.endswith((".xsd", ".wsdl")) else f"{service}.{stem}.xsd"
    unique, number = candidate, 1
    while unique in taken:
        number += 1
        unique = candidate.replace(".", f"-{number}.", 1)
    return unique


def fetch_documents(source: str, staging: Path, *, name: str | None, timeout: float) -> tuple[str, list[str]]:
    """Write the WSDL and everything it imports into ``staging``; return the service name and the file names."""
    reader = _Reader(source, timeout)
    root_location = reader.locate(source)
    root_tree = reader.parse(root_location)
    service = _service(root_tree.getroot(), root_location, name)
    names = {root_location: f"{service}.wsdl"}
    pending = [(root_location, root_tree)]
    while pending:
        location, tree = pending.pop()
        for tag, attribute in _REFERENCES:
            for element in tree.getroot().iter(tag):
                reference = element.get(attribute)
                if not reference:
                    continue
                absolute = reader.join(location, reference)
                if absolute not in names:
                    if len(names) >= MAX_DOCUMENTS:
                        raise ConfigurationError(f"{source} imports more than {MAX_DOCUMENTS} documents.")
                    names[absolute] = _local_name(service, absolute, set(names.values()))
                    pending.append((absolute, reader.parse(absolute)))
                element.set(attribute, names[absolute])
        (staging / names[location]).write_bytes(etree.tostring(tree, xml_declaration=True, encoding="utf-8"))
    return service, sorted(names.values())
