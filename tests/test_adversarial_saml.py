"""Forged SAML assertions: unsigned, foreign key, the signature-wrapping families, comments, expired, wrong
audience, DTDs and entities, ID games. Each is a TokenValidationError in bounded time; none yields its ticket.

Assertions are built and signed offline with the sandbox's own builder and a local identity (no network).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import time
from collections.abc import Callable

import pytest
from lxml import etree

from soapkit.credentials.jwt_validation import CLAIM_PREFIX, SYSTEM_USER_ISSUER, TICKET_CLAIM, JwksCache
from soapkit.credentials.saml import validate_saml_assertion
from soapkit.errors import TokenValidationError
from soapkit.sandbox.identity import Identity, _self_signed, new_rsa_key
from soapkit.sandbox.saml import DSIG_NS, SAML_NS, build_assertion, sign_assertion

NOW = dt.datetime.now(dt.timezone.utc)
_KEY, _FOREIGN = new_rsa_key(), new_rsa_key()
REAL = Identity(_KEY, _self_signed(_KEY, NOW))
FORGER = Identity(_FOREIGN, _self_signed(_FOREIGN, NOW))
CLAIMS = {TICKET_CLAIM: "7T:signed-ticket", CLAIM_PREFIX + "serial": "42", CLAIM_PREFIX + "ctx": "Cust1"}


def assertion(identity: Identity | None = REAL, *, audience: str = "spn:42", issuer: str = SYSTEM_USER_ISSUER,
              starts: dt.timedelta = dt.timedelta(0), lasts: dt.timedelta = dt.timedelta(minutes=5)) -> etree._Element:
    element = build_assertion(CLAIMS, subject="system", issuer=issuer, audience=audience,
                              not_before=NOW + starts, not_on_or_after=NOW + starts + lasts)
    return sign_assertion(element, identity) if identity is not None else element


def encode(root: etree._Element | bytes) -> str:
    data = root if isinstance(root, bytes) else etree.tostring(root)
    return base64.b64encode(data).decode()


def ticket_of(root: etree._Element) -> etree._Element:
    found = root.find(f".//{{{SAML_NS}}}Attribute[@Name='{TICKET_CLAIM}']/{{{SAML_NS}}}AttributeValue")
    assert found is not None
    return found


def evil_copy(signed: etree._Element, *, keep_id: bool = False) -> etree._Element:
    evil = copy.deepcopy(signed)
    evil.remove(evil.find(f"{{{DSIG_NS}}}Signature"))  # type: ignore[arg-type]
    ticket_of(evil).text = "7T:EVIL"
    if not keep_id:
        evil.set("ID", "_evil")
    return evil


def xsw_signed_inside_evil() -> str:
    evil = evil_copy(signed := assertion())
    evil.append(signed)
    return encode(evil)


def xsw_evil_same_id_wraps_signed() -> str:
    evil = evil_copy(signed := assertion(), keep_id=True)
    evil.find(f"{{{SAML_NS}}}Subject").append(signed)  # type: ignore[union-attr]
    return encode(evil)


def xsw_response_wrapper() -> str:
    signed = assertion()
    wrapper = etree.Element("{urn:oasis:names:tc:SAML:2.0:protocol}Response")
    wrapper.extend([evil_copy(signed), signed])
    return encode(wrapper)


def xsw_evil_in_signature_object() -> str:
    signed = assertion()
    obj = etree.SubElement(signed.find(f"{{{DSIG_NS}}}Signature"), f"{{{DSIG_NS}}}Object")  # type: ignore[arg-type]
    obj.append(evil_copy(signed))
    return encode(signed)


def tampered_ticket() -> str:
    signed = assertion()
    ticket_of(signed).text = "7T:EVIL"
    return encode(signed)


def comment_in_ticket() -> str:
    signed = assertion()
    value = ticket_of(signed)
    text, value.text = value.text or "", (value.text or "")[:4]
    comment = etree.Comment("x")
    comment.tail = text[4:]
    value.append(comment)
    return encode(signed)


def foreign_key_with_real_certificate() -> str:
    forged = assertion(FORGER)
    certificate = forged.find(f".//{{{DSIG_NS}}}X509Certificate")
    assert certificate is not None
    certificate.text = base64.b64encode(REAL.certificate_der).decode()
    return encode(forged)


def duplicate_xml_id() -> str:
    signed = assertion()
    signed.find(f"{{{SAML_NS}}}Subject").set("{http://www.w3.org/XML/1998/namespace}id",  # type: ignore[union-attr]
                                              signed.get("ID"))
    return encode(signed)


def reference_to_another_element() -> str:
    signed = assertion()
    signed.find(f".//{{{DSIG_NS}}}Reference").set("URI", "#_other")  # type: ignore[union-attr]
    return encode(signed)


def two_signatures() -> str:
    signed = assertion()
    signed.append(copy.deepcopy(signed.find(f"{{{DSIG_NS}}}Signature")))
    return encode(signed)


def sha1_digest() -> str:
    signed = assertion()
    signed.find(f".//{{{DSIG_NS}}}DigestMethod").set("Algorithm",  # type: ignore[union-attr]
                                                    "http://www.w3.org/2000/09/xmldsig#sha1")
    return encode(signed)


def entity_document(declaration: str, body: str) -> str:
    return encode((f'<?xml version="1.0"?><!DOCTYPE saml:Assertion [{declaration}]>'
                   f'<saml:Assertion xmlns:saml="{SAML_NS}" ID="_a">{body}</saml:Assertion>').encode())


LAUGHS = '<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'

FORGERIES: dict[str, Callable[[], str]] = {
    "unsigned": lambda: encode(assertion(None)),
    "signed by a foreign key": lambda: encode(assertion(FORGER)),
    "foreign key naming the real certificate": foreign_key_with_real_certificate,
    "tampered ticket": tampered_ticket,
    "XSW: signed inside evil": xsw_signed_inside_evil,
    "XSW: evil with the same ID wraps signed": xsw_evil_same_id_wraps_signed,
    "XSW: both in a Response": xsw_response_wrapper,
    "XSW: evil in the Signature's Object": xsw_evil_in_signature_object,
    "comment splitting the ticket": comment_in_ticket,
    "expired": lambda: encode(assertion(starts=-dt.timedelta(hours=2))),
    "not yet valid": lambda: encode(assertion(starts=dt.timedelta(hours=2))),
    "wrong audience": lambda: encode(assertion(audience="spn:43")),
    "wrong issuer": lambda: encode(assertion(issuer="Evil AS")),
    "DTD with an external file entity": lambda: entity_document('<!ENTITY x SYSTEM "file:///etc/passwd">', "&x;"),
    "DTD with a URL entity": lambda: entity_document('<!ENTITY x SYSTEM "http://127.0.0.1:9/x">', "&x;"),
    "billion laughs": lambda: entity_document(LAUGHS, "&c;"),
    "xml:id colliding with the signed ID": duplicate_xml_id,
    "reference to another element": reference_to_another_element,
    "two signatures": two_signatures,
    "SHA-1 digest": sha1_digest,
    "10,000-deep nesting": lambda: encode(b"<a>" * 10_000 + b"</a>" * 10_000),
    "invalid UTF-8": lambda: encode(b'<?xml version="1.0" encoding="utf-8"?><a>\xff\xfe</a>'),
    "larger than the cap": lambda: encode(b"<a>" + b"x" * 400_000 + b"</a>"),
}


@pytest.fixture(scope="module")
def jwks() -> JwksCache:
    cache = JwksCache("http://127.0.0.1:9/never-fetched", min_refresh_interval=1e9, new_kid_refresh_interval=1e9)
    cache._keys = {REAL.kid: REAL.key.public_key()}
    cache._fetched_at = time.monotonic()
    return cache


def validate(token: str, jwks: JwksCache) -> dict[str, object]:
    return validate_saml_assertion(token, jwks, issuer=SYSTEM_USER_ISSUER, audience="spn:42")


def test_the_genuine_assertion_passes(jwks: JwksCache) -> None:
    assert validate(encode(assertion()), jwks)[TICKET_CLAIM] == "7T:signed-ticket"


def test_there_are_at_least_12_forgeries() -> None:
    assert len(FORGERIES) >= 12


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", list(FORGERIES))
def test_each_forged_assertion_is_a_typed_refusal(name: str, jwks: JwksCache) -> None:
    token = FORGERIES[name]()
    started = time.perf_counter()
    with pytest.raises(TokenValidationError) as refused:
        validate(token, jwks)
    assert time.perf_counter() - started < 5
    assert "7T:EVIL" not in str(refused.value) and "root:" not in str(refused.value)
