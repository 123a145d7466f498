"""The expected utility model: Scholz's program reproduced, and hand-derived values.

Tests that solve run on both paths: numpy and the compiled kernel (where numba is installed).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from detente.engines import ActorArrays, ExpectedUtility
from detente.engines import eum as E

KERNELS = ["numpy"] + (["compiled"] if importlib.util.find_spec("numba") else [])
both_kernels = pytest.mark.parametrize("kernel", KERNELS)

# Scholz's program (via a public replication checked against it), worked example, 10 rounds:
# the capability x salience weighted mean after each round (round 0 = the input).
REFERENCE_MEAN = [
    7.389955686853767,
    7.461314378277189,
    7.552500865855845,
    7.590144997451547,
    7.358130531334201,
    7.3491739896752115,
    7.414877545372958,
    7.510457183677219,
    7.5724470975503,
    7.324989065683666,
    7.242130958473938,
]


@both_kernels
def test_scholz_code_reproduces_the_program_round_by_round(
    worked_example: ActorArrays, kernel: E.Kernel
) -> None:
    res = ExpectedUtility(variant="scholz-code", rounds=10, kernel=kernel).solve(worked_example)
    assert res.history_mean is not None
    np.testing.assert_allclose(res.history_mean[0], REFERENCE_MEAN, rtol=0, atol=1e-9)


@both_kernels
def test_scholz_code_round_one_moves(worked_example: ActorArrays, kernel: E.Kernel) -> None:
    res = ExpectedUtility(variant="scholz-code", kernel=kernel).solve(worked_example)
    assert res.history_positions is not None and res.rounds == 10
    first = res.history_positions[0, 1]
    # Belgium compromises with France; Luxembourg loses to Belgium; Ireland to Luxembourg.
    assert first[1] == pytest.approx(8.415932315426764, abs=1e-9)
    assert first[2] == 7.0
    assert first[7] == 4.0
    # the others stay where they were
    np.testing.assert_array_equal(first[[0, 3, 4, 5, 6, 8, 9]], [4, 4, 10, 10, 10, 4, 7])


def _two_actors() -> ActorArrays:
    # A at 0 with capability 2, B at 1 with capability 1, both salience 1.
    return ActorArrays.from_1d([2, 1], [0, 1], [1, 1])


def test_win_probability_by_hand() -> None:
    a = _two_actors()
    x, w = a.position, a.weight()
    dist = np.abs(x[:, :, None] - x[:, None, :])
    same = dist == 0
    ones = np.ones_like(x)
    # votes for A over B: A gives 2, B gives -1. Pairwise: 2 / 3. All pairs: 2 / (4 + 2) = 1/3.
    p = E.win_probability(x, w, dist, same, ones, pairwise=True)
    np.testing.assert_allclose(p[0], [[0, 2 / 3], [1 / 3, 0]])
    p = E.win_probability(x, w, dist, same, ones, pairwise=False)
    np.testing.assert_allclose(p[0], [[0, 1 / 3], [1 / 6, 0]])


def test_three_actor_support_by_hand() -> None:
    # positions 0, 1, 3 (D = 3), weights 1, 2, 3, r = 1:
    # support_01 = 1 * (1/3 - 0) = 1/3; support_10 = 2 * (1/3) + 3 * (1 - 2/3) = 5/3
    x = np.array([[0.0, 1.0, 3.0]])
    w = np.array([[1.0, 2.0, 3.0]])
    dist = np.abs(x[:, :, None] - x[:, None, :]) / 3.0
    s = E.pairwise_support(x, w, dist)
    assert s[0, 0, 1] == pytest.approx(1 / 3)
    assert s[0, 1, 0] == pytest.approx(5 / 3)
    p = E.win_probability(x, w, dist, dist == 0, np.ones_like(x), pairwise=True)
    assert p[0, 0, 1] == pytest.approx(1 / 6)


@pytest.mark.parametrize("n", [3, 7, 20, 45])
def test_sorted_support_equals_direct_sum(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.integers(0, 10, size=(4, n)).astype(float)  # many ties, on purpose
    w = rng.uniform(0, 1, size=(4, n))
    r = rng.uniform(0.5, 2, size=(4, n))
    loss = (np.abs(x[:, :, None] - x[:, None, :]) / 10.0) ** r[:, :, None]
    brute = np.einsum("bk,bkij->bij", w, np.maximum(loss[:, :, None, :] - loss[:, :, :, None], 0))
    np.testing.assert_allclose(E._support_direct(w, loss), brute, atol=1e-12)
    np.testing.assert_allclose(E._support_sorted(x, w, loss), brute, atol=1e-12)


def test_risk_exponent_mapping() -> None:
    np.testing.assert_allclose(E.risk_exponent(np.array([-1.0, 0.0, 1.0])), [2.0, 1.0, 0.5])


@both_kernels
def test_published_round_by_hand(kernel: E.Kernel) -> None:
    # Risk (all r = 1): danger_A = 4 P_BA - 2 = -2/3, danger_B = 4 P_AB - 2 = 2/3, so R_A = -1
    # (r_A = 2) and R_B = 1 (r_B = 0.5). B sees (r = 0.5, U_sq = 2 - 4 sqrt(0.5)):
    # eu(B challenges A) = 4/3 - 2 - U_sq = 0.16176; eu(A challenges B) = 8/3 - 2 - U_sq = 1.49509
    # so A's challenge beats B's and both are positive: B loses a confrontation and moves to 0.
    engine = ExpectedUtility(rounds=1)
    st = E.EUMState(
        x=np.array([[0.0, 1.0]]),
        c=np.array([[2.0, 1.0]]),
        s=np.ones((1, 2)),
        span=np.ones(1),
        fixed_r=np.full((1, 2), np.nan),
    )
    geo = E._Geometry.of(st, with_median=False)
    np.testing.assert_allclose(engine._risk_exponents(st, geo)[0], [2.0, 0.5])
    eu_ij, eu_ji = engine._challenge_utilities(st, geo, np.array([[2.0, 0.5]]))
    u_sq = 2 - 4 * np.sqrt(0.5)
    assert eu_ij[0, 1, 0] == pytest.approx(4 / 3 - 2 - u_sq)
    assert eu_ji[0, 1, 0] == pytest.approx(8 / 3 - 2 - u_sq)
    res = ExpectedUtility(rounds=1, kernel=kernel).solve(_two_actors())
    assert res.history_positions is not None
    np.testing.assert_array_equal(res.history_positions[0, 1], [0.0, 0.0])
    assert res.forecast[0] == 0.0


@both_kernels
def test_scholz_code_two_actors_do_not_move(kernel: E.Kernel) -> None:
    # With the all-pairs normalisation P_AB = 1/3 and P_BA = 1/6; B then sees
    # eu(A challenges B) = 4/3 - 2 - U_sq = 0.16176 < |eu(B challenges A)| = 0.50491: no offer.
    res = ExpectedUtility(variant="scholz-code", rounds=3, kernel=kernel).solve(_two_actors())
    assert res.history_positions is not None
    np.testing.assert_array_equal(res.history_positions[0, -1], [0.0, 1.0])


def test_published_moves_pick_the_smallest_move() -> None:
    # Receiver 0 at 50 gets a confrontation from 1 (at 0) and a compromise from 2 (at 100).
    x = np.array([[50.0, 0.0, 100.0]])
    eu_ij = np.array([[[0, 0.5, -0.2], [0, 0, 0], [0, 0, 0]]])
    eu_ji = np.array([[[0, 0.9, 0.8], [0, 0, 0], [0, 0, 0]]])
    new = E._published_moves(x, eu_ij, eu_ji)
    # compromise: 50 + 50 * 0.2 / 0.8 = 62.5 moves 12.5 < confrontation's 50
    assert new[0, 0] == pytest.approx(62.5)
    # capitulation (eu_ji < |eu_ij|) moves all the way
    eu_ij2 = np.array([[[0, -1.0, -1.0], [0, 0, 0], [0, 0, 0]]])
    eu_ji2 = np.array([[[0, 0.5, 0.0], [0, 0, 0], [0, 0, 0]]])
    assert E._published_moves(x, eu_ij2, eu_ji2)[0, 0] == 0.0


def test_status_quo_terms_change_the_utility() -> None:
    u = E.OutcomeUtilities.of(np.array([[[0.5]]]), np.ones((1, 1, 1)))
    base = E.challenge_utility(np.array([[[0.5]]]), 1.0, u, np.array([[[0.2]]]), 1.0, 1.0, True)
    # U_s = 2 - 4 (0.25) = 1, U_f = 2 - 4 (0.75) = -1, U_sq = 0: 0.5 - 0.5 = 0
    assert base[0, 0, 0] == pytest.approx(0.0)
    sq = E.challenge_utility(np.array([[[0.5]]]), 1.0, u, np.array([[[0.2]]]), 0.5, 0.8, True)
    # U_b = 2 - 4 (0.5 - 0.25 * 0.7) = 0.7, U_w = 2 - 4 (0.5 + 0.175) = -0.7
    # E = 0 - 0.5 * 0 - 0.5 * (0.8 * 0.7 + 0.2 * -0.7) = -0.21
    assert sq[0, 0, 0] == pytest.approx(-0.21)


def test_fixed_risk_attitude_is_used() -> None:
    st = E.EUMState(
        x=np.array([[0.0, 1.0]]),
        c=np.array([[2.0, 1.0]]),
        s=np.ones((1, 2)),
        span=np.ones(1),
        fixed_r=np.array([[np.nan, 1.0]]),
    )
    r = ExpectedUtility()._risk_exponents(st, E._Geometry.of(st, with_median=False))
    np.testing.assert_allclose(r[0], [2.0, 1.0])


@both_kernels
def test_published_stops_when_nothing_moves(kernel: E.Kernel) -> None:
    res = ExpectedUtility(kernel=kernel).solve(_two_actors())
    assert res.rounds == 2  # round 1 moves B, round 2 moves nothing


def test_unknown_variant() -> None:
    with pytest.raises(ValueError, match="unknown EUM variant"):
        ExpectedUtility(variant="bdm-1985")  # type: ignore[arg-type]
