"""Global coefficients of the coercion model: the same for every case.

Values, ranges and reasons live in ``src/detente/scenario/coefficients.yaml`` (each an assumption
with the range we believe, or a source); lenses (``--lens``) replace some of them with their own
beliefs. Here they are arrays of shape ``(draws,)``, one value per Monte Carlo draw.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from detente.engines.base import FloatArray


@dataclass(frozen=True)
class Coefficients:
    """Symbols as in ``docs/model.md``."""

    tau_pain: FloatArray  # M1: months for pain to follow pressure
    tau_evasion: FloatArray  # M2: months of experience to learn 63% of evasion capacity
    tau_substitution: FloatArray  # M2: months for import substitution to reach 63%
    tau_discontent: FloatArray  # M3: months for discontent to follow pain
    instability_threshold: FloatArray  # M3: discontent at which instability is 1/2
    instability_steepness: FloatArray  # M3: slope of the logistic
    rally_threat: FloatArray  # M5: rally from a threat
    rally_betrayal: FloatArray  # M5: rally from the sender breaking a deal
    rally_failed_talks: FloatArray  # M5: rally from failed talks
    rally_retention: FloatArray  # M5: share of the rally left after a month
    betrayal_trust_cut: FloatArray  # M6: share of trust lost when the sender breaks a deal
    salience_gain: FloatArray  # M9: pain -> salience of relief seekers
    capability_gain: FloatArray  # M9: discontent -> weight of relief seekers
    betrayal_shift: FloatArray  # M9: share of the way to refusal factions move on betrayal
    threat_shift: FloatArray  # M9: the same on a threat
    w_relief: FloatArray  # leader: weight of the material value of a deal
    w_instability: FloatArray  # leader: weight of instability
    w_legitimacy: FloatArray  # leader (M4): weight of the legitimacy effect of talking
    w_legacy: FloatArray  # leader (M8): weight of the legacy
    w_elite: FloatArray  # leader (M9): weight of the elite stance
    w_rally: FloatArray  # leader (M5): weight of the rally
    w_concession: FloatArray  # leader (M7): weight of the expected cost of conceding
    opportunity_base: FloatArray  # hazard: monthly chance of a usable channel without an offer
    offer_window: FloatArray  # hazard: months an offer of talks stays on the table (mean)
    pain_scale: FloatArray  # leader: pain felt = 1 - exp(-pain / pain_scale)
    w_duress: FloatArray  # leader (M4, M7): extra cost of talking under visible pressure
    w_own: FloatArray  # leader: weight of his own position on talks
    secrecy_discount: FloatArray  # channels: share of public-face terms secret talks avoid
    mediation_discount: FloatArray  # channels: the same for mediated talks
    mediated_value: FloatArray  # channels: share of a deal's value mediated talks deliver
    offer_rate: FloatArray  # sender: monthly chance a fully willing sender offers talks
    mediation_rate: FloatArray  # mediators: monthly chance a trusted third party offers
    channel_open: FloatArray  # channels: monthly chance a standing channel is usable
    back_channel_working: FloatArray  # channels: strength of a working-level channel
    sender_election_cost: FloatArray  # sender: extra domestic cost before an election
    sender_election_window: FloatArray  # sender: months before an election it applies

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def take(self, draws: slice) -> Coefficients:
        return Coefficients(**{n: getattr(self, n)[draws] for n in self.names()})

    @classmethod
    def constant(cls, draws: int, **values: float) -> Coefficients:
        """All coefficients fixed (for tests): every one must be given."""
        return cls(**{n: np.full(draws, float(values[n])) for n in cls.names()})
