"""The coercion model, month by month, vectorised over draws (``docs/model.md``).

Each month t, in this order: events (M5 rally, M6 trust, M9 positions and elections), M2
adaptation, M1 pain, M3 discontent and instability, M9 the factions' voice and stance, then the
leader's utility and the hazard of opening direct talks. The only Python loop is over months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detente.dynamics import economy, factions, leader, society
from detente.dynamics.coefficients import Coefficients
from detente.dynamics.inputs import CaseInputs
from detente.engines import Engine
from detente.engines.base import FloatArray

#: The monthly series, in the order of ``Trajectories.series``.
SERIES = (
    "pressure",
    "evasion",
    "substitution",
    "pain",
    "discontent",
    "rally",
    "instability",
    "trust",
    "stance",
    "utility",
    "hazard",
    "p_talks",
)


@dataclass(frozen=True)
class Trajectories:
    """Monthly paths: ``series[name]`` is ``(B, T)``; faction arrays are ``(B, T, F)``.

    ``p_talks[:, t]`` is each draw's probability that talks have opened by the end of month t:
    1 - prod_{s <= t} (1 - h(s)).
    """

    series: dict[str, FloatArray]
    position: FloatArray
    salience: FloatArray
    capability: FloatArray

    @property
    def p_talks(self) -> FloatArray:
        return self.series["p_talks"]

    @classmethod
    def concat(cls, parts: list[Trajectories]) -> Trajectories:
        """Stack chunks of draws back together, in order."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            series={k: np.concatenate([p.series[k] for p in parts]) for k in parts[0].series},
            position=np.concatenate([p.position for p in parts]),
            salience=np.concatenate([p.salience for p in parts]),
            capability=np.concatenate([p.capability for p in parts]),
        )


def simulate(inputs: CaseInputs, coef: Coefficients, engine: Engine) -> Trajectories:
    """Run the model over all months for every draw."""
    b, months, f = inputs.shape
    out = {name: np.empty((b, months)) for name in SERIES}
    pos_path = np.empty((b, months, f))
    sal_path = np.empty((b, months, f))
    cap_path = np.empty((b, months, f))

    position = inputs.position.copy()
    capability0 = inputs.capability.copy()
    salience0 = inputs.salience.copy()
    trust = inputs.trust.copy()
    experience = inputs.prior_experience.copy()
    pain = np.zeros(b)
    discontent = inputs.baseline_discontent.copy()
    rallied = np.zeros(b)
    survive = np.ones(b)
    offer_age = np.full(b, np.inf)

    for t in range(months):
        # events of the month
        betrayal, threat = inputs.deal_broken[:, t], inputs.threat[:, t]
        trust = trust * (1.0 - np.clip(coef.betrayal_trust_cut * betrayal, 0.0, 1.0))
        rallied = society.rally(
            rallied,
            coef.rally_retention,
            threat,
            betrayal,
            inputs.talks_failed[:, t],
            coef.rally_threat,
            coef.rally_betrayal,
            coef.rally_failed_talks,
        )
        position = factions.shift_to_refusal(
            position, betrayal, threat, coef.betrayal_shift, coef.threat_shift
        )
        position = _override(position, inputs.new_position[:, t])
        capability0 = _override(capability0, inputs.new_capability[:, t])
        salience0 = _override(salience0, inputs.new_salience[:, t])
        offer_age = np.where(inputs.offer[:, t] > 0, 0.0, offer_age + 1.0)

        # M1, M2: economy
        pressure_t = inputs.pressure[:, t, :]
        p_bar = economy.exposure_weighted_pressure(pressure_t, inputs.exposure)
        evaded = economy.evasion(experience, inputs.evasion_max, coef.tau_evasion)
        substituted = economy.substitution(
            t, inputs.substitution_max, inputs.substitution_lag, coef.tau_substitution
        )
        target = economy.pain_target(pressure_t, inputs.exposure, substituted, evaded)
        pain = economy.follow(pain, target, coef.tau_pain)
        experience = experience + p_bar

        # M3, M5: society
        goal = society.discontent_target(
            inputs.baseline_discontent, inputs.pain_to_discontent, pain
        )
        discontent = economy.follow(discontent, goal, coef.tau_discontent)
        unstable = society.instability(
            discontent, rallied, coef.instability_threshold, coef.instability_steepness
        )

        # M9: factions
        salience, capability = factions.voice(
            salience0,
            capability0,
            inputs.wants_relief,
            pain,
            discontent,
            coef.salience_gain,
            coef.capability_gain,
        )
        elite = factions.stance(engine, capability, position, salience, inputs.leader)

        # the leader
        value = leader.deal_value(trust, inputs.regime_change_belief, pain)
        utility = leader.talk_utility(
            coef,
            value,
            unstable,
            inputs.legitimacy_of_talks,
            inputs.legacy_weight,
            elite,
            rallied,
            inputs.regime_change_belief,
            inputs.demand_scope,
        )
        chance = leader.opportunity(offer_age, coef.opportunity_base, coef.offer_window)
        h = leader.hazard(utility, chance)
        survive = survive * (1.0 - h)

        for name, value_t in (
            ("pressure", p_bar),
            ("evasion", evaded),
            ("substitution", substituted),
            ("pain", pain),
            ("discontent", discontent),
            ("rally", rallied),
            ("instability", unstable),
            ("trust", trust),
            ("stance", elite),
            ("utility", utility),
            ("hazard", h),
            ("p_talks", 1.0 - survive),
        ):
            out[name][:, t] = value_t
        pos_path[:, t], sal_path[:, t], cap_path[:, t] = position, salience, capability
    return Trajectories(series=out, position=pos_path, salience=sal_path, capability=cap_path)


def _override(current: FloatArray, new: FloatArray) -> FloatArray:
    """Values that an event sets from this month on (NaN where it sets nothing)."""
    return np.asarray(np.where(np.isnan(new), current, new))
