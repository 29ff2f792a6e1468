"""A plain (non-editable) install carries the WSDLs, and the installed package finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("not running from a source checkout")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True, capture_output=True, text=True,
    )
    (built,) = out.glob("soapkit-*.whl")
    return built


def test_wheel_contains_every_shipped_wsdl(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.relative_to(REPO / "wsdl").as_posix() for p in (REPO / "wsdl").rglob("*") if p.is_file())
    assert shipped, "the source tree has no wsdl/ files"
    missing = [s for s in shipped if f"soapkit/wsdl/{s}" not in names]
    assert not missing
    assert any(n.endswith("entry_points.txt") for n in names)


def test_wheel_carries_the_type_stubs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"soapkit/py.typed", "soapkit/_typed_agents.pyi"} <= names


def test_installed_wheel_finds_its_wsdls(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    probe = (
        "import soapkit, soapkit.catalog as c; from pathlib import Path;"
        "d = c.bundled_wsdl_dir(); print(d);"
        "assert Path(soapkit.__file__).parent in d.parents, d;"
        "print(c.Catalog().describe('ContactAgent').operation('GetContactEntity').name)"
    )
    # run from an empty folder so the source checkout cannot be imported by accident
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout and "GetContactEntity" in result.stdout


def test_wheel_carries_this_versions_documentation(wheel: Path, tmp_path: Path) -> None:
    """`soapkit docs` reads the pages from the installed package (an installed wheel has no docs/ folder)."""
    names = set(zipfile.ZipFile(wheel).namelist())
    pages = sorted(p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md"))
    missing = [page for page in pages if f"soapkit/_site/docs/{page}" not in names]
    assert pages and not missing
    assert {"soapkit/_site/mkdocs.yml", "soapkit/_site/tools/mkdocs_hooks.py"} <= names
    target = tmp_path / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    probe = ("import sys; from soapkit.cli import main;"
             "sys.exit(main(['docs', 'ContactAgent.GetContactEntity']) or main(['docs', 'retries', '--where']))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "def GetContactEntity(self, ContactEntityId: int | None = None)" in result.stdout
    assert f"{target}/soapkit/_site/docs/retries.md" in result.stdout
