"""Key formats (PEM and .NET RSAKeyValue XML) and system-user token signing."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from soapkit.credentials.keys import (
    LazyPrivateKey,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    private_key_to_xml,
    public_key_to_xml,
)
from soapkit.credentials.signing import SignedSystemToken, sign_system_token
from soapkit.credentials.system_user import SystemUser
from soapkit.errors import ConfigurationError, KeyFormatError


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_xml_round_trip_keeps_the_key(key: rsa.RSAPrivateKey) -> None:
    xml = private_key_to_xml(key)
    assert xml.startswith("<RSAKeyValue><Modulus>") and "<InverseQ>" in xml and "<D>" in xml
    assert load_private_key(xml).private_numbers() == key.private_numbers()


def test_pem_file_and_xml_file_give_the_same_key(key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    pem, xml = tmp_path / "k.pem", tmp_path / "k.xml"
    pem.write_text(private_key_to_pem(key))
    xml.write_text("\ufeff" + private_key_to_xml(key).replace("><", ">\n  <"))  # BOM + indentation as .NET tools write
    assert load_private_key(pem).private_numbers() == load_private_key(str(xml)).private_numbers()


def test_public_xml_is_refused_for_signing(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(KeyFormatError, match="public key"):
        load_private_key(public_key_to_xml(key.public_key()))


def test_inconsistent_xml_is_refused(key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    xml = private_key_to_xml(key)
    other_p = private_key_to_xml(other).split("<P>")[1].split("</P>")[0]
    forged = xml.replace(xml.split("<P>")[1].split("</P>")[0], other_p)
    with pytest.raises(KeyFormatError, match="inconsistent"):
        load_private_key(forged)


@pytest.mark.parametrize(
    ("text", "message"),
    [("<RSAKeyValue><Modulus>!!</Modulus></RSAKeyValue>", "not base64|lacks"), ("<Other/>", "RSAKeyValue"),
     ("<RSAKeyValue>", "does not parse"), ("hello", "does not exist|neither")],
)
def test_bad_keys_get_clear_errors(text: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        load_private_key(text)


def test_missing_key_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(KeyFormatError, match="does not exist"):
        load_private_key(tmp_path / "missing.pem")


def test_public_key_from_certificate_pem_and_xml(key: rsa.RSAPrivateKey) -> None:
    assert load_public_key(public_key_to_xml(key.public_key())).public_numbers() == key.public_key().public_numbers()
    assert load_public_key(private_key_to_pem(key)).public_numbers() == key.public_key().public_numbers()


def test_signed_token_has_the_documented_shape(key: rsa.RSAPrivateKey) -> None:
    moment = dt.datetime(2026, 11, 22, 17, 5, 59, tzinfo=dt.timezone.utc)
    signed = sign_system_token("My App-8k8Q7DmBgo", key, now=moment)
    token, stamp, signature = signed.rsplit(".", 2)
    assert token == "My App-8k8Q7DmBgo"
    assert stamp == "202611221705"  # UTC, 24-hour clock, minutes
    raw = base64.b64decode(signature, validate=True)
    key.public_key().verify(raw, f"{token}.{stamp}".encode(), padding.PKCS1v15(), hashes.SHA256())


def test_signing_converts_local_times_to_utc(key: rsa.RSAPrivateKey) -> None:
    oslo = dt.timezone(dt.timedelta(hours=1))
    signed = sign_system_token("t", key, now=dt.datetime(2026, 1, 1, 0, 30, tzinfo=oslo))
    assert signed.split(".")[1] == "202512312330"


def test_parse_splits_from_the_right_and_verifies(key: rsa.RSAPrivateKey) -> None:
    signed = sign_system_token("App. With dots-x", key)
    parsed = SignedSystemToken.parse(signed)
    assert parsed.system_token == "App. With dots-x"
    assert parsed.verify(key.public_key())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not parsed.verify(other.public_key())


def test_empty_system_token_is_refused(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        sign_system_token("  ", key)


# --- a key read now, parsed on first signing ------------------------------------------------------------

#: a PEM private-key block whose content is no key: only cryptography can tell
BROKEN_PEM = "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n"


def _message(source: object) -> str:
    with pytest.raises(KeyFormatError) as raised:
        load_private_key(source)  # type: ignore[arg-type]
    return raised.value.message


def _eager_cases(key: rsa.RSAPrivateKey, tmp_path: Path) -> dict[str, tuple[object, str]]:
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"pw")).decode()
    traditional = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.BestAvailableEncryption(b"pw")).decode()
    unreadable = tmp_path / "folder.pem"
    unreadable.mkdir()
    xml = private_key_to_xml(key)
    other_p = private_key_to_xml(rsa.generate_private_key(public_exponent=65537, key_size=1024)).split("<P>")[1]
    return {
        "missing file": (tmp_path / "missing.pem", "does not exist"),
        "unreadable file": (str(unreadable), "Cannot read private key file"),
        "neither": (b"hello", "neither PEM nor <RSAKeyValue> XML"),
        "public PEM": (public_pem, "holds a public key"),
        "certificate": ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                        "holds no PRIVATE KEY block, only CERTIFICATE"),
        "no END line": ("-----BEGIN PRIVATE KEY-----\nAAAA\n", "no matching END line"),
        "encrypted PKCS#8": (encrypted, "is encrypted"),
        "encrypted traditional": (traditional, "is encrypted"),
        "public XML": (public_key_to_xml(key.public_key()), "lacks the private parts"),
        "inconsistent XML": (xml.replace(xml.split("<P>")[1].split("</P>")[0], other_p.split("</P>")[0]),
                             "inconsistent"),
        "broken XML": ("<RSAKeyValue>", "does not parse"),
    }


@pytest.mark.parametrize("case", ["missing file", "unreadable file", "neither", "public PEM", "certificate",
                                  "no END line", "encrypted PKCS#8", "encrypted traditional", "public XML",
                                  "inconsistent XML", "broken XML"])
def test_what_is_wrong_without_parsing_is_reported_when_the_key_is_given(key: rsa.RSAPrivateKey, tmp_path: Path,
                                                                         case: str) -> None:
    source, expected = _eager_cases(key, tmp_path)[case]
    with pytest.raises(KeyFormatError, match=expected) as raised:
        LazyPrivateKey(source)  # type: ignore[arg-type]
    assert raised.value.message == _message(source)  # the very message load_private_key gives
    with pytest.raises(KeyFormatError, match=expected):
        SystemUser("App-1", source)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError, match=rf"^private_key \(from --private-key\): .*{expected}"):
        LazyPrivateKey(source, label="private_key (from --private-key)")  # type: ignore[arg-type]


def _ec_pem() -> str:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


@pytest.mark.parametrize(("source", "expected"), [(BROKEN_PEM, "The PEM private key cannot be read"),
                                                  ("ec", "not RSA")])
def test_what_only_parsing_tells_is_reported_by_the_first_signing(source: str, expected: str) -> None:
    text = _ec_pem() if source == "ec" else source
    lazy = LazyPrivateKey(text)  # read and checked: nothing wrong yet
    assert not lazy.loaded
    with pytest.raises(KeyFormatError, match=expected) as raised:
        lazy.key()
    assert raised.value.message == _message(text)
    with pytest.raises(KeyFormatError, match=rf"^private_key \(from SOAPKIT_PRIVATE_KEY\): .*{expected}"):
        LazyPrivateKey(text, label="private_key (from SOAPKIT_PRIVATE_KEY)").key()
    credential = SystemUser("App-1", text)  # a cached ticket would be served without the key
    with pytest.raises(KeyFormatError, match=expected):
        credential.sign()


def test_the_key_is_parsed_once_on_first_use_and_signs(key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text(private_key_to_pem(key))
    path.chmod(0o600)
    for source in (path, private_key_to_xml(key)):
        lazy = LazyPrivateKey(source)
        assert not lazy.loaded and "not loaded yet" in repr(lazy)
        credential = SystemUser("App-1", lazy)
        assert not lazy.loaded
        assert SignedSystemToken.parse(credential.sign()).verify(key.public_key())
        assert lazy.loaded and lazy.key() is lazy.key()
        assert lazy.key().private_numbers() == key.private_numbers()
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"pw"))
    assert LazyPrivateKey(encrypted, b"pw").key().private_numbers() == key.private_numbers()
    assert load_private_key(LazyPrivateKey(encrypted, b"pw")).private_numbers() == key.private_numbers()


def test_a_key_object_is_used_as_it_is_and_anything_else_is_refused(key: rsa.RSAPrivateKey) -> None:
    assert load_private_key(key) is key
    assert SignedSystemToken.parse(SystemUser("App-1", key).sign()).verify(key.public_key())
    with pytest.raises(KeyFormatError, match="not as int"):
        SystemUser("App-1", 42)  # type: ignore[arg-type]


def test_a_system_user_from_a_key_file_loads_no_cryptography_until_it_signs(key: rsa.RSAPrivateKey,
                                                                           tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text(private_key_to_pem(key))
    path.chmod(0o600)
    program = (
        "import json, sys\n"
        "from soapkit.credentials.system_user import SystemUser\n"
        f"credential = SystemUser('App-1', {str(path)!r})\n"
        "before = 'cryptography' in sys.modules\n"
        "credential.sign()\n"
        "print(json.dumps([before, 'cryptography' in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, True]
