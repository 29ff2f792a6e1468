"""What every benchmark module hands the runner (benchmarks/run.py): figures, each next to its baselines.

A module ``benchmarks/bench_<name>.py`` that defines ``figures(quick: bool) -> list[Figure]`` is run in the
runner's process; ``quick`` asks for a few iterations only (tests/test_benchmarks.py proves the runner works,
it never reads a timing). Helpers here measure what several modules need: CPU time of another process,
best-of-N wall time of a fresh interpreter.
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Figure:
    """One measured figure: ``value`` in ``unit``, and what it is compared with in the same run.

    ``baselines`` maps a contender (``"plain zeep"``, ``"raw requests + lxml"``, ``"zeep-written responses"``)
    to its value in the same unit. ``better`` says which way is good, so ratios read the right way round;
    ``target`` is the goal from the issue, as text (``"<= 2 ms"``), shown next to the figure.
    """

    group: str
    name: str
    value: float
    unit: str
    better: str = "lower"  # or "higher"
    baselines: dict[str, float] = field(default_factory=dict)
    target: str = ""
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"group": self.group, "name": self.name, "value": self.value, "unit": self.unit,
                "better": self.better, "baselines": dict(self.baselines), "target": self.target, "note": self.note,
                "ratios": {name: ratio(self.value, base) for name, base in self.baselines.items()}}


def ratio(value: float, baseline: float) -> float | None:
    """``value`` as a multiple of ``baseline`` (2.0: twice the baseline's time, or twice its rate)."""
    return value / baseline if baseline else None


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of another process so far (Linux ``/proc``), or None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)


def best_of(function: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``function``, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def fresh_interpreter_env() -> dict[str, str]:
    """An environment for timing fresh interpreters as an installed package runs: bytecode written and read
    (from a private cache folder, so the checkout is left alone), whatever PYTHONDONTWRITEBYTECODE says."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "soapkit-bench-pycache")
    return env


def time_command(command: Sequence[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Best-of-``repeat`` wall time and best CPU time (user + system, the child's own) of a command, in seconds,
    after one warm-up run that also writes the bytecode. CPU time is the steadier of the two on a busy machine."""
    environment = env or fresh_interpreter_env()

    def once() -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(list(command), env=environment, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, timeout=120)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.decode(errors='replace')[-500:]}")
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    once()
    runs = [once() for _ in range(max(repeat, 1))]
    return min(wall for wall, _ in runs), min(cpu for _, cpu in runs)


def to_dicts(element: Any) -> Any:
    """The floor every benchmark compares decoding with: lxml elements into plain dicts and lists by element name,
    text for leaves (no types, no schema)."""
    children = list(element)
    if not children:
        return element.text
    result: dict[str, Any] = {}
    for child in children:
        name = child.tag.rpartition("}")[2]
        value = to_dicts(child)
        if name in result:
            existing = result[name]
            if isinstance(existing, list):
                existing.append(value)
            else:
                result[name] = [existing, value]
        else:
            result[name] = value
    return result
