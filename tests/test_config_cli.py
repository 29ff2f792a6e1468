"""``soapkit config show|check|path|new-cache-key``: sources, redaction, JSON, clear errors."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from soapkit.cli import main
from soapkit.credentials.caches import FileCache
from soapkit.credentials.keys import private_key_to_pem


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean directory as cwd, no SOAPKIT_* variables, an empty user config folder."""
    for name in list(os.environ):
        if name.startswith("SOAPKIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_secret(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def test_show_names_each_source(work: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    (work / "soapkit.toml").write_text('env = "sod"\ncontext_identifier = "Cust1"\napp_token_file = "app.secret"\n')
    write_secret(work / "app.secret", "app-secret-value")
    monkeypatch.setenv("SOAPKIT_CONTEXT_IDENTIFIER", "Cust2")
    code, out, _ = run(capsys, "config", "show", "--timeout", "9")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    toml = str(work / "soapkit.toml")
    assert lines["config"].endswith(toml)
    assert "sod" in lines["env"] and f"(config file ({toml}))" in lines["env"]
    assert "Cust2" in lines["context_identifier"] and "SOAPKIT_CONTEXT_IDENTIFIER" in lines["context_identifier"]
    assert "9.0" in lines["timeout"] and "(command line)" in lines["timeout"]
    assert "(default)" in lines["services_version"] and "(default)" in lines["cache"]
    assert str(work / "app.secret") in lines["app_token_file"]
    assert "app-secret-value" not in out


def test_show_masks_secrets_unless_asked(work: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOAPKIT_APP_TOKEN", "app-secret-value")
    monkeypatch.setenv("SOAPKIT_SYSTEM_USER_TOKEN", "App Name-8k8Q7DmBgo")
    monkeypatch.setenv("SOAPKIT_CACHE", "redis://:hunter2@cache.internal:6379/0")
    monkeypatch.setenv("SOAPKIT_CACHE_KEY", "K" * 43)
    code, out, err = run(capsys, "config", "show")
    assert code == 0
    for secret in ("app-secret-value", "8k8Q7DmBgo", "hunter2", "K" * 43):
        assert secret not in out + err
    assert "redis://:***@cache.internal:6379/0" in out
    code, out, _ = run(capsys, "config", "show", "--show-secrets")
    assert "app-secret-value" in out and "hunter2" in out and "8k8Q7DmBgo" in out


def test_show_json(work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOAPKIT_APP_TOKEN", "app-secret-value")
    monkeypatch.setenv("SOAPKIT_ENV", "stage")
    code, out, _ = run(capsys, "config", "show", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["config_file"] is None
    assert document["settings"]["env"] == {"value": "stage", "source": "environment (SOAPKIT_ENV)"}
    assert document["settings"]["app_token"] == {"value": "***", "source": "environment (SOAPKIT_APP_TOKEN)"}
    assert document["settings"]["exchange_method"]["source"] == "default"
    assert "context_identifier" in document["not_set"]
    assert "none configured" in document["credential"]


def test_show_with_an_explicit_config_file(work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "prod.toml"
    other.write_text('env = "online"\ncontext_identifier = "Cust9"\n')
    (work / "soapkit.toml").write_text('env = "sod"\n')
    code, out, _ = run(capsys, "config", "show", "--json", "--config", str(other))
    assert code == 0 and json.loads(out)["settings"]["context_identifier"]["value"] == "Cust9"
    assert json.loads(out)["config_file"] == str(other)


def test_bad_toml_is_a_usage_error_naming_key_and_fix(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "soapkit.toml").write_text('app_token = "s3cr3t"\n')
    code, out, err = run(capsys, "config", "show")
    assert code == 2
    assert "unknown setting 'app_token'" in err and "app_token_file" in err and "hint:" in err
    assert "s3cr3t" not in out + err
    (work / "soapkit.toml").write_text("timeout = -3\n")
    code, _, err = run(capsys, "config", "show")
    assert code == 2 and "timeout (from" in err and "more than 0" in err


def test_missing_named_config_file(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "config", "show", "--config", str(work / "missing.toml"))
    assert code == 2 and "missing.toml" in err and "does not exist" in err


@pytest.fixture
def configured(work: Path) -> Path:
    key = work / "partner.pem"
    key.write_text(private_key_to_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    write_secret(work / "app.secret", "app-secret-value")
    write_secret(work / "sut", "App Name-8k8Q7DmBgo")
    (work / "soapkit.toml").write_text(
        'env = "sod"\ncontext_identifier = "Cust1"\napp_token_file = "app.secret"\n'
        'system_user_token_file = "sut"\nprivate_key = "partner.pem"\ncache = "file:creds"\n')
    return work


def test_check_passes_on_a_complete_configuration(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "config", "check")
    assert code == 0 and "configuration OK: system user" in out
    assert (configured / "creds").is_dir()


def test_check_reports_every_problem(configured: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (configured / "sut").unlink()
    monkeypatch.setenv("SOAPKIT_ENV", "production")
    monkeypatch.setenv("SOAPKIT_APP_TOKEN_FILE", str(configured / "nope"))
    code, out, _ = run(capsys, "config", "check", "--json")
    assert code == 2
    messages = " | ".join(p["message"] for p in json.loads(out)["problems"])
    assert "env: Unknown environment 'production'" in messages
    assert "app_token: app_token_file (from environment (SOAPKIT_APP_TOKEN_FILE))" in messages
    assert "credential: system_user_token_file (from config file" in messages and "does not exist" in messages


def test_the_cli_client_uses_the_configured_cache(configured: Path) -> None:
    import argparse

    from soapkit.cli._settings import effective_settings
    from soapkit.config import build_client

    args = argparse.Namespace(config=None, sandbox=None)
    with build_client(effective_settings(args)) as so:
        assert isinstance(so.credentials.cache, FileCache)
        assert so.credentials.cache.directory == configured / "creds"


def test_path_lists_the_search_order(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "config", "path", "--json")
    document = json.loads(out)
    assert code == 0 and document["used"] is None
    assert document["search"][0] == str(work / "soapkit.toml")
    assert document["search"][1].endswith("xdg/soapkit/soapkit.toml")


def test_new_cache_key(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "config", "new-cache-key")
    assert code == 0
    printed = out.strip()
    FileCache(work / "c1", encryption_key=printed)  # a usable key
    target = work / "keys" / "cache.key"
    code, out, _ = run(capsys, "config", "new-cache-key", "--output", str(target))
    assert code == 0 and str(target) in out
    key = target.read_text().strip()
    assert key not in out and stat.S_IMODE(target.stat().st_mode) == 0o600
    FileCache(work / "c2", encryption_key=key)
    code, _, err = run(capsys, "config", "new-cache-key", "--output", str(target))
    assert code == 2 and "already exists" in err
    assert target.read_text().strip() == key
