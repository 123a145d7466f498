"""Fitting the coefficients to a case library, and judging them out of sample (docs/validation.md):
the likelihood by hand, leave-one-out never sees the left-out case, weights, the fitted file."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.history import crossval
from detente.history import fit as fitting
from detente.scenario.coercion import parse_scenario
from detente.scenario.sample import apriori_coefficients, fitted_on, load_coefficients

from .conftest import DATA
from .test_cli import detente

TIP = yaml.safe_load((DATA / "tip.yaml").read_text())


def case(ident: str, horizon: int, outcome: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(TIP)
    data.update(id=ident, horizon=horizon, outcome={**outcome, "source": "test"}, **changes)
    return data


TALKS_IN_MONTH_1 = {"talks": True, "month": "2020-02", "kind": "direct"}
NO_TALKS = {"talks": False, "kind": "none"}


def test_the_likelihood_of_two_cases_by_hand() -> None:
    """tests/data/tip.yaml: no pain, a fully open sender, no mediator, everything constant, so
    the leader's utility is U = 0.02 + 3 L (test_analysis.py derives U_0 = 0.02) = -0.88 at
    L = -0.3 in every month, and a = 1 / (1 + exp(0.88)). Public talks only. Offers to come from
    month 1: o(1) = 1 - 0.9 * 0.9 = 0.19, o(2) = 1 - 0.9 (1 - l(2)) with
    l(2) = 1 - (1 - (2/3) 0.1)(1 - 0.1). Hazards h(t) = o(t) a.
    Case A, talks in month 1: L_A = S(0) h(1) / S(0) = h(1).
    Case B, no talks to its horizon (month 2): L_B = S(2) / S(0) = (1 - h(1))(1 - h(2))."""
    a = 1 / (1 + math.exp(0.88))
    live2 = 1 - (1 - (2 / 3) * 0.1) * 0.9
    h1, h2 = 0.19 * a, (1 - 0.9 * (1 - live2)) * a
    library = [
        parse_scenario(case("a", 2, TALKS_IN_MONTH_1), "a"),
        parse_scenario(case("b", 2, NO_TALKS), "b"),
    ]
    apriori = apriori_coefficients()
    batch = fitting.Batch.of(fitting.prepare(library, apriori, draws=4))
    theta = np.array([[apriori[n].center() for n in fitting.FIT_NAMES]])
    ll = fitting.batch_log_likelihood(batch, theta)
    np.testing.assert_allclose(ll[0], [math.log(h1), math.log((1 - h1) * (1 - h2))], rtol=1e-10)


def test_a_case_at_the_table_at_its_start_teaches_nothing() -> None:
    at_start = case("c", 2, {"talks": True, "month": "2020-01", "kind": "direct"})
    assert fitting.observed(parse_scenario(at_start, "c")) is None
    late = case("d", 2, {"talks": True, "month": "2021-01", "kind": "direct"})
    assert fitting.observed(parse_scenario(late, "d")) == ("censored", 2)
    side = case("e", 2, {"talks": True, "month": "2020-02", "kind": "side"})
    assert fitting.observed(parse_scenario(side, "e")) == ("censored", 2)


def _library(tmp: Path, cases: list[dict[str, Any]]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    for c in cases:
        (tmp / f"{c['id']}.yaml").write_text(yaml.safe_dump(c, sort_keys=False))
    return tmp


def _small_library() -> list[dict[str, Any]]:
    out = []
    for k, (legit, outcome) in enumerate(
        [
            (-0.3, TALKS_IN_MONTH_1),
            (-0.8, NO_TALKS),
            (0.5, TALKS_IN_MONTH_1),
            (-0.5, {"talks": True, "month": "2020-04", "kind": "direct"}),
        ]
    ):
        c = case(f"case{k}", 6, outcome)
        c["leader"]["legitimacy_of_talks"] = {"value": legit, "assumption": "test"}
        out.append(c)
    return out


def test_leave_one_out_never_sees_the_left_out_case(tmp_path: Path) -> None:
    from detente.history.cases import load_library

    cases = _small_library()
    first = crossval.leave_one_out(
        load_library(_library(tmp_path / "a", cases)), draws=20, fit_draws=8, max_iter=15
    )
    flipped = copy.deepcopy(cases)
    flipped[1]["outcome"] = {**TALKS_IN_MONTH_1, "source": "test"}  # case1: talks after all
    second = crossval.leave_one_out(
        load_library(_library(tmp_path / "b", flipped)), draws=20, fit_draws=8, max_iter=15
    )
    by_id = {r.id: r for r in first}
    again = {r.id: r for r in second}
    # the changed case's own out-of-sample forecast does not move...
    assert again["case1"].p == by_id["case1"].p
    assert again["case1"].outcome != by_id["case1"].outcome
    # ...while the others', fitted with it, do
    assert any(again[i].p != by_id[i].p for i in ("case0", "case2", "case3"))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.01, 0.99), min_size=6, max_size=6))
def test_stacking_weights_sum_to_one(values: list[float]) -> None:
    q = np.array(values).reshape(2, 3)
    w = crossval.stacking_weights(q)
    assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)


def test_the_pool_and_the_bootstrap() -> None:
    p, y = np.array([0.9, 0.2, 0.7, 0.1]), np.array([1.0, 0.0, 1.0, 0.0])
    assert crossval.logit_pool(p, np.full(4, 0.5), 1.0) == pytest.approx(p)
    assert crossval.logit_pool(p, np.full(4, 0.5), 0.0) == pytest.approx(np.full(4, 0.5))
    lo, hi = crossval.bootstrap_interval(p, y)
    assert 0 <= lo <= ((p - y) ** 2).mean() <= hi


def test_the_fitted_file_round_trips(tmp_path: Path) -> None:
    library = [parse_scenario(c, c["id"]) for c in _small_library()]
    apriori = apriori_coefficients()
    batch = fitting.Batch.of(fitting.prepare(library, apriori, draws=8))
    result = fitting.fit(batch, apriori, max_iter=20)
    paths = _library(tmp_path / "lib", _small_library())
    files = sorted(paths.glob("*.yaml"))
    out = tmp_path / "fitted.yaml"
    out.write_text(
        fitting.fitted_file_text(result, apriori, paths, files, "test", 8, 1, {"author": 0.3})
    )
    loaded = load_coefficients(out)
    for name, value in result.values.items():
        assert loaded[name].value == pytest.approx(value, rel=1e-12)
        assert "fitted" in (loaded[name].source or "")
    assert loaded["tau_pain"] == apriori["tau_pain"]
    meta = fitted_on(out)
    assert meta is not None and meta["cases"] == 4 and meta["lens_weights"] == {"author": 0.3}


def test_fit_cli_writes_a_file_that_run_accepts(tmp_path: Path) -> None:
    folder = _library(tmp_path / "lib", _small_library())
    out = tmp_path / "c.fitted.yaml"
    r = detente("fit", folder, "-o", out, "--draws", "8", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["cases"] == 4 and set(doc["coefficients"]) == set(fitting.FIT_NAMES)
    again = detente("fit", folder, "-o", out, "--draws", "8")
    assert again.returncode == 2 and "already exists" in again.stderr
    run = detente("run", folder / "case0.yaml", "--coefficients", out, "--draws", "50",
                  "--no-store", "--json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    bad = detente("run", folder / "case0.yaml", "--coefficients", "nope.txt", "--no-store")
    assert bad.returncode == 2 and "coefficients" in bad.stderr


def test_the_shipped_fit_belongs_to_the_shipped_library() -> None:
    """The fitted coefficients say which library they were fitted on; a changed case file means
    `make fit` must be run again."""
    from detente.history.cases import load_library

    from .conftest import ROOT

    meta = fitted_on()
    assert meta is not None, "the package ships no fitted coefficients"
    files = [p for p, _ in load_library(ROOT / "examples" / "cases")]
    assert meta["library_sha256"] == fitting.library_digest(files)
    assert meta["cases"] == len(files) and meta["converged"] is True
    weights = meta["lens_weights"]
    assert set(weights) == {"author", "proponent"} and sum(weights.values()) == pytest.approx(1)


def test_the_record_at_a_month_by_hand() -> None:
    """Cases 0 and 2 talk in month 1, case 1 never, case 3 in month 3; case 2 starts two months
    after the others. At the end of month 2: case 0 has talked, case 1 and case 3 had no talks
    through month 2 (censored there), case 2 had only just started (nothing on record)."""
    from detente.history.cases import load_library

    library = [scn for _, scn in load_library(_library_at(_small_library()))]
    batch = fitting.Batch.of(fitting.prepare(library, apriori_coefficients(), draws=4))
    assert (batch.kinds, batch.months) == (["direct", "censored", "direct", "direct"], [1, 6, 1, 3])
    s = library[0].start_month
    known, keep = crossval.record_by(batch, [s, s, s + 2, s], s + 2)
    assert known.kinds == ["direct", "censored", "censored", "censored"]
    assert known.months == [1, 2, 0, 2] and keep.tolist() == [1.0, 1.0, 0.0, 1.0]
    assert batch.kinds[1:] == ["censored", "direct", "direct"]  # the library's own is untouched


def _library_at(cases: list[dict[str, Any]], folder: Path | None = None) -> Path:
    import tempfile

    return _library(folder or Path(tempfile.mkdtemp()), cases)


def _ten_years_later(c: dict[str, Any]) -> dict[str, Any]:
    """The same case, every month of it ten years later."""
    return yaml.safe_load(yaml.safe_dump(c).replace("2020-", "2030-"))


def test_forward_never_sees_a_later_outcome(tmp_path: Path) -> None:
    """Two cases from 2020, two from 2030: flipping a 2030 outcome leaves every 2020 forecast as
    it was, and flipping a 2020 outcome (on record by 2030) moves the 2030 forecasts."""
    from detente.history.cases import load_library

    early = _small_library()[:2]
    late = [{**_ten_years_later(c), "id": f"late{k}"} for k, c in enumerate(_small_library()[2:])]

    def run(cases: list[dict[str, Any]], name: str) -> dict[str, crossval.CvCase]:
        lib = load_library(_library(tmp_path / name, cases))
        return {r.id: r for r in crossval.forward(lib, draws=20, fit_draws=8, max_iter=15)}

    base = run(early + late, "base")
    flipped_late = copy.deepcopy(late)
    flipped_late[1]["outcome"] = {**NO_TALKS, "source": "test"}
    later = run(early + flipped_late, "late")
    for i in ("case0", "case1"):
        assert later[i].p == base[i].p and later[i].base_rate == base[i].base_rate
    assert base["case0"].p == base["case0"].unfitted  # nothing was on record in 2020-01
    assert base["case0"].base_rate == {h: 0.5 for h in base["case0"].base_rate}
    flipped_early = copy.deepcopy(early)
    flipped_early[1]["outcome"] = {**TALKS_IN_MONTH_1, "source": "test"}
    earlier = run(flipped_early + late, "early")
    assert earlier["late0"].p != base["late0"].p
    assert earlier["late0"].base_rate != base["late0"].base_rate


def test_backtest_cases_cli_out_of_sample_and_forward(tmp_path: Path) -> None:
    folder = _library(tmp_path / "lib", _small_library())
    args = ("backtest", "cases", folder, "--cv", "--forward", "--draws", "20", "--fit-draws", "8")
    r = detente(*args, "--json", "--no-store")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    fw, cv = doc["forward"], doc["cv"]
    assert fw["n"] == cv["n"] == 4 and set(fw["by_horizon"]) == {"6", "12", "24", "36"}
    assert all(set(c["base_rate"]) == set(c["p"]) for c in fw["cases"])
    assert all("base_rate" not in c for c in cv["cases"])  # the leave-one-out JSON as it was
    # all four start together: nothing is on record at their start, so forward is a-priori
    assert all(c["p"] == c["unfitted"] for c in fw["cases"])
    text = detente(*args, "--no-store")
    assert text.returncode == 0 and "Forward in time" in text.stdout
