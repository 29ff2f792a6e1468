"""The sandbox's federated-login identity: its signing key, certificate, JWKS and OpenID metadata.

SuperOffice signs system-user JWTs with the environment's federated-login certificate; clients find it
in ``/login/.well-known/jwks`` by ``kid`` (upper-case hex SHA-1 thumbprint of the certificate) or ``x5t``
(the same thumbprint, base64url). The sandbox does the same with a self-signed certificate that it
creates on first start and keeps in the data directory.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from soapkit.credentials.keys import load_private_key, private_key_to_pem
from soapkit.sandbox.files import write_private, write_public

CERTIFICATE_NAME = "SuperOffice Sandbox Federated Login (soapkit)"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_int(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _self_signed(key: rsa.RSAPrivateKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERTIFICATE_NAME)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


@dataclass(frozen=True)
class Identity:
    """The signing key and certificate of the sandbox's identity service."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    # Earlier keys, still published in the JWKS after a rotation so tokens they signed keep validating.
    retired: tuple[Identity, ...] = ()

    @classmethod
    def load_or_create(cls, key_path: Path, certificate_path: Path, now: dt.datetime) -> Identity:
        if key_path.is_file() and certificate_path.is_file():
            key = load_private_key(key_path)
            certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
            return cls(key, certificate)
        key = new_rsa_key()
        certificate = _self_signed(key, now)
        write_private(key_path, private_key_to_pem(key))
        write_public(certificate_path, certificate.public_bytes(serialization.Encoding.PEM))
        return cls(key, certificate)

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def thumbprint(self) -> bytes:
        return hashlib.sha1(self.certificate_der, usedforsecurity=False).digest()  # the documented thumbprint

    @property
    def kid(self) -> str:
        return self.thumbprint.hex().upper()

    @property
    def x5t(self) -> str:
        return _b64url(self.thumbprint)

    def jwk(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "x5t": self.x5t,
            "n": _b64url_int(numbers.n),
            "e": _b64url_int(numbers.e),
            "x5c": [base64.b64encode(self.certificate_der).decode("ascii")],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk(), *(old.jwk() for old in self.retired)]}

    def rotated(self, now: dt.datetime) -> Identity:
        """A new signing key and certificate; this one stays published (retired) beside it."""
        key = new_rsa_key()
        return Identity(key, _self_signed(key, now), (Identity(self.key, self.certificate), *self.retired))

    def sign_jwt(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, "x5t": self.x5t})


def openid_configuration(base_url: str) -> dict[str, Any]:
    """OpenID Connect metadata at SuperOffice's paths (PROTOCOL.md section 4)."""
    login = f"{base_url}/login"
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{login}/common/oauth/authorize",
        "token_endpoint": f"{login}/common/oauth/tokens",
        "jwks_uri": f"{login}/.well-known/jwks",
        "end_session_endpoint": f"{login}/logout",
        "revocation_endpoint": f"{login}/common/oauth/revoke",
        "revocation_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "nbf",
            "http://schemes.superoffice.net/identity/ctx",
            "http://schemes.superoffice.net/identity/netserver_url",
            "http://schemes.superoffice.net/identity/webapi_url",
        ],
    }
