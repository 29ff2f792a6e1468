"""Release packaging: the sdist and the wheel build, each installs into a fresh virtual environment, and the
installed ``soapkit demo`` runs from it; the metadata is complete and the version has one source.

The fresh environments get soapkit with ``pip install --no-deps`` (the wheel; the sdist is built into a wheel
on the way, so a file missing from the sdist fails here) and see the dependencies of the test environment
through a ``.pth`` line appended after their own site-packages: soapkit itself always comes from the fresh
environment (asserted), nothing is downloaded, and the test stays well under 90 seconds.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import soapkit

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.release


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("not running from a source checkout")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-t", "wheel", "-d", str(out)],
                   cwd=REPO, check=True, capture_output=True, text=True, timeout=120)
    return out


def _one(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def _fresh_env(root: Path) -> Path:
    """A new virtual environment (no pip of its own) that sees this environment's packages after its own."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=60)
    python = root / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    (Path(own) / "zz_test_dependencies.pth").write_text(
        "\n".join(dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])) + "\n")
    return python


def _install_and_run_demo(python: Path, artifact: Path, cwd: Path) -> None:
    # --ignore-installed: where the test environment holds soapkit installed (CI), pip would see it through the
    # .pth line, call the requirement satisfied and install nothing into the fresh environment
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--ignore-installed", "--no-build-isolation", "--no-index", str(artifact)],
                   check=True, capture_output=True, text=True, timeout=120)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "SOAPKIT"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    where = subprocess.run([str(python), "-c", "import soapkit; print(soapkit.__file__, soapkit.__version__)"],
                           cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(python.parent.parent)), where  # the fresh install, not the checkout
    assert where.split()[1] == soapkit.__version__
    version = subprocess.run([str(python.parent / "soapkit"), "--version"], cwd=cwd, env=env,
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert [line.split()[0] for line in version.stdout.splitlines()] == ["soapkit", "zeep", "lxml", "xmlsec"]
    demo = subprocess.run([str(python.parent / "soapkit"), "demo"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=90)
    assert demo.returncode == 0, demo.stderr
    for expected in ("PartnerSystemUserService", "GetContactEntity(", "Succeeded=true"):
        assert expected in demo.stdout, expected


def test_the_wheel_installs_in_a_fresh_environment_and_runs_the_demo(dist: Path, tmp_path: Path) -> None:
    python = _fresh_env(tmp_path / "venv")
    _install_and_run_demo(python, _one(dist, "soapkit-*.whl"), tmp_path)


def test_the_sdist_builds_installs_in_a_fresh_environment_and_runs_the_demo(dist: Path, tmp_path: Path) -> None:
    sdist = _one(dist, "soapkit-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    root = names[0].split("/")[0]
    for wanted in ("pyproject.toml", "LICENSE", "CHANGELOG.md", "README.md", "soapkit/py.typed",
                   "soapkit/_typed_agents.pyi", "wsdl/Services88/NetServerTypes.xsd", "tools/build_stubs.py"):
        assert f"{root}/{wanted}" in names, wanted
    python = _fresh_env(tmp_path / "venv")
    _install_and_run_demo(python, sdist, tmp_path)


def test_wheel_metadata_is_complete(dist: Path) -> None:
    with zipfile.ZipFile(_one(dist, "soapkit-*.whl")) as wheel:
        names = wheel.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(wheel.read(metadata_name))
    assert metadata["Version"] == soapkit.__version__
    assert metadata["License"] == "MIT"
    classifiers = metadata.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Typing :: Typed" in classifiers
    assert "License :: OSI Approved :: MIT License" in classifiers
    assert metadata["Keywords"] and "superoffice" in metadata["Keywords"]
    urls = metadata.get_all("Project-URL") or []
    assert any(url.startswith("Changelog, ") for url in urls), urls
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)
    assert "soapkit/_version.py" in names
