"""Every hint and message soapkit can produce names only commands, options and Python names that exist.

The texts are collected from the source with :mod:`ast`: string literals passed as ``hint=``, ``default_hint``
class attributes, the values of ``_HINTS`` tables, and the first argument of every ``raise SomeError(...)``.
f-string placeholders become ``X``. On the command line hints pass through :func:`soapkit.cli._hints.cli_hint`
first, so the check runs on the rewritten text.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import re
from pathlib import Path

import pytest

import soapkit
from soapkit.cli import build_parser
from soapkit.cli._hints import REWRITES, cli_hint

SOURCE = Path(soapkit.__file__).parent


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None and right is not None:
            return left + right
    if isinstance(node, ast.IfExp):
        return _text(node.body) or _text(node.orelse)
    return None


def collect(kind: str) -> list[tuple[str, str]]:
    """(where, text) for every hint (``kind="hint"``) or raised message (``kind="message"``) in soapkit/."""
    found: list[tuple[str, str]] = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(SOURCE.parent))
        for node in ast.walk(tree):
            texts: list[ast.AST] = []
            if kind == "hint":
                if isinstance(node, ast.Call):
                    texts += [k.value for k in node.keywords if k.arg == "hint"]
                if isinstance(node, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id in ("default_hint", "_HINTS") for t in node.targets):
                    texts += node.value.values if isinstance(node.value, ast.Dict) else [node.value]
                if isinstance(node, ast.IfExp):
                    texts += [node.body, node.orelse]
            elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                texts.append(node.exc.args[0])
            for text_node in texts:
                text = _text(text_node)
                if text and text.strip():
                    found.append((f"{where}:{getattr(text_node, 'lineno', '?')}", text))
    return found


HINTS = collect("hint")
MESSAGES = collect("message")


def test_the_walk_finds_the_texts() -> None:
    assert len(HINTS) > 80 and len(MESSAGES) > 150
    assert any("soapkit sandbox --sandbox" in text for _, text in HINTS)


def test_the_checks_catch_what_the_issue_reported() -> None:
    assert check_cli_text("Start a sandbox first: soapkit sandbox start --data-dir X") == [
        "soapkit sandbox has no option --data-dir", "no command has an option --data-dir"]
    assert check_cli_text("Run `soapkit frobnicate`.") == ["no command 'frobnicate'"]
    assert check_cli_text("raise --no-such-option.") == ["no command has an option --no-such-option"]
    assert check_python_text("Use AccessToken(...).") == ["AccessToken is not importable from soapkit"]
    assert check_python_text("pass it as wsdl_dir=.") == ["no public soapkit callable takes wsdl_dir="]
    assert check_python_text("Pass app_token= or ticket=.") == []


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    """The options a hint may name: deprecated (hidden) spellings such as --data-dir are not among them."""
    return {option for action in parser._actions if action.help is not argparse.SUPPRESS
            for option in action.option_strings}


PARSER = build_parser()
ALL_OPTIONS: set[str] = set()


def _all_options(parser: argparse.ArgumentParser) -> None:
    ALL_OPTIONS.update(_options(parser))
    for child in _subcommands(parser).values():
        _all_options(child)


_all_options(PARSER)

_COMMAND = re.compile(r"\bsoapkit((?: [a-z][a-z-]*)+)((?: (?:--?[a-z][a-z-]*|[^\s`,;]+))*)")
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]+)")


def check_cli_text(text: str) -> list[str]:
    problems = []
    for match in _COMMAND.finditer(text):
        parser, words = PARSER, match.group(1).split()
        path = ["soapkit"]
        for word in words:
            children = _subcommands(parser)
            if word not in children:
                break
            parser = children[word]
            path.append(word)
        if len(path) == 1:
            before = text[:match.start()].rstrip(" ")
            if before.endswith(("`", "run", "Run", "try", "Try")) or "--" in match.group(0):  # a command, not prose
                problems.append(f"no command {words[0]!r}")
            continue
        for option in _OPTION.findall(match.group(0)):
            if option not in _options(parser):
                problems.append(f"{' '.join(path)} has no option {option}")
    for option in _OPTION.findall(text):
        if option not in ALL_OPTIONS:
            problems.append(f"no command has an option {option}")
    return problems


_PYTHON_CALL = re.compile(r"(?<![\w.])([A-Z][A-Za-z0-9]+)\(")


_KEYWORD = re.compile(r"(?<![\w.\-])([a-z][a-z0-9_]*)=(?=[\s.,;:)`]|$)")


def _keyword_names() -> set[str]:
    """Every parameter name of soapkit's public callables (classes: their constructors)."""
    import inspect

    names: set[str] = set()
    for public in soapkit.__all__:
        value = getattr(soapkit, public)
        if callable(value):
            with contextlib.suppress(TypeError, ValueError):  # builtins without a signature
                names.update(inspect.signature(value).parameters)
    return names


KEYWORDS = _keyword_names()


def check_python_text(text: str) -> list[str]:
    problems = [f"{name} is not importable from soapkit" for name in _PYTHON_CALL.findall(text)
                if not hasattr(soapkit, name) and name not in _NOT_CLASSES]
    problems += [f"no public soapkit callable takes {name}=" for name in _KEYWORD.findall(text)
                 if name not in KEYWORDS]
    return problems


# names in hints that are not classes of soapkit, written as in SuperOffice's documentation
_NOT_CLASSES = frozenset({"ToXmlString", "ContactAgent", "SoPrincipal", "UTC", "Jwt", "SAML"})


@pytest.mark.parametrize(("where", "text"), HINTS + MESSAGES, ids=lambda v: v if ":" in str(v) else "")
def test_every_hint_names_what_exists(where: str, text: str) -> None:
    problems = check_cli_text(cli_hint(text) or "") + check_python_text(text)
    assert not problems, f"{where}: {text!r}: {problems}"


def test_the_known_wrong_hints_are_gone() -> None:
    texts = " ".join(text for _, text in HINTS)
    assert "sandbox start" not in texts and "AccessToken(...)" not in texts


def test_cli_wording_of_python_hints() -> None:
    assert cli_hint("Pass app_token= or set SOAPKIT_APP_TOKEN.") == \
        "Pass --app-token-file FILE or set SOAPKIT_APP_TOKEN."
    assert "--login-timeout" in (cli_hint("Finish the sign-in in the browser, or raise --timeout.") or "")
    assert "soapkit wsdl import" in (cli_hint("Save the service's WSDL from your tenant ({Service}.svc?wsdl) into a "
                                              "folder and pass it as wsdl_dirs=.") or "")
    for python, _cli in REWRITES:  # each rewrite still matches a hint of the code
        assert any(python in text for _, text in HINTS), python


def test_no_cli_hint_speaks_python() -> None:
    leftovers = [(where, cli_hint(text)) for where, text in HINTS
                 if re.search(r"\b(app_token|wsdl_dirs)=", cli_hint(text) or "")]
    # connect()-only hints are shown only in Python; each one here must also name a way on the command line
    assert all("--" in (hint or "") or "connect(" in (hint or "") for _, hint in leftovers), leftovers


@pytest.mark.parametrize(("where", "text"), HINTS + MESSAGES, ids=lambda v: v if ":" in str(v) else "")
def test_redaction_leaves_every_message_alone(where: str, text: str) -> None:
    from soapkit.redaction import redact_text

    assert redact_text(text) == text, where


def test_redaction_still_masks_key_value_secrets() -> None:
    from soapkit.redaction import redact_text

    assert redact_text("connect() needs credentials= or ticket=.") == "connect() needs credentials= or ticket=."
    assert redact_text("ticket=abc123 password: hunter2") == "ticket=*** password: ***"
    assert redact_text('{"client_secret": "s3cr3t"}') == '{"client_secret": "***"}'
