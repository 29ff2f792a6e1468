"""Start-up stays cheap: ``soapkit --help``/``--version``/``CMD --help`` and ``import soapkit`` load nothing heavy.

Structural, not timed (benchmarks/bench_startup.py measures the wall time): each check runs in a fresh
interpreter and looks at ``sys.modules`` afterwards. The help of *every* command and sub-command the parser
knows is covered, so a new command that imports zeep at module level fails here.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import soapkit

#: what a start-up must not load: the SOAP stack, HTTP, XML, and the credential machinery
HEAVY = ("zeep", "requests", "httpx", "lxml", "cryptography", "jwt", "xmlsec", "urllib3")

_REPORT = "import json, sys; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})))"


def _heavy_after(program: str) -> list[str]:
    """The heavy modules loaded after running ``program`` in a fresh interpreter (its stdout is swallowed)."""
    wrapped = (
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        + "".join(f"    {line}\n" for line in program.splitlines())
        + _REPORT.format(heavy=set(HEAVY))
    )
    result = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def _command_paths() -> list[list[str]]:
    """Every command and sub-command of the ``soapkit`` parser, as argument lists (``["sandbox", "admin"]``)."""
    import argparse

    from soapkit.cli import build_parser

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> list[list[str]]:
        found = [prefix] if prefix else []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found += walk(child, [*prefix, name])
        return found

    return walk(build_parser(), [])


def test_the_walk_finds_nested_commands() -> None:
    paths = _command_paths()
    for expected in (["call"], ["describe"], ["keys", "sign"], ["wsdl", "import"], ["sandbox", "admin"]):
        assert expected in paths


def test_every_help_text_loads_nothing_heavy() -> None:
    argvs = [["--help"], *([*path, "--help"] for path in _command_paths())]
    program = (
        "from soapkit.cli import main\n"
        f"for argv in {argvs!r}:\n"
        "    assert main(argv) == 0, argv\n"
    )
    assert _heavy_after(program) == []


@pytest.mark.parametrize("argv", [["--version"], ["call", "--help"], ["sandbox", "tokens", "create", "--help"]])
def test_each_start_up_alone_loads_nothing_heavy(argv: list[str]) -> None:
    assert _heavy_after(f"from soapkit.cli import main\nassert main({argv!r}) == 0") == []


def test_python_dash_m_soapkit_help_loads_nothing_heavy() -> None:
    program = "import runpy, sys\nsys.argv = ['soapkit', '--help']\ntry:\n    runpy.run_module('soapkit', run_name='__main__')\nexcept SystemExit as exit_:\n    assert exit_.code == 0\n"  # noqa: E501
    assert _heavy_after(program) == []


def test_import_soapkit_defers_everything_heavy() -> None:
    assert _heavy_after("import soapkit\nimport soapkit.sandbox\nimport soapkit.cli") == []


def test_an_error_class_needs_no_soap_stack() -> None:
    assert _heavy_after("from soapkit import SoapkitError, ConfigurationError") == []


def test_first_use_imports_what_the_name_needs() -> None:
    assert "zeep" in _heavy_after("from soapkit import Catalog")
    assert "requests" in _heavy_after("import soapkit\nsoapkit.connect")


# --- a call served from a cached ticket ------------------------------------------------------------

#: what `soapkit call` with a cached ticket has no use for: signing (cryptography, the private key), token
#: validation (PyJWT), signed-in users (the OAuth package), envelope capture (soapkit.debug), TOML (no file)
NOT_FOR_A_CACHED_CALL = ("cryptography", "jwt", "soapkit.credentials.oauth", "soapkit.credentials.signing",
                         "soapkit.debug", "tomllib")


def _loaded_after_call(argv: list[str]) -> tuple[list[str], dict[str, object]]:
    """The modules of NOT_FOR_A_CACHED_CALL that ``soapkit <argv>`` loads in a fresh interpreter, and its answer."""
    program = (
        "import contextlib, io, json, sys\n"
        "from soapkit.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main({argv!r})\n"
        f"watched = {NOT_FOR_A_CACHED_CALL!r}\n"
        "loaded = sorted(m for m in sys.modules if any(m == w or m.startswith(w + '.') for w in watched))\n"
        "print(json.dumps({'code': code, 'loaded': loaded, 'answer': json.loads(out.getvalue())}))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr
    return report["loaded"], report["answer"]


def test_a_call_with_a_cached_ticket_loads_no_credential_machinery(sandbox: object, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from soapkit.sandbox import Sandbox

    assert isinstance(sandbox, Sandbox)
    monkeypatch.chdir(tmp_path)  # no ./soapkit.toml
    monkeypatch.delenv("SOAPKIT_CONFIG", raising=False)
    argv = ["call", "--sandbox", str(sandbox.data.root), "ContactAgent.GetContactEntity", "1"]
    # the first call signs and exchanges (and caches the ticket in this test's own cache folder) ...
    loaded, answer = _loaded_after_call(argv)
    assert "cryptography" in loaded and "soapkit.credentials.signing" in loaded  # the check sees them
    assert answer["ContactId"] == 1
    # ... the next is served from the cache: none of that machinery is even imported
    loaded, answer = _loaded_after_call(argv)
    assert loaded == [] and answer["ContactId"] == 1


# --- the lazy public API behaves like the eager one -------------------------------------------------


def test_every_public_name_resolves_to_its_defining_object() -> None:
    import importlib

    for name in soapkit.__all__:
        value = getattr(soapkit, name)
        if name == "__version__":
            continue
        module = importlib.import_module(soapkit._MODULE_OF[name])
        assert value is getattr(module, name), name


def test_all_and_dir_list_every_public_name() -> None:
    assert soapkit.__all__ == sorted(set(soapkit.__all__))
    assert set(soapkit.__all__) == {*soapkit._MODULE_OF, "__version__"}
    assert set(soapkit.__all__) <= set(dir(soapkit))


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from soapkit import *", namespace)
    assert set(soapkit.__all__) <= set(namespace)


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Conect'"):
        soapkit.Conect  # noqa: B018
    with pytest.raises(ImportError):
        exec("from soapkit import Conect")


def _type_checking_imports(path: Path) -> dict[str, str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return {alias.name: imp.module or "" for imp in node.body if isinstance(imp, ast.ImportFrom)
                    for alias in imp.names}
    raise AssertionError(f"{path} has no `if TYPE_CHECKING:` block")


LAZY_PACKAGES = ["soapkit", "soapkit.sandbox", "soapkit.credentials", "soapkit.credentials.oauth"]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_the_type_checking_imports_mirror_the_table(package: str) -> None:
    """mypy and IDEs read the ``if TYPE_CHECKING:`` imports; the runtime reads the table: they must agree."""
    import importlib

    module = importlib.import_module(package)
    assert module.__file__
    assert _type_checking_imports(Path(module.__file__)) == module._MODULE_OF


def test_the_sandbox_package_is_lazy_too() -> None:
    import soapkit.sandbox
    from soapkit.sandbox.app import Sandbox

    assert soapkit.sandbox.Sandbox is Sandbox
    assert set(soapkit.sandbox.__all__) <= set(dir(soapkit.sandbox))


# --- what the parser shows without importing the machinery agrees with the machinery --------------


def test_the_parsers_copies_of_defaults_agree_with_their_sources() -> None:
    from soapkit.catalog import DEFAULT_VERSION
    from soapkit.cli import login, wsdl
    from soapkit.credentials.oauth import default_sign_in_directory

    assert wsdl.DEFAULT_VERSION == DEFAULT_VERSION
    assert login._default_store() == default_sign_in_directory()


def test_version_prints_the_libraries_and_verbose_adds_the_native_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from soapkit.cli import main

    assert main(["--version"]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in plain] == ["soapkit", "zeep", "lxml", "xmlsec"]
    assert not any("libxml2" in line for line in plain)
    assert main(["-v", "--version"]) == 0
    verbose = capsys.readouterr().out
    assert "(libxml2 " in verbose and "(xmlsec1 " in verbose


def test_running_a_command_loads_only_that_command_module() -> None:
    program = "from soapkit.cli import main\nassert main(['call', '--help']) == 0"
    wrapped = ("import contextlib, io, sys\n"
               "with contextlib.redirect_stdout(io.StringIO()):\n"
               + "".join(f"    {line}\n" for line in program.splitlines())
               + "print(sorted(m for m in sys.modules\n"
               "             if m.startswith('soapkit.cli.') and not m.startswith('soapkit.cli._')))")
    result = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['soapkit.cli.call']"


@pytest.mark.parametrize(("argv", "expected"), [
    (["call", "X.Y"], ["call"]),
    (["--json", "-v", "describe"], ["describe"]),
    (["--wsdl-dir", "call", "describe"], ["describe"]),  # "call" is the folder given to --wsdl-dir
    (["--help", "call"], None),
    (["--version"], None),
    (["nosuchcommand"], None),
    ([], None),
])
def test_the_command_is_found_before_the_parser_is_built(argv: list[str], expected: list[str] | None) -> None:
    from soapkit.cli import _command_of

    assert _command_of(argv) == expected


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_type_checkers_do_not_see_the_lazy_getattr(package: str) -> None:
    """A module ``__getattr__`` would make every misspelt ``soapkit.Nmae`` an ``Any`` to mypy: it is defined
    only under ``if not TYPE_CHECKING:``, so type checkers know exactly the names the imports give."""
    import importlib

    module = importlib.import_module(package)
    assert module.__file__
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    def defines_getattr(node: ast.stmt) -> bool:
        if isinstance(node, ast.FunctionDef):
            return node.name == "__getattr__"
        return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__getattr__"
                                                    for t in node.targets)

    assert not any(defines_getattr(node) for node in tree.body)
    hidden = [node for node in tree.body if isinstance(node, ast.If) and isinstance(node.test, ast.UnaryOp)
              and isinstance(node.test.operand, ast.Name) and node.test.operand.id == "TYPE_CHECKING"]
    assert any(defines_getattr(item) for block in hidden for item in block.body)
    with pytest.raises(AttributeError, match="Nmae"):
        module.Nmae  # noqa: B018


# --- the collector during a one-shot call ---------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "paused"), [(["call", "X.Y"], True), (["--json", "call", "X.Y"], True),
                                              (["describe", "ContactAgent"], False), (["--version"], False)])
def test_a_call_runs_with_the_collector_paused_and_gets_it_back(monkeypatch: pytest.MonkeyPatch,
                                                                argv: list[str], paused: bool) -> None:
    import gc

    import soapkit.cli

    seen: list[bool] = []

    def recording_main(argv_: object, command: object) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(soapkit.cli, "_main", recording_main)
    assert gc.isenabled()
    assert soapkit.cli.main(argv) == 0
    assert seen == [not paused] and gc.isenabled()
    gc.disable()  # a caller that switched it off itself keeps it off
    try:
        assert soapkit.cli.main(argv) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_paused_call_leaves_its_objects_to_full_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the command allocated goes to the oldest generation (no young collection walks it all after the
    command), and cyclic garbage it left is still collected by a full collection."""
    import gc
    import weakref

    import soapkit.cli

    class Node:
        other: object = None

    kept: list[weakref.ref[Node]] = []
    alive: list[list[int]] = []

    def allocating_main(argv_: object, command: object) -> int:
        first, second = Node(), Node()
        first.other, second.other = second, first  # a cycle, garbage once this returns
        kept.append(weakref.ref(first))
        alive.extend([] for _ in range(5000))  # long-lived, as a command's modules and zeep model are
        return 0

    monkeypatch.setattr(soapkit.cli, "_main", allocating_main)
    assert soapkit.cli.main(["call", "X.Y"]) == 0
    young = gc.get_count()[0]
    assert young < 700, young  # below the first threshold: the 5000 objects are not in the young generation
    assert kept[0]() is not None
    gc.collect()
    assert kept[0]() is None and len(alive) == 5000
