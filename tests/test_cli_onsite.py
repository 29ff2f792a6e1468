"""The command line with an onsite environment, and the all-at-once report of `soapkit state` and `soapkit login`.

An onsite NetServer has no tenant state endpoint, no OAuth identity service and no partner service: `state`,
`login` and `ticket` refuse it in the ``error:``/``hint:`` form, saying why and what to do instead, before
anything is sent. `state` and `login` report every missing piece of configuration at once, as `call` does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from soapkit.cli import EXIT_USAGE, main

ONSITE = "onsite:http://127.0.0.1:9/SuperOffice"  # port 9 (discard): any request would fail to connect


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("SOAPKIT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no ./soapkit.toml


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def error_and_hint(err: str) -> tuple[str, str]:
    lines = err.strip().split("\n")
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: "), err
    return lines[0], "\n".join(lines[1:])


@pytest.mark.parametrize(("argv", "why", "instead"), [
    (["state", "Cust12345"], "state endpoint (/api/state/CTX)",
     "soapkit call --env onsite:URL --auth username_password"),
    (["login", "--no-browser"], "identity service (OAuth in a browser)", "SOAPKIT_USER_NAME"),
    (["ticket"], "PartnerSystemUserService", "soapkit call --env onsite:URL --auth username_password"),
])
def test_commands_without_meaning_onsite_refuse_it_clearly(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                           why: str, instead: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    monkeypatch.setattr("requests.Session.send", lambda *a, **k: sent.append(a) or pytest.fail("sent a request"))
    for how in ("option", "environment"):
        if how == "option":
            code, out, err = run(capsys, *argv, "--env", ONSITE)
            source = "(env from command line)"
        else:
            monkeypatch.setenv("SOAPKIT_ENV", ONSITE)
            code, out, err = run(capsys, *argv)
            source = "(env from environment (SOAPKIT_ENV))"
        error, hint = error_and_hint(err)
        assert code == EXIT_USAGE and not out
        assert error.startswith(f"error: soapkit {argv[0]} does not work with an onsite NetServer {source}: ")
        assert why in error and instead in hint
        # the refusal comes before the missing-configuration report: it is the thing to fix first
        assert "Missing configuration" not in err
    assert not sent


def test_online_environments_are_not_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # a base URL is SuperOffice Online's shape (state endpoint at /api/state): asked, and unreachable here
    code, _, err = run(capsys, "state", "Cust12345", "--env", "http://127.0.0.1:9", "--timeout", "2")
    assert code == 3 and "onsite" not in err and "/api/state/Cust12345" in err


def test_state_reports_the_missing_tenant_with_every_way_to_give_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "state")
    error, hint = error_and_hint(err)
    assert code == EXIT_USAGE and not out
    assert error == "error: Missing configuration: context_identifier."
    assert "the CTX argument (soapkit state Cust12345)" in hint and "--ctx" in hint and "SOAPKIT_CTX" in hint
    assert "--sandbox DIR" in hint
    assert "credential" not in err  # `state` needs none


def test_login_reports_every_missing_piece_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "login", "--no-browser")
    error, hint = error_and_hint(err)
    assert code == EXIT_USAGE and not out
    assert error == "error: Missing configuration: client_id, app_token."
    assert "--client-id" in hint and "--app-token-file FILE" in hint and "SOAPKIT_APP_TOKEN" in hint
    assert "credential" not in err  # signing in is how a credential is made: none is needed before
    code, _, err = run(capsys, "login", "--logout")
    error, _ = error_and_hint(err)
    assert code == EXIT_USAGE and error == "error: Missing configuration: client_id, app_token, context_identifier."
    code, _, err = run(capsys, "login", "--logout", "--client-id", "abc")
    error, _ = error_and_hint(err)
    assert error == "error: Missing configuration: app_token, context_identifier."


# --- onsite sign-ins soapkit does not offer ---------------------------------------------------------


@pytest.mark.parametrize(("kind", "why"), [
    ("implicit", "SoPrincipal.AuthenticateImplicit"), ("windows", "NTLM or Kerberos"), ("NTLM", "Windows account"),
    ("kerberos", "anonymous caller"), ("generic", "SoPrincipal.AuthenticateGeneric"),
])
def test_unsupported_onsite_sign_ins_are_refused_saying_why(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch, kind: str,
                                                            why: str) -> None:
    from soapkit import ConfigurationError
    from soapkit.config import load_settings

    # on the command line, before anything else is looked at
    code, out, err = run(capsys, "call", "ContactAgent.GetContactEntity", "1", "--env", ONSITE, "--auth", kind)
    assert code == EXIT_USAGE and not out
    assert f"argument --auth: {kind!r} is not supported: " in err and why in err and "username_password" in err
    # from the environment or soapkit.toml: the error/hint form
    monkeypatch.setenv("SOAPKIT_AUTH", kind)
    code, _, err = run(capsys, "call", "ContactAgent.GetContactEntity", "1", "--env", ONSITE)
    error, hint = error_and_hint(err)
    assert code == EXIT_USAGE
    assert error.startswith(f"error: auth (from environment variable SOAPKIT_AUTH): {kind!r} is not supported: ")
    assert why in error and "auth = username_password" in hint and "SOAPKIT_PASSWORD_FILE" in hint
    with pytest.raises(ConfigurationError, match="is not supported") as refused:
        load_settings({"auth": kind}, environ={}, use_config_file=False)
    assert why in refused.value.message


def test_supported_auth_kinds_are_still_accepted_in_any_case(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "call", "ContactAgent.GetContactEntity", "1", "--env", ONSITE,
                       "--auth", "USERNAME_PASSWORD")
    assert code == EXIT_USAGE and "(an onsite user), but user_name and password missing" in err
