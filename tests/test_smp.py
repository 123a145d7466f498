"""KTAB's Spatial Model of Politics: the reference runs, cases worked by hand, properties."""

from __future__ import annotations

import csv
import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.engines import ActorArrays, SpatialActors, SpatialPolitics, make_engine
from detente.engines.smp import _Actors, _challenges, _State, fold_sum, libm_square
from detente.errors import InputError
from detente.scenario import load_actor_file
from detente.scenario.ktab import spatial_table

from .conftest import ROOT
from .smp_literal import Literal

EXAMPLES = ROOT / "examples" / "ktab"
SHARED = ROOT.parent / "shared" / "data" / "ktab"
needs_shared = pytest.mark.skipif(
    not (SHARED / "outputs").exists(), reason="needs KTAB's reference runs in ../shared/data/ktab"
)
INPUTS = sorted(p.name for p in EXAMPLES.glob("*.csv"))


def table(path: Path) -> SpatialActors:
    data = load_actor_file(path)
    return spatial_table(data, data.issues).arrays()


def reference_positions(name: str) -> tuple[list[str], np.ndarray]:
    """``outputs/<name>.positions.csv`` as (actors in file order, array (turns + 1, n, dims))."""
    rows = list(csv.DictReader((SHARED / "outputs" / f"{name}.positions.csv").open()))
    actors = list(dict.fromkeys(r["actor"] for r in rows))
    turns = max(int(r["turn"]) for r in rows)
    dims = max(int(r["dim"]) for r in rows) + 1
    out = np.full((turns + 1, len(actors), dims), np.nan)
    index = {a: i for i, a in enumerate(actors)}
    for r in rows:
        out[int(r["turn"]), index[r["actor"]], int(r["dim"])] = float(r["position"])
    return actors, out


def reference_outcome(name: str) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    with (SHARED / "outputs" / f"{name}.outcome.csv").open() as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for r in rows:
            if r["kind"] in ("expected_position", "most_probable_position"):
                out.setdefault(r["kind"], {})[int(r["dim"])] = float(r["value"])
            elif r["kind"] == "unique_position" and r["dim"] == "0":
                out.setdefault("unique", {})[int(r["actor_index"])] = float(r["prob"])
    return out


# ------------------------------------------------------------------------------------------
# KTAB's own runs


@needs_shared
@pytest.mark.parametrize("name", INPUTS)
def test_cli_reproduces_every_turn_of_ktabs_run(name: str) -> None:
    """``detente solve FILE --model smp --json`` against smpc's VectorPosition table."""
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "detente",
            "solve",
            str(EXAMPLES / name),
            "--model",
            "smp",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    smp = doc["models"]["smp"]
    actors, ref = reference_positions(name)
    assert [a["name"] for a in doc["actors"]] == actors
    hist = np.array(smp["history"])
    assert hist.shape == ref.shape  # the same number of turns, actors and dimensions
    assert smp["turns"] == ref.shape[0] - 1
    assert np.abs(hist - ref).max() <= 1e-9
    outcome = reference_outcome(name)
    dims = ref.shape[2]
    expected = [outcome["expected_position"][k] for k in range(dims)]
    likeliest = [outcome["most_probable_position"][k] for k in range(dims)]
    np.testing.assert_allclose(smp["forecast"], expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(smp["most_probable"], likeliest, rtol=0, atol=1e-9)


@needs_shared
@pytest.mark.parametrize("name", INPUTS)
def test_risk_attitudes_and_probabilities_match_ktab(name: str) -> None:
    """Each state's risk attitudes, and the final state's distinct positions and probabilities."""
    res = SpatialPolitics().solve_nd(table(EXAMPLES / name))
    rows = list(csv.DictReader((SHARED / "outputs" / f"{name}.turns.csv").open()))
    turns = int(res.turns[0])
    risk = np.full(res.risk.shape[1:], np.nan)
    final_prob = {}
    for r in rows:
        risk[int(r["turn"]), int(r["actor_index"])] = float(r["risk_attitude"])
        if int(r["turn"]) == turns:
            final_prob[int(r["actor_index"])] = float(r["prob_objective"])
    np.testing.assert_allclose(res.risk[0, : turns + 1], risk[: turns + 1], rtol=0, atol=1e-12)
    probs = res.actor_probability[0]
    np.testing.assert_allclose(
        [probs[i] for i in sorted(final_prob)],
        [final_prob[i] for i in sorted(final_prob)],
        rtol=0,
        atol=1e-12,
    )
    unique = reference_outcome(name)["unique"]
    assert np.flatnonzero(res.representative[0]).tolist() == sorted(unique)
    np.testing.assert_allclose(
        res.probability[0, sorted(unique)], [unique[i] for i in sorted(unique)], rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("name", ["SOE-Policy.csv", "SOE-Competitive.csv", "dummyData_6Dim.csv"])
def test_actor_order_permutes_the_positions(name: str) -> None:
    """Reordering the table reorders the history. KTAB breaks exact ties by table order: in
    SOE-Competitive two identical actors (27 and 28) are tied as targets and the challenger
    picks the first, so only the set of positions (which twin moved) is order-free."""
    a = table(EXAMPLES / name)
    base = SpatialPolitics().solve_nd(a)
    for perm in (np.arange(a.n_actors)[::-1], np.roll(np.arange(a.n_actors), 5)):
        moved = SpatialActors(a.capability[:, perm], a.position[:, perm], a.salience[:, perm])
        res = SpatialPolitics().solve_nd(moved)
        assert res.turns.tolist() == base.turns.tolist()
        ours = np.sort(base.history[0][:, perm], axis=1)
        theirs = np.sort(res.history[0], axis=1)
        assert np.abs(ours - theirs).max() <= 1e-9


# ------------------------------------------------------------------------------------------
# Worked by hand


def test_two_actors_by_hand() -> None:
    """A (capability 100, position 20) and B (50, at 80), both salience 100; d = 0.6.

    Risk-neutral PCE: c_AB = 1e-8 + 100 d, c_BA = 1e-8 + 50 d, so p_A = 2/3 > p_B and
    R_A = +1, R_B = -1/2; A sees B's R as (2 R_A + R_B)/3 = 1/2, B sees A's as 0.
    A challenging B, with U_AA = 1, U_AB = (1 - d)(1 + d) = 0.64, U_BA = (1 - d)(1 + d/2) = 0.52,
    U_BB = 1: chij = 100 (1 - 0.64) = 36, chji = 50 (1 - 0.52) = 24 (+1e-10 each), so
    P = 0.6 and the gain is d^2 (1 - 2 s_B (1 - P)) = 0.36 x 0.2 = 0.072.
    B challenging A: U_BA = (1 - d)(1 - d/2) = 0.28, so chij = 50 x 0.72 = 36, chji = 100 x 0.6
    = 60, P = 0.375, gain (1 - 0.28)(1 - 2 x 0.625) = -0.18: no challenge.
    Bargain (A wins with 0.6): w_A = 0.36, w_B = 0.16: both to
    round4((0.360001 x 0.2 + 0.16 x 0.8) / 0.520001) = round4(0.3846...) = 0.3846.
    Election (A's queue: status quo, bargain): status quo utilities (1 + 0.4 x 1.6)/2 = 0.82 for
    A, (0.4 x 0.7 + 1)/2 = 0.64 for B; after the bargain 1 - 0.1846^2 = 0.9659 for A and
    0.5846 x (1 - 0.4154/2) = 0.4632 for B: votes 100 x 0.1459 for, 50 x 0.1768 against, so
    the bargain wins (0.62 to 0.38) in both queues and both move to 38.46. Turn 2: nobody can
    gain, the move is 0 < 2% of the first, the run stops.
    """
    actors = SpatialActors.from_table([100.0, 50.0], [[20.0], [80.0]], [[1.0], [1.0]])
    act = _Actors.of(actors.capability, actors.salience)
    st0 = _State.of(actors.position / 100.0, act)
    np.testing.assert_allclose(st0.nra[0], [1.0, -0.5], atol=1e-12)
    edu, p = _challenges(st0, act, st0.perceived_risk())
    np.testing.assert_allclose(edu[0, 0, 1], 0.072, atol=1e-9)
    np.testing.assert_allclose(edu[0, 1, 0], -0.18, atol=1e-9)
    np.testing.assert_allclose(p[0, 0, 1], 0.6, atol=1e-9)
    np.testing.assert_allclose(p[0, 1, 0], 0.375, atol=1e-9)
    res = SpatialPolitics().solve_nd(actors)
    assert res.turns.tolist() == [2]
    np.testing.assert_allclose(
        res.history[0, :, :, 0], [[20, 80], [38.46, 38.46], [38.46, 38.46]], atol=1e-12
    )
    np.testing.assert_allclose(res.expected[0], [38.46], atol=1e-12)
    assert res.representative[0].tolist() == [True, False]
    assert res.probability[0, 0] == 1.0


def test_two_actors_mirrored() -> None:
    """The same pair with the roles swapped: B is now the stronger and both move to
    round4(0.615384...) = 0.6154."""
    actors = SpatialActors.from_table([50.0, 100.0], [[20.0], [80.0]], [[1.0], [1.0]])
    res = SpatialPolitics().solve_nd(actors)
    np.testing.assert_allclose(res.history[0, 1, :, 0], [61.54, 61.54], atol=1e-12)


def test_low_salience_target_does_not_resist() -> None:
    """With s_B = 0.1 the challenge gain d^2 (1 - 2 s_B (1 - P)) is close to d^2: A still
    challenges, and the bargain leans to A's side (w_B = s_B^2 (1 - P)^2 is tiny)."""
    actors = SpatialActors.from_table([100.0, 50.0], [[20.0], [80.0]], [[1.0], [0.1]])
    res = SpatialPolitics().solve_nd(actors)
    assert res.history[0, 1, 1, 0] < 25.0


# ------------------------------------------------------------------------------------------
# Properties


def test_one_actor_stays_put() -> None:
    res = SpatialPolitics().solve_nd(SpatialActors.from_table([3.0], [[42.0, 7.0]], [[0.5, 0.3]]))
    assert res.turns.tolist() == [2]
    # KTAB's scaling: x / 100 inside, then x * 100 out (7 comes back as 7.000000000000001)
    np.testing.assert_array_equal(res.history[0, -1, 0], np.array([42.0, 7.0]) / 100.0 * 100.0)
    np.testing.assert_allclose(res.expected[0], [42.0, 7.0], rtol=1e-15)
    assert res.probability[0].tolist() == [1.0]


@given(
    n=st.integers(1, 6),
    x=st.floats(0, 100),
    caps=st.lists(st.floats(0.1, 1000), min_size=6, max_size=6),
    sal=st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
)
@settings(max_examples=30, deadline=None)
def test_equal_positions_nobody_moves(
    n: int, x: float, caps: list[float], sal: list[float]
) -> None:
    actors = SpatialActors.from_table(caps[:n], [[x]] * n, [[s] for s in sal[:n]])
    res = SpatialPolitics().solve_nd(actors)
    assert res.turns.tolist() == [2]
    assert np.all(res.history[0] == x / 100.0 * 100.0)
    np.testing.assert_allclose(res.expected[0], [x], rtol=1e-15, atol=1e-300)


@st.composite
def small_tables(draw: st.DrawFn) -> tuple[list[float], list[list[float]], list[list[float]]]:
    n = draw(st.integers(1, 5))
    d = draw(st.integers(1, 3))
    caps = [draw(st.floats(0.5, 500)) for _ in range(n)]
    pos = [[draw(st.floats(0, 100)) for _ in range(d)] for _ in range(n)]
    sal = []
    for _ in range(n):
        raw = [draw(st.floats(0.01, 1.0)) for _ in range(d)]
        total = draw(st.floats(0.05, 1.0))
        sal.append([total * v / sum(raw) * 0.999 for v in raw])
    return caps, pos, sal


@given(small_tables())
@settings(max_examples=25, deadline=None)
def test_vectorised_engine_equals_literal_transcription(
    t: tuple[list[float], list[list[float]], list[list[float]]],
) -> None:
    """Bit for bit the same positions as a loop-by-loop transcription of KTAB's turn."""
    caps, pos, sal = t
    literal = Literal(caps, [[x / 100.0 for x in p] for p in pos], sal).run()
    res = SpatialPolitics().solve_nd(SpatialActors.from_table(caps, pos, sal))
    assert int(res.turns[0]) == len(literal) - 1
    np.testing.assert_array_equal(res.history[0, : len(literal)], np.array(literal) * 100.0)


@given(small_tables(), st.randoms(use_true_random=False))
@settings(max_examples=25, deadline=None)
def test_actor_order_does_not_change_the_outcome(
    t: tuple[list[float], list[list[float]], list[list[float]]], rnd: random.Random
) -> None:
    """Permuting the actors permutes every turn's positions (as a set, to 1e-9)."""
    caps, pos, sal = t
    perm = list(range(len(caps)))
    rnd.shuffle(perm)
    a = SpatialPolitics().solve_nd(SpatialActors.from_table(caps, pos, sal))
    b = SpatialPolitics().solve_nd(
        SpatialActors.from_table(
            [caps[i] for i in perm], [pos[i] for i in perm], [sal[i] for i in perm]
        )
    )
    assert a.turns.tolist() == b.turns.tolist()
    np.testing.assert_allclose(
        np.sort(a.history[0][:, perm], axis=1), np.sort(b.history[0], axis=1), rtol=0, atol=1e-9
    )


def test_draws_are_independent() -> None:
    """A batch of tables gives each table's own result, whatever else is in the batch."""
    rng = np.random.default_rng(7)
    b, n, d = 9, 6, 2
    actors = SpatialActors(
        capability=rng.uniform(1, 100, (b, n)),
        position=rng.uniform(0, 100, (b, n, d)),
        salience=rng.uniform(0.05, 0.5, (b, n, d)),
    )
    batch = SpatialPolitics().solve_nd(actors)
    for k in range(b):
        one = SpatialPolitics().solve_nd(actors.take(slice(k, k + 1)))
        t = int(one.turns[0])
        assert batch.turns[k] == t
        np.testing.assert_array_equal(batch.history[k, : t + 1], one.history[0])
        np.testing.assert_array_equal(
            batch.history[k, t:], np.broadcast_to(one.history[0, -1], batch.history[k, t:].shape)
        )
        np.testing.assert_array_equal(batch.expected[k], one.expected[0])


def test_chunks_and_threads_change_no_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """Draws split into chunks (run on threads) give the numbers of one call on all of them."""
    import detente.engines.smp as smp

    rng = np.random.default_rng(11)
    actors = SpatialActors(
        capability=rng.uniform(1, 100, (23, 5)),
        position=rng.uniform(0, 100, (23, 5, 2)),
        salience=rng.uniform(0.05, 0.5, (23, 5, 2)),
    )
    whole = SpatialPolitics().solve_nd(actors)
    monkeypatch.setattr(smp, "_CHUNK_ELEMENTS", 5 * 5 * 7 * 4)  # chunks of 4 draws
    monkeypatch.setattr(smp, "_BLOCK_ELEMENTS", 1)  # and one challenger per block
    parts = SpatialPolitics().solve_nd(actors)
    np.testing.assert_array_equal(whole.history, parts.history)
    np.testing.assert_array_equal(whole.turns, parts.turns)
    np.testing.assert_array_equal(whole.expected, parts.expected)


def test_one_dimensional_interface() -> None:
    """``solve`` (the engines' interface) is ``solve_nd`` with one dimension."""
    rng = np.random.default_rng(3)
    arrays = ActorArrays(
        capability=rng.uniform(1, 10, (4, 7)),
        position=rng.uniform(0, 100, (4, 7)),
        salience=rng.uniform(0.1, 1.0, (4, 7)),
    )
    res = make_engine("smp").solve(arrays)
    nd = SpatialPolitics().solve_nd(SpatialActors.from_arrays(arrays))
    np.testing.assert_array_equal(res.forecast, nd.expected[:, 0])
    np.testing.assert_array_equal(res.history_positions, nd.history[:, :, :, 0])
    assert res.history_mean is not None and res.history_mean.shape == (4, nd.history.shape[1])


def test_degenerate_inputs_do_not_break() -> None:
    """Zero capability, zero salience on every dimension (KTAB throws on both): a number out."""
    arrays = ActorArrays.from_1d([0.0, 1.0, 2.0], [10.0, 50.0, 90.0], [0.5, 0.0, 1.0])
    res = SpatialPolitics().solve(arrays)
    assert np.isfinite(res.forecast).all()
    assert res.history_positions is not None and np.isfinite(res.history_positions).all()


# ------------------------------------------------------------------------------------------
# Primitives


@pytest.mark.parametrize("shape", [(7,), (9, 1), (12, 2), (30, 3, 4), (200, 5, 5, 5), (17, 1, 1)])
def test_fold_sum_is_a_left_fold(shape: tuple[int, ...]) -> None:
    """numpy's reduction over the first axis must add in order (not pairwise); this catches a
    numpy that would change that."""
    rng = np.random.default_rng(len(shape))
    terms = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, shape)
    flat = terms.reshape(shape[0], -1)
    expected = []
    for col in range(flat.shape[1]):
        total = 0.0
        for k in range(flat.shape[0]):
            total = total + float(flat[k, col])
        expected.append(total)
    got = fold_sum(terms).reshape(-1)
    assert got.tolist() == expected


def test_libm_square_is_pow() -> None:
    """KTAB calls C's pow(x, 2.0), which differs from x * x in the last bit for some x."""
    rng = np.random.default_rng(0)
    roots = np.sqrt(0.5 ** np.arange(1, 60))  # squares at powers of two, where spacing halves
    near = np.concatenate([roots + k * np.spacing(roots) for k in range(-3, 4)])
    x = np.concatenate([rng.uniform(0, 1, 100_000), near, [0.0, 1.0, 1e-200, 0.5]])
    expected = [math.pow(float(v), 2.0) for v in x]
    assert libm_square(x).tolist() == expected


# ------------------------------------------------------------------------------------------
# Files and the command line

GOOD = (
    "Scen,Desc,3,2,\n"
    "Actor,Description,Power,P1,S1,P2,S2\n"
    "A,x,10,20,50,30,40,\n"
    "B,y,20,60,30,70,20,\n"
    "C,z,30,90,10,10,90,\n"
)


def test_ktab_csv_becomes_one_issue_per_dimension(tmp_path: Path) -> None:
    p = tmp_path / "k.csv"
    p.write_text(GOOD)
    data = load_actor_file(p)
    assert data.title == "Scen: Desc"
    assert [i.id for i in data.issues] == ["P1", "P2"]
    t = spatial_table(data, data.issues)
    assert t.actors == ["A", "B", "C"] and t.capability == [10.0, 20.0, 30.0]
    assert t.position == [[20.0, 30.0], [60.0, 70.0], [90.0, 10.0]]
    assert t.salience == [[50.0, 40.0], [30.0, 20.0], [10.0, 90.0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Scen,Desc,3,2\n", r"k.csv: expected a scenario line, a header line and actor lines"),
        (
            GOOD.replace("Scen,Desc,3,2,", "Scen,Desc,4,2,"),
            r"line 1: the scenario line announces 4 actors but the file has 3",
        ),
        (
            GOOD.replace("Scen,Desc,3,2,", "Scen,Desc,3,0,"),
            r"line 1: the number of dimensions must be at least 1",
        ),
        (GOOD.replace(",P2,S2", ""), r"line 2: expected a header of 7 names"),
        (
            GOOD.replace("A,x,10,", "A,x,ten,"),
            r"line 3, field 'Power': expected a number, got 'ten'",
        ),
        (
            GOOD.replace("A,x,10,", "A,x,0,"),
            r"line 3, field 'Power': expected a capability above 0",
        ),
        (
            GOOD.replace("B,y,20,60,", "B,y,20,160,"),
            r"line 4, field 'P1': expected a position from 0 to 100, got 160",
        ),
        (
            GOOD.replace("B,y,20,60,30,", "B,y,20,60,-3,"),
            r"line 4, field 'S1': expected a salience from 0 to 100",
        ),
        (
            GOOD.replace("C,z,30,90,10,10,90,", "C,z,30,90,20,10,90,"),
            r"line 5, field 'S2': the saliences of 'C' sum to more than 100",
        ),
        (GOOD.replace("C,z,30,90,10,10,90,", "C,z,30,90,10,10"), r"line 5: 6 fields, expected 7"),
        (
            GOOD.replace("C,z,30,90,10,10,90,", "C,z,30,90,10,10,90,5"),
            r"line 5: 8 fields, expected 7",
        ),
        (
            GOOD.replace("C,z,", "A,z,"),
            r"line 5, field 'Actor': actor 'A' appears twice \(line 3\)",
        ),
        (GOOD.replace("A,x,10,20,", "A,x,1_0,20,"), r"line 3, field 'Power': expected a number"),
        (GOOD.replace("A,x,10,20,", "A,x,nan,20,"), r"line 3, field 'Power': expected a number"),
    ],
)
def test_bad_ktab_files_name_the_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "k.csv"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        load_actor_file(p)
    assert str(info.value).startswith(f"{p}: ")
    assert re.search(message, str(info.value)), str(info.value)


def test_a_bad_ktab_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    p = tmp_path / "k.csv"
    p.write_text(GOOD.replace("B,y,20,60,", "B,y,20,160,"))
    r = subprocess.run(
        [sys.executable, "-m", "detente", "solve", str(p), "--model", "smp"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"error: {p}: line 4, field 'P1': expected a position from 0 to 100, got 160"
    ]


YAML = """
title: two issues
actors:
  A: {capability: 10}
  B: {capability: 20}
  C: {capability: 30}
issues:
  - id: tax
    positions:
      A: {position: 20, salience: 50}
      B: {position: 60, salience: 30}
      C: {position: 90, salience: 10}
  - id: trade
    positions:
      A: {position: 30, salience: 40}
      B: {position: 70, salience: 20}
      C: {position: 10, salience: 90}
"""


def run_json(*args: str | Path) -> dict[str, object]:
    r = subprocess.run(
        [sys.executable, "-m", "detente", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_yaml_issues_are_the_dimensions_and_match_the_ktab_file(tmp_path: Path) -> None:
    """The same table as a detente YAML file and as a KTAB file gives the same run."""
    y = tmp_path / "t.yaml"
    y.write_text(YAML)
    k = tmp_path / "k.csv"
    k.write_text(GOOD)
    a = run_json("solve", y, "--model", "smp", "--json")
    b = run_json("solve", k, "--model", "smp", "--json")
    assert a["dimensions"] == ["tax", "trade"]
    sa, sb = a["models"]["smp"], b["models"]["smp"]  # type: ignore[index]
    assert sa["history"] == sb["history"] and sa["forecast"] == sb["forecast"]
    hist = sa["history"]
    assert len(hist) == sa["turns"] + 1 and len(hist[0]) == 3 and len(hist[0][0]) == 2
    assert hist[0] == [[20.0, 30.0], [60.0, 70.0], [90.0, 10.0]]
    assert len(sa["forecast"]) == 2
    one = run_json("solve", y, "--model", "smp", "--issue", "trade", "--json")
    assert one["dimensions"] == ["trade"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("C: {position: 10, salience: 90}", "C: {position: 10, salience: 95}"),
            r"actor 'C': saliences sum to 105",
        ),
        (
            ("      C: {position: 10, salience: 90}\n", ""),
            r"issue 'trade': actor 'C' has no position here",
        ),
        (
            ("B: {position: 70, salience: 20}", "B: {position: 170, salience: 20}"),
            r"position 170: the SMP needs positions from 0 to 100",
        ),
    ],
)
def test_tables_the_smp_cannot_take(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    y = tmp_path / "t.yaml"
    y.write_text(YAML.replace(*edit))
    data = load_actor_file(y)
    with pytest.raises(InputError) as info:
        spatial_table(data, data.issues)
    assert str(info.value).startswith(f"{y}: ")
    assert re.search(message, str(info.value)), str(info.value)


def test_solve_prints_the_smp_table() -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "detente",
            "solve",
            str(EXAMPLES / "SOE-Pol-Comp.csv"),
            "--model",
            "smp",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    for word in (
        "SMP (KTAB's Spatial Model of Politics), 27 turns",
        "Policy Position",
        "expected",
        "XJ",
    ):
        assert word in r.stdout


def test_smp_in_the_deu_backtest_and_as_a_coercion_engine() -> None:
    from detente.forecast import make_stance_engine
    from detente.history.deu import backtest_deu, read_deu
    from detente.scenario.coercion import load_scenario

    data = read_deu(ROOT / "examples" / "deu" / "deu3-dev.tsv")
    data = type(data)(path=data.path, actors=data.actors, issues=data.issues[:12])
    res = backtest_deu(data, models=("compromise", "smp"))
    smp = res["models"]["smp"]  # type: ignore[index]
    assert smp["n"] == 12 and math.isfinite(smp["mae"])
    scenario = load_scenario(ROOT / "examples" / "cases" / "iran-2018.yaml").model_copy(
        update={"engine": "smp"}
    )
    assert isinstance(make_stance_engine(scenario), SpatialPolitics)
