"""Operability of `soapkit sandbox` as a process: request log on stdout, admin from another process,
--reset, and a clean Ctrl-C while clients are still connected (tests/test_cli_sandbox.py covers the basics)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"


def start(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "soapkit.cli", "sandbox", "--port", "0", "--sandbox", str(data_dir), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
    if not match:
        process.kill()
        pytest.fail(first + (process.stderr.read() if process.stderr else ""))
    for _ in range(3):  # configuration, tenant, "press Ctrl-C"
        process.stdout.readline()
    return process, match.group(1)


@pytest.fixture()
def stopper() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def interrupt(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=10)
    assert code == 0, process.stderr.read() if process.stderr else code


def admin(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "soapkit.cli", "sandbox", "admin", "--sandbox", str(data_dir),
                           *args], capture_output=True, text=True, timeout=30)


def test_log_admin_and_ctrl_c_with_clients_connected(tmp_path: Path,
                                                     stopper: list[subprocess.Popen[str]]) -> None:
    process, base = start(tmp_path)
    stopper.append(process)
    cfg = json.loads((tmp_path / "sandbox.json").read_text())
    port = base.rsplit(":", 1)[-1]

    answer = requests.post(cfg["partner_rest_url"], timeout=10, json={
        "SignedSystemToken": "x", "ApplicationToken": cfg["client_secret"],
        "ContextIdentifier": cfg["context_identifier"], "ReturnTokenType": "Jwt"})
    assert answer.status_code == 200

    moved = admin(tmp_path, "move", cfg["context_identifier"], "localhost")
    assert moved.returncode == 0, moved.stderr
    state = requests.get(cfg["state_url"], timeout=10).json()
    assert state["Endpoint"] == f"http://localhost:{port}/{cfg['context_identifier']}"
    assert admin(tmp_path, "fault", "latency=5s", "--path", "/api/state").returncode == 0
    # the folder option after the sub-command, and the old spelling with a deprecation note
    after = subprocess.run([sys.executable, "-m", "soapkit.cli", "sandbox", "admin", "tenants", "--sandbox",
                            str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert after.returncode == 0 and cfg["context_identifier"] in after.stdout, after.stderr
    old = subprocess.run([sys.executable, "-m", "soapkit.cli", "sandbox", "admin", "tenants", "--data-dir",
                          str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert old.returncode == 0 and "--data-dir is deprecated: use --sandbox DIR" in old.stderr

    # Ctrl-C while one client idles on a keep-alive connection and another waits for a slow answer
    idle = requests.Session()
    assert idle.get(f"{base}/", timeout=10).status_code == 200
    slow = subprocess.Popen([sys.executable, "-c", f"import requests; requests.get({cfg['state_url']!r}, timeout=30)"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    started = time.perf_counter()
    assert process.wait(timeout=10) == 0
    assert time.perf_counter() - started < 8
    slow.kill()
    slow.wait(timeout=5)
    idle.close()

    assert process.stdout is not None
    output = process.stdout.read()
    assert "stopped" in output
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"method", "path", "status", "duration_ms"} <= set(records[0])
    paths = [r["path"] for r in records]
    assert "/Login/api/PartnerSystemUser/Authenticate" in paths and any("/_sandbox/admin/" in p for p in paths)
    assert cfg["client_secret"] not in output and cfg["admin_token"] not in output


def test_reset_starts_afresh(tmp_path: Path, stopper: list[subprocess.Popen[str]]) -> None:
    process, _ = start(tmp_path, "--quiet")
    stopper.append(process)
    first = json.loads((tmp_path / "sandbox.json").read_text())
    interrupt(process)

    process, _ = start(tmp_path, "--quiet")
    stopper.append(process)
    kept = json.loads((tmp_path / "sandbox.json").read_text())
    assert kept["client_secret"] == first["client_secret"]
    assert kept["admin_token"] != first["admin_token"]  # new at every start
    interrupt(process)

    process, _ = start(tmp_path, "--quiet", "--reset")
    stopper.append(process)
    fresh = json.loads((tmp_path / "sandbox.json").read_text())
    assert fresh["client_secret"] != first["client_secret"]
    interrupt(process)


def test_admin_without_a_sandbox(tmp_path: Path) -> None:
    result = admin(tmp_path, "tenants")
    assert result.returncode == 2 and "error: No running sandbox" in result.stderr
    assert "hint: Start one: soapkit sandbox --sandbox" in result.stderr
