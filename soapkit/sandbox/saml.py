"""SAML 2.0 assertions for ``ReturnTokenType=Saml`` at PartnerSystemUserService.

The assertion carries the same claims as the system-user JWT (issuer ``SuperOffice AS``, audience
``spn:{serial}``, the ticket and the other identity claims as Attributes) and is signed with the sandbox's
identity key by xmlsec: an enveloped signature, RSA-SHA256, exclusive C14N, one Reference to the
assertion's ``ID``, and the identity certificate in ``KeyInfo/X509Data`` (its SHA-1 thumbprint is the
``kid`` of the same key in the JWKS). The service answers with the base64 of the signed XML.

Laid out as SuperOffice issues it: the SAML namespace is the default namespace (no ``saml:`` prefix),
Attributes carry ``Name`` only (no ``NameFormat``), and the document starts with an XML declaration, so
clients that read SAML loosely (by local name, by ``Name``, or as a whole document) find the ticket.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree
from xmlsec import constants as xc

from soapkit.sandbox.identity import Identity

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
# Registered claims of the JWT that become parts of the assertion instead of Attributes.
_STRUCTURAL_CLAIMS = frozenset({"iss", "aud", "iat", "nbf", "exp", "sub"})


def saml_instant(moment: dt.datetime) -> str:
    """``2024-05-01T12:00:00Z``: SAML's xs:dateTime in UTC."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _element(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{SAML_NS}}}{name}", attributes)
    if text is not None:
        child.text = text
    return child


def build_assertion(claims: Mapping[str, Any], *, subject: str, issuer: str, audience: str,
                    not_before: dt.datetime, not_on_or_after: dt.datetime) -> etree._Element:
    """An unsigned ``saml:Assertion`` whose Attributes are the non-registered ``claims``."""
    assertion = etree.Element(
        f"{{{SAML_NS}}}Assertion",
        {"ID": "_" + uuid.uuid4().hex, "Version": "2.0", "IssueInstant": saml_instant(not_before)},
        nsmap={None: SAML_NS},
    )
    _element(assertion, "Issuer", issuer)
    subject_element = _element(assertion, "Subject")
    _element(subject_element, "NameID", subject)
    confirmation = _element(subject_element, "SubjectConfirmation", Method=BEARER)
    _element(confirmation, "SubjectConfirmationData", NotOnOrAfter=saml_instant(not_on_or_after))
    conditions = _element(assertion, "Conditions", NotBefore=saml_instant(not_before),
                          NotOnOrAfter=saml_instant(not_on_or_after))
    _element(_element(conditions, "AudienceRestriction"), "Audience", audience)
    statement = _element(assertion, "AttributeStatement")
    for name, value in claims.items():
        if name in _STRUCTURAL_CLAIMS:
            continue
        attribute = _element(statement, "Attribute", Name=name)
        _element(attribute, "AttributeValue", str(value))
    return assertion


def sign_assertion(assertion: etree._Element, identity: Identity) -> etree._Element:
    """Sign ``assertion`` in place (enveloped, RSA-SHA256, exclusive C14N); the Signature follows Issuer."""
    signature = xmlsec.template.create(assertion, xc.TransformExclC14N, xc.TransformRsaSha256, ns="ds")
    assertion.insert(1, signature)  # the schema puts ds:Signature right after saml:Issuer
    reference = xmlsec.template.add_reference(signature, xc.TransformSha256, uri="#" + assertion.get("ID", ""))
    xmlsec.template.add_transform(reference, xc.TransformEnveloped)
    xmlsec.template.add_transform(reference, xc.TransformExclC14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    key_pem = identity.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    key = xmlsec.Key.from_memory(key_pem, xc.KeyDataFormatPem)
    key.load_cert_from_memory(identity.certificate.public_bytes(serialization.Encoding.PEM), xc.KeyDataFormatCertPem)
    context = xmlsec.SignatureContext()
    context.key = key
    context.register_id(assertion, "ID")
    context.sign(signature)
    return assertion


def signed_assertion_base64(claims: Mapping[str, Any], identity: Identity, *, subject: str, issuer: str,
                            audience: str, now: dt.datetime, lifetime: dt.timedelta) -> str:
    """The base64 text PartnerSystemUserService returns for ``ReturnTokenType=Saml``."""
    assertion = build_assertion(claims, subject=subject, issuer=issuer, audience=audience,
                                not_before=now, not_on_or_after=now + lifetime)
    sign_assertion(assertion, identity)
    return base64.b64encode(etree.tostring(assertion, encoding="utf-8", xml_declaration=True)).decode("ascii")
