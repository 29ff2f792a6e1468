"""Key formats (PEM and .NET RSAKeyValue XML) and system-user token signing."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from soapkit.credentials.keys import (
    load_private_key,
    load_public_key,
    private_key_to_pem,
    private_key_to_xml,
    public_key_to_xml,
)
from soapkit.credentials.signing import SignedSystemToken, sign_system_token
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
