"""SAML from PartnerSystemUserService: the sandbox signs with xmlsec; soapkit verifies, reads only what was signed."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import time
from collections.abc import Iterator

import pytest
from lxml import etree
from test_oauth_support import running_sandbox

from soapkit import connect
from soapkit.credentials.base import AuthContext
from soapkit.credentials.jwt_validation import CLAIM_PREFIX, SYSTEM_USER_ISSUER, TICKET_CLAIM
from soapkit.credentials.saml import validate_saml_assertion, validate_system_user_saml
from soapkit.credentials.signing import sign_system_token
from soapkit.credentials.system_user import SystemUser, exchange_signed_token
from soapkit.errors import TokenValidationError
from soapkit.sandbox import Sandbox
from soapkit.sandbox.identity import Identity, _self_signed, new_rsa_key
from soapkit.sandbox.saml import DSIG_NS, SAML_NS, signed_assertion_base64

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from running_sandbox(tmp_path_factory, "saml-sandbox")


@pytest.fixture()
def context(sandbox: Sandbox) -> AuthContext:
    return connect(sandbox.context_identifier, env=sandbox.base_url, app_token=sandbox.config["client_secret"],
                   ticket="7T:unused").context


@pytest.fixture()
def token(sandbox: Sandbox, context: AuthContext) -> str:
    signed = sign_system_token(sandbox.config["system_user_token"], sandbox.config["private_key_pem"])
    return exchange_signed_token(context, signed, token_type="Saml")


def _xml(token: str) -> etree._Element:
    return etree.fromstring(base64.b64decode(token))


def _token(root: etree._Element) -> str:
    return base64.b64encode(etree.tostring(root)).decode()


def _ticket_value(assertion: etree._Element) -> etree._Element:
    path = f"{{{SAML_NS}}}AttributeStatement/{{{SAML_NS}}}Attribute[@Name='{TICKET_CLAIM}']/{{{SAML_NS}}}AttributeValue"
    found = assertion.find(path)
    assert found is not None
    return found


def _rejected(token: str, context: AuthContext, fragment: str) -> None:
    with pytest.raises(TokenValidationError) as caught:
        validate_system_user_saml(token, context)
    assert fragment in str(caught.value)


# --- the happy path ------------------------------------------------------------------------------


def test_assertion_shape(token: str, sandbox: Sandbox) -> None:
    assertion = _xml(token)
    assert assertion.tag == f"{{{SAML_NS}}}Assertion"
    assert assertion.findtext(f"{{{SAML_NS}}}Issuer") == "SuperOffice AS"
    signature = assertion[1]
    assert signature.tag == f"{{{DSIG_NS}}}Signature"
    algorithms = [e.get("Algorithm") for e in signature.iter() if e.get("Algorithm")]
    assert algorithms == ["http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                          "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                          "http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/04/xmlenc#sha256"]
    assert signature.find(f".//{{{DSIG_NS}}}Reference").get("URI") == "#" + assertion.get("ID")
    audience = assertion.findtext(f".//{{{SAML_NS}}}Audience")
    assert audience == f"spn:{sandbox.backend.tenants.get(sandbox.context_identifier).serial}"  # type: ignore[union-attr]


def test_valid_assertion_gives_the_ticket_and_claims(token: str, context: AuthContext) -> None:
    claims = validate_system_user_saml(token, context)
    assert claims[TICKET_CLAIM].startswith("7T:")
    assert claims[CLAIM_PREFIX + "ctx"] == context.context_identifier
    assert claims["iss"] == SYSTEM_USER_ISSUER and claims["aud"] == f"spn:{claims[CLAIM_PREFIX + 'serial']}"
    assert claims["exp"] > time.time()


@pytest.mark.parametrize("method", ["soap", "rest"])
def test_system_user_with_saml_calls_agents(sandbox: Sandbox, method: str) -> None:
    credential = SystemUser(sandbox.config["system_user_token"], sandbox.config["private_key_pem"], token_type="Saml",
                            method=method)  # type: ignore[arg-type]
    client = connect(sandbox.context_identifier, env=sandbox.base_url, app_token=sandbox.config["client_secret"],
                     credentials=credential)
    assert client.ContactAgent.GetContactEntity(1).ContactId == 1
    assert credential.current(client.context).value.startswith("7T:")  # type: ignore[union-attr]


# --- tampering and forgery -----------------------------------------------------------------------


def test_tampered_ticket_is_rejected(token: str, context: AuthContext) -> None:
    assertion = _xml(token)
    value = _ticket_value(assertion)
    value.text = "7T:" + "A" * 40
    _rejected(_token(assertion), context, "does not verify")


def test_tampered_audience_is_rejected(token: str, context: AuthContext) -> None:
    assertion = _xml(token)
    audience = assertion.find(f".//{{{SAML_NS}}}Audience")
    assert audience is not None
    audience.text = "spn:somebody-else"
    _rejected(_token(assertion), context, "does not verify")


def _evil_copy(assertion: etree._Element, ticket: str = "7T:EVIL", same_id: bool = False) -> etree._Element:
    evil = copy.deepcopy(assertion)
    evil.remove(evil[1])  # no signature
    _ticket_value(evil).text = ticket
    if not same_id:
        evil.set("ID", "_evil")
    return evil


@pytest.mark.parametrize("variant", ["signed inside evil", "evil with the same id", "both in a wrapper",
                                     "evil inside the signature"])
def test_signature_wrapping_is_rejected(token: str, context: AuthContext, variant: str) -> None:
    signed = _xml(token)
    if variant == "signed inside evil":
        root = _evil_copy(signed)
        root.append(signed)
    elif variant == "evil with the same id":
        root = _evil_copy(signed, same_id=True)
        root.find(f"{{{SAML_NS}}}Subject").append(signed)  # type: ignore[union-attr]
    elif variant == "both in a wrapper":
        root = etree.Element("{urn:oasis:names:tc:SAML:2.0:protocol}Response")
        root.extend([_evil_copy(signed), signed])
    else:  # the enveloped transform drops the Signature, so this one even verifies
        root = signed
        obj = etree.SubElement(signed[1], f"{{{DSIG_NS}}}Object")
        obj.append(_evil_copy(copy.deepcopy(signed)))
    with pytest.raises(TokenValidationError) as caught:
        validate_system_user_saml(_token(root), context)
    assert "signature wrapping" in str(caught.value) or "one saml:Assertion" in str(caught.value)
    assert "7T:EVIL" not in str(caught.value)


def test_attribute_hidden_in_the_signature_is_not_read(token: str, context: AuthContext) -> None:
    signed = _xml(token)
    hidden = etree.SubElement(etree.SubElement(signed[1], f"{{{DSIG_NS}}}Object"), f"{{{SAML_NS}}}AttributeStatement")
    attribute = etree.SubElement(hidden, f"{{{SAML_NS}}}Attribute", Name=TICKET_CLAIM)
    etree.SubElement(attribute, f"{{{SAML_NS}}}AttributeValue").text = "7T:EVIL"
    claims = validate_system_user_saml(_token(signed), context)  # still a valid signature: the Object is not signed
    assert claims[TICKET_CLAIM] != "7T:EVIL" and claims[TICKET_CLAIM] == _ticket_value(_xml(token)).text


def test_assertion_signed_by_another_key_is_rejected(sandbox: Sandbox, context: AuthContext) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    key = new_rsa_key()
    forger = Identity(key, _self_signed(key, now))
    claims = {TICKET_CLAIM: "7T:FORGED", CLAIM_PREFIX + "serial": "1"}
    forged = signed_assertion_base64(claims, forger, subject="x", issuer=SYSTEM_USER_ISSUER, audience="spn:1",
                                     now=now, lifetime=dt.timedelta(minutes=5))
    _rejected(forged, context, "No key with kid")
    # Naming the environment's certificate in KeyInfo does not help: the key comes from the JWKS.
    root = _xml(forged)
    certificate = root.find(f".//{{{DSIG_NS}}}X509Certificate")
    assert certificate is not None
    certificate.text = base64.b64encode(sandbox.backend.identity.certificate_der).decode()
    _rejected(_token(root), context, "does not verify")


def test_comment_splitting_a_value_is_rejected(token: str, context: AuthContext) -> None:
    assertion = _xml(token)
    value = _ticket_value(assertion)
    text = value.text or ""
    value.text = text[:5]
    comment = etree.Comment("split")
    comment.tail = text[5:]
    value.append(comment)  # exclusive C14N without comments still digests the same text
    _rejected(_token(assertion), context, "comments")


def test_dtd_and_entities_are_refused(context: AuthContext) -> None:
    document = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">&x;</saml:Assertion>')
    _rejected(base64.b64encode(document).decode(), context, "DTD")


@pytest.mark.parametrize(("token", "fragment"), [("", "empty"), ("not base64!", "not base64"),
                                                 (base64.b64encode(b"<a").decode(), "not well-formed")])
def test_garbage_is_rejected(context: AuthContext, token: str, fragment: str) -> None:
    _rejected(token, context, fragment)


# --- conditions ----------------------------------------------------------------------------------


def test_expired_assertion_is_rejected(token: str, context: AuthContext) -> None:
    with pytest.raises(TokenValidationError, match="expired"):
        validate_system_user_saml(token, context, now=time.time() + 11 * 60 + 61)


def test_clock_skew_within_leeway_is_accepted_beyond_is_not(token: str, context: AuthContext) -> None:
    assert validate_system_user_saml(token, context, now=time.time() - 30)[TICKET_CLAIM]
    with pytest.raises(TokenValidationError, match="not valid yet"):
        validate_system_user_saml(token, context, now=time.time() - 300)


def test_wrong_audience_or_issuer_is_rejected(token: str, context: AuthContext) -> None:
    with pytest.raises(TokenValidationError, match="audience"):
        validate_saml_assertion(token, context.jwks, issuer=SYSTEM_USER_ISSUER, audience="spn:another-database")
    with pytest.raises(TokenValidationError, match="issuer"):
        validate_saml_assertion(token, context.jwks, issuer="Somebody Else", audience="spn:x")
