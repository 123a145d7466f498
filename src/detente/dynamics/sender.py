"""The sender's side and third parties: who puts talks on the table, and through which channel."""

from __future__ import annotations

import numpy as np

from detente.engines.base import FloatArray


def willingness(
    openness: FloatArray,
    cost: FloatArray,
    election_gap: FloatArray,
    bump: FloatArray,
    window: FloatArray,
) -> FloatArray:
    """alpha_s(t) = o_s(t) (1 - clip(c_s + b [gap(t) < w], 0, 1)): the sender's will to talk.

    o_s is its openness to talks with this target, c_s the domestic cost of talking to it; in the
    w months before one of its own elections (gap(t) = months to the next one announced) the
    cost rises by b: no government wants to look soft before a vote.
    """
    near = (election_gap < window).astype(np.float64)
    return np.asarray(openness * (1.0 - np.clip(cost + bump * near, 0.0, 1.0)))


def live_offer(previous: FloatArray, new: FloatArray, window: FloatArray) -> FloatArray:
    """l(t) = 1 - (1 - (1 - 1/w) l(t-1)) (1 - q(t)): the chance an offer is on the table.

    q(t) is this month's chance of a new offer (1 for an offer in the record, a modelled rate
    for offers to come); an offer stays on the table a geometric number of months with mean w.
    """
    keep = np.clip(1.0 - 1.0 / window, 0.0, 1.0)
    return np.asarray(1.0 - (1.0 - keep * previous) * (1.0 - np.clip(new, 0.0, 1.0)))


def opportunities(
    willing: FloatArray,
    openness: FloatArray,
    base: FloatArray,
    standing: FloatArray,
    channel_open: FloatArray,
    mediator: FloatArray,
    offer_public: FloatArray,
    offer_secret: FloatArray,
    offer_mediated: FloatArray,
) -> FloatArray:
    """Each channel's chance of being usable this month, ``(3, B)`` (public, secret, mediated):

        o_pub = 1 - (1 - alpha_s b_0') (1 - l_pub),  b_0' = 1 - (1 - b_0)(1 - k_open g)
        o_sec = 1 - (1 - max(m, g) o_pub) (1 - l_sec)
        o_med = 1 - (1 - m o_s b_0) (1 - l_med)

    b_0 is the base chance of an unannounced channel, g the standing channel's strength (0 none,
    a working-level link, 1 diplomatic relations), m the best mediator's trust by both sides
    (sqrt of the product), l the live offers by channel. Secret direct talks need what public
    ones need plus a trusted intermediary or a back channel; mediated talks need a mediator.
    """
    base_pub = 1.0 - (1.0 - base) * (1.0 - channel_open * standing)
    o_pub = 1.0 - (1.0 - willing * base_pub) * (1.0 - offer_public)
    o_sec = 1.0 - (1.0 - np.maximum(mediator, standing) * o_pub) * (1.0 - offer_secret)
    o_med = 1.0 - (1.0 - mediator * openness * base) * (1.0 - offer_mediated)
    return np.stack([o_pub, o_sec, o_med])
