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
from detente.scenario.coercion import Scenario, load_scenario, parse_month
from detente.scenario.yamlio import load_yaml_text, read_text


@dataclass(frozen=True)
class CaseResult:
    id: str
    file: str
    p: float
    outcome: int
    kind: str
    talks_month: str | None
    outside_p: float | None


def case_outcome(scn: Scenario, horizon: int) -> int:
    """1 if the record shows direct talks with the sender within ``horizon`` months of the start."""
    o = scn.outcome
    if o is None:
        raise ValueError(f"{scn.id}: no outcome")
    if not o.talks or o.kind != "direct" or o.month is None:
        return 0
    return int(parse_month(o.month) - scn.start_month < horizon)


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
) -> list[CaseResult]:
    """The model's probability of talks within ``horizon`` for each case, beside the outcome."""
    results = []
    for path, scn in library:
        f = run_scenario(scn, draws=draws, seed=seed, horizon=max(horizon, 1))
        results.append(
            CaseResult(
                id=scn.id,
                file=path.name,
                p=float(f.paths.p_talks[:, horizon - 1].mean()),
                outcome=case_outcome(scn, horizon),
                kind=scn.outcome.kind if scn.outcome else "none",
                talks_month=scn.outcome.month if scn.outcome else None,
                outside_p=None if outside is None else outside.get(scn.id),
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


def score_library(results: list[CaseResult]) -> dict[str, object]:
    """Brier and log loss of the model against the leave-one-out base rate and the outside view."""
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
    }
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
