"""The `soapkit` commands that talk to a tenant, against a sandbox: call, ticket, state, replay."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soapkit.cli import main
from soapkit.debug import load_capture

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from soapkit.sandbox import Sandbox

    with Sandbox(tmp_path_factory.mktemp("cli-sandbox"), host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("SOAPKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SOAPKIT_CONFIG_DIR", str(tmp_path / "user-config"))
    monkeypatch.chdir(tmp_path)  # no ./soapkit.toml of the machine running the tests


@pytest.fixture
def sb(sandbox: Any) -> list[str]:
    """The --sandbox option for the module's sandbox."""
    return ["--sandbox", str(Path(sandbox.config_path).parent)]


def secrets_of(sandbox: Any) -> list[str]:
    config = sandbox.config
    return [config["client_secret"], config["system_user_token"]]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def test_call_prints_the_result_as_json(capsys: pytest.CaptureFixture[str], sb: list[str]) -> None:
    code, out, _ = run(capsys, "call", "ContactAgent.GetContactEntity", "2", *sb)
    company = json.loads(out)
    assert code == 0 and company["ContactId"] == 2 and company["Name"]
    assert company["CreatedDate"][:4].isdigit() and "T" in company["CreatedDate"]  # ISO 8601


def test_call_trace_shows_redacted_envelopes_and_timings(capsys: pytest.CaptureFixture[str], sb: list[str],
                                                         sandbox: Any, tmp_path: Path) -> None:
    capture = tmp_path / "call.json"
    code, out, err = run(capsys, "call", "PersonAgent.GetPersonEntity", "PersonEntityId=1", *sb, "--trace",
                         "--save-capture", str(capture))
    assert code == 0 and json.loads(out)["PersonId"] == 1
    assert "--> POST " in err and "<-- HTTP 200 in" in err and "Succeeded=true" in err and " ms on the wire" in err
    assert "<ns0:PersonEntityId>1</ns0:PersonEntityId>" in err
    for secret in secrets_of(sandbox):
        assert secret not in err and secret not in capture.read_text()
    assert not re.search(r"7T:(?!\*\*\*)", err) and stat.S_IMODE(capture.stat().st_mode) == 0o600
    # the sign-in is on the wire too, and shown: the trace hides nothing that was sent
    captured = load_capture(capture)
    assert [e.operation for e in captured if e.method == "POST"] == ["Authenticate", "GetPersonEntity"]
    assert [e.operation for e in captured if e.method == "GET"] == ["Cust12345", "jwks"]  # state lookup, JWKS
    assert "--> GET " in err
    assert "PartnerSystemUserService" in err


def test_call_with_a_complex_argument_saves_a_company(capsys: pytest.CaptureFixture[str], sb: list[str]) -> None:
    code, out, _ = run(capsys, "call", "ContactAgent.SaveContactEntity", '{"Name": "Nordlys CLI AS"}', *sb)
    saved = json.loads(out)
    assert code == 0 and saved["ContactId"] > 0
    code, out, _ = run(capsys, "call", "ContactAgent.GetContactEntity", str(saved["ContactId"]), *sb)
    assert json.loads(out)["Name"] == "Nordlys CLI AS"


def test_call_errors_at_the_server_exit_1(capsys: pytest.CaptureFixture[str], sb: list[str], tmp_path: Path) -> None:
    wrong = tmp_path / "app-token"
    wrong.write_text("not-the-client-secret\n")
    code, out, err = run(capsys, "call", "ContactAgent.GetContactEntity", "1", *sb, "--app-token-file", str(wrong))
    assert code == 1 and out == "" and err.startswith("error: ") and "hint: " in err
    assert "not-the-client-secret" not in err


def test_call_with_a_ticket_file_and_a_rejected_ticket(capsys: pytest.CaptureFixture[str], sb: list[str],
                                                       sandbox: Any, tmp_path: Path) -> None:
    ticket = sandbox.issue_ticket()
    ticket_file = tmp_path / "ticket"
    ticket_file.write_text(ticket)
    code, out, _ = run(capsys, "call", "ContactAgent.GetContactEntity", "1", *sb, "--ticket-file", str(ticket_file))
    assert code == 0 and json.loads(out)["ContactId"] == 1
    sandbox.revoke_credential(ticket)
    code, _, err = run(capsys, "call", "ContactAgent.GetContactEntity", "1", *sb, "--ticket-file", str(ticket_file))
    assert code == 1 and "revoked" in err and ticket not in err


def test_call_to_a_stopped_sandbox_is_a_transport_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                        sandbox: Any) -> None:
    config = dict(sandbox.config)
    config["base_url"] = "http://127.0.0.1:9"  # discard port: nothing listens
    (tmp_path / "sandbox.json").write_text(json.dumps(config))
    code, _, err = run(capsys, "call", "ContactAgent.GetContactEntity", "1", "--sandbox", str(tmp_path),
                       "--timeout", "5")
    assert code == 3 and "error: " in err and "check that it is running" in err


def test_ticket_shows_validated_claims_and_hides_the_ticket(capsys: pytest.CaptureFixture[str], sb: list[str],
                                                            tmp_path: Path) -> None:
    code, out, _ = run(capsys, "ticket", *sb, "--json")
    shown = json.loads(out)
    claims = shown["claims"]
    assert code == 0 and shown["ticket"] == "7T:***"
    assert claims["http://schemes.superoffice.net/identity/ctx"] == "Cust12345"
    assert claims["http://schemes.superoffice.net/identity/ticket"] == "7T:***"
    output = tmp_path / "ticket.txt"
    code, out, _ = run(capsys, "ticket", *sb, "--method", "rest", "-o", str(output))
    ticket = output.read_text().strip()
    assert code == 0 and ticket.startswith("7T:") and ticket not in out
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    code, out, _ = run(capsys, "ticket", *sb, "--show-secrets")
    assert code == 0 and "7T:***" not in out.splitlines()[0]


def test_ticket_needs_a_system_user(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ticket", "--env", "sod", "--ctx", "Cust1")
    assert code == 2 and "Missing configuration: app_token, system_user_token, private_key." in err
    for way in ("--app-token-file FILE", "--system-user-token", "--private-key FILE", "--sandbox DIR"):
        assert way in err
    assert "--system-user-token" in err and "SOAPKIT_PRIVATE_KEY" in err


def test_call_without_arguments_is_an_error_not_null(capsys: pytest.CaptureFixture[str], sb: list[str]) -> None:
    code, out, err = run(capsys, "call", "ContactAgent.GetContactEntity", *sb)
    assert code == 2 and not out and "none was given" in err
    code, out, err = run(capsys, "call", "ContactAgent.GetContactEntity", *sb, "--no-arguments")
    assert code == 0 and out.strip() == "null", err


def test_state_exit_codes(capsys: pytest.CaptureFixture[str], sb: list[str], sandbox: Any) -> None:
    code, out, _ = run(capsys, "state", "Cust12345", *sb, "--json")
    assert code == 0 and json.loads(out)["State"] == "Running"
    sandbox.add_tenant("Cust777", state="Suspended")
    code, out, _ = run(capsys, "state", "Cust777", *sb)
    assert code == 5 and "Suspended" in out
    code, _, err = run(capsys, "state", "Cust404", *sb)
    assert code == 5 and "unknown" in err
    code, _, err = run(capsys, "state", "tenant-x", *sb)
    assert code == 2 and "not a context identifier" in err


def test_replay_resends_a_capture_with_a_fresh_ticket(capsys: pytest.CaptureFixture[str], sb: list[str],
                                                      sandbox: Any, tmp_path: Path) -> None:
    capture = tmp_path / "c.json"
    assert run(capsys, "call", "ContactAgent.GetContactEntity", "3", *sb, "--save-capture", str(capture))[0] == 0
    code, out, _ = run(capsys, "replay", str(capture), *sb, "--diff")
    assert code == 0 and "Succeeded=true" in out and "equivalent to the captured one" in out
    assert "<ns0:ContactEntityId>3</ns0:ContactEntityId>" in out
    for secret in secrets_of(sandbox):
        assert secret not in out
    code, _, err = run(capsys, "replay", str(capture), "--index", "4", *sb)
    assert code == 2 and "has no exchange #4" in err


def test_replay_of_a_failing_call_exits_1(capsys: pytest.CaptureFixture[str], sb: list[str], tmp_path: Path) -> None:
    capture = tmp_path / "fail.json"
    code, _, _ = run(capsys, "call", "ContactAgent.DeleteContactEntity", "999999", *sb, "--save-capture", str(capture))
    assert code == 1
    code, out, _ = run(capsys, "replay", str(capture), *sb)
    assert code == 1 and "Succeeded=false" in out


def test_wsdl_import_from_a_tenants_wsdl_url(capsys: pytest.CaptureFixture[str], sandbox: Any,
                                             tmp_path: Path) -> None:
    url = f"{sandbox.config['netserver_url']}Person.svc?wsdl"
    code, out, _ = run(capsys, "wsdl", "import", url, "--dest", str(tmp_path / "wsdl"), "--json")
    imported = json.loads(out)
    assert code == 0 and imported["service"] == "PersonAgent" and imported["operations"] >= 7
    assert "Person.NetServerTypes.xsd" in imported["files"]  # ?xsd=NetServerTypes, saved under a local name
    wsdl_text = (tmp_path / "wsdl" / "Services88" / "Person.wsdl").read_text()
    assert "?xsd=" not in wsdl_text and "Person.NetServerTypes.xsd" in wsdl_text
    code, out, _ = run(capsys, "call", "PersonAgent.GetPersonEntity", "1", "--wsdl-dir", str(tmp_path / "wsdl"),
                       "--sandbox", str(Path(sandbox.config_path).parent))
    assert code == 0 and json.loads(out)["PersonId"] == 1


def test_an_agent_error_prints_its_message_once(capsys: pytest.CaptureFixture[str], sb: list[str]) -> None:
    code, _, err = run(capsys, "call", "ContactAgent.DeleteContactEntity", "999999", *sb)
    assert code == 1 and err.startswith("error: EntityNotFoundException")
    message = err.splitlines()[0].removeprefix("error: ")
    assert err.count(message.split(": ", 1)[1]) == 1


def test_a_migrated_app_config_drives_a_call(capsys: pytest.CaptureFixture[str], sandbox: Any,
                                             tmp_path: Path) -> None:
    """App.config -> soapkit migrate -> soapkit.toml (+ secret files, PEM key) -> soapkit call."""
    config = sandbox.config
    app_config = tmp_path / "App.config"
    app_config.write_text(f"""<configuration>
      <appSettings>
        <add key="SoAppId" value="{config['client_id']}"/>
        <add key="SoFederationGateway" value="{config['base_url']}/login/"/>
        <add key="SoContextIdentifier" value="{config['context_identifier']}"/>
        <add key="SystemTokenCertificatePath" value="{config['private_key_xml']}"/>
        <add key="SystemUserToken" value="{config['system_user_token']}"/>
      </appSettings>
      <SuperOffice><Services><add key="ApplicationToken" value="{config['client_secret']}"/></Services></SuperOffice>
    </configuration>""")
    toml = tmp_path / "deploy" / "soapkit.toml"
    code, out, _ = run(capsys, "migrate", str(app_config), "-o", str(toml))
    assert code == 0 and "not a SuperOffice Online host" in out  # a sandbox URL is carried as a base URL
    assert config["client_secret"] not in toml.read_text()
    code, out, _ = run(capsys, "call", "ContactAgent.GetContactEntity", "1", "--config", str(toml))
    assert code == 0 and json.loads(out)["ContactId"] == 1


@pytest.mark.parametrize("raw", [False, True])
def test_envelope_and_capture_of_the_same_call_diff_equal(capsys: pytest.CaptureFixture[str], sb: list[str],
                                                          tmp_path: Path, raw: bool) -> None:
    capture = tmp_path / "call.json"
    code, _, err = run(capsys, "call", "ContactAgent.GetContactEntity", "2", *sb, "--save-capture", str(capture))
    assert code == 0, err
    code, envelope, err = run(capsys, "envelope", "ContactAgent.GetContactEntity", "2", *sb,
                              *(["--raw"] if raw else []))
    assert code == 0, err
    assert "<ns0:Ticket>7T:***</ns0:Ticket>" in envelope or ">7T:***<" in envelope
    assert "{Ticket}" not in envelope and "{ApplicationToken}" not in envelope
    (tmp_path / "envelope.xml").write_text(envelope)
    code, out, _ = run(capsys, "diff", str(tmp_path / "envelope.xml"), str(capture))
    assert code == 0, out


def test_a_missing_app_token_is_explained_in_options(capsys: pytest.CaptureFixture[str], sandbox: Any,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOAPKIT_APP_TOKEN", raising=False)
    monkeypatch.delenv("SOAPKIT_APP_TOKEN_FILE", raising=False)
    ticket = tmp_path / "ticket.txt"
    ticket.write_text("7T:abcdefgh\n")
    code, out, err = run(capsys, "call", "ContactAgent.GetContactEntity", "2", "--env", sandbox.config["base_url"],
                         "--ctx", sandbox.config["context_identifier"], "--ticket-file", str(ticket))
    assert code == 2 and not out
    assert "hint: Pass --app-token-file FILE (your application's client secret) or set SOAPKIT_APP_TOKEN." in err
    assert "app_token=" not in err
