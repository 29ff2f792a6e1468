"""RSA keys in the two formats SuperOffice partners meet: PEM and .NET ``<RSAKeyValue>`` XML.

cryptography is imported by the functions that need it, not by this module: a :class:`LazyPrivateKey` reads
and checks its key when it is made but turns it into an RSA key (cryptography's import and the key's own
checks, some 30 ms) only when something is first signed, which a command served from a cached ticket never does.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Union

from soapkit.errors import KeyFormatError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

_PRIVATE_PARTS = ("P", "Q", "DP", "DQ", "InverseQ", "D")

#: what a private key may be given as: its text, its bytes, its file, a key object, or a :class:`LazyPrivateKey`
KeySource = Union[str, bytes, "os.PathLike[str]", "rsa.RSAPrivateKey", "LazyPrivateKey"]


def _b64_int(text: str | None, name: str) -> int:
    if not text or not text.strip():
        raise KeyFormatError(f"<RSAKeyValue> has no <{name}> value.")
    try:
        return int.from_bytes(base64.b64decode("".join(text.split()), validate=True), "big")
    except (ValueError, TypeError):
        raise KeyFormatError(f"<{name}> in <RSAKeyValue> is not base64.") from None


def _int_b64(value: int, length: int | None = None) -> str:
    size = length or max(1, (value.bit_length() + 7) // 8)
    return base64.b64encode(value.to_bytes(size, "big")).decode("ascii")


def _xml_fields(data: bytes) -> dict[str, str]:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise KeyFormatError(f"The key looks like XML but does not parse: {error}") from None
    if etree.QName(root).localname != "RSAKeyValue":
        raise KeyFormatError(f"Expected an <RSAKeyValue> element, found <{etree.QName(root).localname}>.")
    return {etree.QName(child).localname: (child.text or "") for child in root if isinstance(child.tag, str)}


def _xml_private_numbers(data: bytes | str) -> tuple[int, ...]:
    """The parts of a .NET ``<RSAKeyValue>`` private key (n, e, p, q, d, dp, dq, iq), checked as far as
    arithmetic can without cryptography."""
    fields = _xml_fields(data.encode() if isinstance(data, str) else data)
    missing = [part for part in _PRIVATE_PARTS if part not in fields]
    if missing:
        raise KeyFormatError(
            f"<RSAKeyValue> lacks the private parts {', '.join(missing)}: it is a public key.",
            hint="Signing needs the private key the application was registered with (ToXmlString(true)).",
        )
    n, e = _b64_int(fields.get("Modulus"), "Modulus"), _b64_int(fields.get("Exponent"), "Exponent")
    p, q, d = (_b64_int(fields[x], x) for x in ("P", "Q", "D"))
    dp, dq, iq = (_b64_int(fields[x], x) for x in ("DP", "DQ", "InverseQ"))
    if p * q != n:
        raise KeyFormatError("<RSAKeyValue> is inconsistent: P x Q differs from Modulus.")
    return n, e, p, q, d, dp, dq, iq


def _rsa_from_numbers(parts: tuple[int, ...]) -> rsa.RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    n, e, p, q, d, dp, dq, iq = parts
    numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, iq, rsa.RSAPublicNumbers(e, n))
    try:
        return numbers.private_key()
    except ValueError as error:
        raise KeyFormatError(f"<RSAKeyValue> is not a valid RSA key: {error}") from None


def private_key_from_xml(data: bytes | str) -> rsa.RSAPrivateKey:
    """Read a .NET ``<RSAKeyValue>`` private key (``RSA.ToXmlString(true)``)."""
    return _rsa_from_numbers(_xml_private_numbers(data))


def public_key_from_xml(data: bytes | str) -> rsa.RSAPublicKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    fields = _xml_fields(data.encode() if isinstance(data, str) else data)
    n, e = _b64_int(fields.get("Modulus"), "Modulus"), _b64_int(fields.get("Exponent"), "Exponent")
    return rsa.RSAPublicNumbers(e, n).public_key()


def private_key_to_xml(key: rsa.RSAPrivateKey) -> str:
    """The .NET ``<RSAKeyValue>`` form of a private key, as ``RSA.ToXmlString(true)`` writes it."""
    numbers = key.private_numbers()
    size = (key.key_size + 7) // 8
    half = (size + 1) // 2
    parts = [
        ("Modulus", _int_b64(numbers.public_numbers.n, size)),
        ("Exponent", _int_b64(numbers.public_numbers.e)),
        ("P", _int_b64(numbers.p, half)),
        ("Q", _int_b64(numbers.q, half)),
        ("DP", _int_b64(numbers.dmp1, half)),
        ("DQ", _int_b64(numbers.dmq1, half)),
        ("InverseQ", _int_b64(numbers.iqmp, half)),
        ("D", _int_b64(numbers.d, size)),
    ]
    return "<RSAKeyValue>" + "".join(f"<{k}>{v}</{k}>" for k, v in parts) + "</RSAKeyValue>"


def public_key_to_xml(key: rsa.RSAPublicKey) -> str:
    numbers = key.public_numbers()
    return (
        f"<RSAKeyValue><Modulus>{_int_b64(numbers.n, (key.key_size + 7) // 8)}</Modulus>"
        f"<Exponent>{_int_b64(numbers.e)}</Exponent></RSAKeyValue>"
    )


def private_key_to_pem(key: rsa.RSAPrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _read_source(source: str | bytes | os.PathLike[str], *, secret: bool = False) -> bytes:
    if isinstance(source, bytes):
        return source
    text = os.fspath(source)
    if text.lstrip("\ufeff \t\r\n").startswith("<") or "-----BEGIN" in text:
        return text.encode("utf-8")
    path = Path(text).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyFormatError(
            f"Private key file {path} does not exist.",
            hint="Pass the path of the .pem or .xml key file, or the key text itself.",
        ) from None
    except OSError as error:
        raise KeyFormatError(f"Cannot read private key file {path}: {error.strerror}.") from None
    from soapkit.config.settings import warn_if_readable_by_others  # here: config imports credentials

    if secret:
        warn_if_readable_by_others(path, "private key")
    return data


def load_private_key(source: KeySource, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PEM or ``<RSAKeyValue>`` XML: text, bytes or a file path."""
    if isinstance(source, LazyPrivateKey):
        return source.key()
    if not isinstance(source, str | bytes | os.PathLike):
        return _key_object(source)
    return LazyPrivateKey(source, password).key()


def private_key_for_later(source: KeySource) -> LazyPrivateKey | rsa.RSAPrivateKey:
    """``source`` kept for signing later: text, bytes and files as a :class:`LazyPrivateKey` (read and checked
    now, parsed on first use), a key object as it is."""
    if isinstance(source, LazyPrivateKey):
        return source
    if isinstance(source, str | bytes | os.PathLike):
        return LazyPrivateKey(source)
    return _key_object(source)


def _key_object(source: object) -> rsa.RSAPrivateKey:
    """A key object given as such (whoever made one has cryptography loaded already)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(source, rsa.RSAPrivateKey):
        return source
    raise KeyFormatError(f"A private key is given as text, bytes, a file path or an RSA private key, "
                         f"not as {type(source).__name__}.")


#: a PEM block's armour: ``-----BEGIN RSA PRIVATE KEY-----`` and its end
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


class LazyPrivateKey:
    """A private key read and checked now, turned into an RSA key when first needed (:meth:`key`).

    Made from the same sources as :func:`load_private_key`. What can be told without cryptography is
    reported at once, as :class:`~soapkit.errors.KeyFormatError`: a file that does not exist or cannot be
    read, text that is neither PEM nor ``<RSAKeyValue>`` XML, a PEM without a private-key block (a public
    key, a certificate), an encrypted PEM without its password, XML that does not parse or lacks the private
    parts. What only cryptography can tell (a PEM block whose content is not a key, a key that is not RSA,
    numbers that do not make a valid key) is reported by the first :meth:`key`, with the same message as
    :func:`load_private_key` gives. ``label`` (e.g. which setting named the key) starts every message.
    """

    def __init__(self, source: str | bytes | os.PathLike[str], password: bytes | None = None, *,
                 label: str | None = None) -> None:
        self.label = label
        self._password = password
        self._key: rsa.RSAPrivateKey | None = None
        self._lock = threading.Lock()
        self._xml: tuple[int, ...] | None = None
        self._pem = b""
        with _labelled(label):
            data = _read_source(source, secret=True).lstrip(b"\xef\xbb\xbf").strip()
            if data.startswith(b"<"):
                self._xml = _xml_private_numbers(data)
            elif b"-----BEGIN" in data:
                self._pem = _checked_pem(data, password)
            else:
                raise KeyFormatError("The private key is neither PEM nor <RSAKeyValue> XML.")

    def __repr__(self) -> str:
        state = "loaded" if self._key is not None else "not loaded yet"
        return f"<LazyPrivateKey {'XML' if self._xml is not None else 'PEM'}, {state}>"

    @property
    def loaded(self) -> bool:
        """Whether :meth:`key` has made the RSA key yet."""
        return self._key is not None

    def key(self) -> rsa.RSAPrivateKey:
        """The RSA key (made on the first call; a :class:`~soapkit.errors.KeyFormatError` if it is not one)."""
        if self._key is None:
            with self._lock, _labelled(self.label):
                if self._key is None:
                    self._key = _rsa_from_numbers(self._xml) if self._xml is not None else \
                        _pem_private_key(self._pem, self._password)
        return self._key


@contextlib.contextmanager
def _labelled(label: str | None) -> Iterator[None]:
    """A :class:`KeyFormatError` raised inside gets ``label:`` in front of its message (unchanged without one)."""
    try:
        yield
    except KeyFormatError as error:
        if not label:
            raise
        raise type(error)(f"{label}: {error.message}", hint=error.hint) from None


def _checked_pem(data: bytes, password: bytes | None) -> bytes:
    """PEM text that holds a private-key block (an encrypted one only with its password)."""
    if b"PUBLIC KEY" in data and b"PRIVATE KEY" not in data:
        raise KeyFormatError("This PEM holds a public key; signing needs the private key.")
    blocks = [(match.group(1).decode("ascii"), match.group(2)) for match in _PEM_BLOCK.finditer(data)]
    private = [(label, body) for label, body in blocks if label.endswith("PRIVATE KEY")]
    if not private:
        found = ", ".join(label for label, _ in blocks)
        raise KeyFormatError("The PEM private key cannot be read: "
                             + (f"it holds no PRIVATE KEY block, only {found}." if found
                                else "its BEGIN line has no matching END line."))
    label, body = private[0]
    if password is None and (label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in body):
        raise KeyFormatError("The PEM private key is encrypted.", hint="Pass its password.")
    return data


def _pem_private_key(data: bytes, password: bytes | None) -> rsa.RSAPrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        raise KeyFormatError("The PEM private key is encrypted.", hint="Pass its password.") from None
    except ValueError as error:
        raise KeyFormatError(f"The PEM private key cannot be read: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError(f"The PEM key is {type(key).__name__}, not RSA.")
    return key


def load_public_key(source: str | bytes | os.PathLike[str]) -> rsa.RSAPublicKey:
    """Load an RSA public key from PEM (key or certificate) or ``<RSAKeyValue>`` XML."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    data = _read_source(source).strip()
    if data.startswith(b"<"):
        return public_key_from_xml(data)
    key: object
    try:
        if b"CERTIFICATE" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        elif b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise KeyFormatError(f"The public key cannot be read: {error}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyFormatError(f"The key is {type(key).__name__}, not RSA.")
    return key
