"""`soapkit sandbox` starts a real server, says where it listens, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests


def test_soapkit_sandbox_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "soapkit.cli", "sandbox", "--port", "0", "--data-dir", str(tmp_path), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        assert str(tmp_path / "sandbox.json") in process.stdout.readline()
        base = match.group(1)
        cfg = json.loads((tmp_path / "sandbox.json").read_text())
        assert cfg["base_url"] == base and (tmp_path / "sandbox.json").stat().st_mode & 0o077 == 0
        state = requests.get(f"{base}/api/state/{cfg['context_identifier']}", timeout=5).json()
        assert state["IsRunning"] is True
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
