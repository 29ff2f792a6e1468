"""A credential cache in a folder, shared by the processes of one machine.

One JSON file per entry (``<sha256 of key>.json``, mode 0600) in a folder of mode 0700; writes go to a
temporary file in the same folder that is then renamed over the entry (``os.replace``), so a reader or a
crash never sees half an entry. ``lock(key)`` takes an exclusive ``flock`` on ``<hash>.lock``: the lock
dies with its process, so a crashed holder never blocks the others. An entry that cannot be read or
parsed is logged (without its content) and treated as missing; it is overwritten by the next fetch.

On a host shared with other users the cache trusts nothing it did not create: the folder must be owned by
this user, not writable by group or others, and not a symlink (otherwise :class:`CacheError` says how to
fix it). Entries and locks are opened with ``O_NOFOLLOW | O_NONBLOCK``; only a regular file owned by this
user and at most :data:`MAX_ENTRY_BYTES` long is an entry, anything else (a FIFO, a folder, a symlink,
someone else's file) is logged and treated as missing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from soapkit.credentials.base import IssuedCredential
from soapkit.credentials.caches.codec import EncryptionKey, EntryCodec, as_cipher
from soapkit.errors import CacheCorrupted, CacheError, CacheLockTimeout, ConfigurationError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("soapkit.credentials.cache")

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
TEMP_PREFIX = ".tmp-"
# Temporary files older than this are leftovers of a crashed writer (a write takes milliseconds).
STALE_TEMP_AGE = 600.0
#: The largest entry read (bytes); a real one is about 1 KB.
MAX_ENTRY_BYTES = 256 * 1024
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class FileCache:
    """Cached credentials as files in ``directory``; safe across threads and processes of one machine."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        encryption_key: EncryptionKey | None = None,
        lock_timeout: float = 75.0,
    ) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise ConfigurationError("The file cache needs POSIX file locks (fcntl).",
                                     hint="Use the memory cache or Redis (SOAPKIT_CACHE=redis://...) on this system.")
        self.directory = Path(directory).expanduser()
        self._codec = EntryCodec(as_cipher(encryption_key))
        self.lock_timeout = lock_timeout
        self._prepare_directory()
        self._sweep_temp_files()

    def __repr__(self) -> str:
        return f"FileCache({str(self.directory)!r}, encrypted={self._codec.encrypted})"

    # --- CredentialCache ---------------------------------------------------------------------------

    def get(self, key: str) -> IssuedCredential | None:
        path = self.entry_path(key)
        try:
            data = _read_entry(path)
        except FileNotFoundError:
            return None
        except OSError as error:
            _warn(CacheCorrupted(f"Cannot read credential cache entry {path}: {error.strerror}."))
            return None
        except CacheCorrupted as error:
            _warn(error)
            return None
        try:
            return self._codec.decode(key, data, f"Credential cache entry {path}")
        except CacheCorrupted as error:
            _warn(error)
            return None

    def set(self, key: str, issued: IssuedCredential) -> None:
        self._write_atomically(self.entry_path(key), self._codec.encode(key, issued))

    def delete(self, key: str) -> None:
        path = self.entry_path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise CacheError(f"Cannot delete credential cache entry {path}: {error.strerror}.") from None

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Exclusive across threads and processes, for as long as the ``with`` block runs."""
        path = self.directory / f"{_digest(key)}.lock"
        fd = _open_lock_file(path)
        try:
            self._acquire(fd, path)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # --- files -------------------------------------------------------------------------------------

    def entry_path(self, key: str) -> Path:
        return self.directory / f"{_digest(key)}.json"

    def _prepare_directory(self) -> None:
        try:
            _make_private_folders(self.directory)
            info = os.lstat(self.directory)
        except OSError as error:
            raise CacheError(f"Cannot create the credential cache folder {self.directory}: {error.strerror}.",
                             hint="Choose a folder this user can write (SOAPKIT_CACHE=file:PATH).") from None
        _check_folder_is_private(self.directory, info)

    def _sweep_temp_files(self) -> None:
        cutoff = time.time() - STALE_TEMP_AGE
        # os.scandir and a prefix test, not Path.glob: glob compiles a pattern on every process's first use
        with contextlib.suppress(OSError), os.scandir(self.directory) as entries:
            for leftover in entries:
                if not leftover.name.startswith(TEMP_PREFIX):
                    continue
                with contextlib.suppress(OSError):
                    if leftover.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(leftover.path)

    def _write_atomically(self, path: Path, data: bytes) -> None:
        try:
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=TEMP_PREFIX, suffix=".json")
        except OSError as error:
            raise CacheError(f"Cannot write to the credential cache folder {self.directory}: {error.strerror}.",
                             hint="Check the folder's owner and permissions.") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), FILE_MODE)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise CacheError(f"Cannot write credential cache entry {path}: {error.strerror}.") from None

    def _acquire(self, fd: int, path: Path) -> None:
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise CacheError(f"Cannot lock {path}: {error.strerror}.") from None
            if time.monotonic() >= deadline:
                raise CacheLockTimeout(f"Waited {self.lock_timeout:g} s for the credential cache lock {path}.")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def _check_folder_is_private(directory: Path, info: os.stat_result) -> None:
    """Refuse a folder another user could use to read, plant or swap entries."""
    fix = "Remove it and let soapkit create it, or choose another folder (SOAPKIT_CACHE=file:PATH)."
    if stat.S_ISLNK(info.st_mode):
        raise CacheError(f"The credential cache folder {directory} is a symlink; soapkit does not follow it.",
                         hint=f"Point the cache at the real folder. {fix}")
    if not stat.S_ISDIR(info.st_mode):
        raise CacheError(f"The credential cache path {directory} is not a folder.", hint=fix)
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise CacheError(f"The credential cache folder {directory} belongs to another user (uid {info.st_uid}).",
                         hint=fix)
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise CacheError(f"Other users can write to the credential cache folder {directory} (mode {mode:o}).",
                         hint=f"Run `chmod 700 {directory}` if you created it yourself. {fix}")
    if mode & 0o077:
        logger.warning("Credential cache folder %s is accessible to other users (mode %o); its entries are "
                       "0600, but consider `chmod 700 %s`.", directory, mode, directory)


def _read_entry(path: Path) -> bytes:
    """The bytes of a regular file owned by this user, never following a symlink or blocking on a FIFO."""
    fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CacheCorrupted(f"Credential cache entry {path} is not a regular file.")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise CacheCorrupted(f"Credential cache entry {path} belongs to another user (uid {info.st_uid}).")
        if info.st_size > MAX_ENTRY_BYTES:
            raise CacheCorrupted(f"Credential cache entry {path} is larger than {MAX_ENTRY_BYTES} bytes.")
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(MAX_ENTRY_BYTES + 1)[:MAX_ENTRY_BYTES]
    finally:
        os.close(fd)


def _open_lock_file(path: Path) -> int:
    """The lock file, created 0600; something else planted there (symlink, FIFO, folder) is removed once."""
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _OPEN_FLAGS, FILE_MODE)
        except OSError as error:
            if attempt == 0 and error.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO) and _remove_planted(path):
                continue
            raise CacheError(f"Cannot open cache lock file {path}: {error.strerror}.") from None
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
        os.close(fd)
        if attempt == 0 and _remove_planted(path):
            continue
        break
    raise CacheError(f"The cache lock path {path} is not a regular file and cannot be replaced.",
                     hint="Remove it; only soapkit should write in the cache folder.")


def _remove_planted(path: Path) -> bool:
    logger.warning("Credential cache lock path %s is not a regular file; replacing it.", path)
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        return False
    return True


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _warn(error: CacheCorrupted) -> None:
    logger.warning("%s Treating it as empty. (hint: %s)", error.message, error.hint)


def _make_private_folders(directory: Path) -> None:
    """Create ``directory`` and every missing folder above it with mode 0700 (``mkdir(parents=True)`` would
    give the ones above the umask's default, readable by others)."""
    missing = [folder for folder in (directory, *directory.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
