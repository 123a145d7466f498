"""M4-M8: the leader's choice between resisting and opening talks, by channel, as a hazard."""

from __future__ import annotations

import numpy as np

from detente.dynamics.coefficients import Coefficients
from detente.engines.base import FloatArray


def felt_pain(pain: FloatArray, scale: FloatArray) -> FloatArray:
    """P~(t) = 1 - exp(-pain(t) / pain_scale): the pain the leader feels, 0-1.

    Pain is the share of the exposed economy cut off, a small number even in a crushing
    campaign (about 0.15 for Iran in 2019); the leader weighs how bad it is, which saturates.
    """
    return np.asarray(1.0 - np.exp(-pain / scale))


def deal_value(trust: FloatArray, regime_change: FloatArray, felt: FloatArray) -> FloatArray:
    """M6, M7: V(t) = P~(t) (1 - A (1 - T(t))), the material value the leader expects from a deal.

    A deal would lift the pain, unless the sender wants the regime gone (A: "always aimed at
    regime change") *and* cannot be trusted to keep its word (T: "the US withdrawal ... was the
    ultimate proof ... that Washington could not be trusted"). Either trust or a limited aim
    gives a deal value; with neither it is worthless.
    """
    return np.asarray(felt * (1.0 - regime_change * (1.0 - trust)))


def common_utility(
    coef: Coefficients,
    value: FloatArray,
    instability: FloatArray,
    legacy: FloatArray,
    stance: FloatArray,
    elite_share: FloatArray,
    regime_change: FloatArray,
    scope: FloatArray,
    own_position: FloatArray,
    own_salience: FloatArray,
) -> FloatArray:
    """The part of the net utility of talking that does not depend on the channel:

        U_0 = w_relief V + w_instability I - w_legacy H + 2 w_elite kappa (S - 50) / 50
              - w_concession A sigma + w_own (s_L / 100) (x_L - 50) / 50

    V the deal's value (M6, M7), I instability (M3), H the legacy weight (M8: "he would rather ...
    die as an anti-American anti-imperialist than succumb"), S the stance of the factions other
    than the leader (M9), kappa their share of capability against the leader's (a dominant leader
    is less bound by his elite; kappa = 1/2 gives the elite its full weight), A sigma the expected
    cost of conceding (M7), x_L and s_L the leader's own position on talks and its salience.
    """
    return np.asarray(
        coef.w_relief * value
        + coef.w_instability * instability
        - coef.w_legacy * legacy
        + 2.0 * coef.w_elite * elite_share * (stance - 50.0) / 50.0
        - coef.w_concession * regime_change * scope
        + coef.w_own * (own_salience / 100.0) * (own_position - 50.0) / 50.0
    )


def face_utility(
    coef: Coefficients, legitimacy: FloatArray, pressure: FloatArray, rallied: FloatArray
) -> FloatArray:
    """The public-face part: F = w_legitimacy L + w_duress min(L, 0) p_bar - w_rally R.

    L is the legitimacy effect of being seen to talk with the sender (M4: < 0 for Khamenei, whose
    "anti-Americanism is the central component of his political appeal"; > 0 for Kim Jong-un,
    who "needs the US to legitimise his regime"); for a leader whose legitimacy rests on defiance
    it costs more the harder the visible pressure p_bar ("any concession in the face of US
    intimidation"); the rally R (M5) makes resisting cheaper.
    """
    return np.asarray(
        coef.w_legitimacy * legitimacy
        + coef.w_duress * np.minimum(legitimacy, 0.0) * pressure
        - coef.w_rally * rallied
    )


def channel_utilities(
    coef: Coefficients, common: FloatArray, face: FloatArray, value: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Net utility of opening each channel (public direct, secret direct, mediated):

        U_public   = U_0 + F
        U_secret   = U_0 + (1 - d_secret) F
        U_mediated = U_0 - (1 - v_mediated) w_relief V + (1 - d_mediated) F

    Secret talks are deniable: they avoid a share d_secret of the public-face terms (the 2013
    US-Iran talks in Oman stayed secret for eight months). Talks through a mediator avoid more of
    them but deliver only a share v_mediated of the deal's value.
    """
    public = common + face
    secret = common + (1.0 - coef.secrecy_discount) * face
    mediated = (
        common
        - (1.0 - coef.mediated_value) * coef.w_relief * value
        + (1.0 - coef.mediation_discount) * face
    )
    return np.asarray(public), np.asarray(secret), np.asarray(mediated)


def accept(utility: FloatArray) -> FloatArray:
    """a = 1 / (1 + exp(-U)): the chance the leader takes a channel that is open (a random-utility
    choice)."""
    return np.asarray(1.0 / (1.0 + np.exp(-utility)))


def first_opening(hazards: FloatArray) -> FloatArray:
    """Competing risks within a month: ``hazards`` ``(K, ...)``, each channel's chance of opening
    (channels first); returns each channel's chance of opening *first*,
    h_k / sum_j h_j (1 - prod_j (1 - h_j)).

    Within a month the order is unknown; the month's chance that some channel opens is shared in
    proportion to the channels' hazards, so the shares never sum above the total.
    """
    total = hazards.sum(axis=0)
    any_open = 1.0 - np.prod(1.0 - hazards, axis=0)
    share = np.divide(hazards, total, out=np.zeros_like(hazards), where=total > 0)
    return np.asarray(share * any_open)


def openings(
    coef: Coefficients,
    chance: FloatArray,
    value: FloatArray,
    instability: FloatArray,
    stance: FloatArray,
    elite_share: FloatArray,
    regime_change: FloatArray,
    scope: FloatArray,
    pressure: FloatArray,
    rallied: FloatArray,
    legitimacy: FloatArray,
    legacy: FloatArray,
    own_position: FloatArray,
    own_salience: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """One leader's month: the utility of public talks ``(B,)`` and each channel's chance of
    opening first ``(3, B)``, h_c = o_c a_c shared by :func:`first_opening`."""
    common = common_utility(
        coef,
        value,
        instability,
        legacy,
        stance,
        elite_share,
        regime_change,
        scope,
        own_position,
        own_salience,
    )
    face = face_utility(coef, legitimacy, pressure, rallied)
    utilities = channel_utilities(coef, common, face, value)
    hazards = chance * accept(np.stack(utilities))
    return utilities[0], first_opening(hazards)
