"""A secrets canary: the demo, every sample and CLI commands (and their error paths) run with DEBUG logging
against a sandbox, and nothing they print or log may contain a secret.

The secrets are the sandbox's client secret, system-user token and private key, and anything shaped like a
ticket, access token, JWT or signed system-user token. Every CLI run must also end with a classified exit
code (never 70, "unexpected").
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soapkit.cli import EXIT_INTERNAL, main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SHAPES = re.compile(r"\b(?:7T|8A|8R|8P|8S):(?!\*\*\*)[A-Za-z0-9]|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
                    r"|\.\d{12}\.[A-Za-z0-9+/]{40,}")
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from soapkit.sandbox import Sandbox

    with Sandbox(tmp_path_factory.mktemp("canary-sandbox"), host="127.0.0.1", port=0) as running:
        yield running


def assert_no_secret(sandbox: Any, text: str, where: str) -> None:
    config = sandbox.config
    key_body = Path(config["private_key_pem"]).read_text().splitlines()[2]
    for secret in (config["client_secret"], config["system_user_token"], config["admin_token"], key_body):
        assert secret not in text, f"{where} leaked a configured secret"
    found = SHAPES.search(text)
    context = text[max(0, found.start() - 60):found.end() + 20] if found else ""
    assert found is None, f"{where} leaked something shaped like a secret: {context!r}"


def cli_runs(sandbox_dir: str) -> list[list[str]]:
    at = ["--sandbox", sandbox_dir]
    wrong_app_token, forged_ticket = Path(sandbox_dir) / "wrong-app-token", Path(sandbox_dir) / "forged-ticket"
    wrong_app_token.write_text("wrong-app-token-value")
    forged_ticket.write_text("7T:forged-ticket-value")
    return [
        ["ticket", *at], ["ticket", *at, "--json"], ["state", *at],
        ["call", "ContactAgent.GetContactEntity", "2", *at], ["call", "ContactAgent.GetContactEntity", "424242", *at],
        ["call", "ContactAgent.GetContactEntity", "2", *at, "--trace"],
        ["call", "ContactAgent.GetNoSuchThing", "2", *at], ["call", "ContactAgent.GetContactEntity", "x", *at],
        ["call", "ContactAgent.GetContactEntity", "2", *at, "--app-token-file", str(wrong_app_token)],
        ["call", "ContactAgent.GetContactEntity", "2", *at, "--ticket-file", str(forged_ticket)],
        ["call", "ContactAgent.GetContactEntity", "2", *at, "--ctx", "Cust99999"],
        ["envelope", "ContactAgent.GetContactEntity", "5", *at], ["describe", "ContactAgent.GetContactEntity"],
        ["keys", "sign", *at], ["config", "show", *at], ["sandbox", "tokens", "list", "--data-dir", sandbox_dir],
    ]


def test_cli_commands_and_their_errors_leak_nothing(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox_dir = str(Path(sandbox.config_path).parent)
    root = logging.getLogger()
    for argv in cli_runs(sandbox_dir):
        before = list(root.handlers)
        code = main([*argv, "-vv"])
        for handler in root.handlers[len(before):]:
            root.removeHandler(handler)
        out, err = capsys.readouterr()
        assert code != EXIT_INTERNAL, f"soapkit {' '.join(argv)} exited 70: {err[-500:]}"
        assert_no_secret(sandbox, out + err, f"soapkit {' '.join(argv)}")


_WITH_DEBUG_LOGGING = """
import logging, os, runpy, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _sample_args(name: str, sandbox_dir: str, tmp_path: Path) -> list[str]:
    extra = {"02": ["--contact-id", "3", "--department", "Canary"], "03": ["--contact-id", "1"],
             "05": ["--since", "2023-04-01", "-o", str(tmp_path / "out.csv")],
             "06": ["-o", str(tmp_path / "capture.json")]}
    return ["--sandbox", sandbox_dir, *extra.get(name[:2], [])]


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("[0-9]*.py")))
def test_every_sample_with_debug_logging_leaks_nothing(sandbox: Any, sample: str, tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SOAPKIT_")}
    arguments = _sample_args(sample, str(Path(sandbox.config_path).parent), tmp_path)
    result = subprocess.run([sys.executable, "-c", _WITH_DEBUG_LOGGING, str(SAMPLES / sample), *arguments],
                            capture_output=True, text=True, timeout=120, cwd=SAMPLES.parent,
                            env={**environment, "PYTHONIOENCODING": "utf-8"})
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    written = "".join(p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file())
    assert_no_secret(sandbox, result.stdout + result.stderr + written, sample)


def test_the_demo_with_debug_logging_leaks_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "soapkit.cli", "demo", "-vv"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not SHAPES.search(result.stdout + result.stderr), "the demo leaked something shaped like a secret"
