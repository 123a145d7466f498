"""An ensemble of engines for DEU decisions: a convex combination fitted by least absolute error.

The forecast for issue i is

    f_i = sum_m w_m f_im,    w_m >= 0,  sum_m w_m = 1,

over the members m in :data:`MEMBERS`: engines by name (anything :func:`make_engine` knows) and
two naive forecasts the data carries, the reference point (status quo) and the Commission's
position. Which members take part is chosen by an inner cross-validation among a fixed list of
candidate combinations (:func:`candidates`, :func:`select_weights`); a candidate's weights
minimise the sum of absolute errors sum_i |y_i - f_i| (least absolute
deviations, the criterion the DEU literature scores by; Achen 2006), solved exactly as a linear
programme (Charnes, Cooper & Ferguson 1955: y_i - f_i = e+_i - e-_i, e+, e- >= 0, minimise
sum e+ + e-). This is a constrained stacking of forecasts (Wolpert 1992; Breiman 1996, "Stacked
regressions", with non-negative weights), here with weights summing to one so that the ensemble
stays on the policy scale between its members.

Where a naive member has no forecast (no reference point, or no Commission position), the
compromise model's forecast stands in for it, so the combination stays linear in the weights.

Out-of-sample error is estimated by K-fold cross-validation grouped by proposal (the issues of one
legislative proposal are never split between fitting and scoring): the whole procedure, the
inner choice of candidate included, runs on K - 1 folds and scores the remaining one, for each
fold in turn (nested cross-validation). The interval is a percentile bootstrap
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
from detente.history.deu import DeuData, Score, forecast_exchange, forecast_issues

#: The ensemble's members, in order: engines by name (``exchange`` runs on each proposal's issues
#: together, :func:`detente.history.deu.forecast_exchange`; the others one issue at a time) and
#: the naive members in :data:`NAIVE`. Which of them the shipped weights use is chosen by
#: :func:`select_weights` (inner cross-validation), not by hand.
MEMBERS: tuple[str, ...] = (
    "compromise",
    "median",
    "eum",
    "exchange",
    "smp",
    "reference_point",
    "commission",
)
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
        elif name == "exchange":
            # the issues of one proposal traded together, as the backtest scores it
            columns[name] = forecast_exchange(data)
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


#: Folds of the inner cross-validation that chooses among candidate combinations.
INNER_K = 5


@dataclass(frozen=True)
class Candidate:
    """A combination the fit may choose: LAD weights over ``members`` (column indices), or a
    single member when there is one."""

    label: str
    members: tuple[int, ...]

    def fit(self, forecasts: FloatArray, outcome: FloatArray) -> FloatArray:
        """Weights over every column: LAD on this candidate's columns, 0 elsewhere."""
        w = np.zeros(forecasts.shape[1])
        cols = list(self.members)
        w[cols] = fit_weights(forecasts[:, cols], outcome) if len(cols) > 1 else 1.0
        return w


def candidates(members: Sequence[str]) -> list[Candidate]:
    """The combinations the fit chooses among, fixed before seeing any outcome: each member
    alone, the fallback (compromise) model with each other member (two-member LAD blends), the
    engines together, and every member together. The fallback alone comes first, so a tie keeps
    the plain compromise model."""
    names = list(members)
    base = names.index(FALLBACK)
    engines = tuple(j for j, m in enumerate(names) if m not in NAIVE)
    out = [Candidate(names[base], (base,))]
    out += [Candidate(m, (j,)) for j, m in enumerate(names) if j != base]
    out += [Candidate(f"{FALLBACK}+{m}", (base, j)) for j, m in enumerate(names) if j != base]
    if len(engines) > 2:
        out.append(Candidate("engines", engines))
    if len(names) > 2 and len(names) > len(engines):
        out.append(Candidate("all", tuple(range(len(names)))))
    return out


@dataclass(frozen=True)
class Selection:
    """What :func:`select_weights` chose: the weights (over every member), the candidate, and
    each candidate's inner cross-validated MAE."""

    weights: FloatArray
    chosen: str
    inner_mae: dict[str, float]


def select_weights(
    forecasts: FloatArray,
    outcome: FloatArray,
    groups: Sequence[str],
    members: Sequence[str],
    inner_k: int = INNER_K,
    seed: int = 0,
) -> Selection:
    """Choose a combination by inner K-fold cross-validation grouped by proposal, then fit it
    on all the rows given:

        chosen = argmin_c  sum_j sum_{i in fold j} |y_i - F_i . w_c(rows not in fold j)|

    over :func:`candidates` (ties: the earlier candidate, the compromise model first). Only the
    rows passed in are used: in an outer cross-validation they are the outer training folds.
    """
    cands = candidates(members)
    n_groups = len(set(groups))
    k = min(inner_k, n_groups)
    errors = np.zeros(len(cands))
    if k >= 2:
        folds = proposal_folds(groups, k, seed)
        for j in range(k):
            test = folds == j
            for c, cand in enumerate(cands):
                w = cand.fit(forecasts[~test], outcome[~test])
                errors[c] += np.abs(combine(forecasts[test], w) - outcome[test]).sum()
    best = int(np.argmin(errors))  # argmin keeps the first of equal errors
    return Selection(
        weights=cands[best].fit(forecasts, outcome),
        chosen=cands[best].label,
        inner_mae={c.label: float(e / len(outcome)) for c, e in zip(cands, errors, strict=True)},
    )


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


#: How weights are fitted on training rows: forecasts, outcomes and proposals of those rows only.
Fitter = Callable[[FloatArray, FloatArray, list[str]], Selection]


def lad_fitter(forecasts: FloatArray, outcome: FloatArray, groups: list[str]) -> Selection:
    """LAD weights over every member (:func:`fit_weights`), no choice among candidates."""
    return Selection(fit_weights(forecasts, outcome), "all (LAD)", {})


def cv_predictions(
    forecasts: FloatArray,
    outcome: FloatArray,
    folds: NDArray[np.intp],
    groups: Sequence[str] | None = None,
    fitter: Fitter = lad_fitter,
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Out-of-fold ensemble forecasts, the weights fitted for each fold (folds x members), and
    the candidate each fold's fit chose.

    The weights that forecast fold j are fitted on the other folds only: ``fitter`` receives
    their rows and nothing of fold j.
    """
    k = int(folds.max()) + 1
    names = list(groups) if groups is not None else [str(i) for i in range(len(outcome))]
    pred = np.full(outcome.shape, np.nan)
    weights = np.empty((k, forecasts.shape[1]))
    chosen = []
    for j in range(k):
        test = folds == j
        train = [g for g, t in zip(names, test, strict=True) if not t]
        sel = fitter(forecasts[~test], outcome[~test], train)
        weights[j] = sel.weights
        chosen.append(sel.chosen)
        pred[test] = combine(forecasts[test], weights[j])
    return pred, weights, chosen


def nested_fitter(members: Sequence[str], seed: int = 0) -> Fitter:
    """:func:`select_weights` as a :data:`Fitter` (the shipped procedure)."""

    def fit(forecasts: FloatArray, outcome: FloatArray, groups: list[str]) -> Selection:
        return select_weights(forecasts, outcome, groups, members, seed=seed)

    return fit


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
    """K-fold CV of the ensemble grouped by proposal (nested: each fold's weights come from
    :func:`select_weights` on the other folds, whose own inner CV chooses the combination),
    against every member on the same issues, with bootstrap intervals over proposals (the MAE
    of each, and the difference ensemble - compromise). A naive member's errors are the
    compromise model's where the issue has no such forecast (:func:`member_forecasts`)."""
    outcome = np.array([i.outcome for i in data.issues])
    groups = [proposal_of(i.id) for i in data.issues]
    F = member_forecasts(data, members, progress) if forecasts is None else forecasts
    folds = proposal_folds(groups, k, seed)
    pred, fold_weights, chosen = cv_predictions(
        F, outcome, folds, groups, nested_fitter(members, seed)
    )
    errors = {"ensemble": np.abs(pred - outcome)}
    # the members have nothing fitted: their CV error is their plain error
    errors |= {m: np.abs(F[:, j] - outcome) for j, m in enumerate(members)}
    boot = {name: bootstrap_mean(e, groups, reps, seed) for name, e in errors.items()}
    diff = bootstrap_mean(errors["ensemble"] - errors[FALLBACK], groups, reps, seed)
    return {
        "file": data.path,
        "n_issues": len(data.issues),
        "n_proposals": len(set(groups)),
        "k": k,
        "inner_k": INNER_K,
        "seed": seed,
        "members": list(members),
        "cv_mae": {name: iv.to_dict() for name, iv in boot.items()},
        "cv_median_ae": {name: float(np.median(e)) for name, e in errors.items()},
        "difference_ensemble_minus_compromise": diff.to_dict(),
        "beats_compromise": bool(diff.high < 0),
        "fold_weights": [dict(zip(members, map(float, w), strict=True)) for w in fold_weights],
        "fold_chosen": chosen,
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
    groups = [proposal_of(i.id) for i in data.issues]
    F = member_forecasts(data, members)
    sel = select_weights(F, outcome, groups, members, seed=seed)
    cv = cross_validate(data, k, members, seed, forecasts=F)
    digest = hashlib.sha256(Path(data.path).read_bytes()).hexdigest()
    return {
        "members": list(members),
        "weights": dict(zip(members, map(float, sel.weights), strict=True)),
        "chosen": sel.chosen,
        "fitted_on": {
            "file": source,
            "sha256": digest,
            "n_issues": len(data.issues),
            "n_proposals": cv["n_proposals"],
            "capability": "gdp",
            "engines": "default settings (EUM: published variant; exchange: per proposal)",
        },
        "fitted_at": date.today().isoformat(),
        "method": (
            f"the candidate combination with the lowest {INNER_K}-fold cross-validated MAE "
            "(folds by proposal; candidates: each member alone, the compromise model with each "
            "other member, the engines together, every member together), then fitted on every "
            "issue: non-negative weights summing to 1 minimising the sum of absolute errors "
            f"(exact LP); missing naive forecasts replaced by the {FALLBACK} model's"
        ),
        "inner_cv_mae": sel.inner_mae,
        "in_sample_mae": float(np.abs(combine(F, sel.weights) - outcome).mean()),
        "cv": {
            key: cv[key]
            for key in (
                "k",
                "inner_k",
                "seed",
                "cv_mae",
                "cv_median_ae",
                "difference_ensemble_minus_compromise",
                "beats_compromise",
                "fold_chosen",
            )
        },
    }
