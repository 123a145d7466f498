"""Benchmarks (``make bench``): wall-clock seconds, best of a few repeats.

* the EUM on one table of 10, 30 and 100 actors (10 and 50 rounds), both variants;
* the EUM on a batch of 10,000 draws of a 12-actor table, 50 rounds: once with the numpy code
  (the reference) and once by default (the compiled kernel, loaded first on a row of its own:
  importing numba and loading the kernel from its cache is paid once per process, and the first
  run after an install or a change also compiles it);
* the coercion model on the flagship scenario, 36 months, 1,000 to 100,000 draws;
* the DEU backtest of every engine on the shipped development split;
* the exchange model (10 rounds) on DECIDE's cop21 sample (from ``../shared``, if present; its
  CPU seconds against the program's own timing of 9.2-10.9 s CPU there) and on a random table of
  the same size;
* KTAB's Spatial Model of Politics (SMP) on KTAB's own examples, beside the wall time of KTAB's
  C++ program on them, on a random 80-actor table and on a batch of draws (``--smp-only``
  runs just these).

Tables are random but seeded, so every run times the same work.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from detente.engines import (
    ActorArrays,
    Exchange,
    ExpectedUtility,
    IssueArrays,
    SpatialActors,
    SpatialPolitics,
)
from detente.engines.eum import KERNEL_MIN_DRAWS, compiled_kernel
from detente.forecast import run_scenario
from detente.history.deu import backtest_deu, read_deu
from detente.scenario import load_actor_file
from detente.scenario.coercion import load_scenario
from detente.scenario.ktab import spatial_table
from detente.solve import exchange_table

ROOT = Path(__file__).resolve().parents[1]
COP21 = ROOT.parent / "shared" / "data" / "decide" / "inputs" / "cop21.csv"
#: CPU seconds of the Python package decide-exchange-model on cop21, 10 rounds (its README).
DECIDE_COP21_CPU = (9.2, 10.9)


#: CPU seconds (all threads) of the last best_of's fastest run: on a shared machine wall-clock
#: time also counts other processes' load; the load average is printed with the table.
CPU: dict[str, float] = {}


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    wall, CPU["last"] = min(times)
    return wall


def random_table(draws: int, actors: int, seed: int) -> ActorArrays:
    rng = np.random.default_rng(seed)
    return ActorArrays(
        capability=rng.uniform(0.1, 1.0, (draws, actors)),
        position=rng.uniform(0.0, 100.0, (draws, actors)),
        salience=rng.uniform(0.1, 1.0, (draws, actors)),
    )


def exchange_rows() -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(13)
    shape = (1, 15, 13)
    cop21_like = IssueArrays.from_2d(
        rng.uniform(0.1, 1.0, shape)[0],
        rng.choice([0.0, 20.0, 50.0, 80.0, 100.0], shape)[0],
        rng.choice([0.5, 0.6, 0.7, 0.8, 0.9], shape)[0],
    )
    exchange = Exchange()
    exchange.solve_issues(cop21_like)  # compiles (or loads) the kernel
    secs = best_of(lambda: exchange.solve_issues(cop21_like), repeat=5)
    rows = [("exchange model, random 15 actors x 13 issues, 10 rounds", secs, CPU["last"])]
    if COP21.exists():
        data = load_actor_file(COP21)
        cop21, _ = exchange_table(data.issues, data.actor_order)
        secs = best_of(lambda: exchange.solve_issues(cop21), repeat=5)
        cpu = CPU["last"]
        lo, hi = DECIDE_COP21_CPU
        rows.append(
            (
                f"exchange model, DECIDE cop21, 10 rounds (the program: {lo}-{hi} s CPU, "
                f"{lo / cpu:.0f}-{hi / cpu:.0f} x)",
                secs,
                cpu,
            )
        )
    return rows


#: Whole-process wall seconds of KTAB's ``smpc`` (C++, -O2, 2 cores, machine under load, so
#: upper bounds), from the README of the reference runs (shared/data/ktab).
KTAB_SECONDS = {"SOE-Competitive.csv": 15.4, "dummyData-a040.csv": 12.7, "dummyData_6Dim.csv": 5.6}


def smp_rows(draws: int) -> list[tuple[str, float, float]]:
    rows = []
    for name, ktab in KTAB_SECONDS.items():
        data = load_actor_file(ROOT / "examples" / "ktab" / name)
        arrays = spatial_table(data, data.issues).arrays()
        turns = int(SpatialPolitics().solve_nd(arrays).turns[0])
        secs = best_of(lambda a=arrays: SpatialPolitics().solve_nd(a), repeat=5)
        size = f"{arrays.n_actors} x {arrays.n_dims}, {turns} turns"
        rows.append((f"SMP, KTAB's {name} ({size}; KTAB's smpc {ktab} s)", secs, CPU["last"]))
    for n in (80, 160):
        one = random_table(1, n, seed=n)
        secs = best_of(lambda t=one: SpatialPolitics().solve(t), repeat=1)
        turns = SpatialPolitics().solve(one).rounds
        rows.append((f"SMP, random {n} actors x 1 dim, 1 table ({turns} turns)", secs, CPU["last"]))
    batch = random_table(draws, 12, seed=12)
    secs = best_of(lambda: SpatialPolitics().solve(batch), repeat=1)
    rows.append((f"SMP, 12 actors x 1 dim, {draws:,} draws", secs, CPU["last"]))
    rng = np.random.default_rng(5)
    nd = SpatialActors(
        capability=rng.uniform(1, 100, (draws // 10, 12)),
        position=rng.uniform(0, 100, (draws // 10, 12, 3)),
        salience=rng.uniform(0.02, 0.33, (draws // 10, 12, 3)),
    )
    secs = best_of(lambda: SpatialPolitics().solve_nd(nd), repeat=1)
    rows.append((f"SMP, 12 actors x 3 dims, {draws // 10:,} draws", secs, CPU["last"]))
    return rows


def print_rows(rows: list[tuple[str, float, float]]) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    table = Table(
        title=f"detente benchmarks ({os.cpu_count()} cores; load average {load})",
        title_justify="left",
    )
    table.add_column("what")
    table.add_column("seconds", justify="right")
    table.add_column("CPU seconds", justify="right")
    for what, secs, cpu in rows:
        table.add_row(what, f"{secs:.4f}", f"{cpu:.4f}")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 draws instead of 10,000")
    parser.add_argument("--smp-only", action="store_true", help="only the SMP benchmarks")
    args = parser.parse_args()
    draws = 1_000 if args.quick else 10_000
    rows: list[tuple[str, float, float]] = []
    if args.smp_only:
        print_rows(smp_rows(draws))
        return
    for variant in ("published", "scholz-code"):
        for n, rounds in ((10, 10), (10, 50), (30, 50), (100, 50)):
            table = random_table(1, n, seed=n)
            engine = ExpectedUtility(variant=variant, rounds=rounds)  # type: ignore[arg-type]
            secs = best_of(lambda e=engine, t=table: e.solve(t), repeat=5 if n < 100 else 3)
            rows.append((f"EUM {variant}, {n} actors, {rounds} rounds, 1 table", secs, CPU["last"]))
    batch = random_table(draws, 12, seed=12)
    for variant in ("published", "scholz-code"):
        engine = ExpectedUtility(variant=variant, rounds=50, kernel="numpy")  # type: ignore[arg-type]
        secs = best_of(lambda e=engine: e.solve(batch), repeat=1)
        rows.append(
            (f"EUM {variant}, 12 actors, 50 rounds, {draws:,} draws, numpy", secs, CPU["last"])
        )
    start, cpu = time.perf_counter(), time.process_time()
    kernel = compiled_kernel()
    if kernel is not None:
        ExpectedUtility(rounds=1, kernel="compiled").solve(random_table(2, 3, seed=0))
    rows.append(
        (
            "EUM compiled kernel: import and load (once per process)",
            time.perf_counter() - start,
            time.process_time() - cpu,
        )
    )
    for variant in ("published", "scholz-code"):
        engine = ExpectedUtility(variant=variant, rounds=50)  # type: ignore[arg-type]
        secs = best_of(lambda e=engine: e.solve(batch), repeat=1)
        path = "compiled" if kernel is not None and draws >= KERNEL_MIN_DRAWS else "numpy"
        rows.append(
            (f"EUM {variant}, 12 actors, 50 rounds, {draws:,} draws, {path}", secs, CPU["last"])
        )
    flagship = load_scenario(ROOT / "examples" / "cases" / "iran-2018.yaml")
    for n in (1_000, 10_000, 100_000) if not args.quick else (1_000,):
        secs = best_of(lambda n=n: run_scenario(flagship, draws=n, seed=1), repeat=1)
        rows.append((f"coercion model, iran-2018, 36 months, {n:,} draws", secs, CPU["last"]))
    data = read_deu(ROOT / "examples" / "deu" / "deu3-dev.tsv")
    secs = best_of(lambda: backtest_deu(data), repeat=1)
    rows.append((f"DEU backtest, all engines ({len(data.issues)} issues)", secs, CPU["last"]))
    rows += exchange_rows()
    rows += smp_rows(draws)
    print_rows(rows)


if __name__ == "__main__":
    main()
