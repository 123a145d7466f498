"""The coercion model's equations against hand-computed values (docs/model.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detente.dynamics import economy, factions, leader, sender, society
from detente.dynamics.coefficients import Coefficients
from detente.engines import Compromise

A = np.array


def test_evasion_and_substitution() -> None:
    # E = E_max (1 - exp(-e / tau)): e = tau gives 63.2% of E_max
    assert economy.evasion(A([18.0]), A([0.5]), A([18.0]))[0] == pytest.approx(
        0.5 * (1 - math.e**-1)
    )
    assert economy.evasion(A([0.0]), A([0.5]), A([18.0]))[0] == 0.0
    # S = S_max (1 - exp(-max(0, t - lag) / tau)): nothing before the lag
    assert economy.substitution(5, A([0.3]), A([6.0]), A([36.0]))[0] == 0.0
    assert economy.substitution(42, A([0.3]), A([6.0]), A([36.0]))[0] == pytest.approx(
        0.3 * (1 - math.e**-1)
    )


def test_pain_target_and_lag() -> None:
    # channels: exposure 0.4 at pressure 0.5, exposure 0.2 at pressure 1: reach 0.4
    # with 25% substituted and 50% evaded: 0.4 * 0.75 * 0.5 = 0.15
    target = economy.pain_target(A([[0.5, 1.0]]), A([[0.4, 0.2]]), A([0.25]), A([0.5]))
    assert target[0] == pytest.approx(0.15)
    # p_bar = (0.4*0.5 + 0.2*1) / 0.6
    assert economy.exposure_weighted_pressure(A([[0.5, 1.0]]), A([[0.4, 0.2]]))[0] == (
        pytest.approx(0.4 / 0.6)
    )
    # follow: y + (target - y) / tau
    assert economy.follow(A([0.0]), A([0.15]), A([3.0]))[0] == pytest.approx(0.05)
    assert economy.follow(A([0.0]), A([0.15]), A([0.5]))[0] == pytest.approx(0.15)  # tau >= 1


def test_discontent_rally_instability() -> None:
    assert society.discontent_target(A([0.3]), A([1.0]), A([0.25]))[0] == pytest.approx(0.55)
    assert society.discontent_target(A([0.9]), A([2.0]), A([0.5]))[0] == 1.0
    r = society.rally(
        A([0.2]), A([0.9]), A([1.0]), A([0.0]), A([1.0]), A([0.1]), A([0.15]), A([0.2])
    )
    assert r[0] == pytest.approx(0.9 * 0.2 + 0.1 + 0.2)
    # at D - R = theta, instability is 1/2; the rally lowers it
    assert society.instability(A([0.6]), A([0.1]), A([0.5]), A([10.0]))[0] == pytest.approx(0.5)
    low = society.instability(A([0.6]), A([0.3]), A([0.5]), A([10.0]))[0]
    assert low == pytest.approx(1 / (1 + math.exp(2.0)))


def coef(**changes: float) -> Coefficients:
    base = dict(
        tau_pain=3, tau_evasion=18, tau_substitution=36, tau_discontent=6,
        instability_threshold=0.5, instability_steepness=10, rally_threat=0.1,
        rally_betrayal=0.15, rally_failed_talks=0.15, rally_retention=0.9,
        betrayal_trust_cut=0.7, salience_gain=0.5, capability_gain=1.0, betrayal_shift=0.3,
        threat_shift=0.1, w_relief=4, w_instability=4, w_legitimacy=3, w_legacy=2, w_elite=2,
        w_rally=2, w_concession=2, opportunity_base=0.1, offer_window=3, pain_scale=0.15,
        w_duress=1.5, w_own=1.5, secrecy_discount=0.6, mediation_discount=0.8,
        mediated_value=0.5, offer_rate=0.1, mediation_rate=0.1, channel_open=0.5,
        back_channel_working=0.5, sender_election_cost=0.3, sender_election_window=6,
    )  # fmt: skip
    base.update(changes)
    return Coefficients.constant(1, **base)


def test_leader_utility_by_hand() -> None:
    felt = leader.felt_pain(A([0.15]), A([0.15]))
    assert felt[0] == pytest.approx(1 - math.e**-1)
    # V = P~ (1 - A (1 - T)): trust 0.5, aim 0.4 -> 1 - 0.4 * 0.5 = 0.8 of the felt pain
    v = leader.deal_value(A([0.5]), A([0.4]), A([0.5]))
    assert v[0] == pytest.approx(0.5 * 0.8)
    common = leader.common_utility(
        coef(), v, A([0.3]), A([0.9]), A([25.0]), A([0.25]), A([0.4]), A([0.5]), A([20.0]),
        A([80.0]),
    )  # fmt: skip
    # 4*0.4 + 4*0.3 - 2*0.9 + 2*2*0.25*(25-50)/50 - 2*0.4*0.5 + 1.5*0.8*(20-50)/50
    expected_common = 1.6 + 1.2 - 1.8 - 0.5 - 0.4 - 0.72
    assert common[0] == pytest.approx(expected_common)
    face = leader.face_utility(coef(), A([-0.8]), A([0.5]), A([0.1]))
    # 3*(-0.8) + 1.5*(-0.8)*0.5 - 2*0.1
    assert face[0] == pytest.approx(-2.4 - 0.6 - 0.2)
    # a leader whom talks legitimise pays no duress cost
    assert leader.face_utility(coef(), A([0.5]), A([1.0]), A([0.0]))[0] == pytest.approx(1.5)
    pub, sec, med = leader.channel_utilities(coef(), common, face, v)
    assert pub[0] == pytest.approx(expected_common - 3.2)
    assert sec[0] == pytest.approx(expected_common - 0.4 * 3.2)
    assert med[0] == pytest.approx(expected_common - 0.5 * 4 * 0.4 - 0.2 * 3.2)
    assert leader.accept(A([0.0]))[0] == 0.5


def test_competing_channels_by_hand() -> None:
    h = A([[0.2], [0.1], [0.0]])  # channels first: public, secret, mediated; one draw
    first = leader.first_opening(h)
    # the month's chance that some channel opens, 1 - 0.8 * 0.9 = 0.28, shared 2:1:0
    np.testing.assert_allclose(first, [[0.28 * 2 / 3], [0.28 / 3], [0.0]])
    assert leader.first_opening(A([[0.0], [0.0], [0.0]])).tolist() == [[0.0], [0.0], [0.0]]


def test_sender_side_by_hand() -> None:
    # open 0.8, cost 0.2; 3 months before an election inside a 6-month window: cost + 0.3
    w = sender.willingness(A([0.8, 0.8]), A([0.2, 0.2]), A([3.0, 12.0]), A([0.3, 0.3]),
                           A([6.0, 6.0]))  # fmt: skip
    np.testing.assert_allclose(w, [0.8 * 0.5, 0.8 * 0.8])
    # an offer in the record: on the table; then kept with chance 1 - 1/3 a month
    live = sender.live_offer(A([0.0]), A([1.0]), A([3.0]))
    assert live[0] == 1.0
    live = sender.live_offer(live, A([0.0]), A([3.0]))
    assert live[0] == pytest.approx(2 / 3)
    live = sender.live_offer(live, A([0.1]), A([3.0]))
    assert live[0] == pytest.approx(1 - (1 - 4 / 9) * 0.9)
    o = sender.opportunities(
        willing=A([0.5]), openness=A([0.8]), base=A([0.1]), standing=A([0.0]),
        channel_open=A([0.5]), mediator=A([0.6]), offer_public=A([0.2]),
        offer_secret=A([0.0]), offer_mediated=A([0.0]),
    )  # fmt: skip
    o_pub = 1 - (1 - 0.5 * 0.1) * 0.8
    np.testing.assert_allclose(o, [[o_pub], [0.6 * o_pub], [0.6 * 0.8 * 0.1]])
    # diplomatic relations: the standing channel opens with chance channel_open
    o = sender.opportunities(
        willing=A([1.0]), openness=A([1.0]), base=A([0.1]), standing=A([1.0]),
        channel_open=A([0.5]), mediator=A([0.0]), offer_public=A([0.0]),
        offer_secret=A([0.0]), offer_mediated=A([0.0]),
    )  # fmt: skip
    base_pub = 1 - 0.9 * 0.5
    np.testing.assert_allclose(o, [[base_pub], [base_pub], [0.0]])


def test_factions_voice_shift_and_stance() -> None:
    sal, cap = factions.voice(
        A([[40.0, 80.0]]),
        A([[10.0, 10.0]]),
        A([[1.0, 0.0]]),
        A([0.2]),
        A([0.5]),
        A([0.5]),
        A([1.0]),
    )
    # relief seeker: 40 + 60 * 0.5 * 1 * 0.2 = 46; capability 10 * (1 + 1 * 1 * 0.5) = 15
    assert sal.tolist() == [[46.0, 80.0]] and cap.tolist() == [[15.0, 10.0]]
    pos = factions.shift_to_refusal(A([[50.0, 100.0]]), A([1.0]), A([1.0]), A([0.3]), A([0.1]))
    np.testing.assert_allclose(pos, [[50 * 0.7 * 0.9, 100 * 0.7 * 0.9]])
    # leader (index 0) left out: stance of factions 1 and 2, weights 1*0.5 and 3*0.5
    s = factions.stance(
        Compromise(), A([[100.0, 1.0, 3.0]]), A([[0.0, 20.0, 60.0]]), A([[100.0, 50.0, 50.0]]), 0
    )
    assert s[0] == pytest.approx((20 * 0.5 + 60 * 1.5) / 2.0)
