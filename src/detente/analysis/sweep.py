"""Sweeps: the probability of talks over a grid of one or more parameters, as a tidy table."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from detente.backends import Backend, LocalBackend, Progress
from detente.engines.base import FloatArray
from detente.forecast import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_SEED,
    Chunk,
    as_of_index,
    conditional,
    simulate_chunk,
    summarise,
)
from detente.limits import check_run
from detente.scenario.coercion import Scenario
from detente.scenario.sample import Lens, draw_params

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Axis:
    """One swept parameter: ``PATH=a:b:n`` is n values from a to b."""

    path: str
    values: FloatArray

    @classmethod
    def parse(cls, spec: str) -> Axis:
        path, sep, rest = spec.partition("=")
        parts = rest.split(":")
        if not sep or not path.strip() or len(parts) != 3:
            raise ValueError(
                f"--grid {spec!r}: expected PATH=a:b:n, e.g. leader.legacy_weight=0:1:11"
            )
        try:
            a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(
                f"--grid {spec!r}: a and b must be numbers and n a whole number"
            ) from None
        if n < 1 or n > 10_000:
            raise ValueError(f"--grid {spec!r}: n must be from 1 to 10000")
        return cls(path.strip(), np.linspace(a, b, n))


@dataclass(frozen=True)
class SweepChunk:
    """Some grid points, each run on the same draws (common random numbers)."""

    scenario: Scenario
    base: dict[str, FloatArray]  # (draws,) per number
    points: dict[str, FloatArray]  # (points,) per swept path
    months: int
    horizon: int


def sweep_chunk(chunk: SweepChunk) -> FloatArray:
    """(points, 3): p, and the 5th and 95th percentiles over draws, at the horizon."""
    draws = len(next(iter(chunk.base.values())))
    npoints = len(next(iter(chunk.points.values())))
    rows = {k: np.tile(v, npoints) for k, v in chunk.base.items()}
    for path, values in chunk.points.items():
        rows[path] = np.repeat(values, draws)
    paths = simulate_chunk(Chunk(chunk.scenario, rows, chunk.months))
    by_point = conditional(paths, 0, chunk.horizon).reshape(npoints, draws)
    alive = paths.series["survival"][:, 0].reshape(npoints, draws)
    rows_out = []
    for k in range(npoints):
        w = alive[k] / alive[k].sum() if alive[k].sum() > 0 else np.full(draws, 1.0 / draws)
        s = summarise(by_point[k], w)
        rows_out.append([s["p"], s["lo"], s["hi"]])
    return np.asarray(rows_out, dtype=np.float64)


@dataclass
class SweepResult:
    """The tidy table (one row per grid point) and whether every point finished."""

    table: pd.DataFrame
    complete: bool
    total_points: int


def run_sweep(
    scn: Scenario,
    axes: list[Axis],
    draws: int = 200,
    seed: int = DEFAULT_SEED,
    horizon: int | None = None,
    lens: Lens | None = None,
    backend: Backend | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
) -> SweepResult:
    """P(talks within the horizon) at every point of the grid, ``draws`` draws per point.

    Every point uses the same draws of the other numbers, so differences between points are the
    effect of the swept parameters. Interrupted (Ctrl-C), it returns the points that finished.
    """
    import pandas as pd  # heavy: imported where used

    as_of_index(scn, None)  # from the start: no number dated after it
    months = horizon if horizon is not None else scn.horizon
    # the caps on factions and months, and one chunk's working memory (each point keeps only
    # P(talks)); the draws of the other numbers are held once
    check_run(draws, months + 1, len(scn.factions), scn.engine, chunk_rows=chunk_rows)
    base = draw_params(scn, draws, seed, lens)
    grid = np.array(list(itertools.product(*(a.values for a in axes))))
    per_chunk = max(1, chunk_rows // draws)
    chunks = [
        SweepChunk(
            scn,
            base,
            {a.path: grid[i : i + per_chunk, k] for k, a in enumerate(axes)},
            months,
            months,
        )
        for i in range(0, len(grid), per_chunk)
    ]
    done: dict[int, FloatArray] = {}
    runner = backend if backend is not None else LocalBackend()
    complete = True
    try:
        runner.map(sweep_chunk, chunks, progress, on_result=lambda k, r: done.__setitem__(k, r))
    except KeyboardInterrupt:
        complete = False
    frames = []
    for k in sorted(done):
        start = k * per_chunk
        pts = grid[start : start + len(done[k])]
        frame = pd.DataFrame({a.path: pts[:, j] for j, a in enumerate(axes)})
        frame["p"], frame["lo"], frame["hi"] = done[k][:, 0], done[k][:, 1], done[k][:, 2]
        frames.append(frame)
    columns = [a.path for a in axes] + ["p", "lo", "hi"]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    table["horizon"] = months
    table["draws"] = draws
    table["seed"] = seed
    return SweepResult(table=table, complete=complete, total_points=len(grid))
