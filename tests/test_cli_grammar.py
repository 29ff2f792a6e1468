"""One command-line grammar: folders, help texts, `python -m soapkit`, completion, `--json`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from soapkit.cli import EXIT_CREDENTIAL, EXIT_INTERNAL, EXIT_TENANT, build_parser, main
from soapkit.cli.completion import bash_script, words


def test_python_dash_m_soapkit() -> None:
    result = subprocess.run([sys.executable, "-m", "soapkit", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "usage: soapkit" in result.stdout


def test_help_carries_what_it_points_at(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "docs/" not in text  # an installed wheel has no docs folder: the exit codes are spelled out
    for code in (EXIT_CREDENTIAL, EXIT_TENANT, EXIT_INTERNAL):
        assert f"\n  {code} " in text


def _help(*words: str) -> str:
    result = subprocess.run([sys.executable, "-m", "soapkit", *words, "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sandbox_help_shows_its_commands_as_optional() -> None:
    usage = _help("sandbox").split("\n\n", 1)[0]
    assert "soapkit sandbox [-h]" in usage and "COMMAND ...\n" not in usage + "\n"
    assert "--sandbox DIR" in usage


@pytest.mark.parametrize("command", [("sandbox", "tokens"), ("sandbox", "admin"), ("sandbox",), ()])
def test_help_is_plain_text(command: tuple[str, ...]) -> None:
    text = _help(*command)
    assert "``" not in text and ":class:" not in text and ":func:" not in text and "docs/" not in text


def test_sandbox_folder_after_the_sub_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "admin", "tenants", "--sandbox", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"error: No running sandbox described by {tmp_path / 'sandbox.json'}" in err
    assert f"hint: Start one: soapkit sandbox --sandbox {tmp_path}" in err
    assert main(["sandbox", "tokens", "list", "--data-dir", str(tmp_path)]) == 2
    assert "--data-dir is deprecated: use --sandbox DIR" in capsys.readouterr().err


def test_completion_scripts_follow_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    table = words(build_parser())
    assert "sandbox" in table[""] and "admin" in table["sandbox"] and "--sandbox" in table["sandbox admin tenants"]
    assert "--data-dir" not in table["sandbox"]  # the deprecated spelling is not offered
    assert {"bash", "zsh"} <= set(table["completion"])  # a positional's choices
    for shell in ("bash", "zsh"):
        assert main(["completion", shell]) == 0
        script = capsys.readouterr().out
        assert "complete -o default -F _soapkit soapkit" in script
    assert script.startswith("#compdef soapkit")


def test_bash_completion_runs(tmp_path: Path) -> None:
    script = tmp_path / "soapkit.bash"
    script.write_text(bash_script(build_parser()))
    probe = (f'source {script}; COMP_WORDS=(soapkit sandbox admin tenants --sa); COMP_CWORD=4; _soapkit; '
             'echo "${COMPREPLY[@]}"; COMP_WORDS=(soapkit sand); COMP_CWORD=1; _soapkit; echo "${COMPREPLY[@]}"')
    result = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert result.stdout.split("\n")[:2] == ["--sandbox", "sandbox"], result.stderr


ZSH = shutil.which("zsh")
needs_zsh = pytest.mark.skipif(ZSH is None, reason="zsh is not installed (.ci/run installs it from apt)")

# Drives a real interactive zsh in a pseudo-terminal (zsh/zpty): compinit, the generated script, then for each
# line given: type it, press Tab, and print the buffer zsh's completion left (a widget bound to Ctrl-X).
ZPTY_DRIVER = r"""
zmodload zsh/zpty || exit 3
script=$1; shift
zpty -b sk 'zsh -f -i'
zpty -w sk "PS1='%% '; autoload -U compinit; compinit -u; source ${(q)script}"
zpty -w sk "_sk_show() { print -r -- \"<<\$BUFFER>>\"; zle kill-whole-line; }; zle -N _sk_show; bindkey '^X' _sk_show"
zpty -w sk "print RE''ADY"
zpty -r sk out '*READY*'
for line in "$@"; do
  zpty -w -n sk "$line"$'\t\x18'
  zpty -r sk out '*<<*>>*'
  print -r -- "${${out##*<<}%%>>*}"
done
zpty -d sk
"""


@needs_zsh
def test_the_zsh_script_loads_and_registers_its_completion() -> None:
    # as a user's ~/.zshrc would load it, from the installed command itself
    probe = ("autoload -U compinit; compinit -u; "
             f"source <({sys.executable} -m soapkit completion zsh) || exit 9; "
             "print -r -- \"function=${+functions[_soapkit]} comp=${_comps[soapkit]}\"")
    result = subprocess.run([str(ZSH), "-fc", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert result.stdout.strip() == "function=1 comp=_bash_complete -o default -F _soapkit"


@needs_zsh
def test_zsh_completes_commands_sub_commands_options_and_choices(tmp_path: Path) -> None:
    from soapkit.cli.completion import zsh_script

    script = tmp_path / "soapkit.zsh"
    script.write_text(zsh_script(build_parser()))
    driver = tmp_path / "drive.zsh"
    driver.write_text(ZPTY_DRIVER)
    typed = ["soapkit sand", "soapkit sandbox admin tenants --sa", "soapkit comp", "soapkit completion z",
             "soapkit call --tim", "soapkit state --ctx Cust1 --no-c"]
    result = subprocess.run([str(ZSH), "-f", str(driver), str(script), *typed], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:len(typed)] == [
        "soapkit sandbox ", "soapkit sandbox admin tenants --sandbox ", "soapkit completion ",
        "soapkit completion zsh ", "soapkit call --timeout ", "soapkit state --ctx Cust1 --no-color "]


def test_demo_refuses_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: soapkit demo prints a walkthrough for people; it has no JSON output.")
    assert "hint: For JSON, start a sandbox" in err


def test_a_busy_port_is_reported_in_the_error_hint_form(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "soapkit", "sandbox", "--port", str(port), "--sandbox",
                                 str(tmp_path), "--quiet"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: the sandbox cannot listen on 127.0.0.1:{port}")
    assert "hint: Another process may use that port: choose another with --port" in result.stderr


def test_a_ticket_given_as_credentials_is_pointed_at_ticket() -> None:
    import soapkit
    from soapkit.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        soapkit.connect("Cust12345", env="sod", credentials="7T:abc")  # type: ignore[arg-type]
    assert "ticket=" in caught.value.hint and "7T:abc" not in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        soapkit.connect("Cust12345", env="sod")
    assert str(caught.value).startswith("connect() needs credentials= or ticket=.\n")


def _all_parsers(parser, path="soapkit"):  # type: ignore[no-untyped-def]
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _all_parsers(child, f"{path} {name}")


def test_every_help_is_plain_text_and_self_contained() -> None:
    for path, parser in _all_parsers(build_parser()):
        text = parser.format_help()
        for markup in ("docs/", "``", ":class:", ":func:", ":mod:"):
            assert markup not in text, f"{path} --help: {markup}"


def test_an_unknown_service_is_explained_in_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "QuuxAgent"]) == 2
    err = capsys.readouterr().err
    assert "pass it with --wsdl-dir DIR, or import it once: soapkit wsdl import" in err and "wsdl_dirs" not in err
