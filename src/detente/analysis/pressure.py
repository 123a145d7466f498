"""Does pressure count? P(talks) as all pressure is scaled from 0 to 1, and its share of the
variance of the forecast (docs/model.md, "Pressure that counts")."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detente.forecast import DEFAULT_SEED, conditional, run_scenario, survival_weights
from detente.scenario.coercion import Scenario
from detente.scenario.sample import Lens

#: The pressure scales at which the effect is measured (0 = no pressure, 1 = as in the file).
SCALES = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class PressureEffect:
    """P(direct talks within ``horizon``) at each pressure scale, the change in log-odds from no
    pressure to the file's, and pressure's share of the variance of the per-draw forecasts."""

    scenario: str
    horizon: int
    p_by_scale: dict[float, float]
    share_of_variance: float

    @property
    def effect(self) -> float:
        return self.p_by_scale[1.0] - self.p_by_scale[0.0]

    @property
    def logit_effect(self) -> float:
        return _logit(self.p_by_scale[1.0]) - _logit(self.p_by_scale[0.0])

    def to_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "horizon": self.horizon,
            "p_by_scale": {f"{k:g}": v for k, v in self.p_by_scale.items()},
            "effect": self.effect,
            "logit_effect": self.logit_effect,
            "share_of_variance": self.share_of_variance,
        }


def _logit(p: float) -> float:
    q = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(q / (1 - q))


def pressure_effect(
    scn: Scenario,
    *,
    draws: int = 1000,
    seed: int = DEFAULT_SEED,
    horizon: int = 24,
    lens: Lens | None = None,
) -> PressureEffect:
    """Run the scenario at each scale of :data:`SCALES` on the same draws (common random numbers).

    The share of variance treats the scale as one more uncertain input, uniform over the scales:
    Var_s(E[p | s]) / Var(p) over all (scale, draw) pairs, the first-order Sobol index of the
    pressure scale (Sobol 2001) computed on the grid.
    """
    per_draw = []
    weights = []
    p_by_scale = {}
    for s in SCALES:
        f = run_scenario(
            scn, draws=draws, seed=seed, horizon=horizon, lens=lens, fixed={"pressure_scale": s}
        )
        p = conditional(f.paths, 0, horizon)
        w = survival_weights(f.paths, 0)
        per_draw.append(p)
        weights.append(w)
        p_by_scale[s] = float(w @ p)
    allp = np.concatenate(per_draw)
    total = float(allp.var())
    means = np.array([row.mean() for row in per_draw])
    share = float(means.var() / total) if total > 0 else 0.0
    return PressureEffect(scn.id, horizon, p_by_scale, min(share, 1.0))
