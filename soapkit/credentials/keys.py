"""RSA keys in the two formats SuperOffice partners meet: PEM and .NET ``<RSAKeyValue>`` XML."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from soapkit.errors import KeyFormatError

_PRIVATE_PARTS = ("P", "Q", "DP", "DQ", "InverseQ", "D")

KeySource = str | bytes | os.PathLike[str] | rsa.RSAPrivateKey


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
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise KeyFormatError(f"The key looks like XML but does not parse: {error}") from None
    if etree.QName(root).localname != "RSAKeyValue":
        raise KeyFormatError(f"Expected an <RSAKeyValue> element, found <{etree.QName(root).localname}>.")
    return {etree.QName(child).localname: (child.text or "") for child in root if isinstance(child.tag, str)}


def private_key_from_xml(data: bytes | str) -> rsa.RSAPrivateKey:
    """Read a .NET ``<RSAKeyValue>`` private key (``RSA.ToXmlString(true)``)."""
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
    numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, iq, rsa.RSAPublicNumbers(e, n))
    try:
        return numbers.private_key()
    except ValueError as error:
        raise KeyFormatError(f"<RSAKeyValue> is not a valid RSA key: {error}") from None


def public_key_from_xml(data: bytes | str) -> rsa.RSAPublicKey:
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
    if isinstance(source, rsa.RSAPrivateKey):
        return source
    data = _read_source(source, secret=True).lstrip(b"\xef\xbb\xbf").strip()
    if data.startswith(b"<"):
        return private_key_from_xml(data)
    if b"-----BEGIN" in data:
        if b"PUBLIC KEY" in data and b"PRIVATE KEY" not in data:
            raise KeyFormatError("This PEM holds a public key; signing needs the private key.")
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except TypeError:
            raise KeyFormatError("The PEM private key is encrypted.", hint="Pass its password.") from None
        except ValueError as error:
            raise KeyFormatError(f"The PEM private key cannot be read: {error}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyFormatError(f"The PEM key is {type(key).__name__}, not RSA.")
        return key
    raise KeyFormatError("The private key is neither PEM nor <RSAKeyValue> XML.")


def load_public_key(source: str | bytes | os.PathLike[str]) -> rsa.RSAPublicKey:
    """Load an RSA public key from PEM (key or certificate) or ``<RSAKeyValue>`` XML."""
    from cryptography import x509

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
