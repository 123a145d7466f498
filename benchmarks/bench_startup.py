"""How fast the command starts, against the libraries it cannot do without (issue 11, point 5).

Two ratios of wall-clock times, each the minimum of several runs (the minimum is the least
disturbed by other work on the machine):

- ``detente --help`` over ``python -c "import typer, rich.console"`` (target <= 2.5);
- ``detente run examples/cases/iran-2018.yaml --draws 100`` over
  ``python -c "import numpy, pydantic, yaml, typer, rich.console"`` (target <= 2), the command as
  a user types it, so recorded in the run store (a temporary one, ``DETENTE_STORE``, so that the
  benchmark leaves the user's store alone); and, for information, the same with ``--no-store``.

``detente`` is started as its console script does (``from detente.cli import main; main()``).
The package is byte-compiled first, as ``pip install`` does and as the first run of an editable
install does unless ``PYTHONDONTWRITEBYTECODE`` is set (the baseline's libraries are compiled; a
source tree that is not would be timed compiling itself).
Run: ``python benchmarks/bench_startup.py [--repeat N] [--strict]`` (``--strict``: exit 1 when a
ratio is over its target; the figures depend on the machine's load, so ``make bench`` reports).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "examples" / "cases" / "iran-2018.yaml"


def detente(*args: str) -> list[str]:
    code = (
        f"import sys; sys.argv = ['detente', *{list(args)!r}]; from detente.cli import main; main()"
    )
    return [sys.executable, "-c", code]


def best_pair(
    cmd: list[str], base_cmd: list[str], repeat: int, env: dict[str, str]
) -> tuple[float, float, float]:
    """The fastest of ``repeat`` runs of ``cmd`` and of ``base_cmd``, in seconds, run in turn
    (so both see the same load on a busy machine), and the median of the rounds' ratios (the
    machine's speed drifts; a pair run back to back sees the same); output discarded."""
    t_cmd, t_base = [], []
    for _ in range(repeat):
        for command, times in ((base_cmd, t_base), (cmd, t_cmd)):
            start = time.perf_counter()
            subprocess.run(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )
            times.append(time.perf_counter() - start)
    median = statistics.median(c / b for c, b in zip(t_cmd, t_base, strict=True))
    return min(t_cmd), min(t_base), median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command (min taken)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a ratio is over")
    options = parser.parse_args()
    repeat = options.repeat
    compileall.compile_dir(ROOT / "src" / "detente", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DETENTE_STORE": str(Path(tmp) / "runs.sqlite")}
        failed = measure(repeat, env)
    if failed and options.strict:
        sys.exit(1)


def measure(repeat: int, env: dict[str, str]) -> bool:
    """Print each case's times and ratios; whether one is over its target."""
    base_run = [sys.executable, "-c", "import numpy, pydantic, yaml, typer, rich.console"]
    cases = [
        (
            "detente --help",
            detente("--help"),
            [sys.executable, "-c", "import typer, rich.console"],
            2.5,
        ),
        (
            "detente run iran-2018 --draws 100",
            detente("run", str(SCENARIO), "--draws", "100"),
            base_run,
            2.0,
        ),
        (
            "  the same, --no-store",
            detente("run", str(SCENARIO), "--draws", "100", "--no-store"),
            base_run,
            2.0,
        ),
    ]
    print(f"startup (min of {repeat} runs; ratio of the minima, and the median of the rounds')")
    failed = False
    for name, cmd, base_cmd, target in cases:
        t, base, median = best_pair(cmd, base_cmd, repeat, env)
        ratio = t / base
        ok = ratio <= target
        failed |= not ok
        print(
            f"  {name:<36} {t:6.3f} s  baseline {base:6.3f} s  ratio {ratio:4.2f}"
            f" (median {median:4.2f})  (target <= {target}) {'ok' if ok else 'OVER'}"
        )
    return failed


if __name__ == "__main__":
    main()
