"""Strict validation of the SAML 2.0 assertion PartnerSystemUserService returns for ``ReturnTokenType=Saml``.

What is checked, in order (every failure is a :class:`~soapkit.errors.TokenValidationError`):

1. the token is base64 of at most :data:`MAX_ASSERTION_BYTES` of XML, parsed with entities, DTDs and
   network access off; comments and processing instructions are refused (they can split a signed text
   value so that a reader sees only part of it);
2. the document root is the one and only ``saml:Assertion``; no two elements share an ID attribute;
3. it holds exactly one ``ds:Signature``, a direct child of the assertion (enveloped), whose single
   ``Reference`` points at the assertion's own ``ID``; algorithms are an allow-list: RSA-SHA256,
   SHA-256 digest, exclusive C14N and the enveloped-signature transform;
4. the key comes from the environment's JWKS, never from the document: the certificate in
   ``KeyInfo/X509Data`` only names it (its upper-case hex SHA-1 thumbprint is the JWKS ``kid``, which
   makes an unknown key trigger one JWKS refresh, as for JWTs), and must carry the same public key;
5. xmlsec verifies the signature with that key;
6. only then is anything read, and only from that verified element: Issuer ``SuperOffice AS``,
   ``Conditions`` NotBefore/NotOnOrAfter (with leeway), ``AudienceRestriction`` = ``spn:{serial}`` where
   serial is the assertion's own serial attribute, and the Attributes, returned as claims like the JWT
   path returns them (``claims[TICKET_CLAIM]`` is the ticket).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from xmlsec import constants as xc

from soapkit.credentials.jwt_validation import (
    DEFAULT_LEEWAY,
    SERIAL_CLAIM,
    SYSTEM_USER_ISSUER,
    TICKET_CLAIM,
    SigningKeys,
)
from soapkit.errors import TokenValidationError

if TYPE_CHECKING:
    from soapkit.credentials.base import AuthContext

__all__ = ["SERIAL_CLAIM", "TICKET_CLAIM", "validate_saml_assertion", "validate_system_user_saml"]

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
MAX_ASSERTION_BYTES = 256 * 1024

_RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_EXCL_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_ID_ATTRIBUTES = ("ID", "Id", "id", "{http://www.w3.org/XML/1998/namespace}id")


def _saml(name: str) -> str:
    return f"{{{SAML_NS}}}{name}"


def _ds(name: str) -> str:
    return f"{{{DSIG_NS}}}{name}"


def _fail(message: str) -> TokenValidationError:
    return TokenValidationError(f"SAML assertion rejected: {message}")


def validate_system_user_saml(token: str, context: AuthContext, keys: Any = None, *,
                              leeway: float = DEFAULT_LEEWAY, now: float | None = None) -> dict[str, Any]:
    """Validate a base64 SAML assertion from PartnerSystemUserService; its claims, like the JWT path's.
    ``keys`` is where signing keys are looked up (default: the context's JWKS cache)."""
    claims = validate_saml_assertion(token, keys if keys is not None else context.jwks, issuer=SYSTEM_USER_ISSUER,
                                     audience=_system_user_audience, leeway=leeway, now=now)
    if not claims.get(TICKET_CLAIM):
        raise _fail(f"it carries no {TICKET_CLAIM} attribute.")
    return claims


def _system_user_audience(claims: dict[str, Any]) -> str:
    serial = claims.get(SERIAL_CLAIM)
    if not serial:
        raise _fail(f"it has no {SERIAL_CLAIM} attribute to derive its audience from.")
    return f"spn:{serial}"


def validate_saml_assertion(
    token: str,
    jwks: SigningKeys,
    *,
    issuer: str,
    audience: str | Callable[[dict[str, Any]], str],
    leeway: float = DEFAULT_LEEWAY,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a base64 signed ``saml:Assertion`` and return its claims; see the module docstring."""
    try:
        assertion = parse_assertion(decode_token(token))
        signature = _single_signature(assertion)
        _check_signed_info(signature, assertion)
        _verify(signature, assertion, _signing_key(signature, jwks))
    except xmlsec.Error:  # anything xmlsec refuses (an ID it cannot register, a broken key or transform)
        raise _fail("xmlsec refused the signature or the IDs it covers.") from None
    except (ValueError, TypeError, RecursionError, etree.LxmlError) as error:
        raise _fail(f"it cannot be read ({type(error).__name__}).") from None
    claims = _read_claims(assertion)  # only the element the signature was verified over
    _check_issuer(claims, issuer)
    _check_time(assertion, time.time() if now is None else now, leeway, claims)
    _check_audience(assertion, audience(claims) if callable(audience) else audience, claims)
    return claims


# --- parsing ------------------------------------------------------------------------------------


def decode_token(token: str) -> bytes:
    text = "".join((token or "").split())
    if not text:
        raise _fail("the token is empty.")
    if len(text) > MAX_ASSERTION_BYTES * 4 // 3 + 4:
        raise _fail(f"it is larger than {MAX_ASSERTION_BYTES} bytes.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _fail("the token is not base64.") from None


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False)


def parse_assertion(data: bytes) -> etree._Element:
    """The document's root ``saml:Assertion``, after the structural checks of steps 1 and 2."""
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as error:
        raise _fail(f"it is not well-formed XML ({error}).") from None
    if root.getroottree().docinfo.doctype:
        raise _fail("it contains a DTD.")
    if any(isinstance(node, (etree._Comment, etree._ProcessingInstruction)) for node in root.iter()):
        raise _fail("it contains comments or processing instructions.")
    assertions = list(root.iter(_saml("Assertion")))
    if root.tag != _saml("Assertion") or len(assertions) != 1:
        raise _fail(f"expected one saml:Assertion as the document, found {len(assertions)} "
                    f"(root <{etree.QName(root).localname}>): possible signature wrapping.")
    _check_unique_ids(root)
    return root


def _check_unique_ids(root: etree._Element) -> None:
    seen: set[str] = set()
    for element in root.iter():
        for name in _ID_ATTRIBUTES:
            value = element.get(name)
            if value is None:
                continue
            if value in seen:
                raise _fail(f"the ID {value!r} occurs more than once: possible signature wrapping.")
            seen.add(value)


# --- the signature ------------------------------------------------------------------------------


def _single_signature(assertion: etree._Element) -> etree._Element:
    signatures = list(assertion.iter(_ds("Signature")))
    if len(signatures) != 1 or signatures[0].getparent() is not assertion:
        raise _fail("it must carry exactly one ds:Signature, enveloped in the assertion itself "
                    f"(found {len(signatures)}).")
    return signatures[0]


def _algorithm(element: etree._Element | None) -> str | None:
    return element.get("Algorithm") if element is not None else None


def _check_signed_info(signature: etree._Element, assertion: etree._Element) -> None:
    signed_info = signature.find(_ds("SignedInfo"))
    if signed_info is None:
        raise _fail("the signature has no SignedInfo.")
    if _algorithm(signed_info.find(_ds("CanonicalizationMethod"))) != _EXCL_C14N:
        raise _fail("the signature must use exclusive C14N.")
    if _algorithm(signed_info.find(_ds("SignatureMethod"))) != _RSA_SHA256:
        raise _fail("the signature algorithm must be RSA-SHA256.")
    references = signed_info.findall(_ds("Reference"))
    assertion_id = assertion.get("ID")
    if len(references) != 1 or not assertion_id or references[0].get("URI") != "#" + assertion_id:
        raise _fail("the signature must have one Reference, to the assertion's own ID.")
    reference = references[0]
    if _algorithm(reference.find(_ds("DigestMethod"))) != _SHA256:
        raise _fail("the digest algorithm must be SHA-256.")
    transforms = [_algorithm(t) for t in reference.iterfind(f"{_ds('Transforms')}/{_ds('Transform')}")]
    if not transforms or any(t not in (_ENVELOPED, _EXCL_C14N) for t in transforms):
        raise _fail("only the enveloped-signature and exclusive C14N transforms are allowed.")


def _embedded_certificate(signature: etree._Element) -> x509.Certificate:
    found = signature.findall(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}")
    if len(found) != 1 or not (found[0].text or "").strip():
        raise _fail("KeyInfo must name the signing certificate (one X509Certificate).")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join((found[0].text or "").split())))
    except ValueError:
        raise _fail("the KeyInfo certificate cannot be read.") from None


def _signing_key(signature: etree._Element, jwks: SigningKeys) -> rsa.RSAPublicKey:
    """The environment's key named by the embedded certificate's thumbprint (the JWKS ``kid``)."""
    certificate = _embedded_certificate(signature)
    der = certificate.public_bytes(serialization.Encoding.DER)
    kid = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()  # SuperOffice's documented kid
    key = jwks.key(kid)
    embedded = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or not isinstance(embedded, rsa.RSAPublicKey) \
            or key.public_numbers() != embedded.public_numbers():
        raise _fail(f"the certificate in KeyInfo does not hold the key published as {kid} in the JWKS.")
    return key


def _verify(signature: etree._Element, assertion: etree._Element, key: rsa.RSAPublicKey) -> None:
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(pem, xc.KeyDataFormatPem)
    context.register_id(assertion, "ID")
    for transform in (xc.TransformEnveloped, xc.TransformExclC14N, xc.TransformSha256):
        context.enable_reference_transform(transform)
    for transform in (xc.TransformExclC14N, xc.TransformRsaSha256):
        context.enable_signature_transform(transform)
    try:
        context.verify(signature)
    except xmlsec.Error:
        raise _fail("the XML signature does not verify: the assertion was altered or forged.") from None


# --- reading the verified assertion -----------------------------------------------------------


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return "".join(element.itertext()).strip()


def _read_claims(assertion: etree._Element) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for attribute in assertion.iterfind(f"{_saml('AttributeStatement')}/{_saml('Attribute')}"):
        name = attribute.get("Name")
        if not name:
            continue
        if name in claims:
            raise _fail(f"the attribute {name!r} occurs more than once.")
        values = [_text(value) or "" for value in attribute.findall(_saml("AttributeValue"))]
        claims[name] = values[0] if len(values) == 1 else values
    claims["iss"] = _text(assertion.find(_saml("Issuer")))
    subject = _text(assertion.find(f"{_saml('Subject')}/{_saml('NameID')}"))
    if subject:
        claims["sub"] = subject
    return claims


def _check_issuer(claims: dict[str, Any], issuer: str) -> None:
    if claims.get("iss") != issuer:
        raise _fail(f"its issuer is not {issuer!r}.")


def _instant(text: str | None, what: str) -> float:
    if not text:
        raise _fail(f"Conditions lacks {what}.")
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"{what} {text!r} is not an xs:dateTime.") from None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()


def _check_time(assertion: etree._Element, now: float, leeway: float, claims: dict[str, Any]) -> None:
    conditions = assertion.find(_saml("Conditions"))
    if conditions is None:
        raise _fail("it has no Conditions.")
    not_before = _instant(conditions.get("NotBefore"), "NotBefore")
    not_on_or_after = _instant(conditions.get("NotOnOrAfter"), "NotOnOrAfter")
    if now + leeway < not_before:
        raise _fail("it is not valid yet (NotBefore is in the future): check this machine's clock.")
    if now - leeway >= not_on_or_after:
        raise _fail("it has expired (NotOnOrAfter has passed).")
    claims["nbf"], claims["exp"] = int(not_before), int(not_on_or_after)


def _check_audience(assertion: etree._Element, audience: str, claims: dict[str, Any]) -> None:
    path = f"{_saml('Conditions')}/{_saml('AudienceRestriction')}/{_saml('Audience')}"
    audiences = [_text(element) for element in assertion.iterfind(path)]
    if audience not in audiences:
        raise _fail(f"its audience is not {audience!r}.")
    claims["aud"] = audience
