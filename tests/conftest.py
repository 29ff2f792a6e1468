"""Shared pytest fixtures for soapkit's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE_WSDL = REPO_ROOT.parent / "shared" / "reference" / "superoffice-wsdl"


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
