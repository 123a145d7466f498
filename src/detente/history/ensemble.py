"""An ensemble of engines for DEU decisions: a convex combination fitted by least absolute error.

The forecast for issue i is

    f_i = sum_m w_m f_im,    w_m >= 0,  sum_m w_m = 1,

over the members m in :data:`MEMBERS`: engines by name (anything :func:`make_engine` knows) and
two naive forecasts the data carries, the reference point (status quo) and the Commission's
position. The weights minimise the sum of absolute errors sum_i |y_i - f_i| (least absolute
deviations, the criterion the DEU literature scores by; Achen 2006), solved exactly as a linear
programme (Charnes, Cooper & Ferguson 1955: y_i - f_i = e+_i - e-_i, e+, e- >= 0, minimise
sum e+ + e-). This is a constrained stacking of forecasts (Wolpert 1992; Breiman 1996, "Stacked
regressions", with non-negative weights), here with weights summing to one so that the ensemble
stays on the policy scale between its members.

Where a naive member has no forecast (no reference point, or no Commission position), the
compromise model's forecast stands in for it, so the combination stays linear in the weights.

Out-of-sample error is estimated by K-fold cross-validation grouped by proposal (the issues of one
legislative proposal are never split between fitting and scoring): weights are fitted on K - 1
folds and score the remaining one, for each fold in turn. The interval is a percentile bootstrap
over proposals (Efron & Tibshirani 1993), resampling whole proposals with their issues.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.engines import make_engine
from detente.engines.base import FloatArray
from detente.history.deu import DeuData, Score, forecast_issues

#: The ensemble's members, in order: any engine :func:`detente.engines.make_engine` knows (e.g.
#: ``"smp"`` joins by adding its name here and refitting with ``scripts/fit_deu_ensemble.py``;
#: ``"exchange"`` would also need its per-proposal run, ``deu.forecast_exchange``, in
#: :func:`member_forecasts`), and the naive members in :data:`NAIVE`. The
#: naive members are left out by default: on the development split's cross-validation they made
#: the ensemble worse (``docs/engines.md``).
MEMBERS: tuple[str, ...] = ("compromise", "median", "eum")
#: Members that are not engines but columns of the data.
NAIVE = ("reference_point", "commission")
#: The member that stands in where a naive member has no forecast.
FALLBACK = "compromise"
#: Where the weights fitted on the whole development split are shipped.
WEIGHTS_FILE = "ensemble_weights.json"


def member_forecasts(
    data: DeuData,
    members: Sequence[str] = MEMBERS,
    progress: Callable[[int], None] | None = None,
) -> FloatArray:
    """F[i, m]: member m's forecast for issue i (issues x members), gaps filled by the fallback."""
    if FALLBACK not in members:
        raise ValueError(f"the ensemble's members must include {FALLBACK!r}")
    columns: dict[str, FloatArray] = {}
    for name in members:
        if name == "reference_point":
            columns[name] = np.array([i.reference_point for i in data.issues])
        elif name == "commission":
            columns[name] = np.array([i.commission for i in data.issues])
        else:
            columns[name] = forecast_issues(data, make_engine(name))
        if progress:
            progress(1)
    fallback = columns[FALLBACK]
    stacked = [np.where(np.isnan(columns[m]), fallback, columns[m]) for m in members]
    return np.stack(stacked, axis=1)


def fit_weights(forecasts: FloatArray, outcome: FloatArray) -> FloatArray:
    """Weights w >= 0, sum w = 1, minimising sum_i |y_i - sum_m w_m F_im| (an exact LP)."""
    from scipy.optimize import linprog  # heavy: imported where used

    n, m = forecasts.shape
    if n == 0:
        raise ValueError("no issues to fit the ensemble on")
    # variables: w (m), e+ (n), e- (n)
    cost = np.concatenate([np.zeros(m), np.ones(2 * n)])
    a_eq = np.zeros((n + 1, m + 2 * n))
    a_eq[:n, :m] = forecasts
    a_eq[:n, m : m + n] = np.eye(n)
    a_eq[:n, m + n :] = -np.eye(n)
    a_eq[n, :m] = 1.0
    b_eq = np.concatenate([outcome, [1.0]])
    res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if not res.success:
        raise RuntimeError(f"the ensemble's linear programme failed: {res.message}")
    w = np.clip(np.asarray(res.x[:m], dtype=np.float64), 0.0, None)
    return np.asarray(w / w.sum())


def combine(forecasts: FloatArray, weights: FloatArray) -> FloatArray:
    """sum_m w_m F_im for every issue."""
    return np.asarray(forecasts @ weights)


def proposal_of(issue_id: str) -> str:
    """The proposal an issue belongs to: its id's part before '/' (``prnr/isnr``)."""
    return issue_id.split("/", 1)[0]


def proposal_folds(groups: Sequence[str], k: int, seed: int = 0) -> NDArray[np.intp]:
    """Fold (0..k-1) of every issue: proposals shuffled with ``seed``, then dealt in turn."""
    names = sorted(set(groups))
    if not 2 <= k <= len(names):
        raise ValueError(f"need 2 <= K <= {len(names)} (the number of proposals), got {k}")
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = {names[j]: pos % k for pos, j in enumerate(order)}
    return np.array([fold_of[g] for g in groups], dtype=np.intp)


def cv_predictions(
    forecasts: FloatArray, outcome: FloatArray, folds: NDArray[np.intp]
) -> tuple[FloatArray, FloatArray]:
    """Out-of-fold ensemble forecasts, and the weights fitted for each fold (folds x members).

    The weights that forecast fold j are fitted on the other folds only.
    """
    k = int(folds.max()) + 1
    pred = np.full(outcome.shape, np.nan)
    weights = np.empty((k, forecasts.shape[1]))
    for j in range(k):
        test = folds == j
        weights[j] = fit_weights(forecasts[~test], outcome[~test])
        pred[test] = combine(forecasts[test], weights[j])
    return pred, weights


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def _resamples(
    groups: Sequence[str], reps: int, seed: int
) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Proposal index of every issue, issues per proposal, and how often each replicate draws
    each proposal (replicates x proposals); the same ``seed`` gives the same replicates."""
    names = sorted(set(groups))
    index = {g: j for j, g in enumerate(names)}
    gid = np.array([index[g] for g in groups], dtype=np.intp)
    counts = np.bincount(gid, minlength=len(names)).astype(float)
    draws = np.random.default_rng(seed).integers(0, len(names), size=(reps, len(names)))
    mult = np.stack([np.bincount(d, minlength=len(names)) for d in draws]).astype(float)
    return gid, counts, mult


def bootstrap_mean(
    values: FloatArray, groups: Sequence[str], reps: int = 2000, seed: int = 0
) -> Interval:
    """Mean of per-issue ``values`` with a 95% percentile bootstrap interval over proposals.

    Each replicate draws proposals with replacement, with all their issues; the same ``seed``
    draws the same replicates, so intervals of several forecasters (and of their differences)
    are paired.
    """
    gid, counts, mult = _resamples(groups, reps, seed)
    sums = np.bincount(gid, weights=values, minlength=counts.size)
    reps_mean = (mult @ sums) / (mult @ counts)
    return Interval(
        float(values.mean()),
        float(np.quantile(reps_mean, 0.025)),
        float(np.quantile(reps_mean, 0.975)),
    )


def cross_validate(
    data: DeuData,
    k: int,
    members: Sequence[str] = MEMBERS,
    seed: int = 0,
    reps: int = 2000,
    forecasts: FloatArray | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """K-fold CV of the ensemble grouped by proposal, against the compromise model on the
    same issues, with bootstrap intervals over proposals (MAE of each, and their difference)."""
    outcome = np.array([i.outcome for i in data.issues])
    groups = [proposal_of(i.id) for i in data.issues]
    F = member_forecasts(data, members, progress) if forecasts is None else forecasts
    folds = proposal_folds(groups, k, seed)
    pred, fold_weights = cv_predictions(F, outcome, folds)
    compromise = F[:, list(members).index(FALLBACK)]
    err_ens = pred - outcome
    err_cmp = compromise - outcome
    boot = {
        "ensemble": bootstrap_mean(np.abs(err_ens), groups, reps, seed),
        "compromise": bootstrap_mean(np.abs(err_cmp), groups, reps, seed),
    }
    diff = bootstrap_mean(np.abs(err_ens) - np.abs(err_cmp), groups, reps, seed)
    return {
        "file": data.path,
        "n_issues": len(data.issues),
        "n_proposals": len(set(groups)),
        "k": k,
        "seed": seed,
        "members": list(members),
        "cv_mae": {name: iv.to_dict() for name, iv in boot.items()},
        "cv_median_ae": {
            "ensemble": float(np.median(np.abs(err_ens))),
            "compromise": float(np.median(np.abs(err_cmp))),
        },
        "difference_ensemble_minus_compromise": diff.to_dict(),
        "beats_compromise": bool(diff.high < 0),
        "fold_weights": [dict(zip(members, map(float, w), strict=True)) for w in fold_weights],
        "bootstrap": {"reps": reps, "level": 0.95, "over": "proposals", "seed": seed},
    }


# --- the shipped weights ---------------------------------------------------------------------


@dataclass(frozen=True)
class EnsembleWeights:
    members: tuple[str, ...]
    weights: FloatArray
    meta: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "members": list(self.members),
            "weights": dict(zip(self.members, map(float, self.weights), strict=True)),
            **self.meta,
        }


def backtest_ensemble(
    data: DeuData,
    shipped: EnsembleWeights,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Score the ensemble with ``shipped`` weights (and each of its members) on ``data``."""
    outcome = np.array([i.outcome for i in data.issues])
    F = member_forecasts(data, shipped.members, progress)
    scores = {"ensemble": Score.of(combine(F, shipped.weights), outcome).to_dict()}
    for j, name in enumerate(shipped.members):
        scores[name] = Score.of(F[:, j], outcome).to_dict()
    return {
        "file": data.path,
        "n_issues": len(data.issues),
        "models": scores,
        "ensemble": shipped.to_dict(),
    }


def load_weights(path: str | Path | None = None) -> EnsembleWeights:
    """The weights shipped with detente (fitted on the DEU development split), or ``path``'s."""
    if path is None:
        text = resources.files("detente.history").joinpath(WEIGHTS_FILE).read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    doc = json.loads(text)
    members = tuple(doc["members"])
    w = np.array([doc["weights"][m] for m in members], dtype=np.float64)
    if (w < 0).any() or not math.isclose(w.sum(), 1.0, abs_tol=1e-9):
        raise ValueError("ensemble weights must be non-negative and sum to 1")
    meta = {k: v for k, v in doc.items() if k not in ("members", "weights")}
    return EnsembleWeights(members, w, meta)


def fit_shipped_weights(
    data: DeuData, source: str, k: int = 10, members: Sequence[str] = MEMBERS, seed: int = 0
) -> dict[str, Any]:
    """The document shipped as ``ensemble_weights.json``: weights fitted on all of ``data``, what
    they were fitted on and when, and the cross-validated figures on the same data."""
    outcome = np.array([i.outcome for i in data.issues])
    F = member_forecasts(data, members)
    w = fit_weights(F, outcome)
    cv = cross_validate(data, k, members, seed, forecasts=F)
    digest = hashlib.sha256(Path(data.path).read_bytes()).hexdigest()
    return {
        "members": list(members),
        "weights": dict(zip(members, map(float, w), strict=True)),
        "fitted_on": {
            "file": source,
            "sha256": digest,
            "n_issues": len(data.issues),
            "n_proposals": cv["n_proposals"],
            "capability": "gdp",
            "engines": "default settings (EUM: published variant)",
        },
        "fitted_at": date.today().isoformat(),
        "method": (
            "non-negative weights summing to 1 minimising the sum of absolute errors (exact LP); "
            f"missing naive forecasts replaced by the {FALLBACK} model's"
        ),
        "in_sample_mae": float(np.abs(combine(F, w) - outcome).mean()),
        "cv": {
            key: cv[key]
            for key in (
                "k",
                "seed",
                "cv_mae",
                "cv_median_ae",
                "difference_ensemble_minus_compromise",
                "beats_compromise",
            )
        },
    }
