"""Signing and verifying system-user tokens (``token.yyyyMMddHHmm.signature``)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from soapkit.credentials.keys import KeySource, load_private_key
from soapkit.errors import ConfigurationError

TIMESTAMP_FORMAT = "%Y%m%d%H%M"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def sign_system_token(system_token: str, private_key: KeySource, *, now: dt.datetime | None = None) -> str:
    """Return ``system_token + "." + yyyyMMddHHmm + "." + base64(RSA-SHA256 PKCS#1 v1.5)``.

    The timestamp is UTC on a 24-hour clock, as PartnerSystemUserService expects.
    """
    if not system_token or not system_token.strip():
        raise ConfigurationError(
            "The system-user token is empty.",
            hint="It is the value of the system_token claim your application received at install time.",
        )
    key = load_private_key(private_key)
    moment = (now or utc_now()).astimezone(dt.timezone.utc)
    data = f"{system_token}.{moment.strftime(TIMESTAMP_FORMAT)}"
    signature = key.sign(data.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return f"{data}.{base64.b64encode(signature).decode('ascii')}"


@dataclass(frozen=True, repr=False)
class SignedSystemToken:
    """A signed system-user token split into its parts (split from the right: tokens may hold dots and spaces)."""

    system_token: str
    timestamp: dt.datetime
    signature: bytes
    signed_data: str

    @classmethod
    def parse(cls, signed: str) -> SignedSystemToken:
        parts = signed.rsplit(".", 2)
        if len(parts) != 3 or not parts[0]:
            raise ConfigurationError("A signed system-user token has the form token.yyyyMMddHHmm.signature.")
        token, stamp, signature = parts
        try:
            moment = dt.datetime.strptime(stamp, TIMESTAMP_FORMAT).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            raise ConfigurationError(f"The timestamp {stamp!r} of the signed token is not yyyyMMddHHmm.") from None
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError("The signature of the signed token is not base64.") from None
        return cls(token, moment, raw, f"{token}.{stamp}")

    def __repr__(self) -> str:
        return f"SignedSystemToken(system_token=***, timestamp={self.timestamp:%Y-%m-%dT%H:%MZ}, signature=***)"

    def verify(self, public_key: rsa.RSAPublicKey) -> bool:
        try:
            public_key.verify(self.signature, self.signed_data.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True
