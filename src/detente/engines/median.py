"""The weighted median model: the position with half the capability x salience on each side.

In one dimension with single-peaked preferences the weighted median beats every other position
in a pairwise vote weighted by c_k s_k (Black 1948, the median voter theorem); it is the
"position that beats all others" of Bueno de Mesquita (1994) and the median of Achen (2006).
Ties at exactly half the weight take the midpoint (:func:`detente.engines.base.weighted_median`).
"""

from __future__ import annotations

from detente.engines.base import ActorArrays, Engine, EngineResult, clip_to_veto, weighted_median


class Median(Engine):
    """Capability x salience weighted median."""

    name = "median"

    def solve(self, actors: ActorArrays) -> EngineResult:
        forecast = weighted_median(actors.position, actors.weight())
        return EngineResult(forecast=clip_to_veto(forecast, actors.position, actors.veto))
