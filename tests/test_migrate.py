"""`soapkit migrate`: .NET App.config/Web.config -> soapkit.toml, secrets apart, everything left behind reported."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from soapkit.cli import main
from soapkit.credentials.keys import load_private_key, private_key_to_xml
from soapkit.migrate import MigrationError, read_app_config, timespan_seconds, toml_value, write_migration

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

APP_TOKEN = "0c0ffee0c0ffee0c0ffee0c0ffee"
SYSTEM_USER_TOKEN = "Acme Sync-8k8Q7DmBgo"

APP_CONFIG = f"""<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <configSections>
    <sectionGroup name="SuperOffice">
      <section name="Services" type="System.Configuration.NameValueSectionHandler"/>
      <sectionGroup name="Security">
        <section name="Cryptography" type="System.Configuration.NameValueSectionHandler"/>
      </sectionGroup>
    </sectionGroup>
  </configSections>
  <!-- the partner's settings -->
  <appSettings>
    <add key="SoAppId" value="a1b2c3d4e5f6"/>
    <add key="SoFederationGateway" value="https://sod.superoffice.com/login/"/>
    <add key="SuperIdCertificate" value="16b7fb8c3f9ab06885a800c64e64c97c4ab5e98c"/>
    <add key="SystemTokenCertificatePath" value="Keys\\PrivateKey.xml"/>
    <add key="SystemUserToken" value="{SYSTEM_USER_TOKEN}"/>
    <add key="LogLevel" value="Verbose"/>
    <add key="Obsolete" value="x"/>
    <remove key="Obsolete"/>
  </appSettings>
  <SuperOffice>
    <Services>
      <add key="ApplicationToken" value="{APP_TOKEN}"/>
      <add key="RemoteBaseURL" value="https://sod2.superoffice.com/Cust26759/Remote/Services88"/>
      <add key="Mode" value="Remote"/>
    </Services>
    <Security><Cryptography><add key="SymmetricKey" value="k"/></Cryptography></Security>
  </SuperOffice>
  <system.serviceModel>
    <bindings>
      <basicHttpBinding>
        <binding name="BasicHttpBinding_Contact" maxReceivedMessageSize="2147483647" sendTimeout="00:02:00">
          <security mode="Transport"/>
        </binding>
      </basicHttpBinding>
    </bindings>
    <client>
      <endpoint address="https://sod2.superoffice.com/Cust26759/Remote/Services88/Contact.svc"
                binding="basicHttpBinding" bindingConfiguration="BasicHttpBinding_Contact"
                contract="ContactService.Contact" name="BasicHttpBinding_Contact"/>
      <endpoint address="https://sod2.superoffice.com/Cust26759/Remote/Services88/Audience.svc"
                binding="basicHttpBinding" contract="AudienceService.Audience" name="BasicHttpBinding_Audience"/>
    </client>
    <behaviors/>
  </system.serviceModel>
  <startup><supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.8"/></startup>
</configuration>
"""


@pytest.fixture(scope="module")
def xml_key() -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return private_key_to_xml(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def app_config(tmp_path: Path, xml_key: str) -> Path:
    (tmp_path / "Keys").mkdir()
    (tmp_path / "Keys" / "PrivateKey.xml").write_text(xml_key)
    path = tmp_path / "App.config"
    path.write_text(APP_CONFIG)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def test_migration_writes_an_equivalent_toml_with_secrets_apart(capsys: pytest.CaptureFixture[str],
                                                                app_config: Path, tmp_path: Path) -> None:
    output = tmp_path / "out" / "soapkit.toml"
    code, out, _ = run(capsys, "migrate", str(app_config), "-o", str(output))
    assert code == 0
    settings = tomllib.loads(output.read_text())
    assert settings == {
        "env": "sod", "context_identifier": "Cust26759", "client_id": "a1b2c3d4e5f6",
        "app_token_file": "secrets/app_token", "system_user_token_file": "secrets/system_user_token",
        "private_key": "secrets/partner-private-key.pem", "services_version": "Services88", "timeout": 120.0,
    }
    text = output.read_text()
    assert APP_TOKEN not in text and SYSTEM_USER_TOKEN not in text and APP_TOKEN not in out
    secrets = output.parent / "secrets"
    assert (secrets / "app_token").read_text().strip() == APP_TOKEN
    assert (secrets / "system_user_token").read_text().strip() == SYSTEM_USER_TOKEN
    for file in secrets.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    pem = (secrets / "partner-private-key.pem").read_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert private_key_to_xml(load_private_key(pem)) == (app_config.parent / "Keys" / "PrivateKey.xml").read_text()


def test_the_report_names_everything_left_behind(capsys: pytest.CaptureFixture[str], app_config: Path,
                                                 tmp_path: Path) -> None:
    code, out, _ = run(capsys, "migrate", str(app_config), "-o", str(tmp_path / "s.toml"))
    assert code == 0
    for expected in ("appSettings LogLevel: unknown key", "SuperOffice/Security", "maxReceivedMessageSize",
                     "security mode=Transport", "<startup>", "system.serviceModel/behaviors",
                     "soapkit ships no WSDL for Audience", "soapkit wsdl import", "SuperIdCertificate",
                     "16B7FB8C3F9AB06885A800C64E64C97C4AB5E98C", "numbered host is looked up at run time"):
        assert expected in out, expected
    assert "Obsolete" not in out  # removed with <remove key=.../>


def test_strict_fails_when_anything_was_left_behind(capsys: pytest.CaptureFixture[str], app_config: Path,
                                                    tmp_path: Path) -> None:
    assert run(capsys, "migrate", str(app_config), "-o", str(tmp_path / "s.toml"), "--strict")[0] == 1


def test_secrets_can_be_left_to_environment_variables(capsys: pytest.CaptureFixture[str], app_config: Path,
                                                      tmp_path: Path) -> None:
    output = tmp_path / "env" / "soapkit.toml"
    code, _, _ = run(capsys, "migrate", str(app_config), "-o", str(output), "--secrets", "env")
    text = output.read_text()
    assert code == 0 and "SOAPKIT_APP_TOKEN" in text and "SOAPKIT_SYSTEM_USER_TOKEN" in text
    assert APP_TOKEN not in text and "app_token_file" not in tomllib.loads(text)
    assert sorted(p.name for p in (output.parent / "secrets").iterdir()) == ["partner-private-key.pem"]


def test_existing_files_are_kept_unless_forced(capsys: pytest.CaptureFixture[str], app_config: Path,
                                               tmp_path: Path) -> None:
    output = tmp_path / "soapkit.toml"
    assert run(capsys, "migrate", str(app_config), "-o", str(output))[0] == 0
    code, _, err = run(capsys, "migrate", str(app_config), "-o", str(output))
    assert code == 2 and "already exist" in err and "--force" in err
    assert run(capsys, "migrate", str(app_config), "-o", str(output), "--force")[0] == 0


def test_dry_run_writes_nothing(capsys: pytest.CaptureFixture[str], app_config: Path, tmp_path: Path) -> None:
    code, out, err = run(capsys, "migrate", str(app_config), "-o", str(tmp_path / "x.toml"), "--dry-run")
    assert code == 0 and 'env = "sod"' in out and "nothing written" in err and not (tmp_path / "x.toml").exists()
    assert APP_TOKEN not in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<configuration><appSettings><add key='SoAppId' value='x'/></appSettings>", "is not well-formed XML"),
        ("<settings/>", "is not a .NET configuration file"),
        ("<configuration><appSettings><add key='SoAppId' value='x'/></appSettings></configuration>",
         "lacks the environment"),
        ("<configuration><SuperOffice><Services><add key='RemoteBaseURL' "
         "value='https://online3.superoffice.com/Cust1'/></Services></SuperOffice></configuration>",
         "lacks the client secret"),
        ("<configuration/>", "lacks the environment (appSettings SoFederationGateway"),
    ],
)
def test_unusable_configuration_files_are_clear_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                       content: str, message: str) -> None:
    path = tmp_path / "Web.config"
    path.write_text(content)
    code, out, err = run(capsys, "migrate", str(path), "-o", str(tmp_path / "soapkit.toml"))
    assert code == 2 and out == "" and message in err and err.startswith("error: ")
    assert not (tmp_path / "soapkit.toml").exists()


def test_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "migrate", str(tmp_path / "App.config"))
    assert code == 2 and "does not exist" in err


def test_missing_optional_keys_and_key_files_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text("""<configuration><appSettings>
      <add key="SoFederationGateway" value="https://online.superoffice.com/login/"/>
      <add key="SoAppToken" value="hush-hush-value"/>
      <add key="SystemTokenCertificatePath" value="C:\\keys\\missing.xml"/>
      <add key="SoAppId" value=""/>
    </appSettings></configuration>""")
    migration = read_app_config(path)
    missing = {n.subject: n.detail for n in migration.of_kind("missing")}
    assert migration.settings == {"env": "online"} and migration.secrets == {"app_token": "hush-hush-value"}
    assert "soapkit keys convert" in missing["appSettings SystemTokenCertificatePath"]
    assert "empty" in missing["appSettings SoAppId"]
    assert {"context identifier", "system-user token"} <= set(missing)
    assert "hush-hush-value" not in repr(migration)
    written = write_migration(migration, tmp_path / "soapkit.toml")
    assert tomllib.loads(written[0].read_text()) == {"env": "online", "app_token_file": "secrets/app_token"}


def test_conflicting_environments_are_reported_and_the_first_kept(tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text("""<configuration>
      <appSettings><add key="SoFederationGateway" value="https://qaonline.superoffice.com/login/"/></appSettings>
      <SuperOffice><Services><add key="ApplicationToken" value="s"/>
        <add key="RemoteBaseURL" value="https://online2.superoffice.com/Cust5"/></Services></SuperOffice>
    </configuration>""")
    migration = read_app_config(path)
    assert migration.settings["env"] == "qaonline" and migration.settings["context_identifier"] == "Cust5"
    assert any("differs" in n.detail for n in migration.of_kind("conflict"))


def test_toml_values_and_timespans() -> None:
    assert toml_value('C:\\a "b"\n') == '"C:\\\\a \\"b\\"\\n"'
    assert toml_value(["a", "b"]) == '["a", "b"]' and toml_value(30.0) == "30.0" and toml_value(True) == "true"
    assert tomllib.loads(f"x = {toml_value(chr(1) + 'é')}")["x"] == "\x01é"
    assert timespan_seconds("00:01:30") == 90 and timespan_seconds("1.00:00:00") == 86400
    assert timespan_seconds("soon") is None


def test_migration_error_is_a_configuration_error() -> None:
    from soapkit.errors import ConfigurationError

    assert issubclass(MigrationError, ConfigurationError)


def test_the_migration_guide_shows_code_that_exists() -> None:
    import re

    guide = (Path(__file__).resolve().parent.parent / "docs" / "migrating-from-wcf.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert len(blocks) >= 5
    for block in blocks:
        compile(block, "migrating-from-wcf.md", "exec")
        for line in block.splitlines():
            if line.startswith(("import soapkit", "from soapkit")):
                exec(line, {})  # every name the guide imports exists
    from soapkit.cli import COMMAND_MODULES

    shell = "".join(re.findall(r"```sh\n(.*?)```", guide, re.S))
    commands = re.findall(r"^soapkit ([\w-]+)", shell, re.M)
    assert commands and set(commands) <= set(COMMAND_MODULES), commands


# --- onsite NetServer --------------------------------------------------------------------------------

ONSITE_CONFIG = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <SuperOffice>
    <Services>
      <add key="DefaultMode" value="Remote"/>
      <add key="RemoteBaseURL" value="http://crmserver/WebServices/"/>
    </Services>
  </SuperOffice>
  <system.serviceModel>
    <client>
      <endpoint address="http://crmserver/WebServices/Remote/Services88/Contact.svc" binding="basicHttpBinding"
                contract="ContactService.Contact" name="Contact"/>
    </client>
  </system.serviceModel>
</configuration>
"""


def test_an_onsite_remote_base_url_becomes_an_onsite_environment(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text(ONSITE_CONFIG)
    migration = read_app_config(path)
    assert migration.onsite and migration.settings == {"env": "onsite:http://crmserver/WebServices"}
    carried = " ".join(n.detail for n in migration.of_kind("carried"))
    assert "http://crmserver/WebServices/Remote/Services88/{Service}.svc" in carried and "UsernamePassword" in carried
    assert not migration.of_kind("conflict")  # the endpoint under the onsite base URL is no conflict
    dropped = {n.subject: n.detail for n in migration.of_kind("dropped")}
    assert "optional onsite" in dropped["ApplicationToken"] and "remote" in dropped["SuperOffice/Services DefaultMode"]
    missing = {n.subject for n in migration.of_kind("missing")}
    assert missing == {"onsite user and password"}  # no context identifier, no system user onsite
    output = tmp_path / "soapkit.toml"
    code, out, _ = run(capsys, "migrate", str(path), "-o", str(output))
    assert code == 0 and tomllib.loads(output.read_text()) == {"env": "onsite:http://crmserver/WebServices"}
    assert "onsite user and password" in out
    assert "SOAPKIT_USER_NAME and SOAPKIT_PASSWORD_FILE" in output.read_text()  # said in the toml too

    from soapkit.onsite import resolve

    onsite = resolve(tomllib.loads(output.read_text())["env"])
    assert onsite.services_url() == "http://crmserver/WebServices/Remote/Services88/"  # type: ignore[attr-defined]


def test_an_onsite_services_folder_keeps_its_version(tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text("<configuration><SuperOffice><Services><add key='RemoteBaseURL' "
                    "value='https://crm.example.com/SuperOffice/Remote/Services87/'/>"
                    "<add key='ApplicationToken' value='onsite-app-token'/></Services></SuperOffice></configuration>")
    migration = read_app_config(path)
    assert migration.settings == {"env": "onsite:https://crm.example.com/SuperOffice/Remote/Services87",
                                  "services_version": "Services87"}
    assert migration.secrets == {"app_token": "onsite-app-token"}  # carried when present, optional onsite
    carried = " ".join(n.detail for n in migration.of_kind("carried"))
    assert "https://crm.example.com/SuperOffice/Remote/Services87/{Service}.svc" in carried


def test_an_endpoint_of_another_host_conflicts_with_the_onsite_base(tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text(ONSITE_CONFIG.replace("http://crmserver/WebServices/Remote", "http://other/WebServices/Remote"))
    conflicts = read_app_config(path).of_kind("conflict")
    assert len(conflicts) == 1 and "not under the onsite base URL http://crmserver/WebServices" in conflicts[0].detail


def test_default_mode_local_is_flagged_as_not_migratable(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text(ONSITE_CONFIG.replace('value="Remote"', 'value="Local"'))
    migration = read_app_config(path)
    (note,) = migration.of_kind("unmigratable")
    assert note.subject == "SuperOffice/Services DefaultMode=Local"
    assert "in-process" in note.detail and "no wire protocol" in note.detail
    code, out, _ = run(capsys, "migrate", str(path), "-o", str(tmp_path / "s.toml"), "--strict")
    assert code == 1 and "cannot be migrated (1):" in out and "no wire protocol" in out
    code, out, _ = run(capsys, "migrate", str(path), "-o", str(tmp_path / "j.toml"), "--json", "--force")
    assert code == 0 and '"unmigratable"' in out


def test_local_mode_alone_is_an_error_that_gives_the_reason(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text("<configuration><SuperOffice><Services><add key='DefaultMode' value='Local'/>"
                    "</Services></SuperOffice></configuration>")
    code, _, err = run(capsys, "migrate", str(path), "-o", str(tmp_path / "s.toml"))
    assert code == 2 and "DefaultMode=Local cannot be migrated" in err and "no wire protocol" in err


WINDOWS_BINDING = """
    <bindings>
      <basicHttpBinding>
        <binding name="Windows">
          <security mode="TransportCredentialOnly"><transport clientCredentialType="{kind}"/></security>
        </binding>
      </basicHttpBinding>
    </bindings>
  </system.serviceModel>"""


@pytest.mark.parametrize("kind", ["Windows", "Ntlm", "ntlm"])
def test_a_windows_authenticated_binding_is_flagged_as_not_migratable(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path, kind: str) -> None:
    path = tmp_path / "App.config"
    path.write_text(ONSITE_CONFIG.replace("  </system.serviceModel>", WINDOWS_BINDING.format(kind=kind), 1))
    migration = read_app_config(path)
    (note,) = migration.of_kind("unmigratable")
    assert note.subject == f"binding basicHttpBinding/Windows security transport clientCredentialType={kind}"
    assert "SoPrincipal.AuthenticateImplicit" in note.detail and "username_password" in note.detail
    assert migration.settings == {"env": "onsite:http://crmserver/WebServices"}  # the rest is still carried
    code, out, _ = run(capsys, "migrate", str(path), "-o", str(tmp_path / "s.toml"), "--strict")
    assert code == 1 and "cannot be migrated (1):" in out and "AuthenticateImplicit" in out


def test_other_binding_security_is_only_reported_as_ignored(tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text(ONSITE_CONFIG.replace("  </system.serviceModel>", WINDOWS_BINDING.format(kind="None"), 1))
    migration = read_app_config(path)
    assert not migration.of_kind("unmigratable")
    assert any("security mode=TransportCredentialOnly" in n.subject for n in migration.of_kind("ignored"))
