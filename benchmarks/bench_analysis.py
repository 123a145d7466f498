"""Analysis benchmarks (``make bench``): each on the local backend and on a 2-worker Dask
LocalCluster started here (processes, one thread each), wall-clock seconds, one run each.

* 10,000 draws of the flagship scenario over 36 months;
* a Sobol analysis of the flagship with the default samples (N = 512);
* a 50 x 50 sweep (200 draws a point);
* and how a local run grows from 1,000 to 100,000 draws.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from detente.analysis.sensitivity import rows_needed, scenario_sensitivity
from detente.analysis.sweep import Axis, run_sweep
from detente.backends import Backend, DaskBackend, LocalBackend
from detente.forecast import run_scenario
from detente.scenario.coercion import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, local only")
    args = parser.parse_args()
    scn = load_scenario(ROOT / "examples" / "cases" / "iran-2018.yaml")
    grid = 10 if args.quick else 50
    axes = [
        Axis.parse(f"leader.legitimacy_of_talks=-1:1:{grid}"),
        Axis.parse(f"leader.legacy_weight=0:1:{grid}"),
    ]
    backends: list[tuple[str, Callable[[], Backend]]] = [("local", LocalBackend)]
    if not args.quick:
        backends.append(("dask, 2 workers", lambda: DaskBackend(workers=2)))
    rows: list[tuple[str, str, float]] = []
    for label, make in backends:
        backend = make()
        try:
            run_scenario(scn, draws=1000, backend=backend)  # warm up workers and imports
            rows.append(
                (
                    "flagship, 10,000 draws, 36 months",
                    label,
                    timed(lambda b=backend: run_scenario(scn, draws=10_000, backend=b)),
                )
            )
            rows.append(
                (
                    f"Sobol, flagship, N = 512 ({rows_needed(scn, 512):,} runs)",
                    label,
                    timed(lambda b=backend: scenario_sensitivity(scn, 512, backend=b)),
                )
            )
            rows.append(
                (
                    f"sweep {grid} x {grid}, 200 draws a point",
                    label,
                    timed(lambda b=backend: run_sweep(scn, axes, 200, backend=b)),
                )
            )
        finally:
            backend.close()
    for n in (1_000, 10_000, 100_000):
        rows.append((f"flagship, {n:,} draws", "local", timed(lambda n=n: run_scenario(scn, n))))
    table = Table(title="detente analysis benchmarks", title_justify="left")
    for col in ("what", "backend", "seconds"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for what, backend_label, secs in rows:
        table.add_row(what, backend_label, f"{secs:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
