"""M3 pain -> discontent -> instability, and M5 rally around the flag."""

from __future__ import annotations

import numpy as np

from detente.engines.base import FloatArray


def discontent_target(
    baseline: FloatArray, pain_to_discontent: FloatArray, pain: FloatArray
) -> FloatArray:
    """M3: D*(t) = clip(D_0 + g pain(t), 0, 1); discontent follows it with lag tau_D.

    The proponent's channel (Khalilzad, quoted in the article): "economic hardship and possibly
    mass discontent, which could shake the regime's stability". g is a property of the society
    (how much hardship turns into open discontent), set per case from the record.
    """
    return np.asarray(np.clip(baseline + pain_to_discontent * pain, 0.0, 1.0))


def rally(
    previous: FloatArray,
    retention: FloatArray,
    threat: FloatArray,
    betrayal: FloatArray,
    failed_talks: FloatArray,
    coef_threat: FloatArray,
    coef_betrayal: FloatArray,
    coef_failed: FloatArray,
) -> FloatArray:
    """M5: R(t) = rho R(t-1) + r_T threat(t) + r_B betrayal(t) + r_F failed_talks(t), in [0, 1].

    "With the failure of the talks, he is able to rally even more support for his regime";
    hostility from the sender rallies support too. The rally decays (retention rho a month).
    """
    shock = coef_threat * threat + coef_betrayal * betrayal + coef_failed * failed_talks
    return np.asarray(np.clip(retention * previous + shock, 0.0, 1.0))


def instability(
    discontent: FloatArray, rallied: FloatArray, threshold: FloatArray, steepness: FloatArray
) -> FloatArray:
    """M3: I(t) = 1 / (1 + exp(-k (D(t) - R(t) - theta))): the threat discontent poses.

    The rally R subtracts from discontent: the same hardship is less dangerous to a regime whose
    supporters have rallied.
    """
    effective = np.clip(discontent - rallied, 0.0, 1.0)
    return np.asarray(1.0 / (1.0 + np.exp(-steepness * (effective - threshold))))
