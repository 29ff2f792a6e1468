"""Shared pytest fixtures for soapkit's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Every sandbox response the suite provokes is written by soapkit.sandbox.render *and* by zeep, and the two
# compared byte for byte (a difference fails the call): the sandbox's fast writer is proven on all of them.
# Set before any sandbox starts, so sandboxes in subprocesses check too.
os.environ.setdefault("SOAPKIT_SANDBOX_CHECK_RENDER", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE_WSDL = REPO_ROOT.parent / "shared" / "reference" / "superoffice-wsdl"


pytest_plugins = ["both_drivers"]  # the `driver` fixture: a test module opts in to run on both drivers

@pytest.fixture(autouse=True)
def private_user_folders(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test gets its own XDG cache and config folders: the command line caches tickets in the user's cache
    folder and looks for sign-ins in the config folder, and tests never touch the real ones (subprocesses
    started by a test inherit these too)."""
    folder = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / "config"))


@pytest.fixture(scope="session")
def reference_wsdl_dir() -> Path:
    """SuperOffice's published WSDLs (read-only reference data), or a clean skip where they are absent.

    Set SOAPKIT_REFERENCE_WSDL to use another copy; the default is ../shared/reference/superoffice-wsdl
    next to the repository, where the project's workplace keeps it.
    """
    configured = os.environ.get("SOAPKIT_REFERENCE_WSDL")
    folder = Path(configured) if configured else DEFAULT_REFERENCE_WSDL
    if not (folder / "Services88").is_dir():
        pytest.skip(
            f"reference WSDLs not found at {folder}: conformance needs ../shared/reference/superoffice-wsdl"
        )
    return folder


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    """A soapkit sandbox for the whole test session, on an ephemeral loopback port, in a fresh data dir.

    Its ``config`` holds what a client needs (base_url, context_identifier, client_secret,
    system_user_token, private key paths, ...). Tests that move its clock or change its settings must
    put them back; tests that need a sandbox of their own start one (see tests/test_sandbox*.py).
    """
    from soapkit.sandbox import Sandbox

    with Sandbox(tmp_path_factory.mktemp("sandbox"), host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory):
    """A sandbox for one test module, for tests that change its state (expire tickets, rotate keys, ...)."""
    from soapkit.sandbox import Sandbox

    with Sandbox(tmp_path_factory.mktemp("sandbox"), host="127.0.0.1", port=0) as running:
        yield running
