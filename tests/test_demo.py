"""`soapkit demo` runs the whole flow against a built-in sandbox, exits 0 and prints no secret."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

from soapkit.demo import run_demo


def test_demo_command_exits_0_and_shows_the_flow() -> None:
    result = subprocess.run([sys.executable, "-m", "soapkit.cli", "demo"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("PartnerSystemUserService", "valid: RS256", "saved company #", "GetContactEntity(",
                     "Demo Industries AS", "person #", "Ada Lovelace", "<soap-env:Envelope", "Succeeded=true"):
        assert expected in out, expected
    assert "Traceback" not in result.stderr


def test_demo_redacts_every_secret_unless_asked(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(out=out, data_dir=tmp_path) == 0
    text = out.getvalue()
    cfg = json.loads((tmp_path / "sandbox.json").read_text())
    secrets = [cfg["client_secret"], cfg["system_user_token"]]
    assert not [s for s in secrets if s in text]
    assert not re.search(r"7T:[A-Za-z0-9]", text) and "eyJ" not in text.replace("eyJ***", "")
    assert "<ns1:ApplicationToken" in text and "***</ns1:ApplicationToken>" in text
    assert "signed token: ***" in text  # not even a prefix of the system-user token

    shown = io.StringIO()
    assert run_demo(out=shown, data_dir=tmp_path, show_secrets=True) == 0
    assert cfg["client_secret"] in shown.getvalue() and re.search(r"7T:[A-Za-z0-9]", shown.getvalue())
