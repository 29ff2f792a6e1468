"""The documentation site: it builds in strict mode, its agent reference is what the WSDLs say, and every page a
hint, a ``--help`` text or ``soapkit docs`` names is on it.

The strict build (``mkdocs build --strict``: broken links, missing anchors, pages outside the navigation and
docstring problems are warnings, and warnings fail) runs once per module, into a temporary folder.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

from soapkit import _docs, errors
from soapkit.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO / "tools" / "build_agent_docs.py"


def _checkout() -> None:
    if not (REPO / "mkdocs.yml").is_file() or not TOOL.is_file():
        pytest.skip("not running from a source checkout")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _checkout()
    if importlib.util.find_spec("mkdocs") is None:
        pytest.fail("mkdocs is not installed: pip install '.[test]' (the docs extra is part of it)")
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
                            cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return target


def test_the_site_builds_in_strict_mode(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "search" / "search_index.json").is_file()
    client = (site / "reference" / "client" / "index.html").read_text(encoding="utf-8")
    assert "Connect to a tenant." in client  # the API reference is generated from the docstrings
    for page in (site / "reference").rglob("index.html"):  # Sphinx roles are shown as code (tools/mkdocs_hooks.py)
        assert not re.search(r":(class|func|meth|mod|data|attr|exc):<code>", page.read_text(encoding="utf-8")), page


def test_strict_mode_fails_on_a_broken_link(tmp_path: Path) -> None:
    """The build above would pass without checks: a copy of the site with one broken link must fail."""
    _checkout()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[broken](missing.md) and [anchor](#nowhere)\n", encoding="utf-8")
    real = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    validation = real[real.index("\nvalidation:"):real.index("\nnav:")]  # the site's own link checks
    config = "site_name: probe\nstrict: true\nmarkdown_extensions:\n  - toc\n  - attr_list\n" + validation
    config += "\nnav:\n  - Home: index.md\n"
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode != 0
    assert "missing.md" in result.stderr and "nowhere" in result.stderr


# --- the agent reference ------------------------------------------------------------------------------------


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_agent_docs", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def agent_docs() -> tuple[ModuleType, object, dict[str, str]]:
    _checkout()
    tool = _tool()
    from soapkit.catalog import Catalog

    docs = tool.AgentDocs(Catalog(include_bundled=True))
    return tool, docs, docs.pages()


def test_committed_agent_pages_are_what_the_tool_writes(agent_docs: tuple[ModuleType, object, dict[str, str]]) -> None:
    tool, docs, pages = agent_docs
    folder = REPO / "docs" / "agents"
    assert sorted(p.name for p in folder.glob("*.md")) == sorted(pages), "run python tools/build_agent_docs.py"
    for name, text in pages.items():
        assert (folder / name).read_text(encoding="utf-8") == text, f"docs/agents/{name} is out of date: run " \
            "python tools/build_agent_docs.py"
    mkdocs = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert tool.with_nav(mkdocs, docs.nav()) == mkdocs, "the agent navigation in mkdocs.yml is out of date"


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## ([A-Za-z0-9_]+) \{#\1\}$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_operation_parameter_and_sandbox_mark_is_on_its_agent_page(
        agent_docs: tuple[ModuleType, object, dict[str, str]]) -> None:
    """Held against the catalog and the sandbox's registry, for every operation of the contract."""
    from zeep.xsd import ComplexType

    from soapkit.catalog import PARTNER_SERVICE, Catalog
    from soapkit.sandbox.docs import GENERIC, HAND_WRITTEN, emulation
    from soapkit.values.codec import agent_label

    _, _, pages = agent_docs
    catalog = Catalog()
    how = emulation(catalog)
    marks = {HAND_WRITTEN: "**Sandbox:** emulated (hand-written)", GENERIC: "**Sandbox:** emulated (generic"}
    counted = 0
    for service in catalog.services():
        sections = _sections(pages[f"{agent_label(service)}.md"])
        description = catalog.describe(service)
        assert sorted(sections) == description.operation_names, service
        for name in description.operation_names:
            section = sections[name]
            if service != PARTNER_SERVICE:
                kind = how[(service, name)].kind
                assert marks.get(kind, "**Sandbox:** not emulated") in section, (service, name, kind)
            body = description.operation(name).input.body
            if body is not None and isinstance(body.type, ComplexType):
                for parameter, _ in body.type.elements:
                    assert f"| `{parameter}` |" in section, (service, name, parameter)
            counted += 1
    assert counted == sum(len(catalog.describe(s).operation_names) for s in catalog.services())
    assert counted > 1900


def test_the_types_page_describes_every_type_the_operations_link_to(
        agent_docs: tuple[ModuleType, object, dict[str, str]]) -> None:
    _, _, pages = agent_docs
    types = pages["types.md"]
    anchors = set(re.findall(r"\{#([A-Za-z0-9_]+)\}", types))
    linked = {target for name, text in pages.items() if name != "types.md"
              for target in re.findall(r"\]\(types\.md#([A-Za-z0-9_]+)\)", text)}
    linked |= set(re.findall(r"\]\(#([A-Za-z0-9_]+)\)", types))
    assert len(linked) > 500
    assert linked <= anchors, linked - anchors
    assert "### ContactEntity {#ContactEntity}" in types
    # every member a value has, its base type's marked as such
    assert "| `TableRight` | [`TableRight`](#TableRight) | nillable, from `Carrier` |" in types
    assert "| `ContactId` | `xs:int` |  |" in types
    assert "| `Key` | `xs:dateTime` | required |" in types  # TimeZoneRuleKeyValuePair's required member


def test_the_emulation_table_in_the_sandbox_guide_comes_from_the_same_registry() -> None:
    from soapkit.sandbox.docs import BEGIN, END, emulated_section

    text = (REPO / "docs" / "sandbox.md").read_text(encoding="utf-8")
    assert text[text.index(BEGIN):text.index(END) + len(END)] == emulated_section()


def test_agent_pages_are_searchable(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {entry["location"] for entry in index["docs"]}
    assert "agents/ContactAgent/#GetContactEntity" in locations
    assert "agents/types/#ContactEntity" in locations
    assert any(loc.startswith("reference/errors/") for loc in locations)


# --- hints, --help and `soapkit docs` point at pages that exist -----------------------------------------------


def _page_on_site(site: Path, topic: str) -> Path:
    return site / _docs.site_path(_docs.resolve(topic)) / "index.html"


def _topics_named_in_source() -> set[str]:
    """Every literal topic passed to ``page(...)`` anywhere in soapkit."""
    found: set[str] = set()
    for path in (REPO / "soapkit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "page" \
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def test_every_page_a_hint_or_help_text_names_is_on_the_site(site: Path) -> None:
    topics = {*_docs.PAGES, *_docs.ALIASES, *_docs.COMMAND_TOPICS.values(),
              *(t for t in _docs.ERROR_TOPICS.values() if t), *_topics_named_in_source()}
    missing = sorted(topic for topic in topics if not _page_on_site(site, topic).is_file())
    assert not missing


def test_every_error_class_points_at_a_page_that_exists(site: Path) -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.SoapkitError)]
    assert len(classes) > 20
    for cls in classes:
        topic = _docs.topic_for_error(cls)
        if topic is not None:
            assert _page_on_site(site, topic).is_file(), (cls.__name__, topic)
    # the families users meet most have a page of their own, not just the reference
    assert _docs.topic_for_error(errors.InvalidValue) == "values"
    assert _docs.topic_for_error(errors.CredentialRejected) == "credentials"
    assert _docs.topic_for_error(errors.RequestTimeout) == "retries"
    assert _docs.topic_for_error(errors.SignInRequired) == "oauth"


def test_every_command_help_ends_with_its_page() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    assert set(commands) <= set(_docs.COMMAND_TOPICS), set(commands) - set(_docs.COMMAND_TOPICS)
    for name, command in commands.items():
        assert command.format_help().rstrip().endswith(f"docs: soapkit docs {_docs.COMMAND_TOPICS[name]}"), name
    assert "soapkit docs" in parser.format_help()


def test_a_cli_error_names_its_page(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["envelope", "ContactAgent.GetContactEntity", "abc"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: Parameter ContactEntityId expects xsd:int")
    assert err[-1] == "docs: soapkit docs values"
    monkeypatch.setenv(_docs.DOCS_URL_VARIABLE, "https://docs.example.com/soapkit/")
    assert main(["describe", "ContactAgent.GetContactEntty"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "docs: https://docs.example.com/soapkit/agents/"


def test_a_hosted_site_turns_references_into_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    assert errors.CredentialRejected("no").docs == "soapkit docs credentials"
    monkeypatch.setenv(_docs.DOCS_URL_VARIABLE, "https://docs.example.com/soapkit")
    assert errors.CredentialRejected("no").docs == "https://docs.example.com/soapkit/credentials/"
    assert _docs.url("ContactAgent", "GetContactEntity") == \
        "https://docs.example.com/soapkit/agents/ContactAgent/#GetContactEntity"
    assert _docs.url("index") == "https://docs.example.com/soapkit/"
    assert errors.InvalidValue("bad").docs == "https://docs.example.com/soapkit/values/"
    assert errors.ConfigurationError("bad").docs is None


def test_an_error_message_names_its_page() -> None:
    """What a traceback shows from the Python API: the message, the hint, and the page."""
    error = errors.CredentialRejected("The ticket was rejected.")
    assert str(error).splitlines() == ["The ticket was rejected.", f"  hint: {error.hint}",
                                       "  docs: soapkit docs credentials"]
    assert str(errors.ConfigurationError("Bad.", hint="Fix it.")) == "Bad.\n  hint: Fix it."


def test_a_mistyped_topic_fails_in_our_own_code() -> None:
    with pytest.raises(_docs.UnknownTopic):
        _docs.page("credntials")


# --- the `soapkit docs` command -------------------------------------------------------------------------------


def test_docs_lists_the_guides(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs"]) == 0
    out = capsys.readouterr().out
    for topic, (_, title) in _docs.PAGES.items():
        assert re.search(rf"^  {re.escape(topic)} +{re.escape(title)}$", out, re.M), topic
    assert main(["docs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "ContactAgent" in listed["agents"] and len(listed["pages"]) == len(_docs.PAGES)


def test_docs_prints_a_page_a_section_and_an_operation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "retries"]) == 0
    assert capsys.readouterr().out == (_docs.docs_dir() / "retries.md").read_text(encoding="utf-8")
    assert main(["docs", "values#dates-and-time-zones"]) == 0
    section = capsys.readouterr().out
    assert section.startswith("## Dates and time zones\n") and "\n## " not in section
    assert main(["docs", "contactagent.GetContactEntity"]) == 0  # agent names in any case
    out = capsys.readouterr().out
    assert out.startswith("## GetContactEntity {#GetContactEntity}") and "**Sandbox:** emulated" in out
    assert "## GetContactList" not in out
    assert main(["docs", "wcf", "--where"]) == 0
    where = capsys.readouterr().out
    assert "migrating-from-wcf.md" in where and "site path:  migrating-from-wcf/" in where
    assert main(["docs", "--where"]) == 0
    assert f"pages:  {_docs.docs_dir()}\n" in capsys.readouterr().out


def test_docs_refuses_unknown_topics_with_close_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "credntials"]) == 2
    err = capsys.readouterr().err
    assert "error: There is no documentation page 'credntials'." in err and "Did you mean credentials?" in err
    assert main(["docs", "ContactAgent.GetContactEntty"]) == 2
    assert "has no section 'GetContactEntty'" in capsys.readouterr().err
    assert main(["docs", "--serve", "--port", "70000"]) == 2
    assert "--port 70000 is not a port number" in capsys.readouterr().err
    with socket.socket() as busy:  # a busy port is reported before the site is built
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["docs", "--serve", "--port", str(port)]) == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["docs", "nosuchpage", "--serve"]) == 2
    assert "no documentation page 'nosuchpage'" in capsys.readouterr().err


def test_docs_serve_serves_the_built_site_on_loopback(site: Path, tmp_path: Path) -> None:
    """``soapkit docs --serve`` builds the site from this version's pages and serves it until interrupted (Ctrl-C:
    exit 0, and the temporary site is removed)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "soapkit", "docs", "ContactAgent", "--serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "TMPDIR": str(scratch)})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/(\S*)", line)
        assert match, line + (process.stderr.read() if process.stderr and process.poll() is not None else "")
        assert match[2] == "agents/ContactAgent/"
        with urllib.request.urlopen(match[0], timeout=10) as answer:
            assert b"GetContactEntity" in answer.read()
        assert [p.name for p in scratch.iterdir() if p.name.startswith("soapkit-docs-")]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert not list(scratch.iterdir()), "the temporary site was left behind"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
