"""Tipping points: the value of one parameter at which the probability of talks crosses a target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TipResult:
    """``found``: the target lies between p(low) and p(high); ``value``: where p crosses it."""

    found: bool
    value: float | None
    p_at_value: float | None
    low: float
    high: float
    p_at_low: float
    p_at_high: float
    evaluations: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_tipping_point(
    p_of: Callable[[float], float],
    low: float,
    high: float,
    target: float,
    xtol: float = 1e-4,
    max_evaluations: int = 60,
) -> TipResult:
    """Bisection for p(v) = target on [low, high].

    Assumes p moves one way between the ends (each mechanism does, docs/model.md); ``p_of`` should
    use common random numbers (the same seed for every value) so that p is a smooth function of v.
    Stops when the bracket is narrower than ``xtol`` x (high - low). If p(low) and p(high) lie on
    the same side of the target, no value in the range crosses it: ``found`` is False.
    """
    p_low, p_high = p_of(low), p_of(high)
    evaluations = 2
    if (p_low - target) * (p_high - target) > 0:
        return TipResult(False, None, None, low, high, p_low, p_high, evaluations)
    a, b, pa = low, high, p_low
    width = xtol * (high - low)
    mid, p_mid = (a, pa) if pa == target else (b, p_high)
    while abs(b - a) > width and evaluations < max_evaluations:
        mid = (a + b) / 2
        p_mid = p_of(mid)
        evaluations += 1
        if p_mid == target:
            break
        if (pa - target) * (p_mid - target) < 0:
            b = mid
        else:
            a, pa = mid, p_mid
    return TipResult(True, mid, p_mid, low, high, p_low, p_high, evaluations)
