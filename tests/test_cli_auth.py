"""Every credential provider plugs in from configuration (``auth``), end to end through ``soapkit call``
against a sandbox; what is inferred when ``auth`` is unset; clear errors; the command line's ticket cache."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_oauth_support import ScriptedBrowser, running_sandbox

from soapkit.cli import main
from soapkit.config import command_line_defaults, load_settings
from soapkit.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)

CALL = ("call", "ContactAgent.GetContactEntity", "1")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from running_sandbox(tmp_path_factory, "auth-sandbox")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("SOAPKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no ./soapkit.toml of the machine running the tests


@pytest.fixture
def sb(sandbox: Sandbox) -> list[str]:
    return ["--sandbox", str(sandbox.data.root)]


class RequestCounter(logging.Handler):
    """Counts the sandbox's requests by operation (or path) and outcome, from its request log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: Counter[str] = Counter()
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        entry = json.loads(record.getMessage())
        with self._guard:
            self.seen[f"{entry.get('operation') or entry.get('path')} {entry.get('outcome')}"] += 1

    def count(self, prefix: str) -> int:
        with self._guard:
            return sum(n for name, n in self.seen.items() if name.startswith(prefix))


@pytest.fixture
def requests_seen() -> Iterator[RequestCounter]:
    logger = logging.getLogger("soapkit.sandbox.requests")
    counter, level = RequestCounter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.INFO)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(level)


EXCHANGE = "PartnerSystemUserService.Authenticate"
CLIENT_CREDENTIALS_GRANT = "oauth.token client_credentials"
REFRESH_GRANT = "oauth.token refresh_token"


def call(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, *argv: str,
         secrets: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """Run ``soapkit ARGV``; nothing of the sandbox's secrets (or ``secrets``) may appear in its output."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    config = sandbox.config
    for secret in (config["client_secret"], config["system_user_token"], *secrets):
        assert secret not in out + err
    assert "Traceback" not in err and "7T:" not in (out + err).replace("7T:***", "")
    return code, out, err


def assert_contact_1(code: int, out: str, err: str) -> None:
    assert code == 0, err
    assert json.loads(out)["ContactId"] == 1


def write_secret(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


# --- each provider, end to end ---------------------------------------------------------------------------


def test_system_user_named_or_inferred(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, sb: list[str],
                                       requests_seen: RequestCounter) -> None:
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, "--auth", "system_user"))
    assert requests_seen.count(EXCHANGE) == 1
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, "--auth", "system_user"))
    assert requests_seen.count(EXCHANGE) == 1  # the ticket came from the command line's file cache


def test_ticket_given_as_is(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, sb: list[str], tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch, requests_seen: RequestCounter) -> None:
    ticket = sandbox.issue_ticket()
    ticket_file = write_secret(tmp_path / "ticket", ticket)
    # inferred: a ticket is more specific than the sandbox's system user
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, "--ticket-file", str(ticket_file), secrets=(ticket,)))
    monkeypatch.setenv("SOAPKIT_TICKET", ticket)
    monkeypatch.setenv("SOAPKIT_AUTH", "ticket")
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, secrets=(ticket,)))
    assert requests_seen.count(EXCHANGE) == 0


def test_client_credentials(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, sb: list[str],
                            requests_seen: RequestCounter) -> None:
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, "--auth", "client_credentials"))
    assert requests_seen.count(CLIENT_CREDENTIALS_GRANT) == 1 and requests_seen.count(EXCHANGE) == 0
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, "--auth", "client_credentials"))
    assert requests_seen.count(CLIENT_CREDENTIALS_GRANT) == 1  # the access token is cached like a ticket


def test_reference_tokens(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, sb: list[str], tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch, requests_seen: RequestCounter) -> None:
    pat = tmp_path / "eva.pat"
    assert main(["sandbox", "tokens", "create", "--kind", "pat", "--user", "EVA", "-o", str(pat),
                 "--data-dir", str(sandbox.data.root)]) == 0
    value = pat.read_text().strip()
    capsys.readouterr()
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, "--reference-token-file", str(pat), secrets=(value,)))
    monkeypatch.setenv("SOAPKIT_REFERENCE_TOKEN", value)
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, "--auth", "reference_token", secrets=(value,)))
    assert requests_seen.count(EXCHANGE) == 0
    bad = write_secret(tmp_path / "bad", "not-a-reference-token")
    code, _, err = call(capsys, sandbox, *CALL, *sb, "--reference-token-file", str(bad))
    assert code == 2 and "reference_token_file (from command line)" in err and "not-a-reference-token" not in err


def test_oauth_user_uses_the_sign_in_of_soapkit_login(capsys: pytest.CaptureFixture[str], sandbox: Sandbox,
                                                      sb: list[str], monkeypatch: pytest.MonkeyPatch,
                                                      requests_seen: RequestCounter) -> None:
    import webbrowser

    code, _, err = call(capsys, sandbox, *CALL, *sb, "--auth", "oauth_user")
    assert code == 2 and "No stored sign-in" in err and "soapkit login" in err
    monkeypatch.setattr(webbrowser, "open", ScriptedBrowser())
    assert call(capsys, sandbox, "login", *sb)[0] == 0  # into the default store: the user's config folder
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb, "--auth", "oauth_user"))
    assert requests_seen.count(EXCHANGE) == 0 and requests_seen.count(REFRESH_GRANT) == 1

    # a stored sign-in and the sandbox's system user: which one is meant is for the user to say
    code, _, err = call(capsys, sandbox, *CALL, *sb)
    assert code == 2 and "More than one credential is configured" in err
    assert "system_user" in err and "oauth_user" in err and "--auth system_user|oauth_user" in err

    assert call(capsys, sandbox, "login", *sb, "--logout")[0] == 0
    code, _, err = call(capsys, sandbox, *CALL, *sb, "--auth", "oauth_user")
    assert code == 2 and "No stored sign-in" in err
    assert_contact_1(*call(capsys, sandbox, *CALL, *sb))  # the system user alone again


# --- what is missing, what competes ---------------------------------------------------------------------------


def test_incomplete_or_ambiguous_settings_say_what_to_do(capsys: pytest.CaptureFixture[str], sandbox: Sandbox,
                                                         tmp_path: Path) -> None:
    base = ["--env", "sod", "--ctx", "Cust1"]
    code, _, err = call(capsys, sandbox, *CALL, *base, "--auth", "client_credentials")
    assert code == 2 and "auth (from command line) is client_credentials: client_id and app_token missing" in err
    assert "--client-id" in err and "SOAPKIT_APP_TOKEN_FILE" in err

    code, _, err = call(capsys, sandbox, *CALL, *base, "--private-key", str(tmp_path / "key.pem"))
    assert code == 2 and "No credential configured: system_user_token missing" in err
    assert "--system-user-token TOKEN|@FILE" in err and "SOAPKIT_SYSTEM_USER_TOKEN_FILE" in err

    ticket = write_secret(tmp_path / "ticket", "7T:dGlja2V0")
    token = write_secret(tmp_path / "pat", "8P:Cust1.cGF0")
    code, _, err = call(capsys, sandbox, *CALL, *base, "--ticket-file", str(ticket), "--reference-token-file",
                        str(token), secrets=("dGlja2V0", "cGF0"))
    assert code == 2 and "More than one credential is configured" in err
    assert "ticket_file (from command line)" in err and "--auth ticket|reference_token" in err

    code, _, err = call(capsys, sandbox, *CALL, *base, "--auth", "password")
    assert code == 2 and "invalid choice: 'password'" in err


# --- the command line's credential cache ------------------------------------------------------------------------


def run_cli(*argv: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SOAPKIT_")}, **environment}
    return subprocess.run([sys.executable, "-m", "soapkit.cli", *argv], capture_output=True, text=True,
                          timeout=60, env=env)


def test_successive_processes_share_one_ticket(sandbox: Sandbox, sb: list[str], requests_seen: RequestCounter) -> None:
    for _ in range(2):
        result = run_cli(*CALL, *sb)
        assert result.returncode == 0 and json.loads(result.stdout)["ContactId"] == 1, result.stderr
    assert requests_seen.count(EXCHANGE) == 1

    folder = Path(os.environ["XDG_CACHE_HOME"]) / "soapkit" / "credentials"
    entries = list(folder.glob("*.json"))
    assert entries and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(folder.parent.stat().st_mode) == 0o700


def test_soapkit_ticket_always_exchanges(capsys: pytest.CaptureFixture[str], sandbox: Sandbox, sb: list[str],
                                         requests_seen: RequestCounter) -> None:
    for _ in range(2):
        assert call(capsys, sandbox, "ticket", *sb, "--auth", "client_credentials")[0] == 0
    assert requests_seen.count(EXCHANGE) == 2  # it shows the exchange: never a cached ticket, always the system user
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "soapkit" / "credentials").exists()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_memory_cache_opts_out(sandbox: Sandbox, sb: list[str], requests_seen: RequestCounter, how: str) -> None:
    option = ["--cache", "memory"] if how == "option" else []
    environment = {"SOAPKIT_CACHE": "memory"} if how == "environment" else {}
    for _ in range(2):
        assert run_cli(*CALL, *sb, *option, **environment).returncode == 0
    assert requests_seen.count(EXCHANGE) == 2
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "soapkit" / "credentials").exists()


def test_the_default_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert command_line_defaults({"XDG_CACHE_HOME": str(tmp_path)}) == {
        "cache": f"file:{tmp_path / 'soapkit' / 'credentials'}"}
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert command_line_defaults() == {"cache": f"file:{tmp_path / 'home' / '.cache' / 'soapkit' / 'credentials'}"}
    # the library's default stays in memory: a program chooses where its credentials are kept
    assert load_settings(environ={}, use_config_file=False).get("cache") == "memory"


def test_a_broken_key_is_reported_when_a_ticket_is_needed_and_unneeded_while_one_is_cached(
        sb: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The key file is read and checked at once, parsed when signing: a key whose content only cryptography can
    reject fails the first exchange, naming the setting; while the ticket is cached it is never parsed."""
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n")
    broken.chmod(0o600)
    assert main([*CALL, *sb, "--private-key", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "error: private_key (from command line): The PEM private key cannot be read" in err
    assert "Traceback" not in err
    assert main([*CALL, *sb]) == 0  # the sandbox's own key: the ticket is fetched and cached
    capsys.readouterr()
    assert main([*CALL, *sb, "--private-key", str(broken)]) == 0  # served from the cache, no signing
    assert json.loads(capsys.readouterr().out)["ContactId"] == 1
    assert main([*CALL, *sb, "--private-key", str(tmp_path / "missing.pem")]) == 2  # what is cheap to see: at once
    assert "private_key (from command line): Private key file" in capsys.readouterr().err
