"""Run every benchmark in one go: each figure next to its baselines from the same run, as a table and as JSON.

    python benchmarks/run.py                    # everything (several minutes on a small machine)
    python benchmarks/run.py --quick            # a few iterations each: proves every benchmark runs
    python benchmarks/run.py --only sandbox     # benchmarks/bench_sandbox.py only (repeatable)
    python benchmarks/run.py --profile          # also a cProfile of each benchmark (.prof + top functions)
    python benchmarks/run.py --markdown         # the table as Markdown (README's "Performance" section)

Every ``benchmarks/bench_*.py`` is found by name. A module that defines ``figures(quick: bool)`` returning
:class:`_figures.Figure` objects is run here and its figures are tabled; any other module with a ``main`` is
run as a script in a subprocess (full runs only) and its output is kept as it printed it. Timings are never
test asserts (tests/test_benchmarks.py runs ``--quick`` to prove this command works): read the ratios
within one run, not absolute numbers across machines.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import json
import platform
import pstats
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _figures import Figure, ratio  # noqa: E402

DEFAULT_JSON = Path("soapkit-benchmarks.json")


@dataclass
class Outcome:
    """What one benchmark module gave: figures, or the text its script printed, or why it gave nothing."""

    name: str
    figures: list[Figure] = field(default_factory=list)
    output: str = ""
    skipped: str = ""
    error: str = ""
    seconds: float = 0.0
    profile: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "figures": [f.as_json() for f in self.figures], "output": self.output,
                "skipped": self.skipped, "error": self.error, "seconds": self.seconds, "profile": self.profile}


def discover(folder: Path = HERE) -> list[Path]:
    return sorted(folder.glob("bench_*.py"))


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def run_one(path: Path, *, quick: bool, profile_dir: Path | None) -> Outcome:
    name = path.stem.removeprefix("bench_")
    outcome = Outcome(name)
    started = time.perf_counter()
    try:
        module = load(path)
        if callable(getattr(module, "figures", None)):
            outcome.figures = _figures_of(module, quick, profile_dir, outcome)
        elif callable(getattr(module, "main", None)):
            if quick:
                outcome.skipped = "no figures(quick) function: run in full runs only"
            else:
                outcome.output = _as_script(path)
        else:
            outcome.skipped = "neither figures() nor main()"
    except Exception as error:  # one broken benchmark must not hide the others' figures
        outcome.error = f"{type(error).__name__}: {error}"
    outcome.seconds = time.perf_counter() - started
    return outcome


def _figures_of(module: ModuleType, quick: bool, profile_dir: Path | None, outcome: Outcome) -> list[Figure]:
    if profile_dir is None:
        return list(module.figures(quick=quick))
    profiler = cProfile.Profile()
    found = list(profiler.runcall(module.figures, quick=quick))
    profile_dir.mkdir(parents=True, exist_ok=True)
    target = profile_dir / f"{outcome.name}.prof"
    profiler.dump_stats(str(target))
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    outcome.profile = str(target)
    print(f"--- profile of {outcome.name} ({target}; sandbox work runs in its own process) ---\n"
          f"{text.getvalue()}", file=sys.stderr)
    return found


def _as_script(path: Path) -> str:
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"exit {result.returncode}: {result.stderr.strip()[-800:]}")
    return result.stdout


# --- printing ------------------------------------------------------------------------------------


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if value >= 1 else f"{value:.3g}"


def _ratio_text(value: float, baseline: float) -> str:
    found = ratio(value, baseline)
    return "" if found is None else f" ({found:.2f}x)"


def table_rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    rows = []
    for outcome in outcomes:
        for item in outcome.figures:
            baselines = "; ".join(f"{name} {_number(base)}{_ratio_text(item.value, base)}"
                                  for name, base in item.baselines.items())
            rows.append([item.group, item.name, f"{_number(item.value)} {item.unit}", baselines or "-",
                         item.target or "", item.note])
    return rows


HEADINGS = ["group", "figure", "soapkit", "baselines, same run (soapkit as a multiple of each)", "target", "note"]


def print_table(outcomes: Sequence[Outcome], *, markdown: bool, out: Any = sys.stdout) -> None:
    rows = table_rows(outcomes)
    if markdown:
        print("| " + " | ".join(HEADINGS) + " |", file=out)
        print("|" + "---|" * len(HEADINGS), file=out)
        for row in rows:
            print("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |", file=out)
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADINGS)]
        print("  ".join(h.ljust(w) for h, w in zip(HEADINGS, widths, strict=True)).rstrip(), file=out)
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)
    for outcome in outcomes:
        if outcome.output:
            print(f"\n{outcome.name} (printed by benchmarks/bench_{outcome.name}.py):\n{outcome.output.rstrip()}",
                  file=out)
        if outcome.skipped:
            print(f"\n{outcome.name}: skipped ({outcome.skipped})", file=out)
        if outcome.error:
            print(f"\n{outcome.name}: FAILED: {outcome.error}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few iterations each (proves they run)")
    parser.add_argument("--only", action="append", metavar="NAME", help="run bench_NAME.py only (repeatable)")
    parser.add_argument("--profile", nargs="?", const=Path("benchmark-profiles"), type=Path, metavar="DIR",
                        help="profile each benchmark with cProfile; .prof files in DIR (default ./benchmark-profiles)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="FILE",
                        help=f"where to write the results (default ./{DEFAULT_JSON})")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    paths = discover()
    if args.only:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in args.only}
        unknown = wanted - {p.stem.removeprefix("bench_") for p in paths}
        if unknown:
            parser.error(f"no benchmarks/bench_{sorted(unknown)[0]}.py; there are: "
                         f"{', '.join(p.stem.removeprefix('bench_') for p in paths)}")
        paths = [p for p in paths if p.stem.removeprefix("bench_") in wanted]
    outcomes = []
    for path in paths:
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        outcomes.append(run_one(path, quick=args.quick, profile_dir=args.profile))
    print_table(outcomes, markdown=args.markdown)
    document = {"quick": args.quick, "python": platform.python_version(), "machine": platform.machine(),
                "system": platform.system(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "benchmarks": [o.as_json() for o in outcomes]}
    args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.json}", file=sys.stderr)
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
