"""Scenario discovery: PRIM on data whose box is known by construction, on a scenario whose box is
known by construction, and ``detente discover``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from detente.analysis.discover import box_limits, discover_scenario, prim, scenario_draws
from detente.cli import app
from detente.scenario.coercion import scenario_from_text
from detente.scenario.params import Param
from detente.scenario.sample import default_coefficients

from .conftest import DATA


def _known_box(n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Three inputs on [0, 1]; the draws of interest are exactly a >= 0.6 and b <= 0.3."""
    x = np.random.default_rng(1).random((n, 3))
    return x, (x[:, 0] >= 0.6) & (x[:, 1] <= 0.3)


def test_peeling_finds_the_box_and_pasting_its_exact_edges() -> None:
    x, y = _known_box()
    peeled = prim(x, y).boxes[0]
    assert peeled.density == 1.0 and peeled.coverage > 0.9
    assert set(box_limits(peeled, ["a", "b", "c"])) == {"a", "b"}  # c is noise
    pasted = prim(x, y, pasting=True).boxes[0]
    assert (pasted.coverage, pasted.density) == (1.0, 1.0)
    limits = box_limits(pasted, ["a", "b", "c"])
    # the edges come back to the last draws of interest: as tight as the data allow
    assert limits == {
        "a": {"low": x[y, 0].min(), "high": None},
        "b": {"low": None, "high": x[y, 1].max()},
    }
    assert pasted.support == y.mean()


def test_the_trajectory_starts_with_every_draw_and_shrinks() -> None:
    x, y = _known_box(500)
    steps = prim(x, y, alpha=0.1, min_support=0.1).trajectory
    assert (steps[0].coverage, steps[0].support) == (1.0, 1.0)
    assert steps[0].density == y.mean()
    supports = [s.support for s in steps]
    assert all(b < a for a, b in zip(supports, supports[1:], strict=False))
    assert supports[-1] >= 0.1
    # each peel removes about alpha of the draws inside (ties aside)
    assert supports[1] == pytest.approx(0.9, abs=0.01)


def test_covering_finds_a_second_box_among_the_rest() -> None:
    x = np.random.default_rng(2).random((3000, 2))
    y = ((x[:, 0] >= 0.8) & (x[:, 1] >= 0.5)) | ((x[:, 0] <= 0.2) & (x[:, 1] <= 0.5))
    first, second = prim(x, y, pasting=True, max_boxes=2).boxes
    assert first.density > 0.99 and second.density > 0.99
    assert first.coverage + second.coverage > 0.99
    upper, lower = box_limits(first, ["a", "b"]), box_limits(second, ["a", "b"])
    assert upper["a"]["low"] == pytest.approx(0.8, abs=0.01)
    assert upper["b"]["low"] == pytest.approx(0.5, abs=0.01)
    assert lower["a"]["high"] == pytest.approx(0.2, abs=0.01)
    assert lower["b"]["high"] == pytest.approx(0.5, abs=0.01)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.02, 0.2), st.booleans())
def test_box_statistics_are_shares(seed: int, alpha: float, pasting: bool) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 3))
    y = rng.random(200) < 1 / (1 + np.exp(-3 * x[:, 0]))
    result = prim(x, y, alpha=alpha, pasting=pasting)
    earlier = np.zeros(len(y), dtype=bool)
    for k, b in enumerate(result.trajectory + result.boxes):
        # a covering box counts the draws that no earlier box holds
        inside = b.inside(x) & ~earlier
        if k >= len(result.trajectory):
            earlier |= inside
        assert b.support == inside.mean()
        assert b.density == (y[inside].mean() if inside.any() else 0.0)
        assert b.coverage == (y & inside).sum() / y.sum()


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="draws, inputs"):
        prim(np.zeros(5), np.zeros(5, dtype=bool))
    with pytest.raises(ValueError, match="alpha"):
        prim(np.zeros((5, 1)), np.zeros(5, dtype=bool), alpha=0.7)


def _one_uncertain_input() -> str:
    """tip.yaml, every number one value but the leader's legitimacy of talks (uniform on its
    whole range): P(talks) rises with it, so the draws past a threshold are those above a
    legitimacy, a box known by construction."""
    text = (DATA / "tip.yaml").read_text(encoding="utf-8")
    return text.replace(
        "legitimacy_of_talks: {value: -0.3", "legitimacy_of_talks: {uniform: [-1, 1]"
    )


def _pinned_coefficients() -> dict[str, Param]:
    return {
        k: Param(value=p.center(), assumption="test") for k, p in default_coefficients().items()
    }


def test_discover_finds_a_scenario_box_known_by_construction() -> None:
    scn = scenario_from_text(_one_uncertain_input())
    coef = _pinned_coefficients()
    x, names, p = scenario_draws(scn, 400, 7, 1, None, coef)
    assert names == ["leader.legitimacy_of_talks"]
    order = np.argsort(x[:, 0])
    assert np.all(np.diff(p[order]) >= 0)  # monotone: the box is one-sided by construction
    threshold = float(np.quantile(p, 0.7))
    y = p >= threshold
    doc = discover_scenario(scn, 400, 7, 1, threshold, coefficients=coef, pasting=True)
    assert doc["share"] == y.mean()
    (box,) = doc["boxes"]
    assert (box["coverage"], box["density"]) == (1.0, 1.0)
    assert box["limits"] == {"leader.legitimacy_of_talks": {"low": x[y, 0].min(), "high": None}}


def _discover(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "detente", "discover", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _in_process(*args: str) -> Result:
    return CliRunner().invoke(app, ["discover", *args])


def test_the_command_prints_json_and_draws_the_trajectory(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(_one_uncertain_input(), encoding="utf-8")
    plot = tmp_path / "peel.png"
    args = [str(path), "--draws", "300", "--horizon", "1", "--threshold", "0.08"]
    res = _in_process(*args, "--json", "--plot", str(plot))
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) == {
        "scenario", "question", "draws", "seed", "horizon", "threshold", "alpha", "min_support",
        "pasting", "inputs", "share", "trajectory", "boxes",
    }  # fmt: skip
    assert doc["inputs"][0] == "leader.legitimacy_of_talks"
    assert doc["trajectory"][0]["coverage"] == 1.0
    assert "leader.legitimacy_of_talks" in doc["boxes"][0]["limits"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = _in_process(*args)
    assert table.exit_code == 0 and "What would have to be true, box 1" in table.stdout
    again = _discover(*args, "--plot", str(plot))  # never overwrites without --force
    assert again.returncode == 2 and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_a_horizon_past_the_scenario_is_refused() -> None:
    res = _in_process(str(DATA / "tip.yaml"), "--horizon", "5", "--draws", "50")
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: --horizon: 5 months: the scenario's horizon is 1"


def test_against_the_ema_workbench_where_installed() -> None:
    """A check against the EMA workbench's PRIM (not a dependency: skipped unless installed).
    Its default objective differs (it weighs a peel's gain by the draws it removes), so the
    peeled boxes differ slightly; both must find the box known by construction."""
    pytest.importorskip("ema_workbench")
    import pandas as pd
    from ema_workbench.analysis import prim as ema_prim

    x, y = _known_box()
    box = ema_prim.Prim(pd.DataFrame(x, columns=list("abc")), y, threshold=0.8).find_box()
    last = box.peeling_trajectory.iloc[-1]
    limits = box.box_lims[-1]
    ours = prim(x, y).boxes[0]
    assert last["density"] == ours.density == 1.0
    assert abs(last["coverage"] - ours.coverage) < 0.06
    assert limits["a"][0] == pytest.approx(box_limits(ours, ["a", "b", "c"])["a"]["low"], abs=0.02)
    assert limits["b"][1] == pytest.approx(box_limits(ours, ["a", "b", "c"])["b"]["high"], abs=0.02)
