"""The coercion model, month by month, vectorised over draws (``docs/model.md``).

Each month t, in this order: events (M5 rally, M6 trust, M9 positions and elections), the
sender's side (its willingness, offers in the record and offers to come), M2 adaptation, M1 pain,
M3 discontent and instability, M9 the factions' voice and stance, then the leader's (and a
successor's) utility of each channel of talks and the competing hazards of opening them. The only
Python loop is over months.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from detente.dynamics import economy, factions, leader, sender, society
from detente.dynamics.coefficients import Coefficients
from detente.dynamics.inputs import CaseInputs
from detente.engines import Engine
from detente.engines.base import BoolArray, Float32Array, FloatArray

#: A stored path: float64, or float32 where a run keeps only what its weighted means need.
AnyFloatArray = FloatArray | Float32Array

#: The state series that runs report (the first part of ``Trajectories.series``).
REPORTED_STATE = (
    "pressure",
    "evasion",
    "substitution",
    "pain",
    "discontent",
    "rally",
    "instability",
    "trust",
    "stance",
)
#: The series the choice produces.
CHOICE_SERIES = (
    "willingness",
    "utility",
    "hazard",
    "successor",
    "survival",
    "p_public",
    "p_secret",
    "p_mediated",
    "p_talks",
)
#: The monthly series, in the order of ``Trajectories.series``.
SERIES = REPORTED_STATE + CHOICE_SERIES
#: The channels through which talks open, in the order of the last axis of channel arrays.
CHANNELS = ("public", "secret", "mediated")
#: The series a run reports from each draw (the survival to the as-of month weighs the draws; the
#: probabilities give each draw's conditional forecast, whose weighted mean and percentiles are
#: the reported p, lo and hi): kept in float64 in a run's result.
PER_DRAW_SERIES = ("survival", "p_public", "p_secret", "p_mediated", "p_talks")
#: The series a run reports only as weighted means over draws, like the faction paths: a run's
#: result keeps them in float32 (half the memory; each value rounded once, to a relative 6e-8,
#: and the means summed in float64), see :meth:`Trajectories.empty`.
MEAN_ONLY_SERIES = tuple(s for s in SERIES if s not in PER_DRAW_SERIES)


@dataclass(frozen=True)
class Trajectories:
    """Monthly paths: ``series[name]`` is ``(B, T)``; faction arrays are ``(B, T, F)``.

    From the start (month 0), unconditioned: ``survival[:, t]`` is each draw's probability that
    no channel of talks has opened by the end of month t; ``p_public``, ``p_secret`` and
    ``p_mediated`` the probability that this channel is the first to open by then (competing
    risks: they sum to 1 - survival); ``p_talks`` = ``p_public`` + ``p_secret``, direct talks.
    """

    series: Mapping[str, AnyFloatArray]
    position: AnyFloatArray
    salience: AnyFloatArray
    capability: FloatArray | None = None

    @property
    def p_talks(self) -> AnyFloatArray:
        return self.series["p_talks"]

    @classmethod
    def empty(cls, draws: int, months: int, factions: int) -> Trajectories:
        """Room for ``draws`` rows of what a run reports, to be filled chunk by chunk with
        :meth:`put`: :data:`PER_DRAW_SERIES` in float64; :data:`MEAN_ONLY_SERIES` and the faction
        positions and saliences in float32 (they are reported only as weighted means over draws,
        which float32 values change by a relative 6e-8 at most; the reported p, lo and hi do not
        read them); capabilities are not kept (nothing reports them)."""
        f32 = np.float32
        series: dict[str, AnyFloatArray] = {}
        for name in SERIES:
            series[name] = (
                np.empty((draws, months))
                if name in PER_DRAW_SERIES
                else np.empty((draws, months), f32)
            )
        return cls(
            series=series,
            position=np.empty((draws, months, factions), dtype=f32),
            salience=np.empty((draws, months, factions), dtype=f32),
        )

    def put(self, start: int, part: Trajectories) -> None:
        """Copy ``part`` into rows ``start ..`` (float32 arrays round each value to nearest)."""
        stop = start + part.position.shape[0]
        for name, values in part.series.items():
            self.series[name][start:stop] = values
        self.position[start:stop] = part.position
        self.salience[start:stop] = part.salience
        if self.capability is not None and part.capability is not None:
            self.capability[start:stop] = part.capability


#: The series the state loop produces (no choice coefficient enters them): those reported, and
#: what the choice reads besides.
STATE_SERIES = REPORTED_STATE + ("elite_share", "own_position", "own_salience")


@dataclass(frozen=True)
class State:
    """What the months do to the target, before any choice: ``series[name]`` ``(B, T)`` for
    :data:`STATE_SERIES`, and the faction paths ``(B, T, F)``. Only the dynamics' coefficients
    (tau_*, rally_*, instability_*, ...) enter it, so a fit of the choice's coefficients can reuse
    it (``history/fit.py``)."""

    series: dict[str, FloatArray]
    position: FloatArray
    salience: FloatArray
    capability: FloatArray

    def tile(self, k: int) -> State:
        """The same state repeated ``k`` times along the draw axis (for batched evaluations)."""
        return State(
            series={n: np.tile(v, (k, 1)) for n, v in self.series.items()},
            position=np.tile(self.position, (k, 1, 1)),
            salience=np.tile(self.salience, (k, 1, 1)),
            capability=np.tile(self.capability, (k, 1, 1)),
        )


def simulate(inputs: CaseInputs, coef: Coefficients, engine: Engine) -> Trajectories:
    """Run the model over all months for every draw: the state, then the choice."""
    state = simulate_state(inputs, coef, engine)
    choice = choose(state, inputs, coef)
    series = {name: state.series[name] if name in state.series else choice[name] for name in SERIES}
    return Trajectories(
        series=series,
        position=state.position,
        salience=state.salience,
        capability=state.capability,
    )


def simulate_state(inputs: CaseInputs, coef: Coefficients, engine: Engine) -> State:
    """The monthly loop of M1-M3, M5, M6 and M9: economy, society, trust and factions."""
    b, months, f = inputs.shape
    out = {name: np.empty((b, months)) for name in STATE_SERIES}
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
    # months in which an event sets a faction's values (the others skip the override)
    sets_values: BoolArray = np.asarray(
        ~(
            np.isnan(inputs.new_position).all(axis=(0, 2))
            & np.isnan(inputs.new_capability).all(axis=(0, 2))
            & np.isnan(inputs.new_salience).all(axis=(0, 2))
        )
    )

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
        if sets_values[t]:
            position = _override(position, inputs.new_position[:, t])
            capability0 = _override(capability0, inputs.new_capability[:, t])
            salience0 = _override(salience0, inputs.new_salience[:, t])

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
            ("elite_share", factions.elite_share(capability, inputs.leader)),
            ("own_position", position[:, inputs.leader]),
            ("own_salience", salience[:, inputs.leader]),
        ):
            out[name][:, t] = value_t
        pos_path[:, t], sal_path[:, t], cap_path[:, t] = position, salience, capability
    return State(series=out, position=pos_path, salience=sal_path, capability=cap_path)


def choose(state: State, inputs: CaseInputs, coef: Coefficients) -> dict[str, FloatArray]:
    """The sender's side and the leader's (and a successor's) choice, month by month, as
    competing hazards of opening each channel; ``(B, T)`` series of :data:`CHOICE_SERIES`."""
    out = choose_month_major(month_major(state, inputs), inputs, coef)
    return {name: np.ascontiguousarray(v.T) for name, v in out.items()}


def month_major(state: State, inputs: CaseInputs) -> dict[str, FloatArray]:
    """The state series and the monthly inputs of the choice, ``(T, B[, 3])``: each month's row
    contiguous, since the choice reads one month at a time."""
    s = {k: np.ascontiguousarray(v.T) for k, v in state.series.items()}
    s["openness"] = np.ascontiguousarray(inputs.openness.T)
    s["election_gap"] = np.ascontiguousarray(inputs.election_gap.T)
    s["offer"] = np.ascontiguousarray(np.clip(inputs.offer, 0.0, 1.0).transpose(1, 2, 0))
    return s


def choose_month_major(
    s: dict[str, FloatArray], inputs: CaseInputs, coef: Coefficients
) -> dict[str, FloatArray]:
    """:func:`choose` on month-major data (:func:`month_major`); returns ``(T, B)`` series."""
    months, b = s["pain"].shape
    openness_t, gap_t, offer_t = s["openness"], s["election_gap"], s["offer"]
    out = {name: np.empty((months, b)) for name in CHOICE_SERIES}
    incumbent = np.ones(b)  # probability: no talks yet, the leader still in place
    successor = np.zeros(b)  # probability: no talks yet, the successor in place
    replaced = np.zeros(b)
    opened = np.zeros((3, b))  # probability that each channel opened first, by now
    live = np.zeros((3, b))
    has_successor = bool(np.any(inputs.successor_hazard > 0))
    standing = np.where(
        inputs.standing == 1, coef.back_channel_working, np.where(inputs.standing == 2, 1.0, 0.0)
    )
    zeros = np.zeros(b)
    window = coef.offer_window
    value = leader.deal_value(
        s["trust"],
        inputs.regime_change_belief[None, :],
        leader.felt_pain(s["pain"], coef.pain_scale[None, :]),
    )

    for t in range(months):
        # the sender's side: offers in the record, and after the as-of month offers to come
        openness = openness_t[t]
        willing = sender.willingness(
            openness,
            inputs.sender_cost,
            gap_t[t],
            coef.sender_election_cost,
            coef.sender_election_window,
        )
        new_offer = offer_t[t]
        if t >= inputs.drawn_from:
            to_come = np.stack(
                [coef.offer_rate * willing, zeros, coef.mediation_rate * inputs.mediator * openness]
            )
            new_offer = 1.0 - (1.0 - new_offer) * (1.0 - to_come)
        live = sender.live_offer(live, new_offer, window)
        chance = sender.opportunities(
            willing,
            openness,
            coef.opportunity_base,
            standing,
            coef.channel_open,
            inputs.mediator,
            live[0],
            live[1],
            live[2],
        )

        # the leader (and his successor), channel by channel
        month = (
            coef,
            chance,
            value[t],
            s["instability"][t],
            s["stance"][t],
            s["elite_share"][t],
            inputs.regime_change_belief,
            inputs.demand_scope,
            s["pressure"][t],
            s["rally"][t],
        )
        utility, first_inc = leader.openings(
            *month,
            inputs.legitimacy_of_talks,
            inputs.legacy_weight,
            s["own_position"][t],
            s["own_salience"][t],
        )
        before = incumbent + successor
        direct_before = opened[0] + opened[1]
        if has_successor:
            lam = inputs.successor_hazard
            successor = successor + incumbent * lam
            incumbent = incumbent * (1.0 - lam)
            replaced = 1.0 - (1.0 - replaced) * (1.0 - lam)
            _, first_succ = leader.openings(
                *month,
                inputs.successor_legitimacy,
                inputs.successor_legacy,
                inputs.successor_position,
                inputs.successor_salience,
            )
            opened = opened + incumbent * first_inc + successor * first_succ
            successor = successor * (1.0 - first_succ.sum(axis=0))
        else:
            opened = opened + incumbent * first_inc
        incumbent = incumbent * (1.0 - first_inc.sum(axis=0))
        survival = incumbent + successor
        direct = opened[0] + opened[1]
        h = np.divide(direct - direct_before, before, out=np.zeros(b), where=before > 0)

        for name, value_t in (
            ("willingness", willing),
            ("utility", utility),
            ("hazard", h),
            ("successor", replaced),
            ("survival", survival),
            ("p_public", opened[0]),
            ("p_secret", opened[1]),
            ("p_mediated", opened[2]),
            ("p_talks", direct),
        ):
            out[name][t] = value_t
    return out


def _override(current: FloatArray, new: FloatArray) -> FloatArray:
    """Values that an event sets from this month on (NaN where it sets nothing)."""
    return np.asarray(np.where(np.isnan(new), current, new))
