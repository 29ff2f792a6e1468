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
        assert set(times) == {"lxml", "zeep", "soapkit"} and all(t > 0 for t in times.values())
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
