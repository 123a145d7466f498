"""Stokman's exchange model (equal gain): the DECIDE program's reference runs, cases worked out
by hand, properties, DECIDE files, and the model in the DEU backtest and the coercion model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.engines import ActorArrays, Compromise, Exchange, IssueArrays, make_engine
from detente.engines import _exchange_kernel as kern
from detente.engines.exchange import ExchangeResult, mds
from detente.errors import InputError
from detente.history.deu import backtest_deu, forecast_exchange, read_deu
from detente.scenario.actors import load_actor_file
from detente.scenario.decide import read_decide
from detente.solve import exchange_table, solve_exchange

from .conftest import DATA, ROOT
from .test_cli import detente

DECIDE = ROOT.parent / "shared" / "data" / "decide"
needs_shared = pytest.mark.skipif(
    not (DECIDE / "outputs").exists(),
    reason="needs the DECIDE reference runs in ../shared/data/decide (GPL: not in the repo)",
)
INPUTS = {"cop21": "cop21.csv", "copenhagen": "copenhagen.csv", "sample_data": "sample_data.txt"}
TOL = 1e-9


def csv_rows(name: str) -> list[dict[str, str]]:
    with (DECIDE / "outputs" / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


_RUNS: dict[str, tuple[ExchangeResult, list[str], list[str], IssueArrays]] = {}


def run(name: str) -> tuple[ExchangeResult, list[str], list[str], IssueArrays]:
    """The model on one reference input, with the actor and issue names (cached per session)."""
    if name not in _RUNS:
        data = load_actor_file(DECIDE / "inputs" / INPUTS[name])
        table, actors = exchange_table(data.issues, data.actor_order)
        _RUNS[name] = (Exchange().solve_issues(table), actors, [i.id for i in data.issues], table)
    return _RUNS[name]


# ---------------------------------------------------------------- the reference runs
@needs_shared
@pytest.mark.parametrize("name", list(INPUTS))
def test_positions_every_round(name: str) -> None:
    res, actors, issues, table = run(name)
    step = table.step()
    rows = list(csv.DictReader((DECIDE / "outputs" / "positions" / f"{name}.csv").open()))
    seen = 0
    for r in rows:
        a, k, rd = actors.index(r["actor"]), issues.index(r["issue"]), int(r["round"])
        if r["stage"] == "start":
            got = res.start_positions[0, rd - 1, a, k]
        elif r["stage"] == "voting":
            got = res.voting_positions[0, rd - 1, a, k]
        else:
            assert r["stage"] == "final" and rd == 10
            got = res.start_positions[0, rd, a, k]
        assert got == pytest.approx(float(r["position"]), abs=TOL), r
        norm = (got - table.lower[k]) * step[k]
        assert norm == pytest.approx(float(r["position_norm"]), abs=TOL), r
        seen += 1
    # every present actor-issue at every stage: 10 starts, 10 votings, 1 final
    assert seen == 21 * int(table.present.sum())


@needs_shared
@pytest.mark.parametrize("name", list(INPUTS))
def test_outcomes_and_mds_by_round(name: str) -> None:
    res, _, issues, table = run(name)
    rows = [r for r in csv_rows("outcomes.csv") if r["input"] == name]
    assert sorted(r["issue"] for r in rows) == sorted(issues)
    w = np.where(table.present, table.capability[0] * table.salience[0], 0.0)
    final = mds(np.nan_to_num(res.start_positions[0, -1]), w, table.present)
    for r in rows:
        k = issues.index(r["issue"])
        assert float(r["lower"]) == table.lower[k] and float(r["upper"]) == table.upper[k]
        assert res.mds_start[0, 0, k] == pytest.approx(float(r["mds_before_exchanges"]), abs=TOL)
        assert res.mds_voting[0, 0, k] == pytest.approx(float(r["mds_after_round1"]), abs=TOL)
        assert res.forecast[0, k] == pytest.approx(float(r["mds_after_round10_voting"]), abs=TOL)
        want = float(r["mds_final_positions_after_round10"])
        assert final[k] == pytest.approx(want, abs=TOL)
    for r in (r for r in csv_rows("mds_by_round.csv") if r["input"] == name):
        k, rd = issues.index(r["issue"]), int(r["round"]) - 1
        assert res.mds_start[0, rd, k] == pytest.approx(float(r["mds_start"]), abs=TOL)
        assert res.mds_voting[0, rd, k] == pytest.approx(float(r["mds_voting"]), abs=TOL)


NUMERIC = (
    "i_round_start_pos",
    "i_x",
    "i_move",
    "i_y",
    "i_target_pos",
    "j_round_start_pos",
    "j_x",
    "j_move",
    "j_y",
    "j_target_pos",
    "gain",
    "dp",
    "dq",
    "i_nbs0",
    "i_nbs1",
    "j_nbs0",
    "j_nbs1",
    "ext_inner_pos",
    "ext_inner_neg",
    "ext_outer_pos",
    "ext_outer_neg",
    "ext_own",
)


@needs_shared
@pytest.mark.parametrize("name", list(INPUTS))
def test_every_exchange_in_order(name: str) -> None:
    res, actors, issues, _ = run(name)
    log = res.exchanges[0]
    rows = [r for r in csv_rows("exchanges.csv") if r["input"] == name]
    assert len(log) == len(rows)
    for k, r in enumerate(rows):
        p, q = issues[int(log["p"][k])], issues[int(log["q"][k])]
        got = (
            int(log["round"][k]),
            int(log["seq"][k]),
            p,
            q,
            "a-d" if log["inner_ad"][k] else "b-c",
            actors[int(log["i_actor"][k])],
            actors[int(log["j_actor"][k])],
            bool(log["i_adjusted_by_nbs"][k]),
            bool(log["j_adjusted_by_nbs"][k]),
        )
        want = (
            int(r["round"]),
            int(r["seq"]),
            r["pair_p"],
            r["pair_q"],
            r["groups"],
            r["i_actor"],
            r["j_actor"],
            r["i_adjusted_by_nbs"] == "True",
            r["j_adjusted_by_nbs"] == "True",
        )
        assert got == want
        assert (r["i_supply_issue"], r["j_supply_issue"]) == (q, p)
        for col in NUMERIC:
            assert log[col][k] == pytest.approx(float(r[col]), abs=TOL), (k, col)


@needs_shared
@pytest.mark.parametrize("name", list(INPUTS))
def test_round_counts(name: str) -> None:
    res, _, _, _ = run(name)
    counts = res.counts[0]
    rows = [r for r in csv_rows("rounds.csv") if r["input"] == name]
    assert [int(r["n_candidate_exchanges"]) for r in rows] == counts.candidates.tolist()
    assert [int(r["n_valid_candidates"]) for r in rows] == counts.valid.tolist()
    assert [int(r["n_executed"]) for r in rows] == counts.executed.tolist()
    assert [int(r["n_tied_selections"]) for r in rows] == counts.tied.tolist()


@needs_shared
def test_cli_json_reproduces_the_reference_run() -> None:
    r = detente("solve", DECIDE / "inputs" / "sample_data.txt", "--model", "exchange", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    ex = doc["models"]["exchange"]
    for row in (r for r in csv_rows("outcomes.csv") if r["input"] == "sample_data"):
        want = float(row["mds_after_round10_voting"])
        assert ex["forecast"][row["issue"]] == pytest.approx(want, abs=TOL)
    votes = {
        (int(row["round"]), row["actor"], row["issue"]): float(row["position"])
        for row in csv.DictReader((DECIDE / "outputs" / "positions" / "sample_data.csv").open())
        if row["stage"] == "voting"
    }
    assert len(ex["history"]) == 10
    for h in ex["history"]:
        for actor, by_issue in h["positions"].items():
            for issue, v in by_issue.items():
                assert v == pytest.approx(votes[(h["round"], actor, issue)], abs=TOL)
    n = sum(1 for row in csv_rows("exchanges.csv") if row["input"] == "sample_data")
    assert len(ex["exchanges"]) == n
    first = ex["exchanges"][0]
    assert (first["i"]["actor"], first["j"]["actor"]) == ("Willems", "Wcentr")


# ---------------------------------------------------------------- worked out by hand
def test_two_actors_two_issues_by_hand() -> None:
    """tests/data/exchange-2x2.txt, from the equations (docs/engines.md).

    W_P = 0.6 + 0.3 = 0.9, MDS_P = 100 * 0.3 / 0.9 = 33.3; W_Q = 0.9, MDS_Q = 100 * 0.4 / 0.9.
    A is left of the MDS on P and right on Q (group b), B the reverse (c): one candidate.
    s_AP / s_AQ = 1.5 >= s_BP / s_BQ = 0.6, so I = A (supplies Q), J = B (supplies P).
    J all the way: dp = 100 * 0.3 / 0.9 = 33.3; dq = dp (0.6 + 0.3) / (0.4 + 0.5) = 33.3; I's
    move dq * 0.9 / 0.4 = 75 < 100, so A goes from 100 to 25 on Q and B from 100 to 0 on P.
    Gain |dq s_AQ - dp s_AP| = 33.3 * 0.2 = 6.67. Voting MDS: P = 0, Q = 25 * 0.4 / 0.9 = 11.1.
    New start: A on Q 100 + (0.6 * 0.4 + 0.1)(25 - 100) = 74.5; B on P 100 - 0.38 * 100 = 62.
    Round 2: MDS_P = 62 * 0.3 / 0.9, dp = 62 * 0.3 / 0.9 = dq, A moves dq * 0.9 / 0.4 = 46.5 to
    28, gain 62 * 0.3 / 0.9 * 0.2; B moves to 0.
    """
    data = load_actor_file(DATA / "exchange-2x2.txt")
    res = solve_exchange(data.issues, data.actor_order, rounds=2).result
    log = res.exchanges[0]
    assert len(log) == 2 and log["round"].tolist() == [1.0, 2.0]
    assert (log["i_actor"][0], log["j_actor"][0], log["p"][0], log["q"][0]) == (0, 1, 0, 1)
    assert log["gain"][0] == pytest.approx(100 * 0.3 / 0.9 * 0.2, abs=1e-12)
    assert (log["i_y"][0], log["j_y"][0]) == pytest.approx((25.0, 0.0), abs=1e-12)
    assert (log["i_move"][0], log["j_move"][0]) == pytest.approx((-75.0, -100.0), abs=1e-12)
    assert res.mds_start[0, 0] == pytest.approx([100 / 3, 400 / 9], abs=1e-12)
    assert res.mds_voting[0, 0] == pytest.approx([0.0, 100 / 9], abs=1e-12)
    assert res.start_positions[0, 1, 0, 1] == pytest.approx(74.5, abs=1e-12)
    assert res.start_positions[0, 1, 1, 0] == pytest.approx(62.0, abs=1e-12)
    assert res.start_positions[0, 1, 0, 0] == 0.0  # demand sides never move
    assert log["gain"][1] == pytest.approx(62 * 0.3 / 0.9 * 0.2, abs=1e-12)
    assert log["i_y"][1] == pytest.approx(74.5 - 46.5, abs=1e-12)
    assert res.forecast[0] == pytest.approx([0.0, 28 * 0.4 / 0.9], abs=1e-12)


def test_a_move_that_would_carry_the_mds_past_the_target_is_cut_by_hand() -> None:
    """Three actors; C (left of both MDS) makes no pair. Issue P: A 0 (s .9), B 100 (.1), C 0
    (.1): W_P = 1.1. Issue Q: A 100 (.8), B 80 (.1), C 0 (.1): W_Q = 1, MDS_Q = 88.
    A is group b, B group c; s_AP / s_AQ = 1.125 >= 1 = s_BP / s_BQ, so I = A, J = B.
    Plain: dp = 100 * .1 / 1.1, dq = dp (.9 + .1) / (.8 + .1) = 10.1: MDS_Q would go from 88 to
    77.9, past B's 80. ``check_nbs`` cuts A's move to delta = |80 * 1 - 88| / .8 = 10 (A to 90,
    MDS_Q exactly 80); r_A = 8, r_O = 8 (.8 + .1) / (.9 + .1) = 7.2, B's move 7.2 * 1.1 / .1 =
    79.2 (to 20.8); gain |7.2 * .1 - 8 * .1| = .08; dp, dq as the program names them: 8, 7.2.
    """
    table = IssueArrays.from_2d(
        capability=np.ones((3, 2)),
        position=[[0, 100], [100, 80], [0, 0]],
        salience=[[0.9, 0.8], [0.1, 0.1], [0.1, 0.1]],
    )
    res = Exchange(rounds=1).solve_issues(table)
    log = res.exchanges[0]
    assert len(log) == 1
    assert (log["i_actor"][0], log["j_actor"][0]) == (0, 1)
    assert (log["i_y"][0], log["j_y"][0]) == pytest.approx((90.0, 20.8), abs=1e-12)
    assert log["gain"][0] == pytest.approx(0.08, abs=1e-12)
    assert (log["dp"][0], log["dq"][0]) == pytest.approx((8.0, 7.2), abs=1e-12)
    assert (log["i_adjusted_by_nbs"][0], log["j_adjusted_by_nbs"][0]) == (1.0, 0.0)
    assert (log["i_nbs0"][0], log["i_nbs1"][0]) == pytest.approx((88.0, 80.0), abs=1e-12)
    assert res.mds_voting[0, 0] == pytest.approx([2.08 / 1.1, 80.0], abs=1e-12)


def test_one_issue_is_the_mean() -> None:
    """With one issue there is no pair to trade: the forecast is the MDS, the compromise."""
    arrays = ActorArrays.from_1d([1, 2, 3], [0, 40, 100], [0.5, 0.5, 1.0])
    assert make_engine("exchange").solve(arrays).forecast == pytest.approx(
        Compromise().solve(arrays).forecast, abs=0
    )
    one = IssueArrays.from_2d([[1], [2], [3]], [[0], [40], [100]], [[0.5], [0.5], [1.0]])
    res = Exchange().solve_issues(one)
    assert len(res.exchanges[0]) == 0
    assert res.forecast[0, 0] == pytest.approx(Compromise().solve(arrays).forecast[0])


def test_veto_players_bound_the_forecast() -> None:
    """As in every engine; here by the veto player's voting position of the last round."""
    data = load_actor_file(DATA / "exchange-2x2.txt")
    free = solve_exchange(data.issues, data.actor_order, rounds=1).result
    assert free.forecast[0, 1] == pytest.approx(100 / 9)
    vetoed = [i.model_copy(deep=True) for i in data.issues]
    for issue in vetoed:
        issue.actors[1].veto = True  # B, who votes 0 on both issues after round 1
    bounded = solve_exchange(vetoed, data.actor_order, rounds=1).result
    assert bounded.forecast[0].tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(bounded.mds_voting, free.mds_voting)


# ---------------------------------------------------------------- properties
def random_table(rng: np.random.Generator, n: int, m: int) -> IssueArrays:
    return IssueArrays.from_2d(
        capability=rng.uniform(0.2, 1.0, (n, m)),
        position=rng.uniform(0.0, 100.0, (n, m)),
        salience=rng.uniform(0.1, 1.0, (n, m)),
    )


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 7), m=st.integers(2, 4))
def test_actor_order_does_not_matter(seed: int, n: int, m: int) -> None:
    """The order of the actors (DECIDE's ``#A`` rows) decides only between exactly equal
    gains, which continuous random tables do not have: the same forecast and positions, permuted.

    The order of the sums (``#D`` rows) is kept: when a correction puts an MDS exactly on a
    target, the program's next comparison with that target is decided in its 28th digit, which
    the order of the sums can change (docs/engines.md).
    """
    rng = np.random.default_rng(seed)
    table = random_table(rng, n, m)
    perm = rng.permutation(n)
    inv = np.argsort(perm)
    shuffled = IssueArrays.from_2d(
        table.capability[0][perm],
        table.position[0][perm],
        table.salience[0][perm],
        order=tuple(tuple(int(inv[a]) for a in range(n)) for _ in range(m)),
    )
    a = Exchange(rounds=4).solve_issues(table)
    b = Exchange(rounds=4).solve_issues(shuffled)
    np.testing.assert_allclose(a.forecast, b.forecast, atol=1e-9)
    np.testing.assert_allclose(a.voting_positions[:, :, perm], b.voting_positions, atol=1e-9)
    assert len(a.exchanges[0]) == len(b.exchanges[0])


def test_one_actor_and_equal_positions_trade_nothing() -> None:
    rng = np.random.default_rng(3)
    one = IssueArrays.from_2d([[1.0, 2.0, 1.0]], [[10.0, 20.0, 30.0]], [[0.5, 0.5, 0.5]])
    res = Exchange().solve_issues(one)
    assert len(res.exchanges[0]) == 0
    np.testing.assert_array_equal(res.forecast[0], [10.0, 20.0, 30.0])
    same = IssueArrays.from_2d(
        rng.uniform(0.1, 1, (5, 3)),
        np.tile([[15.0, 50.0, 85.0]], (5, 1)),
        rng.uniform(0.1, 1, (5, 3)),
    )
    res = Exchange().solve_issues(same)
    assert len(res.exchanges[0]) == 0
    np.testing.assert_allclose(res.forecast[0], [15.0, 50.0, 85.0], atol=1e-12)
    np.testing.assert_allclose(res.start_positions[0, -1], same.position[0], atol=0)


def test_draws_are_independent_and_reproducible() -> None:
    rng = np.random.default_rng(11)
    tables = [random_table(rng, 6, 3) for _ in range(3)]
    stacked = IssueArrays(
        capability=np.concatenate([t.capability for t in tables]),
        position=np.concatenate([t.position for t in tables]),
        salience=np.concatenate([t.salience for t in tables]),
        present=tables[0].present,
        lower=tables[0].lower,
        upper=tables[0].upper,
    )
    together = Exchange().solve_issues(stacked)
    for d, t in enumerate(tables):
        alone = Exchange().solve_issues(t)
        np.testing.assert_array_equal(together.forecast[d], alone.forecast[0])
    again = Exchange().solve_issues(stacked)
    np.testing.assert_array_equal(together.voting_positions, again.voting_positions)


def test_compiled_and_plain_python_kernels_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel runs as Python where numba is missing: the same numbers, bit for bit."""
    table = random_table(np.random.default_rng(5), 6, 4)
    compiled = Exchange(rounds=3).solve_issues(table)
    assert type(kern.calc).__name__ == "CPUDispatcher"  # numba's
    assert set(kern.PLAIN) == {"move_ok", "calc", "check_nbs", "pick", "initial", "touch", "log"}
    for name, fn in kern.PLAIN.items():
        monkeypatch.setattr(kern, name, fn)
    plain = Exchange(rounds=3).solve_issues(table)
    np.testing.assert_array_equal(compiled.voting_positions, plain.voting_positions)
    for col in ("gain", "i_y", "j_y", "ext_outer_neg"):
        np.testing.assert_array_equal(compiled.exchanges[0][col], plain.exchanges[0][col])


def test_absent_actors_take_part_only_where_present() -> None:
    present = np.array([[True, True], [True, True], [True, False]])
    table = IssueArrays.from_2d(
        [[1, 1], [1, 1], [5, 0]],
        [[0, 100], [100, 0], [60, np.nan]],
        [[0.6, 0.4], [0.3, 0.5], [1, 0]],
        present,
    )
    res = Exchange(rounds=2).solve_issues(table)
    assert np.isnan(res.voting_positions[0, :, 2, 1]).all()
    assert (
        not (res.exchanges[0]["i_actor"] == 2).any()
        and not (res.exchanges[0]["j_actor"] == 2).any()
    )


# ---------------------------------------------------------------- DECIDE files
def test_decide_file_scales_and_orders() -> None:
    data = read_decide(DATA / "exchange-2x2.txt")
    assert data.actor_order == ["A", "B"] and [i.id for i in data.issues] == ["P", "Q"]
    assert data.issues[0].lower == 0 and data.issues[0].upper == 100
    assert data.issues[0].actors[1].salience == 30.0  # 0.3 on DECIDE's scale


GOOD = (DATA / "exchange-2x2.txt").read_text()
BAD_DECIDE = [
    (GOOD.replace("'#M'\t'P'\t0", "'#X'\t'P'\t0"), "row 4, field 1: unknown row type '#X'"),
    (GOOD.replace("'#D'\t'B'\t'P'", "'#D'\t'C'\t'P'"), "row 11, field 2: actor 'C' has no #A row"),
    (GOOD.replace("'#D'\t'A'\t'Q'", "'#D'\t'A'\t'R'"), "row 10, field 3: issue 'R' has no #P"),
    (GOOD.replace("\t0\t0.6\t1", "\tlow\t0.6\t1"), "row 9, field 4: position: expected a number"),
    (GOOD.replace("\t0.6\t1", "\t60\t1"), "row 9, field 5: salience 60; expected 0 to 1"),
    (GOOD.replace("\t0.6\t1", "\t0.6\t-1"), "row 9, field 6: power -1; expected 0 to 100"),
    (
        GOOD.replace("'#D'\t'A'\t'P'\t0", "'#D'\t'A'\t'P'\t120"),
        "row 9, field 4: position 120 outside",
    ),
    (GOOD + "'#D'\t'A'\t'P'\t10\t0.5\t1\n", "row 13: second #D row for actor 'A' on issue 'P'"),
    (
        GOOD.replace("'#A'\t'B'\t'Actor B'", "'#A'\t'A'\t'Actor B'"),
        "row 2, field 2: actor 'A' defined",
    ),
    (GOOD + "'#P'\t'R'\t'third'\n", "row 13: issue 'R' has no #D rows"),
    (GOOD.replace("'#M'\t'P'\t100", "'#M'\t'P'\t0"), "row 3: issue 'P': its #M rows need two"),
    (
        GOOD.replace("'#D'\t'A'\t'P'\t0\t0.6\t1", "'#D'\t'A'\t'P'\t0"),
        "row 9, field 5: salience: expected",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_DECIDE)
def test_bad_decide_file_names_file_and_place(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        load_actor_file(p)
    line = str(info.value)
    assert line.startswith(str(p)) and message in line and "\n" not in line


def test_bad_decide_file_cli_is_one_line_exit_2(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(BAD_DECIDE[1][0])
    r = detente("solve", p, "--model", "exchange")
    assert r.returncode == 2
    assert str(p) in r.stderr and "actor 'C' has no #A row" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cli_json_shapes(tmp_path: Path) -> None:
    r = detente("solve", DATA / "exchange-2x2.txt", "-m", "exchange", "--json", "--rounds", "1")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    ex = doc["models"]["exchange"]
    assert doc["issues"] == ["P", "Q"] and doc["actors"] == ["A", "B"]
    assert ex["forecast"] == pytest.approx({"P": 0.0, "Q": 100 / 9})
    assert ex["history"][0]["positions"] == {"A": {"P": 0.0, "Q": 25.0}, "B": {"P": 0.0, "Q": 0.0}}
    assert ex["exchanges"][0]["i"]["supplies"] == "Q" and ex["exchanges"][0]["gain"] > 0
    r = detente("solve", DATA / "exchange-2x2.txt", "--json", "--rounds", "2")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    by_issue = {d["issue"]: d["models"] for d in doc["issues"]}
    assert list(by_issue["P"]) == ["compromise", "median", "eum", "exchange"]
    assert by_issue["Q"]["exchange"]["forecast"] == pytest.approx(28 * 0.4 / 0.9)
    assert doc["exchange"]["rounds"] == 2
    r = detente("solve", DATA / "exchange-2x2.txt", "-m", "exchange")
    assert r.returncode == 0 and "Exchange model (equal gain)" in r.stdout


def test_yaml_actor_table_runs_jointly(tmp_path: Path) -> None:
    p = tmp_path / "t.yaml"
    p.write_text(
        """
actors:
  A: {capability: 1}
  B: {capability: 1}
issues:
  - id: P
    positions:
      A: {position: 0, salience: 60}
      B: {position: 100, salience: 30}
  - id: Q
    positions:
      A: {position: 100, salience: 40}
      B: {position: 0, salience: 50}
"""
    )
    data = load_actor_file(p)
    yaml_run = solve_exchange(data.issues, data.actor_order).result
    decide = load_actor_file(DATA / "exchange-2x2.txt")
    decide_run = solve_exchange(decide.issues, decide.actor_order).result
    np.testing.assert_allclose(yaml_run.forecast, decide_run.forecast, atol=1e-12)


# ---------------------------------------------------------------- DEU and coercion
def test_deu_runs_each_proposal_jointly(tmp_path: Path) -> None:
    head = "prnr\tisnr\tpcom\tpde\tpfr\tscom\tsde\tsfr\trp\tout\n"
    caps = "\t\t1\t1\t1\t\t\t\t\t\n"
    rows = (
        "7\t1\t0\t100\t50\t60\t30\t10\t\t20\n"
        "7\t2\t100\t0\t50\t40\t50\t10\t\t20\n"
        "8\t1\t10\t90\t\t50\t50\t\t\t40\n"
    )
    p = tmp_path / "d.tsv"
    p.write_text(head + caps + rows)
    data = read_deu(p)
    assert [i.proposal for i in data.issues] == ["7", "7", "8"]
    got = forecast_exchange(data)
    joint = Exchange().solve_issues(
        IssueArrays.from_2d(
            [[1, 1], [1, 1], [1, 1]],
            [[0, 100], [100, 0], [50, 50]],
            [[0.6, 0.4], [0.3, 0.5], [0.1, 0.1]],
        )
    )
    np.testing.assert_allclose(got[:2], joint.forecast[0], atol=1e-12)
    assert got[2] == pytest.approx(50.0)  # one issue: the mean
    res = backtest_deu(data, models=("compromise", "exchange"))
    assert res["models"]["exchange"]["n"] == 3  # type: ignore[index]


def test_exchange_as_the_coercion_stance_engine() -> None:
    """On one issue (the target's factions) the model has nothing to trade: the compromise."""
    from .test_coercion import NEUTRAL, p24

    data = dict(NEUTRAL, engine="exchange")
    assert p24(data) == p24(dict(NEUTRAL, engine="compromise"))


def test_round_counts_are_consistent() -> None:
    res = Exchange(rounds=2).solve_issues(random_table(np.random.default_rng(1), 5, 3))
    c = res.counts[0]
    assert c.executed.sum() == len(res.exchanges[0]) > 0
    assert (c.executed <= c.valid).all() and (c.valid <= c.candidates).all()
