"""Onsite NetServer: a base URL as the environment, UsernamePassword sign-in, the sandbox's onsite endpoint."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests

import soapkit
from soapkit import AuthenticationFailed, ConfigurationError
from soapkit.debug import Recorder, capture_to_json, format_exchange
from soapkit.onsite import Onsite, UsernamePassword
from soapkit.onsite import resolve as resolve_environment
from soapkit.tenant import Environment

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

def onsite(sandbox: Any) -> dict[str, Any]:
    return dict(sandbox.config["onsite"])


def user_credential(sandbox: Any, **kwargs: Any) -> UsernamePassword:
    settings = onsite(sandbox)
    return UsernamePassword(settings["user"], password_file=settings["password_file"], **kwargs)


# --- the environment ------------------------------------------------------------------------------


@pytest.mark.parametrize(("base", "services"), [
    ("http://crm/SuperOffice/", "http://crm/SuperOffice/Remote/Services88/"),
    ("http://crm/SuperOffice", "http://crm/SuperOffice/Remote/Services88/"),
    ("http://host/WebServices/", "http://host/WebServices/Remote/Services88/"),
    ("http://host/SuperOffice/Remote/Services88/", "http://host/SuperOffice/Remote/Services88/"),
    ("https://host/remote/services87", "https://host/remote/services87/"),
])
def test_services_folder_of_a_base_url(base: str, services: str) -> None:
    assert Onsite(base).services_url() == services


def test_services_path_is_configurable() -> None:
    assert Onsite("http://host/ws", services_path="").services_url() == "http://host/ws/"
    assert Onsite("http://host/ws", services_path="api/{version}").services_url("Services87") == \
        "http://host/ws/api/Services87/"


def test_onsite_prefix_and_online_names_resolve() -> None:
    resolved = resolve_environment("onsite:http://crm/SuperOffice/")
    assert isinstance(resolved, Onsite) and resolved.base_url == "http://crm/SuperOffice"
    assert resolved.name == "onsite:http://crm/SuperOffice" and isinstance(resolved, Environment)
    assert not isinstance(resolve_environment("sod"), Onsite)
    with pytest.raises(ConfigurationError):
        Onsite("crm/SuperOffice")


def test_onsite_needs_no_context_identifier_and_online_still_does(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("x\n")
    client = soapkit.connect(env="onsite:http://crm/SuperOffice", credentials=UsernamePassword(
        "ADMIN", password_file=secret))
    assert client.onsite is not None and client.services_url() == "http://crm/SuperOffice/Remote/Services88/"
    assert client.context.context_identifier == "onsite" and client.tenants.lookups == 0
    with pytest.raises(ConfigurationError):
        soapkit.connect(env="sod", ticket="7T:abc")


# --- the credential -------------------------------------------------------------------------------


def test_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "password.txt"
    secret.write_text("from-file\nignored\n")
    assert UsernamePassword("u", password_file=secret).password() == "from-file"
    monkeypatch.setenv("ONSITE_PW", "from-env")
    assert UsernamePassword("u", password_env="ONSITE_PW").password() == "from-env"
    assert UsernamePassword("u", password=lambda: "from-callable").password() == "from-callable"
    with pytest.raises(ConfigurationError, match="exactly one"):
        UsernamePassword("u")
    with pytest.raises(ConfigurationError, match="exactly one"):
        UsernamePassword("u", password_file=secret, password_env="ONSITE_PW")
    with pytest.raises(ConfigurationError, match="callable"):
        UsernamePassword("u", password="plain")  # type: ignore[arg-type]
    monkeypatch.delenv("ONSITE_PW")
    with pytest.raises(ConfigurationError, match="empty") as empty:
        UsernamePassword("u", password_env="ONSITE_PW").password()
    assert "$ONSITE_PW" in str(empty.value)
    with pytest.raises(ConfigurationError, match="Cannot read"):
        UsernamePassword("u", password_file=tmp_path / "missing").password()


def test_repr_names_the_source_never_the_password(tmp_path: Path) -> None:
    credential = UsernamePassword("EVA", password=lambda: "s3cr3t-pass")
    assert "s3cr3t" not in repr(credential) and "EVA" in repr(credential) and "callable" in repr(credential)


# --- against the sandbox's onsite endpoint ----------------------------------------------------------


def test_sandbox_json_describes_the_onsite_endpoint(sandbox: Any) -> None:
    settings = onsite(sandbox)
    assert settings["base_url"] == f"{sandbox.base_url}/onsite" and settings["user"] == "EVA"
    assert Path(settings["password_file"]).read_text().strip() == settings["password"]
    assert Path(settings["password_file"]).stat().st_mode & 0o077 == 0


def test_sign_in_and_call_without_tenant_lookup_or_app_token(sandbox: Any) -> None:
    recorder = Recorder()
    credential = user_credential(sandbox)
    with soapkit.connect(env=Onsite(onsite(sandbox)["base_url"]), credentials=credential, recorder=recorder) as so:
        assert so.ContactAgent.GetContactEntity(1).Name
        assert so.PersonAgent.GetPersonEntity(1) is not None
        assert credential.fetch_count == 1 and so.tenants.lookups == 0
        principal = so.SoPrincipalAgent.AuthenticateWithAccessToken(AccessToken=so.ticket())
        assert principal is None or principal.AssociateId == 2
    urls = [exchange.url for exchange in recorder.exchanges]
    assert urls[0].endswith("/onsite/Remote/Services88/SoPrincipal.svc")
    assert all("/api/state/" not in url and "/login/" not in url for url in urls)
    raw = recorder.exchanges[0].request_body.decode()
    assert "<ns0:Password>" in raw or "Password>" in raw
    assert "ApplicationToken" not in raw  # optional onsite: not sent when not given
    shown = "\n".join(format_exchange(exchange) for exchange in recorder.exchanges)
    shown += json.dumps(capture_to_json(recorder.exchanges))
    assert onsite(sandbox)["password"] not in shown and not re.search(r"7T:(?!\*\*\*)", shown)
    assert "EVA" in shown  # the user name is no secret


def test_application_token_is_sent_when_given(sandbox: Any) -> None:
    with soapkit.connect(env="onsite:" + onsite(sandbox)["base_url"], app_token=sandbox.config["client_secret"],
                         credentials=user_credential(sandbox)) as so:
        assert so.ContactAgent.GetContactEntity(2).Name


def test_rejected_ticket_is_renewed_once(sandbox: Any) -> None:
    credential = user_credential(sandbox)
    with soapkit.connect(env=Onsite(onsite(sandbox)["base_url"]), credentials=credential) as so:
        so.ContactAgent.GetContactEntity(1)
        first = so.ticket()
        sandbox.revoke_credential(first)
        assert so.ContactAgent.GetContactEntity(1).Name
        assert credential.fetch_count == 2 and so.ticket() != first


def test_wrong_password_fails_without_leaking_it(sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    credential = UsernamePassword(onsite(sandbox)["user"], password=lambda: "Wrong-Password-123")
    so = soapkit.connect(env=Onsite(onsite(sandbox)["base_url"]), credentials=credential)
    with pytest.raises(AuthenticationFailed) as failure:
        so.ContactAgent.GetContactEntity(1)
    so.close()
    assert "Wrong-Password-123" not in str(failure.value) and "Wrong-Password-123" not in caplog.text
    assert "EVA" in str(failure.value)


def test_wrong_user_fails(sandbox: Any) -> None:
    settings = onsite(sandbox)
    credential = UsernamePassword("NOBODY", password_file=settings["password_file"])
    so = soapkit.connect(env=Onsite(settings["base_url"]), credentials=credential)
    with pytest.raises(AuthenticationFailed):
        so.ContactAgent.GetContactEntity(1)
    so.close()


def test_password_sign_in_is_refused_on_the_online_endpoint(sandbox: Any) -> None:
    """SuperOffice Online signs users in through SuperID: the tenant endpoint answers false, like a wrong password."""
    config = sandbox.config
    with soapkit.connect(config["context_identifier"], env=config["base_url"], app_token=config["client_secret"],
                         ticket=sandbox.issue_ticket()) as so:
        answer = so.SoPrincipalAgent.AuthenticateUsernamePassword(UserName=onsite(sandbox)["user"],
                                                                  Password=onsite(sandbox)["password"])
        assert answer is None


def test_username_password_refuses_an_online_environment(sandbox: Any) -> None:
    config = sandbox.config
    so = soapkit.connect(config["context_identifier"], env=config["base_url"], app_token=config["client_secret"],
                         credentials=user_credential(sandbox))
    with pytest.raises(ConfigurationError, match="onsite"):
        so.ContactAgent.GetContactEntity(1)
    so.close()


def test_onsite_endpoint_calls_need_a_ticket(sandbox: Any) -> None:
    url = f"{onsite(sandbox)['base_url']}/Remote/Services88/Contact.svc"
    assert requests.get(url, timeout=10).status_code == 200
    so = soapkit.connect(env=Onsite(onsite(sandbox)["base_url"]), ticket="7T:not-a-ticket")
    with pytest.raises(soapkit.CredentialRejected):
        so.ContactAgent.GetContactEntity(1)
    so.close()


# --- settings: auth = "username_password" ----------------------------------------------------------


def test_settings_build_an_onsite_client(sandbox: Any) -> None:
    from soapkit.config import auth_kind, build_client, describe_auth, load_settings

    settings = onsite(sandbox)
    values = {"env": f"onsite:{settings['base_url']}", "user_name": settings["user"],
              "password_file": settings["password_file"]}
    resolved = load_settings(values, environ={}, use_config_file=False)
    assert auth_kind(resolved) == "username_password"  # inferred onsite
    assert "onsite user" in describe_auth(resolved)
    with build_client(resolved) as so:
        assert isinstance(so.credentials, UsernamePassword) and so.onsite is not None
        assert so.ContactAgent.GetContactEntity(1).Name
    assert settings["password"] not in repr(resolved.display())


def test_settings_name_what_an_onsite_user_lacks() -> None:
    from soapkit.config import auth_kind, load_settings

    resolved = load_settings({"env": "onsite:http://crm/SuperOffice", "user_name": "EVA"}, environ={},
                             use_config_file=False)
    with pytest.raises(ConfigurationError, match="onsite NetServer: password missing") as missing:
        auth_kind(resolved)
    assert "SOAPKIT_PASSWORD_FILE" in (missing.value.hint or "")
    explicit = load_settings({"env": "sod", "auth": "username_password"}, environ={}, use_config_file=False)
    with pytest.raises(ConfigurationError, match="user_name and password missing"):
        auth_kind(explicit)


def test_the_command_line_calls_an_onsite_agent(sandbox: Any, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from soapkit.cli import main

    settings = onsite(sandbox)
    for name in [n for n in os.environ if n.startswith("SOAPKIT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SOAPKIT_USER_NAME", settings["user"])
    monkeypatch.setenv("SOAPKIT_PASSWORD_FILE", settings["password_file"])
    code = main(["call", "ContactAgent.GetContactEntity", "1", "--env", f"onsite:{settings['base_url']}"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["ContactId"] == 1 and settings["password"] not in captured.out + captured.err


def test_the_sign_in_goes_to_the_clients_services_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "pw"
    secret.write_text("pw\n")
    so = soapkit.connect(env=Onsite("http://crm/so"), version="Services87",
                         credentials=UsernamePassword("EVA", password_file=secret))
    addresses: list[str] = []

    def exchange(catalog: Any, service: str, operation: str, address: str, *args: Any, **kwargs: Any) -> Any:
        addresses.append(address)
        raise ConfigurationError("stop here")

    monkeypatch.setattr("soapkit.calls.soap_exchange", exchange)
    with pytest.raises(ConfigurationError, match="stop here"):
        so.ticket()
    assert addresses == ["http://crm/so/Remote/Services87/SoPrincipal.svc"]
    assert so.services_url() == "http://crm/so/Remote/Services87/"


def test_windows_sign_in_answers_not_authenticated(sandbox: Any) -> None:
    # the sandbox speaks plain HTTP without IIS Windows authentication: every caller is anonymous
    recorder = Recorder()
    with soapkit.connect(env=Onsite(onsite(sandbox)["base_url"]), credentials=user_credential(sandbox),
                         recorder=recorder) as so:
        assert so.SoPrincipalAgent.AuthenticateImplicit() is None
    answer = recorder.exchanges[-1].response_body.decode()
    assert re.search(r"<(\w+:)?AuthenticationSucceeded>false</(\w+:)?AuthenticationSucceeded>", answer), answer
    assert re.search(r"<(\w+:)?Succeeded [^>]*>true</", answer) and "NotImplemented" not in answer
