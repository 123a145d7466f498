"""The coercion model end to end: mechanisms move the outcome the documented way; seeds reproduce;
bad scenarios are refused; the reference cases."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from detente.errors import InputError
from detente.forecast import run_scenario
from detente.scenario.coercion import load_scenario, parse_scenario
from detente.scenario.sample import load_lens

from .conftest import DATA, ROOT

NEUTRAL = yaml.safe_load((DATA / "neutral.yaml").read_text())


def p24(data: dict[str, Any], draws: int = 50) -> float:
    return run_scenario(parse_scenario(data, "test"), draws=draws, seed=7).by_horizon()[24]["p"]


def changed(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(NEUTRAL)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def point(v: float) -> dict[str, Any]:
    return {"value": v, "assumption": "test"}


BASE = p24(NEUTRAL)

# (mechanism, path, new value, direction of P(talks by 24 months))
DIRECTIONS = [
    ("M1 exposure", ["pressure", "oil", "exposure"], point(0.7), +1),
    ("M2 evasion", ["economy", "evasion_max"], point(0.7), -1),
    ("M2 substitution", ["economy", "substitution_max"], point(0.6), -1),
    ("M3 pain to discontent", ["society", "pain_to_discontent"], point(2.0), +1),
    ("M4 legitimacy", ["leader", "legitimacy_of_talks"], point(0.5), +1),
    ("M6 trust", ["sender_image", "trust"], point(0.9), +1),
    ("M7 regime change", ["sender_image", "regime_change_belief"], point(0.9), -1),
    ("M7 scope", ["sender_image", "demand_scope"], point(0.9), -1),
    ("M8 legacy", ["leader", "legacy_weight"], point(0.9), -1),
    ("M9 doves' position", ["factions", 2, "position"], point(100), +1),
]


@pytest.mark.parametrize(
    ("name", "path", "value", "sign"), DIRECTIONS, ids=[d[0] for d in DIRECTIONS]
)
def test_each_mechanism_moves_the_outcome_the_documented_way(
    name: str, path: list[Any], value: Any, sign: int
) -> None:
    assert 0.05 < BASE < 0.95
    assert np.sign(p24(changed(path, value)) - BASE) == sign, name


def test_events_move_the_outcome() -> None:
    """Events known at the start (announced by then) move the forecast the documented way."""
    events = NEUTRAL["events"]
    more_threats = changed(
        ["events"],
        events + [{"month": "2020-03", "type": "threat", "source": "t", "announced": "2020-01"}],
    )
    assert p24(more_threats) < BASE  # M5 rally
    broken = changed(
        ["events"],
        events
        + [{"month": "2020-02", "type": "deal_broken", "source": "t", "announced": "2020-01"}],
    )
    assert p24(broken) < BASE  # M6 trust, M5, M9
    offer = changed(
        ["events"],
        events
        + [{"month": "2020-09", "type": "talks_offer", "source": "t", "announced": "2020-01"}],
    )
    assert p24(offer) > BASE  # an open channel
    failed = changed(
        ["events"],
        events
        + [{"month": "2020-03", "type": "talks_failed", "source": "t", "announced": "2020-01"}],
    )
    assert p24(failed) < BASE  # M5
    vote = {
        "month": "2020-03",
        "type": "election",
        "source": "t",
        "announced": "2020-01",
        "changes": {"Doves": {"capability": point(60)}},
    }
    assert p24(changed(["events"], events + [vote])) > BASE  # M9 via an election


def test_same_seed_same_numbers_and_seeds_differ() -> None:
    scn = load_scenario(ROOT / "examples" / "cases" / "iran-2018.yaml")
    a = run_scenario(scn, draws=300, seed=11)
    b = run_scenario(scn, draws=300, seed=11)
    c = run_scenario(scn, draws=300, seed=12)
    np.testing.assert_array_equal(a.paths.p_talks, b.paths.p_talks)
    assert not np.array_equal(a.paths.p_talks, c.paths.p_talks)
    assert a.to_dict() == b.to_dict()


def test_draws_are_a_prefix_stable_sample() -> None:
    """Parameter streams are per parameter: draw k is the same whether 100 or 300 are run."""
    scn = load_scenario(ROOT / "examples" / "cases" / "iran-2018.yaml")
    small = run_scenario(scn, draws=100, seed=3)
    large = run_scenario(scn, draws=300, seed=3)
    np.testing.assert_array_equal(small.paths.p_talks, large.paths.p_talks[:100])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(colour="red"), "colour: unknown key"),
        (lambda d: d.pop("leader"), "leader: missing field"),
        (
            lambda d: d["factions"][2].update(salience=point(120)),
            "factions[2].salience: 120 outside",
        ),
        (
            lambda d: d["factions"][1].update(position={"uniform": [50, 10], "assumption": "x"}),
            "factions[1].position: ",
        ),
        (
            lambda d: d["economy"].update(evasion_max={"normal": [1.5, 0.1], "assumption": "x"}),
            "economy.evasion_max: normal mean 1.5 outside",
        ),
        (lambda d: d["economy"].update(evasion_max={"value": 0.3}), "'source' or an 'assumption'"),
        (
            lambda d: d["economy"].update(
                evasion_max={"value": 0.3, "beta": [1, 1], "source": "x"}
            ),
            "exactly one of",
        ),
        (lambda d: d["factions"][1].update(veto=True), "exactly one faction must have veto"),
        (lambda d: d.update(start="2020-13"), "start"),
        (
            lambda d: d["events"].append({"month": "2019-01", "type": "threat", "source": "x"}),
            "before start",
        ),
        (
            lambda d: d["events"].append(
                {"month": "2020-05", "type": "election", "source": "x", "changes": {"Owls": {}}}
            ),
            "changes.Owls: no such faction",
        ),
        (lambda d: d["events"].append({"month": "2020-05", "type": "coup", "source": "x"}), "type"),
        (lambda d: d.update(horizon=0), "horizon"),
        (
            lambda d: d.update(
                outside_view={
                    "us_sender": True,
                    "multiple_senders": False,
                    "institution": False,
                    "threat_first": True,
                    "issues": ["regime change"],
                    "source": "x",
                }
            ),
            "outside_view.issues[0]: unknown issue",
        ),  # fmt: skip
    ],
)
def test_bad_scenarios_are_refused_with_the_path(edit: Any, message: str) -> None:
    data = copy.deepcopy(NEUTRAL)
    edit(data)
    with pytest.raises(InputError) as info:
        parse_scenario(data, "bad.yaml")
    text = str(info.value)
    assert text.startswith("bad.yaml: ") and message in text and "\n" not in text


def test_lenses_load_and_bad_lens(tmp_path: Path) -> None:
    assert load_lens("author").name == "author"
    bad = tmp_path / "lens.yaml"
    bad.write_text("name: x\ntitle: x\nthesis: x\ncoefficients: {w_magic: {value: 1, source: s}}\n")
    with pytest.raises(InputError, match="coefficients.w_magic: no such coefficient"):
        load_lens(str(bad))
    with pytest.raises(InputError, match="unknown lens"):
        load_lens("optimist")


# --- the three reference cases: the same equations and global coefficients for all -------------

CASES = ROOT / "examples" / "cases"


def p_within(case: str, months: int, lens: str | None = None) -> float:
    scn = load_scenario(CASES / f"{case}.yaml")
    f = run_scenario(scn, draws=1000, lens=load_lens(lens) if lens else None)
    return f.by_horizon()[months]["p"]


def test_iran_2018_no_talks_within_24_months() -> None:
    assert p_within("iran-2018", 24) < 0.2


def test_north_korea_2017_talks_within_12_months() -> None:
    assert p_within("dprk-2017", 12) > 0.5


@pytest.mark.xfail(
    strict=True,
    reason="Known miss (docs/model.md, 'Reference cases'): the fitted model gives Iran 2012 "
    "about 0.42 within 12 months as of July 2012; mediated talks through Oman opening first "
    "take much of the rest.",
)
def test_iran_2012_talks_within_12_months() -> None:
    assert p_within("iran-2012", 12) > 0.5


def test_proponent_lens_clearly_above_author_lens_on_iran_2018() -> None:
    author = p_within("iran-2018", 24, "author")
    proponent = p_within("iran-2018", 24, "proponent")
    assert proponent > author + 0.3


@pytest.mark.parametrize("engine", ["median", "eum"])
def test_the_stance_engine_is_configurable(engine: str) -> None:
    data = changed(["engine"], engine)
    f = run_scenario(parse_scenario(data, "t"), draws=20, seed=1, horizon=6)
    stance = f.paths.series["stance"]
    # the start month, then 6 months from the end of it
    assert stance.shape == (20, 7) and np.all((stance >= 0) & (stance <= 100))
    assert f.to_dict()["engine"] == engine
