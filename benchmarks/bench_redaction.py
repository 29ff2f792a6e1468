"""Cost of redaction per megabyte of hostile text, beside a floor of plain string work in the same run.

Run: ``python benchmarks/bench_redaction.py [--megabytes N] [--repeat N]``. For each input shape (the
ones that used to make the patterns backtrack: long runs without whitespace, repeated ``eyJ``, repeated
signed-token tails, unterminated PEM headers, ``Authorization:`` followed by blanks, ...) it prints the
best time of ``redact_text`` per MB and of a ``str.replace`` floor over the same text, and their ratio.
Never used as a test assert; ``tests/test_hostile_redaction.py`` only checks that it runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from soapkit.redaction import redact_text

MB = 1_000_000


def shapes(size: int = MB) -> dict[str, str]:
    """Inputs of about ``size`` characters, each a worst case for some backtracking pattern."""
    def fill(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "one long run": fill("A"),
        "repeated eyJ": fill("eyJ"),
        "JWT-like segments": fill("eyJaaaaa."),
        "signed-token tails": fill("x.123456789012."),
        "unterminated PEM headers": fill("-----BEGIN RSA PRIVATE KEY-----"),
        "authorization + blanks": "Authorization:" + " " * size,
        "ticket prefixes": fill("7T:"),
        "RSA XML opener": "<P>" + "a" * size,
        "prose": fill("The ticket 7T:abc expired; see https://sod.superoffice.com/login. "),
    }


def best_of(repeat: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def run(megabytes: float = 1.0, repeat: int = 3) -> dict[str, dict[str, float]]:
    """Seconds per MB for ``redact_text`` and for the ``str.replace`` floor, per shape."""
    size = max(1, int(megabytes * MB))
    results = {}
    for name, text in shapes(size).items():
        redact = best_of(repeat, lambda text=text: redact_text(text))
        floor = best_of(repeat, lambda text=text: text.replace("\x00", "*"))
        results[name] = {"redact_text": redact * MB / size, "str.replace": floor * MB / size}
    return results


def figures(quick: bool = False) -> list[Any]:
    """For benchmarks/run.py: redaction per MB of each hostile shape, next to the ``str.replace`` floor."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _figures import Figure

    return [Figure("redaction", f"redact_text, {name}", times["redact_text"] * 1000, "ms/MB",
                   baselines={"str.replace": times["str.replace"] * 1000})
            for name, times in run(0.05 if quick else 1.0, 1 if quick else 3).items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'shape':28} {'redact_text s/MB':>17} {'str.replace s/MB':>17} {'ratio':>8}")
    for name, times in run(args.megabytes, args.repeat).items():
        ratio = times["redact_text"] / max(times["str.replace"], 1e-9)
        print(f"{name:28} {times['redact_text']:17.4f} {times['str.replace']:17.5f} {ratio:7.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
