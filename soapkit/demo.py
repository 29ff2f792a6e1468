"""``soapkit demo``: the whole system-user flow and real agent calls against an in-process sandbox.

Starts the sandbox on an ephemeral loopback port in a temporary folder, signs the system-user token,
exchanges it at PartnerSystemUserService, validates the JWT, creates a company and a person, reads the
company back with ``ContactAgent.GetContactEntity``, lists its persons, and prints the results and the
envelopes that went over the wire, with secrets redacted (``--show-secrets`` shows them).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from soapkit.client import connect
from soapkit.credentials.jwt_validation import CLAIM_PREFIX
from soapkit.credentials.system_user import SystemUser, exchange_signed_token
from soapkit.debug import Recorder, format_exchange
from soapkit.redaction import mask, redact_text


class _Printer:
    def __init__(self, out: TextIO, show_secrets: bool) -> None:
        self.out = out
        self.show_secrets = show_secrets

    def step(self, text: str) -> None:
        print(f"\n== {text}", file=self.out)

    def line(self, text: str = "") -> None:
        print(text if self.show_secrets else redact_text(text), file=self.out)

    def secret(self, label: str, value: str, *, keep: int = 3) -> None:
        """A secret, masked; ``keep`` leading characters that only tell its kind (``7T:``, ``eyJ``) stay."""
        print(f"   {label}: {value if self.show_secrets else mask(value, keep)}", file=self.out)


def run_demo(*, out: TextIO = sys.stdout, show_secrets: bool = False, data_dir: Path | None = None,
             envelopes: bool = True) -> int:
    """Run the demo; returns the process exit code (0 on success)."""
    from soapkit.sandbox import Sandbox

    with tempfile.TemporaryDirectory(prefix="soapkit-demo-") as scratch:
        folder = data_dir or Path(scratch)
        with Sandbox(data_dir=folder, host="127.0.0.1", port=0) as sandbox:
            return _walk_through(sandbox.config, _Printer(out, show_secrets), envelopes)


# The exchanges printed in full; the others get one line each.
SHOWN_IN_FULL = ("Authenticate", "GetContactEntity")


def _print_envelopes(recorder: Recorder, say: _Printer) -> None:
    say.step("Envelopes on the wire (secrets redacted; --show-secrets shows them)")
    shown: set[str] = set()
    for exchange in recorder.exchanges:
        if exchange.operation in SHOWN_IN_FULL and exchange.operation not in shown:
            shown.add(exchange.operation)
            print(format_exchange(exchange, show_secrets=say.show_secrets) + "\n", file=say.out)
        else:
            say.line(f"   {exchange.operation}: HTTP {exchange.status} in {exchange.seconds * 1000:.1f} ms")


def _walk_through(cfg: dict[str, Any], say: _Printer, envelopes: bool) -> int:
    say.step(f"Sandbox listening on {cfg['base_url']} (tenant {cfg['context_identifier']})")
    recorder = Recorder()
    credential = SystemUser(cfg["system_user_token"], cfg["private_key_xml"])
    so = connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                 credentials=credential, recorder=recorder)

    say.step("1. Sign the system-user token (RSA-SHA256 over token.yyyyMMddHHmm, key read from .NET RSA XML)")
    signed = credential.sign()
    say.secret("signed token", signed, keep=0)  # it starts with the system-user token: nothing of it shows

    say.step("2. Exchange it at PartnerSystemUserService (SOAP) and validate the JWT")
    token = exchange_signed_token(so.context, signed)  # recorded: the context carries the recorder
    say.secret("JWT", token)
    from soapkit.credentials.jwt_validation import validate_system_user_jwt

    claims = validate_system_user_jwt(token, so.context.jwks, context_identifier=so.context.context_identifier)
    say.line("   valid: RS256, issuer 'SuperOffice AS', audience spn:{serial}, key from JWKS by kid, not expired")
    for name in ("ctx", "netserver_url", "associateid", "is_administrator", "company_name"):
        say.line(f"   {name}: {claims.get(CLAIM_PREFIX + name)}")
    say.secret("ticket", str(claims[CLAIM_PREFIX + "ticket"]))

    say.step("3. Create a company with ContactAgent (CreateDefaultContactEntity + SaveContactEntity)")
    company = so.ContactAgent.CreateDefaultContactEntity()
    company.Name = "Demo Industries AS"
    company.Department = "Python integrations"
    company = so.ContactAgent.SaveContactEntity(company)
    say.line(f"   saved company #{company.ContactId}: {company.Name} / {company.Department}")

    person = so.PersonAgent.CreateDefaultPersonEntity()
    person.Firstname, person.Lastname = "Ada", "Lovelace"
    person.Contact = so.ContactAgent.GetContact(company.ContactId)
    person = so.PersonAgent.SavePersonEntity(person)
    say.line(f"   saved person #{person.PersonId}: {person.Firstname} {person.Lastname}")

    say.step(f"4. Read it back: ContactAgent.GetContactEntity({company.ContactId})")
    again = so.ContactAgent.GetContactEntity(company.ContactId)
    say.line(f"   #{again.ContactId} {again.Name} / {again.Department}, created {again.CreatedDate:%Y-%m-%d %H:%M}")

    say.step(f"5. List its persons: ContactAgent.GetPersons({company.ContactId})")
    persons = so.ContactAgent.GetPersons(company.ContactId) or []
    for item in persons:
        say.line(f"   person #{item.PersonId}: {item.FullName or item.Firstname} <{item.ContactName}>")

    agent_calls = sum(1 for e in recorder.exchanges if e.operation != "Authenticate")
    say.step(f"The client exchanged the token {credential.fetch_count} time(s) for {agent_calls} agent calls: "
             "the ticket is cached, not fetched per call.")
    if envelopes:
        _print_envelopes(recorder, say)
    say.step("Done.")
    return 0
