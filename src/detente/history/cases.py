"""Backtest of the coercion model on a library of historical episodes (scenario files with an
``outcome``): did the target enter direct talks with the sender within the horizon?"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detente.engines.base import FloatArray
from detente.errors import InputError
from detente.forecast import DEFAULT_SEED, run_scenario
from detente.scenario.coercion import Scenario, format_month, load_scenario, parse_month
from detente.scenario.params import Param
from detente.scenario.sample import Lens
from detente.scenario.yamlio import load_yaml_text, read_text

#: Horizons (months after the as-of month) every case is scored at.
SCORED_HORIZONS = (6, 12, 24, 36)


@dataclass(frozen=True)
class CaseResult:
    """One case forecast as of one month: the model's p within ``horizon`` and what happened."""

    id: str
    file: str
    p: float
    outcome: int
    kind: str
    talks_month: str | None
    outside_p: float | None
    as_of: str = ""
    origin: int = 0
    p_by_horizon: dict[str, float] | None = None
    outcome_by_horizon: dict[str, int] | None = None


def talks_index(scn: Scenario) -> int | None:
    """Months from the start to the first talks on the dispute in the record, direct or mediated
    (the first channel ends the episode: docs/codebook.md); None when there were none."""
    o = scn.outcome
    if o is None:
        raise ValueError(f"{scn.id}: no outcome")
    if not o.talks or o.month is None or o.kind in ("side", "none"):
        return None
    return parse_month(o.month) - scn.start_month


def case_outcome(scn: Scenario, horizon: int, origin: int = 0) -> int | None:
    """1 if the record shows direct talks with the sender, as the first talks, within ``horizon``
    months after the end of month ``origin`` (0: the start); None if talks of any channel had
    opened by then (nothing left to forecast)."""
    m = talks_index(scn)
    if m is None:
        return 0
    if m <= origin:
        return None
    return int(scn.outcome is not None and scn.outcome.kind == "direct" and m - origin <= horizon)


def case_origins(scn: Scenario, every: int | None, horizon: int) -> list[int]:
    """The as-of months of a case: its start, then every ``every`` months until the talks in the
    record or the end of its horizon."""
    if not every:
        return [0]
    end = scn.horizon - 1
    m = talks_index(scn)
    if m is not None:
        end = min(end, m - 1)
    return list(range(0, max(end, 0) + 1, every))


def opened_at_start(library: list[tuple[Path, Scenario]]) -> list[str]:
    """Cases whose first talks (direct or mediated) opened in their start month: as of the end of
    it there is nothing left to forecast, so they are left out of the scores (and listed)."""
    return [scn.id for _, scn in library if case_outcome(scn, 1, 0) is None]


def load_library(folder: Path) -> list[tuple[Path, Scenario]]:
    """Every scenario with an outcome in ``folder`` (sorted by file name)."""
    if not folder.is_dir():
        raise InputError(str(folder), None, "no such folder")
    out = []
    for path in sorted(folder.glob("*.y*ml")):
        data = load_yaml_text(read_text(path), str(path))
        if isinstance(data, dict) and "outcome" in data:  # other files (actor tables) are skipped
            out.append((path, load_scenario(path)))
    if not out:
        raise InputError(str(folder), None, "no scenario with an 'outcome' block")
    return out


def run_library(
    library: list[tuple[Path, Scenario]],
    horizon: int = 24,
    draws: int = 1000,
    seed: int = DEFAULT_SEED,
    outside: dict[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
    origins: int | None = None,
    coefficients: dict[str, Param] | None = None,
    lens: Lens | None = None,
) -> list[CaseResult]:
    """The model's probability of talks within ``horizon`` for each case, beside the outcome.

    Each case is forecast as of its start, never seeing an event announced later; with
    ``origins`` = N, also as of every N months after it until the talks or the case's horizon.
    A case whose talks opened by an as-of month is not forecast from it.
    """
    results = []
    months = max(horizon, *SCORED_HORIZONS)
    for path, scn in library:
        for origin in case_origins(scn, origins, horizon):
            if case_outcome(scn, horizon, origin) is None:
                continue
            as_of = format_month(scn.start_month + origin)
            f = run_scenario(
                scn,
                draws=draws,
                seed=seed,
                horizon=months,
                lens=lens,
                as_of=as_of,
                coefficients=coefficients,
            )
            results.append(
                CaseResult(
                    id=scn.id,
                    file=path.name,
                    p=f.p_within(horizon),
                    outcome=int(case_outcome(scn, horizon, origin) or 0),
                    kind=scn.outcome.kind if scn.outcome else "none",
                    talks_month=scn.outcome.month if scn.outcome else None,
                    outside_p=None if outside is None or origin else outside.get(scn.id),
                    as_of=as_of,
                    origin=origin,
                    p_by_horizon={str(h): f.p_within(h) for h in SCORED_HORIZONS},
                    outcome_by_horizon={
                        str(h): int(case_outcome(scn, h, origin) or 0) for h in SCORED_HORIZONS
                    },
                )
            )
        if progress:
            progress(1)
    return results


def brier(p: FloatArray, y: FloatArray) -> float:
    return float(np.mean((p - y) ** 2))


def log_loss(p: FloatArray, y: FloatArray) -> float:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def leave_one_out_base_rate(y: FloatArray) -> FloatArray:
    """Each case's base-rate forecast from the other cases only (no case sees its own outcome)."""
    n = len(y)
    return np.asarray((y.sum() - y) / max(n - 1, 1))


def calibration(p: FloatArray, y: FloatArray, bins: int = 5) -> list[dict[str, object]]:
    """Cases grouped by forecast: mean forecast against observed frequency in each bin."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows: list[dict[str, object]] = []
    for b in range(bins):
        m = idx == b
        rows.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "n": int(m.sum()),
                "mean_forecast": float(p[m].mean()) if m.any() else math.nan,
                "observed": float(y[m].mean()) if m.any() else math.nan,
            }
        )
    return rows


def scores(p: FloatArray, y: FloatArray) -> dict[str, float | int]:
    """Brier and log loss of forecasts ``p`` and of the leave-one-out base rate, on ``y``."""
    base = leave_one_out_base_rate(y)
    return {
        "n": len(y),
        "brier": brier(p, y),
        "base_rate_brier": brier(base, y),
        "log_loss": log_loss(p, y),
        "base_rate_log_loss": log_loss(base, y),
    }


def score_library(results: list[CaseResult]) -> dict[str, object]:
    """Brier and log loss of the model against the leave-one-out base rate and the outside view.

    The top-level scores are those of the forecasts as of each case's start; ``by_horizon`` gives
    them at 6, 12, 24 and 36 months, and ``by_origin`` (when there are later as-of months) at each
    number of months after the start.
    """
    every = results
    results = [r for r in every if r.origin == 0]
    p = np.array([r.p for r in results])
    y = np.array([r.outcome for r in results], dtype=float)
    base = leave_one_out_base_rate(y)
    doc: dict[str, object] = {
        "n_cases": len(results),
        "brier": brier(p, y),
        "base_rate_brier": brier(base, y),
        "log_loss": log_loss(p, y),
        "base_rate_log_loss": log_loss(base, y),
        "calibration": [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in calibration(p, y)
        ],
        "cases": [r.__dict__ for r in results],
        "by_horizon": {
            str(h): scores(
                np.array([(r.p_by_horizon or {})[str(h)] for r in results]),
                np.array([(r.outcome_by_horizon or {})[str(h)] for r in results], dtype=float),
            )
            for h in SCORED_HORIZONS
        },
    }
    later = sorted({r.origin for r in every if r.origin > 0})
    if later:
        by_origin: dict[str, object] = {}
        for origin in [0, *later]:
            at = [r for r in every if r.origin == origin]
            by_origin[str(origin)] = scores(
                np.array([r.p for r in at]), np.array([r.outcome for r in at], dtype=float)
            )
        doc["by_origin"] = by_origin
        doc["origin_cases"] = [r.__dict__ for r in every if r.origin > 0]
    with_outside = [r for r in results if r.outside_p is not None]
    if with_outside:
        po = np.array([r.outside_p for r in with_outside], dtype=float)
        yo = np.array([r.outcome for r in with_outside], dtype=float)
        pm = np.array([r.p for r in with_outside])
        doc["outside_view"] = {
            "n_cases": len(with_outside),
            "brier": brier(po, yo),
            "model_brier_same_cases": brier(pm, yo),
            "note": "TIES predicts acquiescence or settlement, not direct talks: a proxy baseline",
        }
    return doc
