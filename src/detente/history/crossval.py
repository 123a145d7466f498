"""Judged on cases it never saw: leave-one-case-out refits and forecasts, the two theses weighed
by their out-of-sample scores, and the inside view pooled with the outside view.

For each case in turn, the choice's coefficients are refitted on the other cases
(``history/fit.py``, each refit from the prior's mean, never from a fit that saw the case) and
the case is forecast as of its start with them; nothing fitted has seen its outcome. Beside it,
on the same cases: the leave-one-out base rate, a one-line heuristic (talks if the leader's
legitimacy of talks is positive) and the a-priori coefficients.

Leave-one-out still fits on cases that came later. :func:`forward` judges forward in time: each
case forecast with coefficients fitted on the library's record at its as-of month only, beside the
base rate of the cases settled by then.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import optimize

from detente.engines.base import FloatArray
from detente.forecast import DEFAULT_SEED, run_scenario
from detente.history import fit as fitting
from detente.history.cases import (
    SCORED_HORIZONS,
    brier,
    calibration,
    case_origins,
    case_outcome,
    leave_one_out_base_rate,
    log_loss,
    talks_index,
)
from detente.scenario.coercion import Scenario, format_month
from detente.scenario.params import Param
from detente.scenario.sample import Lens, apriori_coefficients, load_lens


@dataclass(frozen=True)
class CvCase:
    """One case forecast as of one month with coefficients fitted without it."""

    id: str
    origin: int
    as_of: str
    outcome: dict[str, int]  # by horizon
    p: dict[str, float]  # fitted without the case, by horizon
    unfitted: dict[str, float]  # a-priori coefficients
    heuristic: float
    lenses: dict[str, dict[str, float]]  # lens -> by horizon
    #: the base rate of the cases on record by the as-of month, by horizon (forward evaluation;
    #: None: the leave-one-out base rate of the scored cases)
    base_rate: dict[str, float] | None = None

    def to_dict(self) -> dict[str, object]:
        doc = dict(self.__dict__)
        if self.base_rate is None:
            del doc["base_rate"]
        return doc


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)))


def bootstrap_interval(
    p: FloatArray, y: FloatArray, reps: int = 2000, seed: int = 1, level: float = 0.9
) -> list[float]:
    """The bootstrap interval (percentile, over cases) of the Brier score."""
    rng = np.random.default_rng(seed)
    n = len(y)
    if n == 0:
        return [math.nan, math.nan]
    idx = rng.integers(0, n, size=(reps, n))
    scores = ((p[idx] - y[idx]) ** 2).mean(axis=1)
    a = (1 - level) / 2
    return [float(np.quantile(scores, a)), float(np.quantile(scores, 1 - a))]


def stacking_weights(scores: FloatArray) -> FloatArray:
    """Weights w (summing to 1) maximising sum_i log sum_k w_k q_ki, with q_ki the probability
    forecaster k gave to what happened in case i (stacking of predictive distributions; Yao,
    Vehtari, Simpson & Gelman 2018)."""
    k = scores.shape[0]
    if k == 1:
        return np.ones(1)
    q = np.clip(scores, 1e-9, 1.0)

    def loss(a: FloatArray) -> float:
        w = np.exp(a - a.max())
        w = w / w.sum()
        return -float(np.log(w @ q).sum())

    res = optimize.minimize(loss, np.zeros(k), method="Nelder-Mead", options={"xatol": 1e-6})
    w = np.exp(res.x - res.x.max())
    return np.asarray(w / w.sum())


def logit_pool(p_model: FloatArray, p_outside: FloatArray, w: float) -> FloatArray:
    """The logit-linear pool: logit p = w logit p_model + (1 - w) logit p_outside."""
    z = w * _logit(p_model) + (1 - w) * _logit(p_outside)
    return np.asarray(1 / (1 + np.exp(-z)))


def fit_pool_weight(p_model: FloatArray, p_outside: FloatArray, y: FloatArray) -> float:
    """The pool's weight in [0, 1] with the best log score on these cases."""

    def loss(w: float) -> float:
        return log_loss(logit_pool(p_model, p_outside, w), y)

    res = optimize.minimize_scalar(loss, bounds=(0.0, 1.0), method="bounded")
    return float(res.x)


def _forecast(
    scn: Scenario,
    as_of: str,
    coefficients: dict[str, Param],
    draws: int,
    seed: int,
    lens: Lens | None = None,
) -> dict[str, float]:
    months = max(SCORED_HORIZONS)
    f = run_scenario(
        scn,
        draws=draws,
        seed=seed,
        horizon=months,
        as_of=as_of,
        coefficients=coefficients,
        lens=lens,
    )
    return {str(h): f.p_within(h) for h in SCORED_HORIZONS}


def _row(
    scn: Scenario,
    origin: int,
    coefs: dict[str, Param],
    apriori: dict[str, Param],
    draws: int,
    seed: int,
    lenses: Mapping[str, Lens | None],
    base_rate: dict[str, float] | None = None,
) -> CvCase:
    """One case forecast as of ``origin`` months after its start with ``coefs``, beside the
    a-priori coefficients, the heuristic and each lens."""
    as_of = format_month(scn.start_month + origin)
    return CvCase(
        id=scn.id,
        origin=origin,
        as_of=as_of,
        outcome={str(h): int(case_outcome(scn, h, origin) or 0) for h in SCORED_HORIZONS},
        p=_forecast(scn, as_of, coefs, draws, seed),
        unfitted=_forecast(scn, as_of, apriori, draws, seed),
        heuristic=1.0 if scn.leader.legitimacy_of_talks.center() > 0 else 0.0,
        lenses={
            name: _forecast(scn, as_of, coefs, draws, seed, lens) for name, lens in lenses.items()
        },
        base_rate=base_rate,
    )


def leave_one_out(
    library: Sequence[tuple[Path, Scenario]],
    *,
    draws: int = 1000,
    seed: int = DEFAULT_SEED,
    fit_draws: int = fitting.DEFAULT_FIT_DRAWS,
    origins: int | None = None,
    horizon: int = 24,
    lenses: Sequence[str] = (),
    max_iter: int = 100,
    progress: Callable[[int], None] | None = None,
) -> list[CvCase]:
    """Every case forecast (as of its start, and of every ``origins`` months) by coefficients
    fitted on the other cases only."""
    apriori = apriori_coefficients()
    scenarios = [scn for _, scn in library]
    cases = fitting.prepare(scenarios, apriori, fit_draws)
    batch = fitting.Batch.of(cases)
    # every refit starts from the prior's mean, never from a fit that saw the left-out case
    full = fitting.fit(batch, apriori, intervals=False, max_iter=max_iter)
    lens_models = {name: load_lens(name) for name in lenses}
    out = []
    for scn in scenarios:
        if scn.id in batch.ids:
            res = fitting.fit(
                batch,
                apriori,
                intervals=False,
                max_iter=max_iter,
                leave_out=batch.ids.index(scn.id),
            )
        else:
            res = full  # talks under way at the start: the case teaches the fit nothing
        coefs = fitting.fitted_params(res, apriori, "leave-one-out")
        for origin in case_origins(scn, origins, horizon):
            if case_outcome(scn, horizon, origin) is None:
                continue
            out.append(_row(scn, origin, coefs, apriori, draws, seed, lens_models))
        if progress:
            progress(1)
    return out


def record_by(
    batch: fitting.Batch, starts: Sequence[int], month: int
) -> tuple[fitting.Batch, FloatArray]:
    """The library as its record stood at the end of ``month`` (an absolute month), for a fit a
    forecaster then could have made: a case that had started counts with its first talks if they
    had come by then, else as no talks through then (censored there); a case not yet started
    counts for nothing (weight 0)."""
    kinds, months, keep = [], [], []
    for kind, m, start in zip(batch.kinds, batch.months, starts, strict=True):
        elapsed = month - start
        if kind != "censored" and m <= elapsed:
            kinds.append(kind)
            months.append(m)
        else:
            kinds.append("censored")
            months.append(max(0, min(m, elapsed)))
        keep.append(1.0 if elapsed >= 1 else 0.0)
    same_arrays = replace(batch, kinds=kinds, months=months, _tiled=batch._tiled)
    return same_arrays, np.array(keep)


def base_rate_by(scenarios: Sequence[Scenario], month: int, horizon: int, leave_out: str) -> float:
    """The share of cases with direct talks within ``horizon`` months of their start among those
    whose answer was on record by ``month`` (talks had come, or the months had passed), without
    case ``leave_out``; Laplace's rule (k + 1) / (n + 2), so 0.5 with none on record."""
    k = n = 0
    for scn in scenarios:
        y = case_outcome(scn, horizon)
        if scn.id == leave_out or y is None:
            continue
        m = talks_index(scn)
        settled = scn.start_month + horizon if m is None or m > horizon else scn.start_month + m
        if settled <= month:
            k, n = k + y, n + 1
    return (k + 1) / (n + 2)


def forward(
    library: Sequence[tuple[Path, Scenario]],
    *,
    draws: int = 1000,
    seed: int = DEFAULT_SEED,
    fit_draws: int = fitting.DEFAULT_FIT_DRAWS,
    origins: int | None = None,
    horizon: int = 24,
    max_iter: int = 100,
    progress: Callable[[int], None] | None = None,
) -> list[CvCase]:
    """Every case forecast (as of its start, and of every ``origins`` months) as it could have
    been then: coefficients fitted on the library's record at the end of the as-of month
    (:func:`record_by`; the a-priori values when nothing was on record), beside the base rate of
    the cases settled by then (:func:`base_rate_by`). No later event or outcome is seen."""
    apriori = apriori_coefficients()
    scenarios = [scn for _, scn in library]
    cases = fitting.prepare(scenarios, apriori, fit_draws)
    batch = fitting.Batch.of(cases) if cases else None
    by_id = {scn.id: scn for scn in scenarios}
    starts = [by_id[c.id].start_month for c in cases]
    fits: dict[tuple[object, ...], dict[str, Param]] = {}
    out = []
    for scn in scenarios:
        for origin in case_origins(scn, origins, horizon):
            if case_outcome(scn, horizon, origin) is None:
                continue
            month = scn.start_month + origin
            coefs = apriori
            if batch is not None:
                known, keep = record_by(batch, starts, month)
                key = (tuple(known.kinds), tuple(known.months), tuple(keep))
                if keep.any() and key not in fits:
                    res = fitting.fit(known, apriori, intervals=False, max_iter=max_iter, keep=keep)
                    fits[key] = fitting.fitted_params(res, apriori, "forward")
                coefs = fits.get(key, apriori)
            base = {str(h): base_rate_by(scenarios, month, h, scn.id) for h in SCORED_HORIZONS}
            out.append(_row(scn, origin, coefs, apriori, draws, seed, {}, base))
        if progress:
            progress(1)
    return out


def _scores(p: FloatArray, y: FloatArray) -> dict[str, object]:
    return {
        "n": len(y),
        "brier": brier(p, y),
        "log_loss": log_loss(p, y),
        "brier_ci": bootstrap_interval(p, y),
    }


def summarise(
    results: Sequence[CvCase],
    horizon: int = 24,
    outside: dict[str, float] | None = None,
) -> dict[str, object]:
    """The ``"cv"`` block of ``backtest cases --cv --json``."""
    key = str(horizon) if str(horizon) in results[0].p else "24"
    start = [r for r in results if r.origin == 0]

    def block(rows: Sequence[CvCase], h: str) -> dict[str, object]:
        y = np.array([r.outcome[h] for r in rows], dtype=float)
        p = np.array([r.p[h] for r in rows])
        if rows[0].base_rate is None:
            base = leave_one_out_base_rate(y)
        else:
            base = np.array([r.base_rate[h] for r in rows if r.base_rate is not None])
        doc = _scores(p, y)
        doc.update(
            {
                "base_rate_brier": brier(base, y),
                "base_rate_log_loss": log_loss(base, y),
                "heuristic_brier": brier(np.array([r.heuristic for r in rows]), y),
                "unfitted_brier": brier(np.array([r.unfitted[h] for r in rows]), y),
                "unfitted_log_loss": log_loss(np.array([r.unfitted[h] for r in rows]), y),
                "calibration": [
                    {
                        k: (None if isinstance(v, float) and math.isnan(v) else v)
                        for k, v in row.items()
                    }
                    for row in calibration(p, y)
                ],
            }
        )
        return doc

    doc = block(start, key)
    doc["horizon"] = int(key)
    doc["by_horizon"] = {h: block(start, h) for h in start[0].p}
    origins = sorted({r.origin for r in results})
    if len(origins) > 1:
        doc["by_origin"] = {
            str(o): block([r for r in results if r.origin == o], key) for o in origins
        }
    doc["cases"] = [r.to_dict() for r in start]
    lens_names = list(start[0].lenses)
    if lens_names:
        doc["lenses"] = weigh_lenses(start, lens_names, key)
    if outside:
        doc["pooled"] = pool_with_outside(start, outside, key)
    return doc


def weigh_lenses(rows: Sequence[CvCase], names: Sequence[str], h: str) -> dict[str, object]:
    """Each lens's out-of-sample score and its stacking weight (the weights sum to 1)."""
    y = np.array([r.outcome[h] for r in rows], dtype=float)
    ps = np.array([[r.lenses[n][h] for r in rows] for n in names])
    q = np.where(y[None, :] == 1, ps, 1 - ps)
    w = stacking_weights(q)
    # how sure: the weights over bootstrap resamples of the cases
    rng = np.random.default_rng(1)
    boot = np.array([stacking_weights(q[:, rng.integers(0, len(y), len(y))]) for _ in range(200)])
    out: dict[str, object] = {}
    for k, name in enumerate(names):
        out[name] = {
            "brier": brier(ps[k], y),
            "log_loss": log_loss(ps[k], y),
            "weight": float(w[k]),
            "weight_ci": [
                float(np.quantile(boot[:, k], 0.05)),
                float(np.quantile(boot[:, k], 0.95)),
            ],
        }
    # the cases that tell the lenses apart most: the largest gap in log score
    if len(names) == 2:
        gap = np.log(np.clip(q[0], 1e-6, 1)) - np.log(np.clip(q[1], 1e-6, 1))
        order = np.argsort(-np.abs(gap))[:5]
        out["telling_cases"] = [
            {"id": rows[i].id, "log_score_gap": float(gap[i]), "outcome": int(y[i])} for i in order
        ]
    return out


def pool_with_outside(
    rows: Sequence[CvCase], outside: dict[str, float], h: str
) -> dict[str, object]:
    """The model pooled with the TIES outside view (logit-linear), the pool's weight fitted
    leave-one-out: each case pooled with a weight fitted on the others."""
    with_view = [r for r in rows if r.id in outside]
    if len(with_view) < 3:
        return {"n": len(with_view), "note": "too few cases with a TIES profile to fit a pool"}
    y = np.array([r.outcome[h] for r in with_view], dtype=float)
    pm = np.array([r.p[h] for r in with_view])
    po = np.array([outside[r.id] for r in with_view])
    pooled = np.empty(len(y))
    for i in range(len(y)):
        m = np.arange(len(y)) != i
        w = fit_pool_weight(pm[m], po[m], y[m])
        pooled[i] = logit_pool(pm[i : i + 1], po[i : i + 1], w)[0]
    return {
        "n": len(y),
        "weight_on_model": fit_pool_weight(pm, po, y),
        "brier": brier(pooled, y),
        "log_loss": log_loss(pooled, y),
        "model_brier": brier(pm, y),
        "outside_brier": brier(po, y),
    }
