"""The Python API (detente.api): validation, result objects and their contracts."""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import detente
from detente.dynamics.simulate import MEAN_ONLY_SERIES
from detente.results import REPR_LIMIT

from .conftest import DATA, ROOT

IRAN = ROOT / "examples" / "cases" / "iran-2018.yaml"
DEU = ROOT / "examples" / "deu" / "deu3-dev.tsv"
CONTRACT = DATA / "contract"


@pytest.fixture(scope="module")
def forecast() -> detente.Forecast:
    return detente.run(IRAN, draws=200, seed=3)


def without_mc_se(doc: Any) -> Any:
    """The document as it was before ``mc_se`` was added to each horizon (an additive key)."""
    if isinstance(doc, dict):
        return {k: without_mc_se(v) for k, v in doc.items() if k != "mc_se"}
    if isinstance(doc, list):
        return [without_mc_se(v) for v in doc]
    return doc


def contract(name: str) -> Any:
    """The JSON the command printed before the API existed (main at 66aa77e). The monthly means
    of the paths a run keeps in float32 (``MEAN_ONLY_SERIES``, the factions' positions and
    saliences; ``docs/analysis.md``, Memory) are compared within that rounding (a relative
    2**-23); every other number exactly."""
    return _float32_means_approx(json.loads((CONTRACT / f"{name}.json").read_text()))


def _float32_means_approx(doc: Any) -> Any:
    if isinstance(doc, list):
        return [_float32_means_approx(v) for v in doc]
    if not isinstance(doc, dict):
        return doc
    out = {k: _float32_means_approx(v) for k, v in doc.items()}
    paths = out.get("trajectories")
    if isinstance(paths, dict):
        for name in MEAN_ONLY_SERIES:
            if name in paths:
                paths[name] = pytest.approx(paths[name], rel=2**-23, abs=0.0)
    factions = out.get("factions")
    if isinstance(factions, dict):
        for fac in factions.values():
            for key in ("position", "salience"):
                if isinstance(fac, dict) and key in fac:
                    fac[key] = pytest.approx(fac[key], rel=2**-23, abs=0.0)
    return out


# --- validation: the same one-line text as the CLI ---------------------------------------------


def test_misspelt_parameter_names_the_closest() -> None:
    with pytest.raises(detente.InputError) as exc:
        detente.run(IRAN, draws=10, fixed={"leader.legacy_wieght": 0.0})
    assert str(exc.value) == (
        "fixed: leader.legacy_wieght: no such parameter in iran-2018; "
        "did you mean leader.legacy_weight?"
    )


def test_out_of_range_parameter_is_refused() -> None:
    with pytest.raises(detente.InputError) as exc:
        detente.run(IRAN, draws=10, fixed={"leader.legitimacy_of_talks": 5.0})
    assert str(exc.value) == ("fixed: leader.legitimacy_of_talks: 5 outside the allowed [-1, 1]")
    with pytest.raises(detente.InputError, match="expected a number"):
        detente.run(IRAN, draws=10, fixed={"leader.legacy_weight": "0.2"})  # type: ignore[dict-item]
    with pytest.raises(detente.InputError, match="outside the allowed"):
        detente.run(IRAN, draws=10, fixed={"leader.legacy_weight": float("nan")})
    with pytest.raises(detente.InputError) as exc:
        detente.run(IRAN, draws=10, fixed=[("leader.legacy_weight", 0.2)])  # type: ignore[arg-type]
    assert str(exc.value) == "fixed: expected a mapping of parameter paths to numbers, got list"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: detente.solve(3), "actors: expected a path to an actor table, got 3"),
        (lambda: detente.backtest_deu(3), "file: expected a path, got 3"),
        (lambda: detente.backtest_cases(3), "folder: expected a path, got 3"),
        (lambda: detente.backtest_ties(None, cv=3), "train: expected a path, got None"),
        (lambda: detente.outside_view(IRAN, ties=5), "ties: expected a path, got 5"),
        (
            lambda: detente.run(IRAN, draws=10, coefficients=5),
            "coefficients: expected a path or a mapping, got 5",
        ),
        (lambda: detente.sweep(IRAN, [1, 2]), "--grid: expected PATH=a:b:n strings, got 1"),
        (
            lambda: detente.sweep(IRAN, {"leader.legacy_weight": "0.2"}),
            "grid['leader.legacy_weight']: expected a list of numbers, got str",
        ),
        (
            lambda: detente.sweep(IRAN, {"leader.legacy_weight": [0.1, True]}),
            "grid['leader.legacy_weight']: expected numbers, got True",
        ),
        (lambda: detente.tipping_point(IRAN, 3), "param: expected a parameter path, got 3"),
        (
            lambda: detente.tipping_point(IRAN, "leader.legacy_weight", target="0.5"),
            "target: '0.5': expected a probability 0-1",
        ),
        (
            lambda: detente.tipping_point(IRAN, "leader.legacy_weight", low="0", high=1),
            "low: expected a number, got '0'",
        ),
        (lambda: detente.discover(IRAN, alpha="x"), "alpha: expected a number, got 'x'"),
        (
            lambda: detente.run(IRAN, draws=10, backend=3),
            "backend: expected local, dask or a Backend, got 3",
        ),
        (
            lambda: detente.solve(DATA / "eum-example.csv", q="x"),
            "solve: ExpectedUtility: q = 'x', expected a probability 0-1",
        ),
    ],
)
def test_an_argument_of_the_wrong_kind_is_named(call: Any, message: str) -> None:
    """Not a TypeError from deep inside: the argument, what was expected, what it got."""
    with pytest.raises(detente.InputError) as exc:
        call()
    assert str(exc.value) == message


def test_a_grid_and_a_lens_may_be_given_bare() -> None:
    """One ``PATH=a:b:n`` string is a grid of one axis, one lens a list of one (not of letters)."""
    a = detente.sweep(IRAN, "leader.legacy_weight=0:1:3", draws=20)
    b = detente.sweep(IRAN, {"leader.legacy_weight": np.linspace(0, 1, 3)}, draws=20)
    assert a.table.equals(b.table) and len(a.table) == 3
    one = detente.compare(IRAN, IRAN, lenses="author", draws=20)
    assert one.to_dict() == detente.compare(IRAN, IRAN, lenses=["author"], draws=20).to_dict()


def test_set_reaches_defaults_the_file_leaves_out() -> None:
    """pressure_scale, an event's scale and the coefficients have defaults; fixed reaches them."""
    scn = detente.load_scenario(IRAN)
    k = next(i for i, e in enumerate(scn.events) if e.scale is None and e.type == "threat")
    base = detente.run(scn, draws=100, seed=1)
    same = detente.run(scn, draws=100, seed=1, fixed={f"events[{k}].scale": 1.0})
    assert same.by_horizon() == base.by_horizon()  # the default is the event as written
    none = detente.run(scn, draws=100, seed=1, fixed={"pressure_scale": 0.0})
    assert none.by_horizon()[24]["p"] != base.by_horizon()[24]["p"]
    detente.run(scn, draws=10, fixed={"coefficients.w_legacy": 1.0})
    with pytest.raises(detente.InputError, match="outside the allowed"):
        detente.run(scn, draws=10, fixed={f"events[{k}].scale": 9.0})


def test_bad_paths_and_options() -> None:
    with pytest.raises(detente.InputError, match="no such file"):
        detente.run("no-such.yaml")
    with pytest.raises(detente.InputError, match="expected a path"):
        detente.run(42)  # type: ignore[arg-type]
    with pytest.raises(detente.InputError, match="draws: 0 outside the allowed 1-1000000"):
        detente.run(IRAN, draws=0)
    with pytest.raises(detente.InputError, match="seed"):
        detente.run(IRAN, draws=10, seed=2**63)
    with pytest.raises(detente.InputError, match="whole number"):
        detente.run(IRAN, draws=True)
    with pytest.raises(detente.InputError, match="lens"):
        detente.run(IRAN, draws=10, lens="optimist")


def test_engine_options_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="q = 7.0, expected a probability"):
        detente.ExpectedUtility(q=7.0)
    with pytest.raises(ValueError, match="t = -0.1"):
        detente.ExpectedUtility(t=-0.1)
    with pytest.raises(ValueError, match="rounds"):
        detente.ExpectedUtility(rounds=-1)
    from detente.engines import SpatialPolitics

    with pytest.raises(ValueError, match="max_turns = 0"):
        SpatialPolitics(max_turns=0)
    # of another kind: the same message, not a TypeError from a comparison
    with pytest.raises(ValueError, match="q = 'x', expected a probability 0-1"):
        detente.ExpectedUtility(q="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rounds = 2.5, expected a whole number 0-10000"):
        detente.ExpectedUtility(rounds=2.5)  # type: ignore[arg-type]
    from detente.engines.exchange import Exchange

    with pytest.raises(
        ValueError, match="Exchange: rounds = '3', expected a whole number 0 or more"
    ):
        Exchange(rounds="3")  # type: ignore[arg-type]
    with pytest.raises(detente.InputError, match="q = 7"):
        detente.solve(DATA / "eum-example.csv", q=7.0)


# --- results ------------------------------------------------------------------------------------


def test_forecast_repr_is_short_and_by_horizon_is_keyed_by_int(forecast: detente.Forecast) -> None:
    text = repr(forecast)
    assert len(text) < 2000 and "iran-2018" in text and "24m" in text
    assert list(forecast.by_horizon()) == [6, 12, 24, 36]


def test_mc_se_beside_each_interval(forecast: detente.Forecast) -> None:
    """mc_se = sqrt(sum w^2 (p - mean)^2): by hand from the draws."""
    from detente.forecast import conditional

    w = forecast.weights
    p = conditional(forecast.paths, forecast.origin, 24)
    mean = float(np.dot(w, p))
    by_hand = float(np.sqrt(np.sum(w**2 * (p - mean) ** 2)))
    assert forecast.by_horizon()[24]["mc_se"] == pytest.approx(by_hand, rel=1e-12)
    # with equal weights the formula is the familiar sd / sqrt(n) (population sd)
    from detente.forecast import mc_standard_error

    x = np.array([0.1, 0.4, 0.2, 0.9])
    assert mc_standard_error(x, np.full(4, 0.25)) == pytest.approx(x.std() / 2, rel=1e-12)


def test_forecast_to_dict_is_the_json_contract(forecast: detente.Forecast) -> None:
    doc = forecast.to_dict()
    doc["outside_view"] = detente.outside_view(IRAN).to_dict()
    assert without_mc_se(json.loads(json.dumps(doc))) == contract("run")
    assert all("mc_se" in h for h in doc["horizons"].values())


def test_to_xarray_dims(forecast: detente.Forecast) -> None:
    ds = forecast.to_xarray()
    assert ds["p_talks"].dims == ("draw", "month")
    assert ds["position"].dims == ("draw", "month", "faction")
    assert ds.sizes["draw"] == 200 and ds.sizes["month"] == 37
    assert "Khamenei" in list(ds["faction"].values)
    assert float(ds["weight"].sum()) == pytest.approx(1.0)


def test_tables_and_plots(forecast: detente.Forecast) -> None:
    from matplotlib.figure import Figure

    t = forecast.to_dataframe()
    assert list(t["horizon"]) == [6, 12, 24, 36] and {"p", "lo", "hi", "mc_se"} <= set(t.columns)
    ax = Figure().subplots()
    assert forecast.plot(ax) is ax


def test_compare_tip_sweep_solve_backtests_match_their_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)  # the documents name their files as given, relative here
    cmp_ = detente.compare(IRAN, lenses=["author", "proponent"], draws=200)
    assert without_mc_se(json.loads(json.dumps(cmp_.to_dict()))) == contract("compare")
    assert list(cmp_.by_horizon()) == [6, 12, 24, 36] and len(repr(cmp_)) < 2000
    both = cmp_.to_xarray()
    assert both["position"].dims == ("run", "draw", "month", "faction")
    assert list(both["run"].values) == ["iran-2018 (author)", "iran-2018 (proponent)"]
    tip = detente.tipping_point(IRAN, "leader.legacy_weight", draws=100)
    assert tip.to_dict() == contract("tip") and len(repr(tip)) < 2000
    sw = detente.sweep(IRAN, {"pressure_scale": [0.0, 1.0, 2.0]}, draws=50)
    assert json.loads(json.dumps(sw.to_dict())) == contract("sweep")
    assert len(sw.to_dataframe()) == 3 and len(repr(sw)) < 2000
    sol = detente.solve("tests/data/eum-example.csv", variant="scholz-code")
    assert json.loads(json.dumps(sol.to_dict())) == contract("solve")
    assert len(repr(sol)) < 2000 and set(sol.to_dataframe()["model"]) >= {"eum", "median"}
    deu = detente.backtest_deu("examples/deu/deu3-dev.tsv", model="compromise")
    assert json.loads(json.dumps(deu.to_dict())) == contract("backtest-deu")
    assert deu.n_issues == 231 and len(repr(deu)) < 2000
    assert list(deu.to_dataframe()["forecast"])[0] == "compromise"


def test_sensitivity_has_a_table_view() -> None:
    res = detente.sensitivity(IRAN, samples=8, horizon=6)
    t = res.to_dataframe()
    assert {"name", "S1", "ST"} <= set(t.columns) and len(t) == len(res.indices)
    assert len(repr(res)) < 2000
    with pytest.raises(detente.InputError, match="power of 2"):
        detente.sensitivity(IRAN, samples=12)
    with pytest.raises(detente.InputError) as exc:
        detente.sensitivity(ROOT / "tests" / "data" / "neutral.yaml", samples=8)
    assert str(exc.value) == "neutral: no uncertain parameter to analyse"


def test_outside_view_without_ties_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DETENTE_TIES", raising=False)
    view = detente.outside_view(IRAN)
    assert view.missing is not None and "--ties" in view.missing


def test_repr_limit_is_below_2000() -> None:
    assert REPR_LIMIT < 2000


# --- import cost, the example ------------------------------------------------------------------


def test_import_loads_no_heavy_library() -> None:
    """`import detente` and the CLI's start load neither pandas, scipy, matplotlib nor numba, and
    select no matplotlib backend."""
    code = (
        "import sys, detente, detente.cli, detente.plots\n"
        "heavy = ['pandas', 'scipy', 'matplotlib.pyplot', 'numba', 'SALib', 'sklearn', "
        "'distributed', 'fastapi', 'xarray']\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_the_api_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DETENTE_TOUR_OUT", str(tmp_path))
    runpy.run_path(str(ROOT / "examples" / "api_tour.py"), run_name="__main__")
    assert (tmp_path / "tour.png").read_bytes()[:4] == b"\x89PNG"


def test_the_python_in_the_readme_and_the_api_guide_runs() -> None:
    """Every ```python block of README.md, and the first of docs/api.md, as written (the other
    blocks of the docs are prompts and shapes, not programs)."""
    blocks = re.findall(
        r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S
    )
    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks.append(re.findall(r"```python\n(.*?)```", guide, re.S)[0])
    assert len(blocks) == 3
    env = {**os.environ, "MPLBACKEND": "Agg"}
    for code in blocks:
        r = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert r.returncode == 0, f"{code}\n{r.stderr[-2000:]}"
