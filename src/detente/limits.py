"""Limits on the size of a run, checked before any work starts (docs/limits.md).

A run's memory is dominated by one preallocated result, ``Trajectories.empty``: for every draw
and month, the 5 probability series in float64, the 13 series reported only as means and the
two faction arrays (position, salience) in float32:

    result_bytes = draws x months x (5 x 8 + 13 x 4 + 2 F x 4)

plus, while it runs, the drawn numbers (about ``100 + 4 F`` a draw, float64) and the working
arrays of the chunks in flight (``chunk_rows`` draws each, one chunk per worker thread, all 18
series and three faction arrays in float64), which ``benchmarks/bench_limits.py`` measured at
about ``WORK_BYTES_PER_CELL`` bytes per (draw, month, series-or-faction-array) cell. Time grows
with draws x months and with the engine's cost per month, which is about linear in the factions
for the compromise and the median and about quadratic for the EUM (every pair of factions, up to
``EUM_MONTHLY_ROUNDS`` rounds a month):

    work = draws x months x cost(engine, F)

The library's run path (:func:`detente.forecast.run_scenario`, which the CLI and the server both
go through) checks :func:`library_limits`; the server checks the stricter
:data:`SERVER_LIMITS` first. Going beyond on a cluster: docs/limits.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from detente.defaults import DEFAULT_CHUNK_ROWS, MAX_DRAWS
from detente.dynamics.simulate import MEAN_ONLY_SERIES, PER_DRAW_SERIES, SERIES
from detente.errors import InputError

#: Scalar series a chunk works with per draw and month, and its arrays per faction (position,
#: salience, capability), all float64.
SERIES_PER_MONTH = len(SERIES)
ARRAYS_PER_FACTION = 3
#: Bytes per draw and month of the result: float64 probabilities, float32 means-only series,
#: and per faction float32 position and salience.
RESULT_BYTES_FIXED = 8 * len(PER_DRAW_SERIES) + 4 * len(MEAN_ONLY_SERIES)
RESULT_BYTES_PER_FACTION = 2 * 4
#: Working memory of a chunk in flight, in bytes per kept cell (draw x month x series-or-faction
#: array), measured by ``benchmarks/bench_limits.py`` (the peak above the result, over the cells
#: of the chunks in flight).
WORK_BYTES_PER_CELL = 20
#: Drawn numbers per draw (float64): the flagship scenario draws 110 with 7 factions, about 80
#: plus 4 a faction; 100 + 4 F is on the safe side.
PARAMS_FIXED = 100
PARAMS_PER_FACTION = 4
#: Interpreter, numpy, pydantic and the scenario, before any array (measured: 50-80 MiB).
BASE_BYTES = 100 * 2**20
#: The environment variable that raises the library's memory cap (GiB) on a larger machine.
MEMORY_ENV = "DETENTE_MAX_RUN_GIB"


@dataclass(frozen=True)
class RunLimits:
    """Caps on one run. ``max_work`` is in :func:`run_work` units (None: not checked)."""

    max_factions: int
    max_draws: int
    max_months: int
    max_bytes: int
    max_work: float | None = None
    max_actors: int = 2000
    where: str = "run"
    #: How the run is cut (``run_scenario``'s ``chunk_rows``) and how many threads run chunks:
    #: the server runs one thread per run, in small chunks, to keep its working memory small.
    chunk_rows: int | None = None
    workers: int | None = None


def _library_bytes() -> int:
    raw = os.environ.get(MEMORY_ENV)
    if raw is None:
        return 8 * 2**30
    try:
        gib = float(raw)
    except ValueError:
        raise InputError(MEMORY_ENV, None, f"expected a number of GiB, got {raw[:40]!r}") from None
    if not 0 < gib < 2**20:
        raise InputError(MEMORY_ENV, None, f"expected a number of GiB above 0, got {raw[:40]!r}")
    return int(gib * 2**30)


def library_limits() -> RunLimits:
    """The caps of the library and the CLI (the memory cap read from ``DETENTE_MAX_RUN_GIB``)."""
    return RunLimits(
        max_factions=200,
        max_draws=MAX_DRAWS,
        max_months=1200,
        max_bytes=_library_bytes(),
        max_actors=2000,
    )


#: The dashboard server's caps: a shared machine, answers within about 20 s of work at most.
SERVER_LIMITS = RunLimits(
    max_factions=30,
    max_draws=20_000,
    max_months=121,  # the start month and 120 more
    max_bytes=768 * 2**20,
    max_work=2.2e8,  # about 15-20 s of one core of the benchmark machine
    chunk_rows=1000,
    workers=1,
    max_actors=300,
    where="request",
)


def result_bytes(draws: int, months: int, factions: int) -> int:
    """Bytes of the preallocated result (``Trajectories.empty``)."""
    return draws * months * (RESULT_BYTES_FIXED + RESULT_BYTES_PER_FACTION * factions)


def estimate_run_bytes(
    draws: int,
    months: int,
    factions: int,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
) -> int:
    """Peak memory of a local run, estimated from its shapes (``months`` counts every month
    simulated, from the start to the horizon): the interpreter, the result, the drawn numbers,
    and the working arrays of the chunks in flight."""
    threads = (os.cpu_count() or 1) if workers is None else workers
    in_flight = min(draws, chunk_rows * threads)
    cells = in_flight * months * (SERIES_PER_MONTH + ARRAYS_PER_FACTION * factions)
    params = draws * (PARAMS_FIXED + PARAMS_PER_FACTION * factions) * 8
    return BASE_BYTES + result_bytes(draws, months, factions) + params + cells * WORK_BYTES_PER_CELL


def engine_cost(engine: str, factions: int) -> float:
    """Cost of one draw-month in work units (one unit: 0.07-0.09 microseconds on the machine of
    ``benchmarks/bench_limits.py``): the dynamics' fixed part and a part linear in the factions
    (the compromise, the median), plus for the EUM a part quadratic in them (faction pairs, up to
    20 rounds a month). Fitted to that benchmark: the compromise at 7, 28 and 50 factions, the
    EUM at 7, 20 and 50 (the quadratic overstates the EUM's cost at 50, on the safe side)."""
    if engine == "eum":
        return 13.0 + factions + 95.0 * factions * factions
    return 13.0 + factions


def run_work(draws: int, months: int, factions: int, engine: str) -> float:
    """Work units of a run: draws x months x :func:`engine_cost`."""
    return draws * months * engine_cost(engine, factions)


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def check_run(
    draws: int,
    months: int,
    factions: int,
    engine: str,
    limits: RunLimits | None = None,
    workers: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> None:
    """Refuse a run over ``limits`` (default :func:`library_limits`) with one line saying which
    cap and by how much. ``months`` counts every month simulated (start to horizon);
    ``workers`` the threads running chunks here (0: chunks run elsewhere, on a cluster)."""
    lim = limits or library_limits()
    where = lim.where
    if factions > lim.max_factions:
        raise InputError(where, "factions", f"{factions} factions; at most {lim.max_factions} here")
    if draws > lim.max_draws:
        raise InputError(where, "draws", f"{draws:,} draws; at most {lim.max_draws:,} here")
    if months > lim.max_months:
        raise InputError(where, "horizon", f"{months} months; at most {lim.max_months} here")
    need = estimate_run_bytes(draws, months, factions, chunk_rows, workers)
    if need > lim.max_bytes:
        raise InputError(
            where,
            None,
            f"{draws:,} draws x {months} months x {factions} factions needs about {_gib(need)} "
            f"of memory; the limit is {_gib(lim.max_bytes)} (fewer draws or months; "
            "docs/limits.md says how to go beyond)",
        )
    if lim.max_work is not None:
        work = run_work(draws, months, factions, engine)
        if work > lim.max_work:
            share = lim.max_work / work
            raise InputError(
                where,
                None,
                f"too much work: {draws:,} draws x {months} months x {factions} factions with "
                f"engine {engine} is {work / lim.max_work:.1f} times the budget here (try about "
                f"{max(1, int(draws * share)):,} draws)",
            )


def check_actors(actors: int, limits: RunLimits | None = None, file: str = "actors") -> None:
    """Refuse an actor table with more actors than ``limits`` allow (engines grow as the square
    of the actors: the EUM compares every pair, the exchange model every pair of pairs)."""
    lim = limits or library_limits()
    if actors > lim.max_actors:
        raise InputError(file, None, f"{actors:,} actors; at most {lim.max_actors:,} here")
