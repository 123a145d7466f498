"""The leader's choice: M4 legitimacy, M6 trust, M7 perceived aim, M8 legacy, and the hazard."""

from __future__ import annotations

import numpy as np

from detente.dynamics.coefficients import Coefficients
from detente.engines.base import FloatArray


def deal_value(trust: FloatArray, regime_change: FloatArray, pain: FloatArray) -> FloatArray:
    """M6, M7: V(t) = T(t) (1 - A) pain(t), the material value the leader expects from a deal.

    A deal would lift the pain, but only if the sender keeps its word (trust T: "the US withdrawal
    ... was the ultimate proof ... that Washington could not be trusted") and only if relief is
    what the sender wants (A: the belief that it wants regime change, not behaviour change).
    """
    return np.asarray(trust * (1.0 - regime_change) * pain)


def talk_utility(
    coef: Coefficients,
    value: FloatArray,
    instability: FloatArray,
    legitimacy: FloatArray,
    legacy: FloatArray,
    stance: FloatArray,
    rallied: FloatArray,
    regime_change: FloatArray,
    scope: FloatArray,
) -> FloatArray:
    """U(t) = U_talk - U_resist, the leader's net utility of opening direct talks:

        U = w_V V(t) + w_I I(t) + w_L L - w_H H + w_E (S(t) - 50) / 50 - w_R R(t) - w_C A sigma

    V the deal's value (M6, M7), I instability (M3), L the legitimacy effect of talking (M4: < 0
    for Khamenei, whose "anti-Americanism is the central component of his political appeal"; > 0
    for Kim Jong-un, who "needs the US to legitimise his regime"), H the legacy weight (M8: "he
    would rather ... die as an anti-American anti-imperialist than succumb"), S the factions'
    collective stance on 0-100 (M9: an elite consensus against talks raises the cost of deviating),
    R the rally (M5), A sigma the expected cost of conceding (M7: "any concession in the face of
    US intimidation would inevitably inspire the US to increase its pressure"; A the belief in
    regime change, sigma the scope of demands).
    """
    return np.asarray(
        coef.w_relief * value
        + coef.w_instability * instability
        + coef.w_legitimacy * legitimacy
        - coef.w_legacy * legacy
        + coef.w_elite * (stance - 50.0) / 50.0
        - coef.w_rally * rallied
        - coef.w_concession * regime_change * scope
    )


def hazard(utility: FloatArray, opportunity: FloatArray) -> FloatArray:
    """h(t) = o(t) / (1 + exp(-U(t))): the chance of opening direct talks this month.

    The logistic is the probability that the leader wants talks given U (a random-utility choice);
    o(t) is the chance that a usable channel exists this month: 1 while an offer of talks or a
    summit is on the table, a small base rate otherwise (back channels, intermediaries).
    """
    return np.asarray(opportunity / (1.0 + np.exp(-utility)))


def opportunity(offer_age: FloatArray, base: FloatArray, window: FloatArray) -> FloatArray:
    """o(t) = 1 if an offer was made within the last ``window`` months, else the base rate."""
    return np.asarray(np.where(offer_age < window, 1.0, base))
