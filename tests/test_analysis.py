"""Tipping points and counterfactual overrides."""

from __future__ import annotations

import json
import math

import pytest

from detente.analysis.tipping import find_tipping_point
from detente.errors import InputError
from detente.forecast import run_scenario
from detente.scenario.coercion import load_scenario
from detente.scenario.sample import apriori_coefficients, check_fixed

from .conftest import DATA, ROOT
from .test_cli import IRAN_2018, detente


def test_bisection_on_a_known_function() -> None:
    res = find_tipping_point(lambda v: v**3, -1.0, 2.0, 0.125)
    assert res.found and res.value == pytest.approx(0.5, abs=3e-4)
    miss = find_tipping_point(lambda v: v, 0.0, 1.0, 2.0)
    assert not miss.found and miss.value is None and miss.p_at_high == 1.0


APRIORI = apriori_coefficients()  # the hand derivation uses the a-priori values


def test_tipping_point_computed_by_hand() -> None:
    """tests/data/tip.yaml: no pain, doves and hawks both at 50, a sender fully open (openness 1,
    cost 0), no mediator, no standing channel. In month 0 (docs/model.md):

    U_0 = w_I I - w_H H + 2 w_E kappa (S - 50)/50 - w_C A sigma + w_own (s_L/100)(x_L - 50)/50
        = 4 * 0.5 - 2 * 0.5 + 0 - 2 * 0.5 * 0.5 + 1.5 * 0.8 * (30 - 50)/50 = 0.02
    U_public = U_0 + w_L L (no pressure, no rally) = 0.02 + 3 L
    o_public = alpha_s b_0 = 0.1 (no offer yet; offers to come are drawn only after the as-of
    month); secret and mediated channels have no opportunity. So P(talks in month 0) =
    0.1 / (1 + exp(-U)), 0.05 exactly where U = 0: L = -1/150.

    In month 1 (the one-month forecast from the end of the start month), an offer comes with
    chance offer_rate alpha_s = 0.1, so o_public = 1 - 0.9 * 0.9 = 0.19 and the forecast is
    0.19 / (1 + exp(-U)): it reaches 0.05 where U = logit(0.05 / 0.19).
    """
    scn = load_scenario(DATA / "tip.yaml")

    def p_of(value: float) -> float:
        f = run_scenario(
            scn, draws=4, seed=1, fixed={"leader.legitimacy_of_talks": value}, coefficients=APRIORI
        )
        return float(f.paths.p_talks[:, 0].mean())

    assert p_of(-1 / 150) == pytest.approx(0.05)
    res = find_tipping_point(p_of, -1.0, 1.0, 0.05, xtol=1e-6)
    assert res.found and res.value == pytest.approx(-1 / 150, abs=1e-5)
    q = 0.05 / 0.19
    month1 = (math.log(q / (1 - q)) - 0.02) / 3
    f = run_scenario(
        scn, draws=4, seed=1, fixed={"leader.legitimacy_of_talks": month1}, coefficients=APRIORI
    )
    assert f.p_within(1) == pytest.approx(0.05)
    r = detente("tip", DATA / "tip.yaml", "--param", "leader.legitimacy_of_talks", "--target",
                "0.05", "--draws", "4", "--json", "--coefficients", "apriori")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["found"] and doc["param"] == "leader.legitimacy_of_talks"
    assert doc["value"] == pytest.approx(month1, abs=1e-3)
    assert doc["p_at_value"] == pytest.approx(0.05, abs=1e-3)


def test_tip_not_found_is_said_plainly() -> None:
    r = detente("tip", DATA / "tip.yaml", "--param", "leader.legacy_weight", "--target", "0.5",
                "--draws", "4")  # fmt: skip
    assert r.returncode == 0 and "No value of leader.legacy_weight" in r.stdout


def test_fixed_values_are_checked() -> None:
    scn = load_scenario(ROOT / "examples" / "cases" / "iran-2018.yaml")
    check_fixed(scn, {"leader.legacy_weight": 0.2, "coefficients.w_legacy": 1.0})
    with pytest.raises(InputError, match="no such parameter"):
        check_fixed(scn, {"leader.legacy": 0.2})
    with pytest.raises(InputError, match="outside the allowed"):
        check_fixed(scn, {"sender_image.trust": 1.5})


def test_fixing_a_parameter_moves_only_that_parameter() -> None:
    scn = load_scenario(ROOT / "examples" / "cases" / "iran-2018.yaml")
    base = run_scenario(scn, draws=200, seed=2)
    same = run_scenario(scn, draws=200, seed=2, fixed={})
    assert base.to_dict() == same.to_dict()
    kim = run_scenario(scn, draws=200, seed=2, fixed={"leader.legitimacy_of_talks": 0.8})
    assert kim.by_horizon()[24]["p"] > base.by_horizon()[24]["p"] + 0.3
    assert kim.overrides == {"leader.legitimacy_of_talks": "0.8"}


def test_compare_with_set_is_a_counterfactual() -> None:
    r = detente("compare", IRAN_2018, "--set", "leader.legitimacy_of_talks=0.8", "--draws", "300",
                "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["runs"][0]["overrides"] == {}
    assert doc["runs"][1]["overrides"] == {"leader.legitimacy_of_talks": "0.8"}
    assert doc["difference"]["24"] > 0.3
    bad = detente("compare", IRAN_2018, "--set", "trust=high")
    assert bad.returncode == 2 and "PATH=NUMBER" in bad.stderr
