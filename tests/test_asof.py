"""As-of runs, the sender's side and channels of talks (docs/model.md): no hindsight, survival
conditioning by hand, competing channels, pressure that counts, old files, bad input."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from detente import analysis
from detente.dynamics import leader
from detente.dynamics.simulate import SERIES, Trajectories
from detente.errors import InputError
from detente.forecast import conditional, run_scenario, survival_weights, weighted_quantile
from detente.history.cases import case_origins, case_outcome, load_library
from detente.scenario.coercion import load_scenario, parse_scenario
from detente.scenario.sample import load_lens

from .conftest import DATA, ROOT
from .test_cli import detente

IRAN_2012 = ROOT / "examples" / "cases" / "iran-2012.yaml"
NEUTRAL = yaml.safe_load((DATA / "neutral.yaml").read_text())


def with_events(data: dict[str, Any], *events: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["events"] = list(out.get("events", [])) + list(events)
    return out


OFFER = {"month": "2020-09", "type": "talks_offer", "source": "test"}


def run(data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return run_scenario(parse_scenario(data, "test"), draws=60, seed=3, **kw).to_dict()


def test_an_event_announced_after_the_as_of_month_changes_no_number() -> None:
    base = run(NEUTRAL, as_of="2020-04")
    later = run(with_events(NEUTRAL, {**OFFER, "announced": "2020-05"}), as_of="2020-04")
    assert later == base  # bit for bit, trajectories and all
    # by default an event is announced in its own month: after 2020-04, so unseen too
    assert run(with_events(NEUTRAL, OFFER), as_of="2020-04") == base


def test_a_scheduled_event_announced_before_the_as_of_month_applies_in_its_month() -> None:
    base = run(NEUTRAL, as_of="2020-04")
    known = run(with_events(NEUTRAL, {**OFFER, "announced": "2020-03"}), as_of="2020-04")
    assert known["horizons"]["12"]["p"] > base["horizons"]["12"]["p"]
    # it applies in its month (2020-09), not earlier: the first months after 2020-04 are equal
    p_base, p_known = base["trajectories"]["p_talks"], known["trajectories"]["p_talks"]
    assert p_known[:8] == p_base[:8] and p_known[8] > p_base[8]  # 2020-09 is month 8


def test_as_of_start_is_the_default() -> None:
    assert run(NEUTRAL) == run(NEUTRAL, as_of="2020-01")
    assert run(NEUTRAL)["as_of"] == "2020-01"


def _paths(survival: list[list[float]], direct: list[list[float]]) -> Trajectories:
    s = np.array(survival)
    d = np.array(direct)
    series = {name: np.zeros_like(s) for name in SERIES}
    series.update(survival=s, p_talks=d, p_public=d, p_secret=0 * d, p_mediated=1 - s - d)
    empty = np.zeros((*s.shape, 1))
    return Trajectories(series=series, position=empty, salience=empty, capability=empty)


def test_survival_conditioning_by_hand() -> None:
    """Two draws. Draw 1: constant monthly hazard 0.5 of direct talks; draw 2: hazard 0.1.
    By the end of month 1 (origin 1) draw 1 survives with 0.25, draw 2 with 0.81. Given no talks
    by then, draw d's chance within 1 more month is its hazard, and the forecast weights the draws
    by their survival: (0.25 * 0.5 + 0.81 * 0.1) / (0.25 + 0.81) = 0.206 / 1.06."""
    s1 = [0.5, 0.25, 0.125]
    s2 = [0.9, 0.81, 0.729]
    paths = _paths([s1, s2], [[1 - x for x in s1], [1 - x for x in s2]])
    p = conditional(paths, 1, 1)
    np.testing.assert_allclose(p, [0.5, 0.1])
    w = survival_weights(paths, 1)
    np.testing.assert_allclose(w, [0.25 / 1.06, 0.81 / 1.06])
    assert float(w @ p) == pytest.approx(0.206 / 1.06)
    # equal weights give numpy's percentile
    x = np.array([0.3, 0.1, 0.7, 0.2])
    assert weighted_quantile(x, np.full(4, 0.25), 0.05) == pytest.approx(np.percentile(x, 5))
    assert weighted_quantile(x, np.full(4, 0.25), 0.95) == pytest.approx(np.percentile(x, 95))


def test_a_forecast_is_the_survival_weighted_conditional_of_the_replay() -> None:
    scn = load_scenario(IRAN_2012)
    f = run_scenario(scn, draws=200, seed=1, as_of="2012-12")
    a = 5  # 2012-12 is five months after 2012-07
    s, d = f.paths.series["survival"], f.paths.p_talks
    by_hand = (d[:, a + 12] - d[:, a]).sum() / s[:, a].sum()
    assert f.by_horizon()[12]["p"] == pytest.approx(by_hand, rel=1e-12)
    assert f.months[f.origin] == "2012-12" and len(f.months) == a + 36 + 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(0, 1, allow_nan=False), min_size=3, max_size=3),
        min_size=1,
        max_size=5,
    )
)
def test_first_openings_never_exceed_the_months_chance(rows: list[list[float]]) -> None:
    h = np.array(rows).T  # channels first
    first = leader.first_opening(h)
    assert np.all(first >= 0)
    assert np.all(first.sum(axis=0) <= 1 - np.prod(1 - h, axis=0) + 1e-12)
    np.testing.assert_allclose(first.sum(axis=0), 1 - np.prod(1 - h, axis=0), atol=1e-12)


@pytest.mark.parametrize("case", ["iran-2012", "dprk-2017", "syria-2011", "iran-1979"])
def test_channels_sum_to_at_most_one_and_direct_is_the_headline(case: str) -> None:
    f = run_scenario(load_scenario(ROOT / "examples" / "cases" / f"{case}.yaml"), draws=200, seed=2)
    for h in f.by_horizon().values():
        ch = h["by_channel"]
        assert ch["public"] + ch["secret"] == pytest.approx(h["p"], abs=1e-12)
        assert sum(ch.values()) <= 1 + 1e-12
    s = f.paths.series
    total = s["p_public"] + s["p_secret"] + s["p_mediated"] + s["survival"]
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_a_mediator_opens_secret_and_mediated_channels() -> None:
    data = copy.deepcopy(NEUTRAL)
    plain = run(data)["horizons"]["24"]["by_channel"]
    assert plain["secret"] == 0.0 and plain["mediated"] == 0.0
    data["mediators"] = [
        {
            "name": "Oman",
            "trusted_by_target": {"value": 0.8, "assumption": "test"},
            "trusted_by_sender": {"value": 0.8, "assumption": "test"},
        }
    ]
    bridged = run(data)["horizons"]["24"]["by_channel"]
    assert bridged["secret"] > 0.01 and bridged["mediated"] > 0.0


def test_a_successor_with_other_values_changes_the_forecast() -> None:
    data = copy.deepcopy(NEUTRAL)
    base = run(data)["horizons"]["24"]["p"]
    data["successor"] = {
        "hazard": {"value": 0.05, "assumption": "test"},
        "legitimacy_of_talks": {"value": 0.5, "assumption": "test"},
        "legacy_weight": {"value": 0.0, "assumption": "test"},
        "position": {"value": 80, "assumption": "test"},
        "salience": {"value": 80, "assumption": "test"},
    }
    doc = run(data)
    assert doc["horizons"]["24"]["p"] > base
    assert doc["trajectories"]["successor"][-1] > 0.5


def test_the_leaders_own_faction_values_act() -> None:
    data = copy.deepcopy(NEUTRAL)
    base = run(data)["horizons"]["24"]["p"]
    data["factions"][0]["position"] = {"value": 100, "assumption": "test"}
    assert run(data)["horizons"]["24"]["p"] > base
    data["factions"][0]["capability"] = {"value": 500, "assumption": "test"}
    assert run(data)["horizons"]["24"]["p"] != base


def test_the_senders_side_matters() -> None:
    data = copy.deepcopy(NEUTRAL)
    base = run(data)["horizons"]["24"]["p"]
    closed = copy.deepcopy(data)
    closed["sender_side"]["openness"] = {"value": 0.1, "assumption": "test"}
    assert run(closed)["horizons"]["24"]["p"] < base
    vote = copy.deepcopy(data)
    vote["sender_side"]["elections"] = [
        {"month": "2020-10", "announced": "2019-01", "source": "test"}
    ]
    assert run(vote)["horizons"]["12"]["p"] < run(data)["horizons"]["12"]["p"]


def _examples_with_pain() -> list[str]:
    out = []
    for path, scn in load_library(ROOT / "examples" / "cases"):
        pain = run_scenario(scn, draws=100, seed=1, horizon=24).mean_paths()["pain"].mean()
        if pain > 0.1:
            out.append(path.stem)
    return out


PAINFUL = _examples_with_pain()


@pytest.mark.parametrize("case", PAINFUL)
def test_pressure_moves_the_forecast_where_pain_is_not_trivial(case: str) -> None:
    """Scaling all pressure from 0 to 1 raises the log-odds of talks within 24 months under the
    shipped coefficients and the proponent's lens (log-odds, because a probability near 0 or 1
    can only move a little in absolute terms; where talks are certain or impossible either way
    there is nothing to move); under the author's lens pressure brings less of a leader whom
    talks delegitimise to the table than under the proponent's."""
    scn = load_scenario(ROOT / "examples" / "cases" / f"{case}.yaml")
    effect = analysis.pressure_effect
    shipped = effect(scn, draws=300, seed=4, horizon=24)
    proponent = effect(scn, draws=300, seed=4, horizon=24, lens=load_lens("proponent"))
    # the proponent: pressure makes talks more attractive to the leader (his utility of public
    # talks, averaged over months and draws), whatever else limits them (the sender's openness,
    # the channels)
    lens = load_lens("proponent")
    utility = [
        run_scenario(scn, draws=300, seed=4, horizon=24, lens=lens, fixed={"pressure_scale": x})
        .mean_paths()["utility"]
        .mean()
        for x in (0.0, 1.0)
    ]
    assert utility[1] > utility[0]
    if not _saturated(shipped):
        # the shipped coefficients weigh both theses: pressure must move the forecast (a live
        # input), in whichever direction the case's legitimacy and pain add up to
        logits = [math.log(p / (1 - p)) for p in shipped.p_by_scale.values()]
        assert max(logits) - min(logits) > 0.02
    if scn.leader.legitimacy_of_talks.center() < -0.5 and not _saturated(proponent):
        author = effect(scn, draws=300, seed=4, horizon=24, lens=load_lens("author"))
        assert author.effect < proponent.effect  # in probability: talks stay unlikely


def _saturated(e: analysis.PressureEffect) -> bool:
    """Talks certain (or impossible) with and without pressure: nothing for pressure to move."""
    ends = (e.p_by_scale[0.0], e.p_by_scale[1.0])
    return all(p > 0.99 for p in ends) or all(p < 0.001 for p in ends)


def test_painful_examples_exist() -> None:
    assert len(PAINFUL) >= 5


def test_old_format_files_load_with_defaults() -> None:
    old = copy.deepcopy(NEUTRAL)
    del old["sender_side"]  # a file written before the new blocks existed
    scn = parse_scenario(old, "x")
    assert scn.sender_side is None and scn.mediators == [] and scn.standing_channel == "none"
    f = run_scenario(scn, draws=50)
    assert 0 <= f.by_horizon()[24]["p"] <= 1


def test_case_origins_and_outcomes() -> None:
    scn = load_scenario(IRAN_2012)  # start 2012-07, talks 2013-03 (month 8)
    assert case_origins(scn, None, 24) == [0]
    assert case_origins(scn, 3, 24) == [0, 3, 6]
    assert case_outcome(scn, 6, 0) == 0 and case_outcome(scn, 8, 0) == 1
    assert case_outcome(scn, 6, 3) == 1 and case_outcome(scn, 6, 8) is None


def test_backtest_by_origin_cli() -> None:
    r = detente("backtest", "cases", ROOT / "examples" / "cases", "--draws", "40",
                "--origins", "12", "--json", "--no-store")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["origins"] == 12 and "0" in doc["by_origin"] and "12" in doc["by_origin"]
    assert set(doc["by_horizon"]) == {"6", "12", "24", "36"}
    assert all(c["as_of"] for c in doc["origin_cases"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["events"][0].update(announced="July 2020"), "events[0].announced"),
        (lambda d: d["events"][0].update(type="talks_offer", channel="backdoor"), "channel"),
        (lambda d: d["events"][0].update(type="talks_offer", via="Oman"), "no such mediator"),
        (lambda d: d.update(standing_channel="embassy"), "standing_channel"),
        (
            lambda d: d["economy"]["evasion_max"].update(dated="2020"),
            "dated: expected a month",
        ),
    ],
)
def test_bad_new_blocks_are_refused_in_one_line(edit: Any, message: str) -> None:
    data = copy.deepcopy(NEUTRAL)
    edit(data)
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(data, "bad.yaml")


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2011-01", "before the scenario's start"),
        ("2016-01", "after the scenario's horizon"),
        ("2013-1", "expected a month as YYYY-MM"),
    ],
)
def test_bad_as_of_is_one_line_exit_2(as_of: str, message: str) -> None:
    r = detente("run", IRAN_2012, "--as-of", as_of, "--draws", "20", "--no-store")
    assert r.returncode == 2 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_a_value_dated_after_the_as_of_month_is_refused() -> None:
    data = copy.deepcopy(NEUTRAL)
    data["economy"]["evasion_max"]["dated"] = "2020-06"
    scn = parse_scenario(data, "x")
    with pytest.raises(InputError, match="dated 2020-06, after the as-of month"):
        run_scenario(scn, draws=10, as_of="2020-03")
    run_scenario(scn, draws=10, as_of="2020-06")
    # a run from the start (no as-of given) stands at the start: the same rule
    with pytest.raises(InputError) as exc:
        run_scenario(scn, draws=10)
    assert str(exc.value) == (
        f"{scn.id}: economy.evasion_max: dated 2020-06, after the start {scn.start}: "
        "a forecast from the start cannot use it"
    )


def test_the_analyses_from_the_start_refuse_a_later_number_too() -> None:
    """Sweeps, Sobol sensitivity and the fit's cases run from the start, as a plain run does."""
    import detente
    from detente.history.fit import prepare
    from detente.scenario.sample import load_coefficients

    data = copy.deepcopy(NEUTRAL)
    data["economy"]["evasion_max"]["dated"] = "2020-06"
    scn = parse_scenario(data, "x")
    message = "dated 2020-06, after the start"
    with pytest.raises(InputError, match=message):
        detente.sweep(scn, {"pressure_scale": [0.0, 1.0]}, draws=10)
    with pytest.raises(InputError, match=message):
        detente.sensitivity(scn, samples=8)
    data["outcome"] = {"talks": False, "kind": "none", "source": "test"}  # a case of the library
    with pytest.raises(InputError, match=message):
        prepare([parse_scenario(data, "x")], load_coefficients(None), draws=4)


def test_a_pressure_phase_announced_later_is_unknown_and_the_one_before_goes_on() -> None:
    data = copy.deepcopy(NEUTRAL)
    unknown = run(data, as_of="2020-03")  # the finance phase from 2020-06 is not yet announced
    p = unknown["trajectories"]["pressure"]
    assert p[5] == pytest.approx(p[6]) and p[6] == pytest.approx(p[-1])  # oil alone throughout
    data["pressure"]["finance"]["timeline"][0]["announced"] = "2020-02"
    known = run(data, as_of="2020-03")
    assert known["trajectories"]["pressure"][5] > p[5]  # from 2020-06 on
    assert known["trajectories"]["pressure"][4] == p[4]
    assert run(NEUTRAL, as_of="2020-06")["trajectories"]["pressure"][5] > p[5]


def test_a_value_inside_an_event_not_yet_announced_may_be_dated_later() -> None:
    data = copy.deepcopy(NEUTRAL)
    vote = {
        "month": "2020-09",
        "type": "election",
        "source": "t",
        "changes": {"Doves": {"capability": {"value": 60, "assumption": "t", "dated": "2020-09"}}},
    }
    scn = parse_scenario(with_events(data, vote), "x")
    run_scenario(scn, draws=10, as_of="2020-03")  # the election is not seen: no refusal
    vote["announced"] = "2020-02"  # now seen, with a value dated after the as-of month
    with pytest.raises(InputError, match="after the as-of month"):
        run_scenario(parse_scenario(with_events(data, vote), "x"), draws=10, as_of="2020-03")
