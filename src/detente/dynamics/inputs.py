"""What the coercion model reads: a case's parameters as arrays with a leading draw axis."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from detente.engines.base import FloatArray

#: Fields that are the same for every draw (not indexed by the draw axis).
_SHARED = ("leader", "drawn_from")


@dataclass(frozen=True)
class CaseInputs:
    """One case, B draws, T months, C channels, F factions (shapes in comments)."""

    pressure: FloatArray  # (B, T, C) intensity x enforcement of each channel, 0-1 (M1)
    exposure: FloatArray  # (B, C) share of the economy exposed to each channel, 0-1 (M1)
    prior_experience: FloatArray  # (B,) months of sanctions before the start (M2)
    evasion_max: FloatArray  # (B,) share of pressure evaded once fully learnt (M2)
    substitution_max: FloatArray  # (B,) share of exposure import substitution can remove (M2)
    substitution_lag: FloatArray  # (B,) months before substitution starts (M2)
    baseline_discontent: FloatArray  # (B,) discontent without sanctions, 0-1 (M3)
    pain_to_discontent: FloatArray  # (B,) how much pain becomes discontent (M3)
    legitimacy_of_talks: FloatArray  # (B,) -1 (talks delegitimise) .. +1 (legitimise) (M4)
    legacy_weight: FloatArray  # (B,) 0-1 (M8)
    trust: FloatArray  # (B,) trust in the sender's commitments at the start, 0-1 (M6)
    regime_change_belief: FloatArray  # (B,) belief that the sender wants regime change (M7)
    demand_scope: FloatArray  # (B,) scope of the sender's demands, 0-1 (M7)
    capability: FloatArray  # (B, F) (M9)
    position: FloatArray  # (B, F) 0 = refuse any talks .. 100 = direct talks now (M9)
    salience: FloatArray  # (B, F) 0-100 (M9)
    wants_relief: FloatArray  # (B, F) 0-1, how much pain raises the faction's voice (M9)
    deal_broken: FloatArray  # (B, T) size of a deal-breaking event in each month (M5, M6, M9)
    threat: FloatArray  # (B, T) (M5, M9)
    talks_failed: FloatArray  # (B, T) (M5)
    offer: FloatArray  # (B, T, 3) offers in the record this month, by channel (pub, sec, med)
    drawn_from: int  # first month in which offers to come are drawn by the model (after as-of)
    openness: FloatArray  # (B, T) the sender's openness to talks with the target, 0-1
    sender_cost: FloatArray  # (B,) the sender's domestic cost of talking, 0-1
    election_gap: FloatArray  # (B, T) months to the sender's next announced election (inf: none)
    mediator: FloatArray  # (B,) the best mediator's trust by both sides, sqrt(t_T t_S), 0-1
    standing: FloatArray  # (B,) standing channel: 0 none, 1 working level, 2 diplomatic relations
    successor_hazard: FloatArray  # (B,) monthly chance the leader is replaced (0: none)
    successor_legitimacy: FloatArray  # (B,) the successor's L
    successor_legacy: FloatArray  # (B,) the successor's H
    successor_position: FloatArray  # (B,) the successor's position on talks, 0-100
    successor_salience: FloatArray  # (B,) its salience, 0-100
    new_capability: FloatArray  # (B, T, F) NaN, or a faction's capability from this month on
    new_position: FloatArray  # (B, T, F) NaN, or a faction's position from this month on
    new_salience: FloatArray  # (B, T, F) NaN, or a faction's salience from this month on
    leader: int  # index of the leader's faction (the veto player)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(draws, months, factions)."""
        b, t, _ = self.pressure.shape
        return b, t, self.capability.shape[1]

    def tile(self, k: int) -> CaseInputs:
        """The same case repeated ``k`` times along the draw axis (batched evaluations)."""
        data: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SHARED:
                data[f.name] = value
            else:
                data[f.name] = np.tile(value, (k,) + (1,) * (value.ndim - 1))
        return CaseInputs(**data)  # type: ignore[arg-type]

    def take(self, draws: slice) -> CaseInputs:
        data = {}
        for f in fields(self):
            value = getattr(self, f.name)
            keep = f.name in _SHARED
            data[f.name] = value if keep else value[draws]
        return CaseInputs(**data)
