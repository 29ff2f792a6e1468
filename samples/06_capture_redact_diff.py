"""Capture envelopes, print them redacted, save a capture file, and diff two requests.

    python samples/06_capture_redact_diff.py [--sandbox DIR] [-o capture.json]

The hunt this serves: "it works from .NET and fails from Python". Capture what soapkit sends, diff it
against what the .NET client sends (here a hand-written WCF-style envelope) after canonicalisation:
prefixes, whitespace and volatile values (tickets, message ids) do not count, real differences do.
The same from the shell: ``soapkit call ... --save-capture c.json`` and ``soapkit diff dotnet.xml c.json#0``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit import SystemUser
from soapkit.debug import (
    Exchange,
    Recorder,
    diff_envelopes,
    load_capture,
    outcome_summary,
    pretty_envelope,
    soap_outcome,
)

SO = "http://www.superoffice.net/ws/crm/NetServer/Services88"
# What a WCF client sends for GetContactEntity(2): other prefixes, a default namespace, its own ticket.
DOTNET_REQUEST = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header>
    <h:ApplicationToken xmlns:h="{SO}">the-dotnet-apps-secret</h:ApplicationToken>
    <h:Credentials xmlns:h="{SO}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
      <h:Ticket>7T:dotnet-ticket</h:Ticket>
    </h:Credentials>
  </s:Header>
  <s:Body><GetContactEntity xmlns="{SO}"><ContactEntityId>2</ContactEntityId></GetContactEntity></s:Body>
</s:Envelope>"""


def _agent_calls(exchanges: list[Exchange]) -> list[Exchange]:
    return [exchange for exchange in exchanges if exchange.operation == "GetContactEntity"]


def main(argv: list[str] | None = None) -> int:
    parser = sample_parser(__doc__)
    parser.add_argument("-o", "--output", help="capture file to write (default: a temporary file)")
    args = parser.parse_args(argv)
    recorder = Recorder(max_exchanges=10)
    with sandbox_config(args.sandbox) as config, soapkit.connect(
        config["context_identifier"], env=config["base_url"], app_token=config["client_secret"],
        credentials=SystemUser(config["system_user_token"], config["private_key_pem"]), recorder=recorder,
    ) as so:
        so.ContactAgent.GetContactEntity(1)
        so.ContactAgent.GetContactEntity(2)
        secrets = [config["client_secret"], so.ticket()]

    # The recorder holds the sign-in (PartnerSystemUserService Authenticate) and then the two agent calls.
    first_call = _agent_calls(recorder.exchanges)[0]
    print(f"== recorded: {', '.join(e.operation for e in recorder.exchanges)} ==")
    print("== the first agent request, as soapkit prints it (redacted) ==")
    print(pretty_envelope(first_call.request_body).rstrip())
    print(f"<-- HTTP {first_call.status} in {first_call.seconds * 1000:.1f} ms  "
          f"{outcome_summary(soap_outcome(first_call.response_body))}")

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(args.output or Path(scratch) / "capture.json")
        recorder.save(path)                                   # redacted unless show_secrets=True
        saved = path.read_text()
        print(f"\n== saved {len(recorder)} exchanges to {path.name}: secrets in it: "
              f"{sum(secret in saved for secret in secrets)} ==")
        first, second = _agent_calls(load_capture(path))

    print("\n== soapkit's two requests: only the id differs ==")
    print(diff_envelopes(first.request_body, second.request_body, labels=("request #0", "request #1")))
    difference = diff_envelopes(DOTNET_REQUEST, second.request_body, labels=("dotnet", "soapkit"))
    print("== the .NET request against soapkit's ==")
    print(difference or "equivalent: same elements, same order, same namespaces")
    return 0 if not difference else 1


if __name__ == "__main__":
    sys.exit(main())
