"""Global sensitivity: Sobol first-order and total indices (SALib), for any vectorised model.

SALib's plain functions do the sampling (Saltelli's scheme with Sobol sequences) and the analysis
(Jansen/Saltelli estimators with bootstrap confidence intervals); this module only wires a model to
them. Sobol, I. M. (2001), Mathematics and Computers in Simulation 55; Saltelli et al. (2010),
Computer Physics Communications 181.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from detente.backends import Backend, LocalBackend, Progress
from detente.engines.base import FloatArray
from detente.forecast import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_SEED,
    as_of_index,
    p_talks_chunk,
    split_rows,
)
from detente.limits import check_run
from detente.scenario.coercion import Scenario
from detente.scenario.sample import Lens, all_params

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes


@dataclass(frozen=True)
class Index:
    """Sobol indices of one input: first order S1 and total ST, with 95% half-widths."""

    name: str
    label: str
    S1: float
    S1_conf: float
    ST: float
    ST_conf: float


def sobol_indices(
    names: Sequence[str],
    model: Callable[[FloatArray], FloatArray],
    samples: int,
    seed: int,
    bounds: Sequence[tuple[float, float]] | None = None,
) -> tuple[list[Index], int]:
    """Sobol indices of ``model`` for its inputs, ranked by total index (largest first).

    ``model`` maps an ``(rows, len(names))`` array of inputs (inside ``bounds``, default [0, 1]
    each) to ``(rows,)`` outputs. ``samples`` is SALib's N (a power of 2); the model is evaluated
    on N (D + 2) rows. Returns the indices and the number of rows evaluated.
    """
    from SALib.analyze import sobol as sobol_analyze  # heavy (scipy): imported where used
    from SALib.sample import sobol as sobol_sample

    problem = {
        "num_vars": len(names),
        "names": list(names),
        "bounds": [list(b) for b in (bounds or [(0.0, 1.0)] * len(names))],
    }
    x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    y = np.asarray(model(x), dtype=np.float64)
    res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    out = [
        Index(
            name=str(n),
            label=str(n),
            S1=float(res["S1"][k]),
            S1_conf=float(res["S1_conf"][k]),
            ST=float(res["ST"][k]),
            ST_conf=float(res["ST_conf"][k]),
        )
        for k, n in enumerate(names)
    ]
    out.sort(key=lambda i: i.ST, reverse=True)
    return out, int(x.shape[0])


@dataclass(frozen=True, repr=False)
class ScenarioSensitivity:
    """Sobol indices of the probability of talks within ``horizon`` months."""

    scenario: str
    horizon: int
    samples: int
    rows: int
    seed: int
    lens: str | None
    indices: list[Index]

    def to_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "horizon": self.horizon,
            "samples": self.samples,
            "rows": self.rows,
            "seed": self.seed,
            "lens": self.lens,
            "parameters": [i.__dict__ for i in self.indices],
        }

    def __repr__(self) -> str:
        top = ", ".join(f"{i.name} ST {i.ST:.2f}" for i in self.indices[:5])
        more = f" (+{len(self.indices) - 5} more)" if len(self.indices) > 5 else ""
        return (
            f"<ScenarioSensitivity {self.scenario!r}, P(talks within {self.horizon} months), "
            f"{self.rows} runs: {top}{more}>"
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per parameter: S1, ST and their 95% bootstrap half-widths, largest ST first."""
        import pandas as pd

        return pd.DataFrame([i.__dict__ for i in self.indices])

    def plot(self, ax: Axes | None = None, top: int = 15) -> Axes:
        """Tornado: ST and S1 of the ``top`` parameters with their intervals; returns the axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.gca()
        shown = self.indices[:top][::-1]
        y = np.arange(len(shown))
        ax.barh(y + 0.2, [i.ST for i in shown], 0.4, xerr=[i.ST_conf for i in shown], label="ST")
        ax.barh(y - 0.2, [i.S1 for i in shown], 0.4, xerr=[i.S1_conf for i in shown], label="S1")
        ax.set_yticks(y, [i.label for i in shown], fontsize=8)
        ax.set_xlabel("Sobol index (95% bootstrap interval)")
        ax.legend(fontsize=8, loc="lower right")
        return ax


def scenario_sensitivity(
    scn: Scenario,
    samples: int = 512,
    seed: int = DEFAULT_SEED,
    horizon: int | None = None,
    lens: Lens | None = None,
    backend: Backend | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
) -> ScenarioSensitivity:
    """Sobol indices of P(talks within the horizon) for every uncertain number of a run.

    The uncertain numbers are the scenario's distributions and, under a lens, the coefficients it
    makes uncertain; each enters as its quantile in [0, 1], mapped through its own distribution,
    so the analysis sees exactly the uncertainty the scenario states. Numbers given as a point
    stay at their value.
    """
    as_of_index(scn, None)  # from the start: no number dated after it
    months = horizon if horizon is not None else scn.horizon
    params = all_params(scn, lens)
    uncertain = [path for path, (p, _) in params.items() if p.is_uncertain]
    if not uncertain:
        raise ValueError(f"{scn.id}: no uncertain parameter to analyse")
    # the caps on factions and months, and the working memory of one chunk (only P(talks) is
    # kept per row, so the rows' number is a matter of time, not memory)
    rows = rows_needed(scn, samples, lens)
    check_run(
        min(rows, chunk_rows), months + 1, len(scn.factions), scn.engine, chunk_rows=chunk_rows
    )
    runner = backend if backend is not None else LocalBackend()

    def model(x: FloatArray) -> FloatArray:
        rows = x.shape[0]
        values: dict[str, FloatArray] = {}
        for path, (p, rng) in params.items():
            if path in uncertain:
                values[path] = p.quantile(x[:, uncertain.index(path)], (rng.low, rng.high))
            else:
                values[path] = np.full(rows, p.center())
        chunks = split_rows(scn, values, months, chunk_rows)
        parts = runner.map(p_talks_chunk, chunks, progress)
        return np.concatenate(parts)[:, months - 1]

    indices, rows = sobol_indices(uncertain, model, samples, seed)
    indices = [replace(i, label=describe_path(scn, i.name)) for i in indices]
    return ScenarioSensitivity(
        scenario=scn.id,
        horizon=months,
        samples=samples,
        rows=rows,
        seed=seed,
        lens=None if lens is None else lens.name,
        indices=indices,
    )


def describe_path(scn: Scenario, path: str) -> str:
    """A path with the faction's name, for people: 'factions[6].capability (Public)'."""
    m = re.match(r"^factions\[(\d+)\]", path)
    if m and int(m.group(1)) < len(scn.factions):
        return f"{path} ({scn.factions[int(m.group(1))].name})"
    return path


def rows_needed(scn: Scenario, samples: int, lens: Lens | None = None) -> int:
    """How many model rows a Sobol analysis of ``scn`` evaluates: N (D + 2)."""
    d = sum(1 for p, _ in all_params(scn, lens).values() if p.is_uncertain)
    return samples * (d + 2)
