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
