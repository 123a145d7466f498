"""Run a coercion scenario: draws -> the monthly model -> labelled, summarised results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from detente.backends import Backend, LocalBackend, Progress
from detente.dynamics.simulate import SERIES, Trajectories, simulate
from detente.engines import Engine, make_engine
from detente.engines.base import FloatArray
from detente.scenario.coercion import Scenario
from detente.scenario.sample import (
    Lens,
    build_case,
    build_coefficients,
    draw_params,
    month_labels,
)

HORIZONS = (6, 12, 24, 36)
DEFAULT_DRAWS = 2000
DEFAULT_SEED = 20180508  # the day of the US withdrawal; any integer will do
#: Inside the monthly model the EUM runs at most this many rounds a month (docs/model.md, M9).
EUM_MONTHLY_ROUNDS = 20
#: Draws simulated together in one chunk of work (bounds memory; any value gives the same numbers).
DEFAULT_CHUNK_ROWS = 5000


@dataclass(frozen=True)
class Forecast:
    """The result of one run: inputs that made it, the monthly paths, and the summary."""

    scenario: Scenario
    draws: int
    seed: int
    horizon: int
    lens: str | None
    months: list[str]
    paths: Trajectories
    initial_position: list[float] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)

    def by_horizon(self) -> dict[str, dict[str, float]]:
        """For h in 6, 12, 24, 36 (and the run's horizon), the probability of talks by then.

        p is the mean over draws of each draw's probability of talks within h months; lo and hi
        the 5th and 95th percentiles over draws (the parameter uncertainty).
        """
        out: dict[str, dict[str, float]] = {}
        hs = sorted({h for h in HORIZONS if h <= self.horizon} | {self.horizon})
        for h in hs:
            col = self.paths.p_talks[:, h - 1]
            out[str(h)] = {
                "p": float(col.mean()),
                "lo": float(np.percentile(col, 5)),
                "hi": float(np.percentile(col, 95)),
            }
        return out

    def month_of_even_odds(self) -> str | None:
        """The first month by whose end the mean probability of talks reaches 50%, if any."""
        mean = self.paths.p_talks.mean(axis=0)
        hit = np.flatnonzero(mean >= 0.5)
        return self.months[int(hit[0])] if hit.size else None

    def mean_paths(self) -> pd.DataFrame:
        """Monthly means over draws of every series, indexed by month (a tidy table)."""
        data = {name: self.paths.series[name].mean(axis=0) for name in SERIES}
        return pd.DataFrame(data, index=pd.Index(self.months, name="month"))

    def faction_paths(self) -> dict[str, dict[str, Any]]:
        names = [f.name for f in self.scenario.factions]
        pos = self.paths.position.mean(axis=0)
        sal = self.paths.salience.mean(axis=0)
        return {
            n: {
                "initial_position": self.initial_position[k],
                "position": pos[:, k].tolist(),
                "salience": sal[:, k].tolist(),
            }
            for k, n in enumerate(names)
        }

    def to_dict(self, trajectories: bool = True) -> dict[str, Any]:
        """The JSON of ``detente run --json``."""
        doc: dict[str, Any] = {
            "scenario": self.scenario.id,
            "title": self.scenario.title,
            "question": self.scenario.question,
            "start": self.scenario.start,
            "draws": self.draws,
            "seed": self.seed,
            "horizon": self.horizon,
            "lens": self.lens,
            "overrides": self.overrides,
            "engine": self.scenario.engine,
            "horizons": self.by_horizon(),
            "even_odds_month": self.month_of_even_odds(),
        }
        if trajectories:
            paths = self.mean_paths()
            doc["months"] = self.months
            doc["trajectories"] = {c: paths[c].tolist() for c in paths.columns}
            p = self.paths.p_talks
            doc["trajectories"]["p_talks_lo"] = np.percentile(p, 5, axis=0).tolist()
            doc["trajectories"]["p_talks_hi"] = np.percentile(p, 95, axis=0).tolist()
            doc["factions"] = self.faction_paths()
        return doc


@dataclass(frozen=True)
class Chunk:
    """A unit of work for a backend: some rows of drawn numbers, to simulate over ``months``."""

    scenario: Scenario
    params: dict[str, FloatArray]
    months: int

    @property
    def rows(self) -> int:
        return len(next(iter(self.params.values())))


def make_stance_engine(scenario: Scenario) -> Engine:
    if scenario.engine == "eum":
        return make_engine("eum", max_rounds=EUM_MONTHLY_ROUNDS)
    return make_engine(scenario.engine)


def simulate_chunk(chunk: Chunk) -> Trajectories:
    """Simulate the rows of a chunk (runs anywhere: a thread, a Dask worker)."""
    inputs = build_case(chunk.scenario, chunk.params, chunk.months)
    coef = build_coefficients(chunk.params)
    return simulate(inputs, coef, make_stance_engine(chunk.scenario))


def p_talks_chunk(chunk: Chunk) -> FloatArray:
    """Only the probability of talks by month, ``(rows, months)``: what sweeps need back."""
    return simulate_chunk(chunk).p_talks


def split_rows(
    scenario: Scenario, params: dict[str, FloatArray], months: int, chunk_rows: int
) -> list[Chunk]:
    """Cut rows into chunks of at most ``chunk_rows``."""
    total = len(next(iter(params.values())))
    return [
        Chunk(scenario, {k: v[i : i + chunk_rows] for k, v in params.items()}, months)
        for i in range(0, total, max(1, chunk_rows))
    ]


def run_scenario(
    scenario: Scenario,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    horizon: int | None = None,
    lens: Lens | None = None,
    fixed: dict[str, float] | None = None,
    backend: Backend | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
) -> Forecast:
    """Draw every number, simulate every draw, and label the result.

    ``fixed`` sets numbers to one value in every draw: scenario paths (``leader.legacy_weight``)
    or global coefficients (``coefficients.w_legacy``); callers check them first with
    :func:`detente.scenario.sample.check_fixed`. Draws are simulated in chunks of ``chunk_rows``
    on ``backend`` (default: this machine); the numbers do not depend on either.
    """
    months = horizon if horizon is not None else scenario.horizon
    fixed = fixed or {}
    params = draw_params(scenario, draws, seed, lens, fixed)
    chunks = split_rows(scenario, params, months, chunk_rows)
    runner = backend if backend is not None else LocalBackend()
    parts = runner.map(simulate_chunk, chunks, progress)
    paths = Trajectories.concat(parts)
    return Forecast(
        scenario=scenario,
        draws=draws,
        seed=seed,
        horizon=months,
        lens=None if lens is None else lens.name,
        months=month_labels(scenario, months),
        paths=paths,
        initial_position=[
            float(params[f"factions[{k}].position"].mean()) for k in range(len(scenario.factions))
        ],
        overrides={k: f"{v:g}" for k, v in fixed.items()},
    )
