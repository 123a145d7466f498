"""M9: the target's factions, moved by pain and betrayal, aggregated by an engine every month."""

from __future__ import annotations

import numpy as np

from detente.engines import ActorArrays, Engine
from detente.engines.base import FloatArray


def voice(
    salience0: FloatArray,
    capability0: FloatArray,
    wants_relief: FloatArray,
    pain: FloatArray,
    discontent: FloatArray,
    salience_gain: FloatArray,
    capability_gain: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Pain raises the salience and weight of those who want relief.

    s_f(t) = s_f + (100 - s_f) g_s rho_f pain(t);  c_f(t) = c_f (1 + g_c rho_f D(t)),
    rho_f the faction's wish for relief (0-1), D discontent: hardship makes relief matter more
    to those who want it, and discontent gives them a louder voice.
    """
    pain_f = pain[:, None]
    salience = salience0 + (100.0 - salience0) * salience_gain[:, None] * wants_relief * pain_f
    capability = capability0 * (1.0 + capability_gain[:, None] * wants_relief * discontent[:, None])
    return np.asarray(np.clip(salience, 0.0, 100.0)), np.asarray(capability)


def shift_to_refusal(
    position: FloatArray,
    betrayal: FloatArray,
    threat: FloatArray,
    betrayal_shift: FloatArray,
    threat_shift: FloatArray,
) -> FloatArray:
    """Betrayal and threats move positions toward refusal (0), by a share of the way:

    x_f <- x_f (1 - beta_B betrayal(t)) (1 - beta_T threat(t)).
    "Almost all Iranian hardliners, and many reformists, attacked the idea of direct talks".
    """
    keep = (1.0 - np.clip(betrayal_shift * betrayal, 0.0, 1.0)) * (
        1.0 - np.clip(threat_shift * threat, 0.0, 1.0)
    )
    return np.asarray(position * keep[:, None])


def stance(
    engine: Engine,
    capability: FloatArray,
    position: FloatArray,
    salience: FloatArray,
    leader: int,
) -> FloatArray:
    """S(t): the factions other than the leader, aggregated by the engine (0-100).

    The leader is the one who decides (the hazard); the stance is the pressure his elite puts on
    him. Saliences are rescaled to 0-1 for the engine.
    """
    others = np.arange(position.shape[1]) != leader
    table = ActorArrays(
        capability=capability[:, others],
        position=position[:, others],
        salience=salience[:, others] / 100.0,
    )
    return engine.solve(table).forecast


def elite_share(capability: FloatArray, leader: int) -> FloatArray:
    """kappa = C_others / (C_others + C_leader): how much the elite weighs against the leader.

    A leader who holds most of the capability is less bound by what his factions want; with no
    capability anywhere the two count the same (1/2).
    """
    own = capability[:, leader]
    others = capability.sum(axis=1) - own
    total = own + others
    return np.asarray(np.divide(others, total, out=np.full_like(total, 0.5), where=total > 0))
