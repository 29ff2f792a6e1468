"""The `soapkit` command line: structure, exit codes, settings, and every offline command with bad input."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from soapkit import cli
from soapkit.catalog import Catalog, bundled_wsdl_dir
from soapkit.cli import EXIT_INTERNAL, EXIT_USAGE, exit_code_for, main
from soapkit.cli._output import Output, colour_enabled, to_jsonable
from soapkit.cli._settings import effective_settings
from soapkit.credentials.keys import load_private_key, private_key_to_pem, private_key_to_xml
from soapkit.credentials.signing import SignedSystemToken
from soapkit.errors import (
    AgentError,
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    CredentialRejected,
    HttpError,
    SoapFault,
    SoapkitError,
    TenantNotRunning,
    TokenValidationError,
    UnknownOperationError,
)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SOAPKIT_* settings or ./soapkit.toml of the machine running the tests; a private user folder."""
    for name in list(os.environ):
        if name.startswith("SOAPKIT_") or name == "NO_COLOR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("SOAPKIT_CONFIG_DIR", str(tmp_path / "user-config"))
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def rsa_key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder = tmp_path_factory.mktemp("keys")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    xml, pem = folder / "key.xml", folder / "key.pem"
    xml.write_text(private_key_to_xml(key))
    pem.write_text(private_key_to_pem(key))
    return xml, pem


# --- structure and exit codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigurationError("x"), 2), (UnknownOperationError("x"), 2), (AgentError("x"), 1), (SoapFault("x"), 1),
        (AuthenticationFailed("x"), 1), (CredentialRejected("x"), 1), (TokenValidationError("x"), 4),
        (ConnectionFailed("x"), 3), (HttpError(500, "x"), 3), (TenantNotRunning("Cust1", "Suspended"), 5),
        (SoapkitError("x"), 1), (RuntimeError("x"), EXIT_INTERNAL),
    ],
)
def test_one_mapping_from_errors_to_exit_codes(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [[name] for name in cli.COMMAND_MODULES]
    commands += [["keys", "convert"], ["keys", "sign"], ["wsdl", "list"], ["wsdl", "show"], ["wsdl", "import"]]
    for command in commands:
        code, out, _ = run(capsys, *command, "--help")
        assert code == 0 and "usage: soapkit" in out, command


def test_core_commands_are_listed_and_missing_optional_modules_are_not() -> None:
    for name in ("call", "envelope", "describe", "wsdl", "ticket", "state", "replay", "diff", "keys", "migrate"):
        assert name in cli.COMMAND_MODULES
    assert cli._present("call") and not cli._present("no_such_command")
    assert not (Path(cli.__file__).parent.parent / "cli.py").exists()


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == EXIT_USAGE and "COMMAND" in err


def test_unexpected_errors_are_one_line_and_exit_70_unless_debugging(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from soapkit.cli import describe

    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("boom with ticket 7T:c2VjcmV0dGlja2V0")

    monkeypatch.setattr(describe, "run", broken)
    code, _, err = run(capsys, "describe")
    assert code == 70 and "unexpected RuntimeError: boom" in err and "SOAPKIT_DEBUG=1" in err
    assert "c2VjcmV0dGlja2V0" not in err
    monkeypatch.setenv("SOAPKIT_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["describe"])


def test_a_broken_command_module_is_reported_not_hidden(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "_no_such_module"))
    # `soapkit --help` loads every command module (running one command loads only its own, for start-up time)
    code, _, err = run(capsys, "--help")
    assert code == 70 and "cannot load the soapkit commands" in err and "_no_such_module" in err
    code, _, err = run(capsys, "_no_such_module")
    assert code == 70 and "_no_such_module" in err


def test_colours_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert colour_enabled(Terminal()) and not colour_enabled(io.StringIO())
    assert not colour_enabled(Terminal(), argparse.Namespace(no_color=True))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_enabled(Terminal())
    assert Output(io.StringIO(), colour=True).style("x", "red") == "\033[31mx\033[0m"
    assert Output(io.StringIO(), colour=False).style("x", "red") == "x"


def test_json_values_have_iso_dates() -> None:
    import datetime as dt
    import decimal

    value = {"when": dt.datetime(2024, 5, 1, 12, 0), "n": decimal.Decimal("2.50"), "raw": b"\x00"}
    assert to_jsonable(value) == {"when": "2024-05-01T12:00:00", "n": 2.5, "raw": "AA=="}


def test_the_entry_point_runs_as_a_program_without_tracebacks() -> None:
    result = subprocess.run([sys.executable, "-m", "soapkit.cli", "describe", "ContactAgnet.GetContactEntity"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 2
    assert "error: No WSDL for service 'ContactAgnet'" in result.stderr
    assert "hint: Did you mean ContactAgent?" in result.stderr and "Traceback" not in result.stderr


# --- settings ----------------------------------------------------------------------------------


def test_settings_layers_and_secret_pairs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox_dir = tmp_path / "sb"
    sandbox_dir.mkdir()
    (sandbox_dir / "sandbox.json").write_text(json.dumps({
        "base_url": "http://127.0.0.1:9", "context_identifier": "Cust7", "client_secret": "sb-secret",
        "system_user_token": "App-1", "private_key_pem": str(tmp_path / "k.pem")}))
    monkeypatch.setenv("SOAPKIT_APP_TOKEN", "env-secret")
    monkeypatch.setenv("SOAPKIT_CTX", "Cust1")
    monkeypatch.setenv("SOAPKIT_TIMEOUT", "12")
    args = argparse.Namespace(sandbox=str(sandbox_dir), context_identifier=None, app_token_file=None, timeout=None)
    resolved = effective_settings(args)
    assert resolved.values["context_identifier"] == "Cust7" and resolved.values["app_token"] == "sb-secret"
    assert resolved.values["timeout"] == 12.0 and resolved.sources["timeout"] == "environment (SOAPKIT_TIMEOUT)"
    assert resolved.sources["env"].startswith("sandbox")
    assert dict((name, value) for name, value, _ in resolved.display())["app_token"] == "***"
    args = argparse.Namespace(sandbox=str(sandbox_dir), context_identifier="Cust9", app_token_file="/secret/file")
    resolved = effective_settings(args)
    assert resolved.values["context_identifier"] == "Cust9" and resolved.sources["context_identifier"] == "command line"
    assert "app_token" not in resolved.values and resolved.values["app_token_file"] == "/secret/file"
    # the sandbox named in the environment is a layer of its own, just below the command line
    monkeypatch.setenv("SOAPKIT_SANDBOX", str(sandbox_dir))
    resolved = effective_settings(argparse.Namespace())
    assert resolved.values["context_identifier"] == "Cust7"
    assert resolved.sources["sandbox"] == "environment (SOAPKIT_SANDBOX)"


def test_secrets_cannot_be_given_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["call", "ContactAgent.GetContactEntity", "5", "--app-token", "s3cret"])
    assert code == EXIT_USAGE and "unrecognized arguments" in capsys.readouterr().err


def test_a_missing_sandbox_or_tenant_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "call", "ContactAgent.GetContactEntity", "5", "--sandbox", str(tmp_path))
    assert code == 2 and "No sandbox.json" in err and "hint: Start a sandbox" in err
    code, _, err = run(capsys, "call", "ContactAgent.GetContactEntity", "5")
    # everything missing at once: the tenant and the credential, each with where it can come from
    assert code == 2 and "error: Missing configuration: context_identifier. No credential configured" in err
    assert "--ctx" in err and "SOAPKIT_CTX" in err and "--system-user-token" in err and "--sandbox DIR" in err


def test_replay_reports_every_missing_piece_at_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from soapkit.debug import Exchange, save_capture

    capture = tmp_path / "call.json"
    save_capture([Exchange(url="https://x/Cust1/Remote/Services88/Contact.svc", request_headers={},
                           request_body=b"<x/>", status=200, response_headers={}, response_body=b"<y/>",
                           seconds=0.1)], capture)
    code, _, err = run(capsys, "replay", str(capture))
    assert code == 2 and "error: Missing configuration: context_identifier. No credential configured" in err


def test_no_arguments_for_an_operation_with_parameters_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "envelope", "ContactAgent.GetContactEntity")
    assert code == 2 and not out
    assert "error: ContactAgent.GetContactEntity takes 1 parameter (ContactEntityId) and none was given." in err
    assert "soapkit envelope ContactAgent.GetContactEntity ContactEntityId=..." in err and "--no-arguments" in err
    code, out, _ = run(capsys, "envelope", "ContactAgent.GetContactEntity", "--no-arguments")
    assert code == 0 and "GetContactEntity" in out
    code, _, err = run(capsys, "call", "ContactAgent.GetContactEntity", "5", "--ctx", "Cust1")
    assert code == 2 and "No credential configured: system_user_token and private_key missing" in err
    assert "--system-user-token" in err and "--private-key" in err and "--ticket-file" in err


# --- envelope ----------------------------------------------------------------------------------


def test_envelope_is_built_offline_with_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "envelope", "ContactAgent.GetContactEntity", "5", "--http")
    assert code == 0
    assert '"http://www.superoffice.net/ws/crm/NetServer/Services88/Contact/GetContactEntity"' in out
    # masked as a capture masks them, so envelope and capture diff equal
    assert ">7T:***<" in out and "ApplicationToken" in out and ">***<" in out and "ContactEntityId>5<" in out
    assert "{Ticket}" not in out
    code, shown, _ = run(capsys, "envelope", "ContactAgent.GetContactEntity", "5", "--show-secrets")
    assert code == 0 and ">7T:{Ticket}<" in shown and ">{ApplicationToken}<" in shown
    assert "MessageID" not in out  # WS-Addressing stripped, as soapkit sends it


def test_envelope_masks_given_secrets_unless_asked(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOAPKIT_TICKET", "7T:dGhlLXRpY2tldA==")
    monkeypatch.setenv("SOAPKIT_APP_TOKEN", "the-client-secret")
    code, out, _ = run(capsys, "envelope", "ContactAgent.GetContactEntity", "ContactEntityId=5", "--json")
    envelope = json.loads(out)["envelope"]
    assert code == 0 and "dGhlLXRpY2tldA" not in envelope and "the-client-secret" not in envelope
    code, out, _ = run(capsys, "envelope", "ContactAgent.GetContactEntity", "5", "--show-secrets")
    assert "7T:dGhlLXRpY2tldA==" in out and "the-client-secret" in out


def test_envelope_takes_json_for_complex_values(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    company = tmp_path / "company.json"
    company.write_text(json.dumps({"Name": "Acme", "Emails": [{"Value": "a@acme.example"}],
                                   "UpdatedDate": "2024-05-01T12:00:00"}))
    code, out, _ = run(capsys, "envelope", "ContactAgent.SaveContactEntity", f"ContactEntity=@{company}")
    assert code == 0 and ">Acme<" in out and ">a@acme.example<" in out and "2024-05-01T12:00:00" in out
    code, out, _ = run(capsys, "envelope", "ContactAgent.GetContactList", "1,2,3")
    assert code == 0 and out.count(":int") >= 6  # three <arr:int> elements, open and close


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ContactAgnet.GetContactEntity", "5"], "hint: Did you mean ContactAgent?"),
        (["ContactAgent.GetContactEntty", "5"], "hint: Did you mean GetContactEntity"),
        (["ContactAgent", "5"], "names a service but no operation"),
        (["ContactAgent.GetContactEntity", "five"],
         "Parameter ContactEntityId expects xsd:int (a whole number), got 'five'"),
        (["ContactAgent.GetContactEntity", "5", "6"], "Too many arguments"),
        (["ContactAgent.GetContactEntity", "ContactId=5"], "has no parameter 'ContactId'"),
        (["ListAgent.GetAllCountries", "maybe"], "expects xsd:boolean (true or false)"),
        (["ContactAgent.SaveContactEntity", '{"Nmae": "x"}'], "ContactEntity has no field 'Nmae'"),
        (["ContactAgent.SaveContactEntity", '{"ContactId": "x"}'], "ContactEntity.ContactId expects xsd:int"),
        (["ContactAgent.SaveContactEntity", "{oops"], "is not valid JSON"),
        (["ContactAgent.SaveContactEntity", "@/no/such/file.json"], "Cannot read /no/such/file.json"),
    ],
)
def test_bad_arguments_are_clear_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str],
                                              message: str) -> None:
    code, out, err = run(capsys, "envelope", *argv)
    assert code == EXIT_USAGE and out == "" and err.startswith("error: ")
    assert message in err


# --- describe ----------------------------------------------------------------------------------


def test_describe_services_operations_and_types(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "describe")
    assert code == 0 and "ContactAgent" in out and "PersonAgent" in out
    code, out, _ = run(capsys, "describe", "ContactAgent")
    assert "GetContactEntity(ContactEntityId: xsd:int) -> ContactEntity" in out
    code, out, _ = run(capsys, "describe", "ContactAgent.GetContactList", "--json")
    info = json.loads(out)
    assert info["parameters"][0] == {"name": "ContactIds", "type": "ArrayOfint", "required": False, "many": False,
                                     "items": "xsd:int", "fields": []}
    assert info["result"]["items"] == "Contact" and {"name", "type"} <= set(info["result"]["fields"][0])
    assert info["headers"] == ["ApplicationToken", "Credentials", "TimeZone"]


def test_describe_unknown_names_suggest_close_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "describe", "PersonAgent.GetPersonEntiy")
    assert code == 2 and "Did you mean GetPersonEntity" in err


# --- wsdl --------------------------------------------------------------------------------------


def test_wsdl_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "wsdl", "list", "--json")
    listing = json.loads(out)
    assert code == 0 and "Contact" in listing["search_order"][-1]["services"]
    code, out, _ = run(capsys, "wsdl", "show", "PersonAgent")
    assert code == 0 and "GetPersonEntity" in out and "Person.wsdl" in out
    code, out, _ = run(capsys, "wsdl", "show", "PersonAgent", "--raw")
    assert out.startswith("<?xml") and "wsdl:definitions" in out


def _copy_wsdl(folder: Path, name: str) -> Path:
    """The bundled Contact WSDL and its schemas, renamed to ``name``, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    bundled = bundled_wsdl_dir() / "Services88"
    for schema in bundled.glob("*.xsd"):
        (folder / schema.name).write_bytes(schema.read_bytes())
    target = folder / f"{name}.wsdl"
    target.write_text((bundled / "Contact.wsdl").read_text().replace('name="WcfContactService"',
                                                                     f'name="Wcf{name}Service"'))
    return target


def test_wsdl_import_copies_a_file_with_its_schemas_into_the_user_folder(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = _copy_wsdl(tmp_path / "download", "Company")
    code, out, _ = run(capsys, "wsdl", "import", str(source))
    operations = len(Catalog().describe("Contact").operation_names)
    assert code == 0 and f"imported CompanyAgent ({operations} operations)" in out
    imported = tmp_path / "user-config" / "wsdl" / "Services88"
    assert (imported / "Company.wsdl").is_file() and (imported / "Company.NetServerTypes.xsd").is_file()
    code, out, _ = run(capsys, "describe", "CompanyAgent.GetContactEntity")
    assert code == 0 and "ContactEntityId" in out
    code, _, err = run(capsys, "wsdl", "import", str(source))
    assert code == 2 and "exists" in err and "--force" in err


def test_wsdl_import_from_a_wsdl_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    _copy_wsdl(tmp_path / "site", "Sale")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/Sale.wsdl"
        code, out, _ = run(capsys, "wsdl", "import", url, "--dest", str(tmp_path / "mine"), "--json")
    finally:
        server.shutdown()
        server.server_close()
    result = json.loads(out)
    assert code == 0 and result["service"] == "SaleAgent" and "Sale.NetServerTypes.xsd" in result["files"]
    code, out, _ = run(capsys, "describe", "SaleAgent", "--wsdl-dir", str(tmp_path / "mine"))
    assert code == 0 and "SaveContactEntity" in out


def test_wsdl_import_refuses_what_does_not_parse(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = _copy_wsdl(tmp_path / "broken", "Broken")
    broken.write_text(broken.read_text().replace('schemaLocation="NetServerTypes.xsd"', 'schemaLocation="gone.xsd"'))
    code, _, err = run(capsys, "wsdl", "import", str(broken), "--dest", str(tmp_path / "out"))
    assert code == 2 and "gone.xsd" in err and not (tmp_path / "out").exists()
    not_wsdl = tmp_path / "note.xml"
    not_wsdl.write_text("<note/>")
    code, _, err = run(capsys, "wsdl", "import", str(not_wsdl), "--dest", str(tmp_path / "out"))
    assert code == 2 and "is not a WSDL" in err
    code, _, err = run(capsys, "wsdl", "import", str(tmp_path / "absent.wsdl"))
    assert code == 2 and "does not exist" in err


# --- keys --------------------------------------------------------------------------------------


def test_keys_convert_both_ways_with_private_files(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   rsa_key_files: tuple[Path, Path]) -> None:
    xml, _ = rsa_key_files
    pem_out, xml_out = tmp_path / "out.pem", tmp_path / "out.xml"
    assert run(capsys, "keys", "convert", str(xml), "-o", str(pem_out))[0] == 0
    assert pem_out.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(pem_out.stat().st_mode) == 0o600
    assert run(capsys, "keys", "convert", str(pem_out), "-o", str(xml_out))[0] == 0
    assert xml_out.read_text().strip() == xml.read_text().strip()
    code, _, err = run(capsys, "keys", "convert", str(xml), "-o", str(pem_out))
    assert code == 2 and "--force" in err


def test_keys_convert_prints_private_keys_only_when_asked(capsys: pytest.CaptureFixture[str],
                                                          rsa_key_files: tuple[Path, Path]) -> None:
    xml, pem = rsa_key_files
    code, out, err = run(capsys, "keys", "convert", str(xml))
    assert code == 2 and out == "" and "Refusing to print a private key" in err
    code, out, _ = run(capsys, "keys", "convert", str(xml), "--show-secrets")
    assert code == 0 and out.startswith("-----BEGIN PRIVATE KEY-----")
    code, out, _ = run(capsys, "keys", "convert", str(pem), "--public", "--to", "xml")
    assert code == 0 and "<Modulus>" in out and "<D>" not in out


def test_keys_convert_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<RSAKeyValue><Modulus>AQAB</Modulus></RSAKeyValue>")
    code, _, err = run(capsys, "keys", "convert", str(bad))
    assert code == 2 and "public key" in err
    code, _, err = run(capsys, "keys", "convert", str(tmp_path / "none.pem"))
    assert code == 2 and "does not exist" in err


def test_keys_sign_writes_or_shows_only_on_request(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   rsa_key_files: tuple[Path, Path]) -> None:
    xml, pem = rsa_key_files
    base = ["keys", "sign", "--system-user-token", "My App-8k8Q7DmBgo", "--private-key", str(xml),
            "--time", "2024-05-01T12:34Z"]
    code, out, err = run(capsys, *base)
    assert code == 0 and "My App-8k8Q7DmBgo.202405011234." not in out and "--show-secrets" in err
    signed_file = tmp_path / "signed.txt"
    code, out, _ = run(capsys, *base, "-o", str(signed_file))
    assert code == 0 and stat.S_IMODE(signed_file.stat().st_mode) == 0o600
    signed = SignedSystemToken.parse(signed_file.read_text().strip())
    assert signed.system_token == "My App-8k8Q7DmBgo" and signed.signed_data.endswith(".202405011234")
    assert signed.verify(load_private_key(pem).public_key())
    code, out, _ = run(capsys, *base, "--show-secrets")
    assert out.strip() == signed_file.read_text().strip()  # same minute, deterministic PKCS#1 v1.5
    code, _, err = run(capsys, "keys", "sign", "--private-key", str(xml))
    assert code == 2 and "system-user token" in err
    code, _, err = run(capsys, *base[:-1], "yesterday")
    assert code == 2 and "not an ISO 8601 time" in err


# --- diff --------------------------------------------------------------------------------------

SO = "http://www.superoffice.net/ws/crm/NetServer/Services88"
ZEEP_STYLE = f"""<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Header>
<ns0:Credentials xmlns:ns0="{SO}"><ns0:Ticket>7T:one</ns0:Ticket></ns0:Credentials></soap-env:Header>
<soap-env:Body><ns0:GetContactEntity xmlns:ns0="{SO}"><ns0:ContactEntityId>5</ns0:ContactEntityId>
</ns0:GetContactEntity></soap-env:Body></soap-env:Envelope>"""
DOTNET_STYLE = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>
<h:Credentials xmlns:h="{SO}"><h:Ticket>7T:two</h:Ticket></h:Credentials></s:Header>
<s:Body><GetContactEntity xmlns="{SO}"><ContactEntityId>5</ContactEntityId></GetContactEntity></s:Body></s:Envelope>"""


def _capture(path: Path, *bodies: str) -> Path:
    exchanges = [{"url": "https://sod2.superoffice.com/Cust1/Remote/Services88/Contact.svc", "status": 200,
                  "seconds": 0.01, "request": {"headers": {}, "body": b}, "response": {"headers": {}, "body": b}}
                 for b in bodies]
    path.write_text(json.dumps({"format": "soapkit-capture", "version": 1, "exchanges": exchanges}))
    return path


def test_diff_exit_codes_and_capture_indexes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_text(ZEEP_STYLE)
    b.write_text(DOTNET_STYLE)
    code, out, _ = run(capsys, "diff", str(a), str(b))
    assert code == 0 and "equivalent" in out
    b.write_text(DOTNET_STYLE.replace(">5<", ">6<"))
    code, out, _ = run(capsys, "diff", str(a), str(b))
    assert code == 1 and "-      <so:ContactEntityId>5</so:ContactEntityId>" in out
    assert "+      <so:ContactEntityId>6</so:ContactEntityId>" in out
    capture = _capture(tmp_path / "c.json", ZEEP_STYLE, DOTNET_STYLE.replace(">5<", ">6<"))
    assert run(capsys, "diff", f"{capture}#0", str(a))[0] == 0
    assert run(capsys, "diff", f"{capture}#0", f"{capture}#-1", "--response")[0] == 1
    code, out, _ = run(capsys, "diff", f"{capture}#0", str(b), "--json")
    assert code == 1 and json.loads(out)["same"] is False


@pytest.mark.parametrize(
    ("content", "reference", "message"),
    [
        ('{"format": "soapkit-capture", "version": 7, "exchanges": []}', "", "version 7"),
        ('{"format": "soapkit-capture", "version": 1, "exchanges": [{"url": 1}]}', "", "exchanges[0].url"),
        ("{broken json", "", "is not JSON"),
        ("not xml <at all", "", "is not XML"),
        ("CAPTURE2", "", "holds 2 calls; say which one"),
        ("CAPTURE2", "#5", "has no exchange #5"),
    ],
)
def test_diff_of_unreadable_input_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   content: str, reference: str, message: str) -> None:
    target = tmp_path / "input.json"
    if content == "CAPTURE2":
        _capture(target, ZEEP_STYLE, ZEEP_STYLE)
    else:
        target.write_text(content)
    other = tmp_path / "a.xml"
    other.write_text(ZEEP_STYLE)
    code, _, err = run(capsys, "diff", f"{target}{reference}", str(other))
    assert code == 2 and message in err


def test_diff_of_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "diff", str(tmp_path / "x.xml"), str(tmp_path / "y.xml"))
    assert code == 2 and "does not exist" in err


def test_global_options_work_before_and_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    before = json.loads(run(capsys, "--json", "describe")[1])
    after = json.loads(run(capsys, "describe", "--json")[1])
    assert before == after and "ContactAgent" in [row["service"] for row in after["services"]]


def test_operation_arguments_may_follow_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "envelope", "ContactAgent.GetContactEntity", "--ctx", "Cust1", "ContactEntityId=7")
    assert code == 0 and "ContactEntityId>7<" in out
    code, out, _ = run(capsys, "envelope", "ContactAgent.GetContactEntity", "--ctx", "Cust1", "-7")
    assert code == 0 and "ContactEntityId>-7<" in out
    code, _, err = run(capsys, "envelope", "ContactAgent.GetContactEntity", "--ctx", "Cust1", "5", "--bogus")
    assert code == 2 and "unrecognized arguments: --bogus" in err
