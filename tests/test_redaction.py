"""Secrets never reach messages, reprs or printed envelopes unless asked for."""

from __future__ import annotations

from soapkit.credentials.base import IssuedCredential, StaticToken
from soapkit.debug import pretty_envelope, redact_envelope
from soapkit.errors import AgentError, AuthenticationFailed
from soapkit.redaction import redact_headers, redact_text

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl"
SIGNED = "My App-8k8Q7DmBgo.202611221705." + "A" * 342 + "=="


def test_tickets_tokens_and_jwts_are_masked_in_text() -> None:
    text = f"ticket 7T:abcDEF123== and token 8A:Cust1.xyz and {JWT} and signed {SIGNED}"
    out = redact_text(text)
    for secret in ("7T:abcDEF123", "8A:Cust1.xyz", JWT, "A" * 50):
        assert secret not in out
    assert out.count("***") >= 4


def test_private_keys_are_masked() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY-----"
    xml = "<RSAKeyValue><Modulus>bW9k</Modulus><Exponent>AQAB</Exponent><P>cA==</P><D>ZA==</D></RSAKeyValue>"
    assert "MIIabc" not in redact_text(pem)
    out = redact_text(xml)
    assert "<P>***</P>" in out and "<D>***</D>" in out and "<Modulus>bW9k</Modulus>" in out


def test_key_value_pairs_and_headers() -> None:
    out = redact_text("client_secret=s3cr3t&refresh_token=r3fr3sh Authorization: Bearer abc.def")
    assert "s3cr3t" not in out and "r3fr3sh" not in out and "abc.def" not in out
    assert redact_headers({"SO-AppToken": "x", "Authorization": "SOTicket 7T:a", "Accept": "text/xml"}) == {
        "SO-AppToken": "***", "Authorization": "***", "Accept": "text/xml"}


def test_exceptions_never_carry_secrets() -> None:
    error = AgentError("Ticket 7T:leaked-ticket is invalid")
    assert "leaked-ticket" not in str(error) and "leaked-ticket" not in repr(error)
    failed = AuthenticationFailed("no", server_message=f"bad token {JWT}")
    assert JWT not in (failed.server_message or "")


def test_credential_reprs_hide_values() -> None:
    assert "secret-ticket" not in repr(IssuedCredential("7T:secret-ticket", 0))
    assert "secret-ticket" not in repr(StaticToken("7T:secret-ticket"))


def test_signed_token_and_partner_secret_reprs_hide_values() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from soapkit.credentials.signing import SignedSystemToken, sign_system_token
    from soapkit.sandbox.provision import PartnerSecrets

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    parsed = SignedSystemToken.parse(sign_system_token("Secret App-8k8Q7DmBgo", key))
    assert "8k8Q7DmBgo" not in repr(parsed) and "timestamp=" in repr(parsed)
    secrets = PartnerSecrets("client-1", "the-client-secret", "App-systemtoken")
    assert "the-client-secret" not in repr(secrets) and "App-systemtoken" not in repr(secrets)


ENVELOPE = b"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>
<ApplicationToken xmlns="urn:x">client-secret-value</ApplicationToken>
<Credentials xmlns="urn:x"><Ticket>7T:the-ticket</Ticket></Credentials></s:Header>
<s:Body><Get xmlns="urn:x"><Id>5</Id></Get></s:Body></s:Envelope>"""


def test_envelopes_are_redacted_by_default_and_shown_only_on_request() -> None:
    redacted = redact_envelope(ENVELOPE).decode()
    assert "client-secret-value" not in redacted and "the-ticket" not in redacted and "<Id>5</Id>" in redacted
    assert "client-secret-value" in pretty_envelope(ENVELOPE, show_secrets=True)
    assert "client-secret-value" not in pretty_envelope(ENVELOPE)
