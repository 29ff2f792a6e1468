"""An optional on-disk cache of WSDL indexes, so that loading an agent does not even parse its XML.

What is cached is data only (JSON: operation names, SOAP actions, body wrappers; and the enumerations of a
WSDL's schema files, see :meth:`IndexCache.entry`); zeep's model is never written to disk. An entry is found by a
SHA-256 over the WSDL's bytes, soapkit's version, zeep's version and the
index format, so any change to any of them misses and the file is indexed afresh. The folder is created 0700
and entries 0600; a folder that is a symlink, that another user owns or that others can write is not used
(soapkit then simply indexes the XML: the cache can only make loading faster, never change what is loaded);
entries are opened without following symlinks and without blocking, and only small regular files owned by
the user are read. Disable with ``SOAPKIT_CATALOG_CACHE=off``, or point it elsewhere with a folder path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import zeep

from soapkit import wsdl_index

log = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "SOAPKIT_CATALOG_CACHE"
MAX_ENTRY_BYTES = 4 * 1024 * 1024  # List.wsdl's index is about 60 kB
_OFF = {"off", "0", "false", "no", "none"}


def _soapkit_version() -> str:
    from soapkit import __version__

    return __version__


def default_cache_dir() -> Path | None:
    """``$SOAPKIT_CATALOG_CACHE``, else ``{user cache folder}/catalog``; None when switched off."""
    configured = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if configured.lower() in _OFF:
        return None
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "soapkit" / "catalog"


class IndexCache:
    """WSDL indexes on disk, keyed by content and versions (see the module docstring for the trust rules)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"IndexCache({str(self.directory)!r})"

    def index(self, path: Path) -> wsdl_index.WsdlIndex:
        """The index of the WSDL at ``path``: from the cache when an entry for its exact content exists."""
        content = path.read_bytes()
        entry = self._entry_path(content)
        usable = self._usable_directory()
        if usable:
            cached = wsdl_index.index_from_json(path, self._read(entry))
            if cached is not None:
                self.hits += 1
                return cached
        self.misses += 1
        index = wsdl_index.index_wsdl(path, wsdl_index.parse_bytes(content))  # the tree is not kept
        if usable:
            self._write(entry, json.dumps(wsdl_index.index_to_json(index), separators=(",", ":")).encode())
        return index

    def _entry_path(self, content: bytes, kind: str | None = None) -> Path:
        digest = hashlib.sha256()
        for part in (kind or f"index-{wsdl_index.INDEX_FORMAT}", _soapkit_version(), zeep.__version__):
            digest.update(part.encode() + b"\0")
        digest.update(content)
        return self.directory / f"{digest.hexdigest()}.json"

    def entry(self, kind: str, key: bytes, build: Callable[[], object],
              check: Callable[[object], bool]) -> object:
        """Derived data of another ``kind`` (a name with its format's version) under the same trust rules:
        the entry for ``key`` (soapkit's and zeep's versions are part of it) when ``check`` accepts what it
        holds, otherwise ``build()``, which is stored for next time. ``check`` must also tell whether the
        entry still describes the files it came from (their digests): an entry only ever saves work."""
        entry = self._entry_path(key, kind)
        usable = self._usable_directory()
        if usable:
            cached = self._read(entry)
            if cached is not None and check(cached):
                self.hits += 1
                return cached
        self.misses += 1
        built = build()
        if usable:
            self._write(entry, json.dumps(built, separators=(",", ":")).encode())
        return built

    def _usable_directory(self) -> bool:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.lstat(self.directory)
        except OSError as error:
            log.debug("catalog cache %s unavailable: %s", self.directory, error)
            return False
        trusted = (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
                   and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))
        if not trusted:
            log.warning("catalog cache %s is not used: it must be a folder of yours that only you can write "
                        "(not a symlink). Remove it, or set %s to another folder or to off.",
                        self.directory, ENVIRONMENT_VARIABLE)
        return trusted

    @staticmethod
    def _read(entry: Path) -> object:
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_size > MAX_ENTRY_BYTES:
                return None
            try:
                return json.loads(handle.read(MAX_ENTRY_BYTES + 1))
            except ValueError:
                return None

    def _write(self, entry: Path, data: bytes) -> None:
        try:
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".index-", suffix=".tmp")
        except OSError as error:
            log.debug("catalog cache: cannot write %s: %s", entry.name, error)
            return
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file 0600
                handle.write(data)
            os.replace(temporary, entry)
        except OSError as error:
            log.debug("catalog cache: cannot write %s: %s", entry.name, error)
            with contextlib.suppress(OSError):
                os.unlink(temporary)
