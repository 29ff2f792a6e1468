"""The benchmark script runs and measures every contender (no timing asserts: numbers live in benchmarks/)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_envelopes.py"


def test_benchmark_runs_all_contenders_side_by_side(capsys) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_envelopes", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.run(iterations=3)
    assert set(results) == {"build request", "read response"}
    for times in results.values():
        assert set(times) == {"lxml", "zeep", "soapkit on zeep", "soapkit"} and all(t > 0 for t in times.values())
    from soapkit import plain
    from soapkit.catalog import Catalog

    reading = module.contenders(Catalog())["read response"]  # the codec and the zeep path read the same value
    assert plain(reading["soapkit"]()) == plain(reading["soapkit on zeep"]())
    assert plain(reading["soapkit"]())["Name"] == reading["lxml"]() == "Acme AS"
    assert module.main(["--iterations", "2", "--compare"]) == 0
    assert "x" in capsys.readouterr().out


def test_codec_benchmark_runs_every_contender_and_writes_json(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_codec", BENCH.with_name("bench_codec.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.run(iterations=2)
    assert set(results) == {"decode ContactEntity", "encode SaveContactEntity"}
    for times in results.values():
        assert {"lxml", "zeep", "codec"} <= set(times) and all(t >= 0 for t in times.values())
    target = tmp_path / "codec.json"
    assert module.main(["--iterations", "2", "--json", str(target)]) == 0
    import json

    assert set(json.loads(target.read_text())["decode ContactEntity"]) == {"lxml", "plain zeep", "zeep", "codec"}
    assert "of lxml" in capsys.readouterr().out


# --- benchmarks/run.py: one command for all of them --------------------------------------------------------

RUNNER = BENCH.parent / "run.py"


def _runner():  # type: ignore[no-untyped-def]
    import sys

    spec = importlib.util.spec_from_file_location("bench_runner", RUNNER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_runner"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_runner_finds_every_bench_module_and_survives_a_broken_one(tmp_path: Path) -> None:
    runner = _runner()
    (tmp_path / "bench_good.py").write_text(
        "from _figures import Figure\n"
        "def figures(quick=False):\n"
        "    return [Figure('g', 'one', 2.0, 'ms', baselines={'floor': 1.0})]\n")
    (tmp_path / "bench_script.py").write_text("def main():\n    print('printed by a script')\n    return 0\n"
                                              "if __name__ == '__main__':\n    main()\n")
    (tmp_path / "bench_broken.py").write_text("raise RuntimeError('cannot even import')\n")
    (tmp_path / "helper.py").write_text("x = 1\n")
    found = runner.discover(tmp_path)
    assert [p.name for p in found] == ["bench_broken.py", "bench_good.py", "bench_script.py"]
    quick = {p.stem: runner.run_one(p, quick=True, profile_dir=None) for p in found}
    assert "cannot even import" in quick["bench_broken"].error
    assert [f.as_json()["ratios"] for f in quick["bench_good"].figures] == [{"floor": 2.0}]
    assert quick["bench_script"].skipped and not quick["bench_script"].output
    full = runner.run_one(tmp_path / "bench_script.py", quick=False, profile_dir=tmp_path / "profiles")
    assert full.output.strip() == "printed by a script"
    profiled = runner.run_one(tmp_path / "bench_good.py", quick=True, profile_dir=tmp_path / "profiles")
    assert Path(profiled.profile).is_file()


def test_one_command_runs_every_benchmark_quickly_and_writes_json(tmp_path: Path) -> None:
    """Every real benchmark in quick mode, through the command users run (the figures are not judged)."""
    import json
    import subprocess
    import sys

    out = tmp_path / "results.json"
    result = subprocess.run([sys.executable, str(RUNNER), "--quick", "--markdown", "--json", str(out)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    document = json.loads(out.read_text())
    by_name = {b["name"]: b for b in document["benchmarks"]}
    assert {"sandbox", "client", "callpath", "startup", "envelopes", "redaction"} <= set(by_name)
    for name in ("sandbox", "client", "callpath", "startup", "envelopes", "redaction"):
        assert by_name[name]["figures"] and not by_name[name]["error"], by_name[name]
        assert all(figure["baselines"] for figure in by_name[name]["figures"])
    assert "| group | figure |" in result.stdout
    assert "plain zeep" in result.stdout and "raw requests + lxml" in result.stdout


# --- benchmarks/bench_callpath.py: the whole call path on an in-memory transport ---------------------------


def _callpath():  # type: ignore[no-untyped-def]
    import sys

    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_callpath", BENCH.with_name("bench_callpath.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_in_memory_adapter_answers_as_a_socket_would_and_counts_what_was_sent() -> None:
    module = _callpath()
    session, adapter = module.in_memory_session(b"<answer/>")
    streamed = session.post("https://anywhere.invalid/x", data=b"<ask/>", stream=True)
    assert streamed.status_code == 200 and streamed.headers["Content-Type"].startswith("text/xml")
    assert streamed.raw.read(4) + streamed.raw.read() == b"<answer/>"  # a urllib3 response, read in pieces
    assert session.post("http://anywhere.invalid/x", data="<ask/>").content == b"<answer/>"
    assert session.get("http://anywhere.invalid/x").status_code == 405  # only a POST with a body is answered
    assert adapter.requests == 3 and adapter.last_body == b""


def test_every_call_path_contender_reads_the_company_without_a_socket(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The benchmark's claim: no network at all. Any connection attempt fails the calls (and the check)."""
    import socket

    module = _callpath()
    answer = module.recorded_response()  # the sandbox (loopback) records it first
    session, adapter = module.in_memory_session(answer)
    calls = module.contenders(session)
    assert set(calls) == {"raw requests + lxml", "plain zeep", "soapkit on zeep", "soapkit"}

    def no_network(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the in-memory benchmark opened a connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    module.check(calls, adapter)  # each reads "Fully Populated AS" with one request carrying the ticket
    assert adapter.requests == 4
    times = module.measure(calls, iterations=2, rounds=1)
    assert set(times) == set(calls) and all(seconds >= 0 for seconds in times.values())


def test_the_call_path_check_voids_a_contender_that_reads_something_else() -> None:
    import pytest

    module = _callpath()
    session, adapter = module.in_memory_session(b"<x/>")
    with pytest.raises(RuntimeError, match="read None"):
        module.check({"broken": lambda: session.post(module.ADDRESS, data=b"GetContactEntity").content}, adapter)
    with pytest.raises(RuntimeError, match="sent 0 requests"):
        module.check({"lazy": lambda: {"Name": module.NAME}}, adapter)
    with pytest.raises(RuntimeError, match="carrying the ticket"):
        module.check({"anonymous": lambda: session.post(module.ADDRESS, data=b"<GetContactEntity/>")
                      and {"Name": module.NAME}}, adapter)
