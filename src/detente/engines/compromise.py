"""The compromise model: the capability x salience weighted mean of positions.

    x* = sum_k c_k s_k x_k / sum_k c_k s_k

Source: Achen (2006), "Evaluating political decision-making models", in Thomson, Stokman, Achen &
Koenig (eds.), *The European Union Decides*, Cambridge University Press; van den Bos (1991).
Veto players, if any, bound the result (:func:`detente.engines.base.clip_to_veto`).
"""

from __future__ import annotations

from detente.engines.base import ActorArrays, Engine, EngineResult, clip_to_veto, weighted_mean


class Compromise(Engine):
    """Capability x salience weighted mean."""

    name = "compromise"

    def solve(self, actors: ActorArrays) -> EngineResult:
        forecast = weighted_mean(actors.position, actors.weight())
        return EngineResult(forecast=clip_to_veto(forecast, actors.position, actors.veto))
