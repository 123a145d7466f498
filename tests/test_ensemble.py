"""The DEU ensemble: constrained weights, cross-validation that never scores what it fitted,
the shipped weights, and ``backtest deu --model ensemble`` end to end."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from detente.engines import ENGINE_NAMES, make_engine
from detente.history import ensemble as En
from detente.history.deu import backtest_deu, forecast_exchange, forecast_issues, read_deu

from .conftest import ROOT
from .test_cli import detente

DEU = ROOT / "examples" / "deu" / "deu3-dev.tsv"
FloatArr = np.ndarray


def synthetic(n_groups: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Three members' forecasts, outcomes near 0.2 m0 + 0.8 m1, and 1-4 issues per proposal."""
    rng = np.random.default_rng(seed)
    groups = [f"p{g}" for g in range(n_groups) for _ in range(int(rng.integers(1, 5)))]
    F = rng.uniform(0, 100, (len(groups), 3))
    y = 0.2 * F[:, 0] + 0.8 * F[:, 1] + rng.laplace(0, 2, len(groups))
    return F, y, groups


def test_weights_are_non_negative_and_sum_to_one() -> None:
    F, y, _ = synthetic()
    w = En.fit_weights(F, y)
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(w, [0.2, 0.8, 0.0], atol=0.05)
    # a member that fits perfectly takes all the weight
    np.testing.assert_allclose(En.fit_weights(F, F[:, 2].copy()), [0, 0, 1], atol=1e-9)
    # outcomes outside every member's range: the weights stay a convex combination
    w = En.fit_weights(F, -F[:, 0] - 50)
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0, abs=1e-12)


def test_lad_fit_is_no_worse_than_any_single_member() -> None:
    F, y, _ = synthetic(seed=3)
    w = En.fit_weights(F, y)
    fitted = np.abs(En.combine(F, w) - y).sum()
    for m in range(3):
        assert fitted <= np.abs(F[:, m] - y).sum() + 1e-6


def test_folds_keep_each_proposal_whole() -> None:
    _, _, groups = synthetic()
    folds = En.proposal_folds(groups, 5, seed=1)
    for g in set(groups):
        assert len({int(f) for f, h in zip(folds, groups, strict=True) if h == g}) == 1
    assert set(folds.tolist()) == set(range(5))
    with pytest.raises(ValueError, match="need 2 <= K"):
        En.proposal_folds(groups, 31)


def test_cv_never_fits_on_the_fold_it_scores() -> None:
    """Perturbing one fold's outcomes must leave that fold's own forecasts exactly as they were
    (they come from weights fitted on the other folds), and must move the other folds'."""
    F, y, groups = synthetic(seed=5)
    folds = En.proposal_folds(groups, 5, seed=2)
    pred, weights, _ = En.cv_predictions(F, y, folds)
    for j in range(5):
        held = folds == j
        y2 = y.copy()
        y2[held] = F[held, 0] + 40.0 * np.sign(np.arange(held.sum()) % 2 - 0.5)  # far from fit
        pred2, weights2, _ = En.cv_predictions(F, y2, folds)
        np.testing.assert_array_equal(pred2[held], pred[held])
        np.testing.assert_array_equal(weights2[j], weights[j])
        assert not np.array_equal(pred2[~held], pred[~held])


MEMBERS3 = ("compromise", "median", "eum")


def test_the_weight_fitting_never_receives_a_held_out_row() -> None:
    """Every fit inside the cross-validation (outer and, within it, inner) is handed rows of the
    other folds only: a recording fitter sees no proposal of the fold it forecasts, and exactly
    the other folds' forecasts and outcomes."""
    F, y, groups = synthetic(seed=7)
    folds = En.proposal_folds(groups, 4, seed=3)
    seen: list[tuple[FloatArr, FloatArr, list[str]]] = []
    inner = En.nested_fitter(MEMBERS3)

    def recording(f: FloatArr, o: FloatArr, g: list[str]) -> En.Selection:
        seen.append((f, o, g))
        return inner(f, o, g)

    pred, _, chosen = En.cv_predictions(F, y, folds, groups, recording)
    assert len(seen) == 4 and len(chosen) == 4 and not np.isnan(pred).any()
    for j, (f, o, g) in enumerate(seen):
        held = folds == j
        assert not set(g) & {h for h, t in zip(groups, held, strict=True) if t}
        np.testing.assert_array_equal(f, F[~held])
        np.testing.assert_array_equal(o, y[~held])


def test_nested_cv_forecasts_of_a_fold_ignore_its_outcomes() -> None:
    F, y, groups = synthetic(seed=5)
    folds = En.proposal_folds(groups, 5, seed=2)
    fit = En.nested_fitter(MEMBERS3)
    pred, weights, chosen = En.cv_predictions(F, y, folds, groups, fit)
    held = folds == 1
    y2 = y.copy()
    y2[held] = 100.0 - y2[held]
    pred2, weights2, chosen2 = En.cv_predictions(F, y2, folds, groups, fit)
    np.testing.assert_array_equal(pred2[held], pred[held])
    assert chosen2[1] == chosen[1] and np.array_equal(weights2[1], weights[1])


def test_selection_picks_by_inner_cv_and_keeps_the_compromise_on_ties() -> None:
    F, y, groups = synthetic(seed=1)
    # outcomes exactly the 'eum' column: that member alone wins the inner CV
    sel = En.select_weights(F, F[:, 2].copy(), groups, MEMBERS3)
    assert sel.chosen == "eum"
    np.testing.assert_array_equal(sel.weights, [0.0, 0.0, 1.0])
    # 0.2 m0 + 0.8 m1 plus noise: a two-member blend of the compromise model and 'median'
    sel = En.select_weights(F, y, groups, MEMBERS3)
    assert sel.chosen in ("compromise+median", "engines")
    assert sel.inner_mae[sel.chosen] == min(sel.inner_mae.values())
    assert sel.inner_mae[sel.chosen] < min(sel.inner_mae[m] for m in MEMBERS3)
    np.testing.assert_allclose(sel.weights, [0.2, 0.8, 0.0], atol=0.05)
    # all members equal: every candidate ties, the compromise model alone is kept
    same = np.repeat(F[:, :1], 3, axis=1)
    assert En.select_weights(same, y, groups, MEMBERS3).chosen == "compromise"
    labels = [c.label for c in En.candidates(En.MEMBERS)]
    assert labels[0] == "compromise" and {"engines", "all", "compromise+exchange"} <= set(labels)


def test_bootstrap_interval_brackets_the_estimate_and_is_paired() -> None:
    _, _, groups = synthetic()
    values = np.random.default_rng(0).uniform(0, 10, len(groups))
    iv = En.bootstrap_mean(values, groups, reps=500, seed=0)
    assert iv.low <= iv.estimate <= iv.high
    assert iv.estimate == pytest.approx(values.mean())
    # the same draws for every forecaster: the difference of identical errors is exactly 0
    zero = En.bootstrap_mean(values - values, groups, reps=500, seed=0)
    assert zero.low == zero.high == 0.0
    assert En.bootstrap_mean(values, groups, reps=500, seed=0) == iv  # same seed, same numbers


def test_shipped_weights_were_fitted_on_the_development_split() -> None:
    shipped = En.load_weights()
    assert (shipped.weights >= 0).all() and shipped.weights.sum() == pytest.approx(1, abs=1e-9)
    assert set(shipped.members) <= set(ENGINE_NAMES) | set(En.NAIVE)
    meta = shipped.meta["fitted_on"]
    assert meta["file"] == "examples/deu/deu3-dev.tsv"
    assert meta["sha256"] == hashlib.sha256(DEU.read_bytes()).hexdigest()
    # refitting on the development split reproduces them (nothing was edited by hand)
    data = read_deu(DEU)
    y = np.array([i.outcome for i in data.issues])
    groups = [En.proposal_of(i.id) for i in data.issues]
    refit = En.select_weights(
        En.member_forecasts(data, shipped.members), y, groups, shipped.members
    )
    assert refit.chosen == shipped.meta["chosen"]
    np.testing.assert_allclose(refit.weights, shipped.weights, atol=1e-9)


def test_member_forecasts_fill_a_missing_naive_forecast_with_the_compromise() -> None:
    data = read_deu(DEU)
    F = En.member_forecasts(data, ("compromise", "reference_point"))
    rp = np.array([i.reference_point for i in data.issues])
    assert np.isnan(rp).any()
    np.testing.assert_array_equal(F[np.isnan(rp), 1], F[np.isnan(rp), 0])
    np.testing.assert_array_equal(F[~np.isnan(rp), 1], rp[~np.isnan(rp)])
    with pytest.raises(ValueError, match="must include 'compromise'"):
        En.member_forecasts(data, ("median",))


def test_load_weights_rejects_bad_weights(tmp_path: Path) -> None:
    p = tmp_path / "w.json"
    p.write_text(
        json.dumps({"members": ["compromise", "eum"], "weights": {"compromise": 0.7, "eum": 0.7}})
    )
    with pytest.raises(ValueError, match="sum to 1"):
        En.load_weights(p)


def test_cli_ensemble_applies_the_shipped_weights() -> None:
    r = detente("backtest", "deu", DEU, "--model", "ensemble", "--json", "--no-store")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    shipped = En.load_weights()
    data = read_deu(DEU)
    y = np.array([i.outcome for i in data.issues])
    by_hand = sum(
        w * (forecast_exchange(data) if m == "exchange" else forecast_issues(data, make_engine(m)))
        for m, w in zip(shipped.members, shipped.weights, strict=True)
        if w > 0 and m not in En.NAIVE
    )
    assert all(
        w == 0 for m, w in zip(shipped.members, shipped.weights, strict=True) if m in En.NAIVE
    )
    assert doc["models"]["ensemble"]["mae"] == pytest.approx(np.abs(by_hand - y).mean(), abs=1e-9)
    assert doc["ensemble"]["weights"] == pytest.approx(
        dict(zip(shipped.members, shipped.weights, strict=True))
    )
    r = detente("backtest", "deu", DEU, "--model", "ensemble", "--no-store")
    assert r.returncode == 0 and "ensemble" in r.stdout


def test_cli_ensemble_cross_validation() -> None:
    r = detente("backtest", "deu", DEU, "--model", "ensemble", "--cv", "5", "--json", "--no-store")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["k"] == 5 and doc["n_issues"] == 231 and len(doc["fold_weights"]) == 5
    for fold in doc["fold_weights"]:
        assert min(fold.values()) >= 0 and sum(fold.values()) == pytest.approx(1)
    assert set(doc["cv_mae"]) == {"ensemble", *En.MEMBERS} == set(doc["cv_median_ae"])
    assert len(doc["fold_chosen"]) == 5 and doc["inner_k"] == En.INNER_K
    for iv in doc["cv_mae"].values():
        assert iv["low"] <= iv["estimate"] <= iv["high"]
    # the compromise model has nothing to fit: its CV MAE is its plain MAE
    assert doc["cv_mae"]["compromise"]["estimate"] == pytest.approx(24.81, abs=0.005)
    d = doc["difference_ensemble_minus_compromise"]
    assert d["estimate"] == pytest.approx(
        doc["cv_mae"]["ensemble"]["estimate"] - doc["cv_mae"]["compromise"]["estimate"]
    )
    assert doc["beats_compromise"] == (d["high"] < 0)
    r = detente("backtest", "deu", DEU, "--cv", "4", "--no-store")
    assert r.returncode == 2 and "--cv goes with --model ensemble" in r.stderr
    r = detente("backtest", "deu", DEU, "--model", "nope", "--no-store")
    assert r.returncode == 2 and "unknown model" in r.stderr


def test_backtest_deu_scores_smp_and_exchange(tmp_path: Path) -> None:
    lines = DEU.read_text().splitlines()
    small = tmp_path / "small.tsv"
    small.write_text("\n".join(lines[:8]) + "\n")
    res = backtest_deu(read_deu(small))
    models = res["models"]
    assert isinstance(models, dict) and set(ENGINE_NAMES) <= set(models)
    for name in ("smp", "exchange"):
        assert models[name]["n"] == res["n_issues"] and models[name]["mae"] >= 0
