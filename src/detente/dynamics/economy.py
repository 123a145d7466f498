"""M1 pressure -> economic pain, and M2 adaptation (evasion, import substitution).

All functions take arrays with a leading draw axis and return arrays; no I/O.
"""

from __future__ import annotations

import numpy as np

from detente.engines.base import FloatArray


def exposure_weighted_pressure(pressure_t: FloatArray, exposure: FloatArray) -> FloatArray:
    """p_bar(t) = sum_c X_c p_c(t) / sum_c X_c: how hard the campaign bites overall, 0-1."""
    total = exposure.sum(axis=1)
    weighted = (exposure * pressure_t).sum(axis=1)
    return np.asarray(np.divide(weighted, total, out=np.zeros_like(total), where=total > 0))


def evasion(experience: FloatArray, evasion_max: FloatArray, tau: FloatArray) -> FloatArray:
    """M2, learning to evade: E(t) = E_max (1 - exp(-e(t) / tau_E)).

    e(t), the experience, is the months of sanctions lived so far, each weighted by how hard it
    bit (p_bar), plus the experience before the start. "As a country accustomed to sanctions, Iran
    has learned how to bypass them" (the article): evasion grows with experience and saturates.
    """
    return np.asarray(evasion_max * (1.0 - np.exp(-experience / tau)))


def substitution(
    month: int, substitution_max: FloatArray, lag: FloatArray, tau: FloatArray
) -> FloatArray:
    """M2, import substitution: S(t) = S_max (1 - exp(-max(0, t - lag) / tau_S)).

    The "resistance economy" ("decrease imports and increase domestic production") lowers
    exposure, but only after a lag: new domestic production takes time.
    """
    elapsed = np.maximum(0.0, month - lag)
    return np.asarray(substitution_max * (1.0 - np.exp(-elapsed / tau)))


def pain_target(
    pressure_t: FloatArray,
    exposure: FloatArray,
    substituted: FloatArray,
    evaded: FloatArray,
) -> FloatArray:
    """M1: pi*(t) = sum_c X_c (1 - S(t)) p_c(t) (1 - E(t)), the pain pressure would cause now.

    Exposure X_c is the share of the economy (output and foreign earnings) that depends on channel
    c; p_c = intensity x enforcement (the share of the world that enforces). Pain is on 0-1: 1
    would be the whole exposed economy cut off with nothing evaded or replaced.
    """
    reach = (exposure * pressure_t).sum(axis=1)
    return np.asarray(np.clip(reach * (1.0 - substituted) * (1.0 - evaded), 0.0, 1.0))


def follow(previous: FloatArray, target: FloatArray, tau: FloatArray) -> FloatArray:
    """First-order lag: y(t) = y(t-1) + (target - y(t-1)) / max(tau, 1)."""
    return np.asarray(previous + (target - previous) / np.maximum(tau, 1.0))
