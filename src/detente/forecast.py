"""Run a coercion scenario: draws -> the monthly model -> labelled, summarised results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from detente.dynamics.simulate import SERIES, Trajectories, simulate
from detente.engines import make_engine
from detente.scenario.coercion import Scenario
from detente.scenario.params import Param
from detente.scenario.sample import Lens, month_labels, sample_case, sample_coefficients

HORIZONS = (6, 12, 24, 36)
DEFAULT_DRAWS = 2000
DEFAULT_SEED = 20180508  # the day of the US withdrawal; any integer will do
#: Inside the monthly model the EUM runs at most this many rounds a month (docs/model.md, M9).
EUM_MONTHLY_ROUNDS = 20


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


def run_scenario(
    scenario: Scenario,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    horizon: int | None = None,
    lens: Lens | None = None,
    fixed: dict[str, float] | None = None,
) -> Forecast:
    """Sample the scenario and the coefficients, simulate every draw, and label the result.

    ``fixed`` sets parameters to one value in every draw: scenario paths
    (``leader.legacy_weight``) or global coefficients (``coefficients.w_legacy``); callers check
    them first with :func:`detente.scenario.sample.check_fixed`.
    """
    months = horizon if horizon is not None else scenario.horizon
    fixed = fixed or {}
    case_fixed = {k: v for k, v in fixed.items() if not k.startswith("coefficients.")}
    coef_fixed = {
        k.removeprefix("coefficients."): Param(value=v, assumption="set with --set")
        for k, v in fixed.items()
        if k.startswith("coefficients.")
    }
    inputs = sample_case(scenario, draws, seed, months, case_fixed)
    coef = sample_coefficients(draws, seed, lens, coef_fixed)
    engine = (
        make_engine("eum", max_rounds=EUM_MONTHLY_ROUNDS)
        if scenario.engine == "eum"
        else make_engine(scenario.engine)
    )
    paths = simulate(inputs, coef, engine)
    return Forecast(
        scenario=scenario,
        draws=draws,
        seed=seed,
        horizon=months,
        lens=None if lens is None else lens.name,
        months=month_labels(scenario, months),
        paths=paths,
        initial_position=inputs.position.mean(axis=0).tolist(),
        overrides={k: f"{v:g}" for k, v in fixed.items()},
    )
