"""KTAB's Spatial Model of Politics (SMP), in any number of dimensions, vectorised over draws.

Source: the KAPSARC Toolkit for Behavioral Analysis (KTAB), ``examples/smp`` (``smp.cpp``,
``smpbcn.cpp``) and ``KTAB/kmodel`` (``kmodel.cpp``), MIT License, Copyright (c) 2015 KAPSARC.
The default options of KTAB's ``smpc`` program are the only ones implemented: Linear victory
probabilities, Conditional probabilistic Condorcet elections (PCE), proportional votes, risk
attitudes with BigRRange Mid and BigRAdjust OneThird, semi-committed third parties, S2P2 bargains
with InitOnlyInterp, deterministic state transitions and ``smpStopFn``. ``docs/engines.md``
lists the equations under the names used here and the few departures from KTAB (degenerate
inputs only).

Scales: positions are 0-100 outside the engine and ``position / 100.0`` inside (KTAB's own
scaling of its CSV files); saliences are 0-1 (``ActorArrays``'s convention, a file's value
/ 100.0, again as KTAB does); capabilities are used as given.

Exactness: every floating-point sum or product below is evaluated in KTAB's order
(:func:`fold_sum`), so the positions reproduce KTAB's bit for bit on its reference runs
(``tests/test_smp.py``).

Cost: KTAB's turn is O(n^4) because it evaluates ~3 n^2 challenge estimates per actor only to
fill its SQL logs. The dynamics need n^2 challenge estimates of O(n) each, and the bargain
elections share one table of pairwise victory probabilities over the n + 1 possible outcomes,
so a turn here is O(n^3) array work per draw.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detente.engines.base import (
    ActorArrays,
    BoolArray,
    DrawsAndActors,
    Engine,
    EngineResult,
    FloatArray,
    check_count,
    weighted_mean,
)

IntArray = NDArray[np.intp]

#: smpStopFn (smp.cpp, SMPModel::configExec): at least 2 and at most 100 turns; stop when a
#: turn moves the actors by less than 2% of what the first turn (plus 1e-4) moved them.
MIN_ITER = 2
MAX_ITER = 100
MIN_DELTA_RATIO = 0.02
MIN_SIG_DELTA = 1e-4
#: Model::coalitions: starting strength of every coalition in a PCE.
MIN_COALITION = 1e-8
#: SMPState::probEduChlg: starting strength of each side of a challenge.
MIN_CHALLENGE_COALITION = 1e-10
#: SMPState::bestChallenge: the smallest expected gain worth a challenge.
MIN_GAIN = 1e-5
#: SMPActor::interpBrgnSnPm: keeps the bargain's weights positive.
MIN_WEIGHT = 1e-6
#: SMPActor::interpBrgnSnPm rounds bargain coordinates to 1/10000 of the [0, 1] scale.
GRID = 10000.0
#: SMPModel::posTol: positions closer than this (Euclidean, [0, 1] scale) are one outcome.
POS_TOL = 1e-3

#: Elements of the largest (draws, n, n, n) temporary per chunk of draws.
_CHUNK_ELEMENTS = 2_000_000
#: Elements of a third-party block (see _challenges): 1 MB per buffer, about an L2 cache.
_BLOCK_ELEMENTS = 131_072


@dataclass(frozen=True)
class SpatialActors(DrawsAndActors):
    """Actors in several dimensions: ``capability`` ``(draws, actors)``, ``position`` and
    ``salience`` ``(draws, actors, dims)``; positions 0-100, saliences 0-1 (each actor's
    saliences summing to at most 1, as KTAB requires)."""

    capability: FloatArray
    position: FloatArray
    salience: FloatArray

    @classmethod
    def from_table(cls, capability: object, position: object, salience: object) -> SpatialActors:
        """A single draw from ``capability`` ``(actors,)``, ``position`` and ``salience``
        ``(actors, dims)``."""
        return cls(
            capability=np.asarray(capability, dtype=np.float64)[None, :],
            position=np.asarray(position, dtype=np.float64)[None, :, :],
            salience=np.asarray(salience, dtype=np.float64)[None, :, :],
        )

    @classmethod
    def from_arrays(cls, actors: ActorArrays) -> SpatialActors:
        """One dimension: a ``(draws, actors)`` table as ``(draws, actors, 1)``."""
        return cls(
            capability=actors.capability,
            position=actors.position[:, :, None],
            salience=actors.salience[:, :, None],
        )

    @property
    def n_dims(self) -> int:
        return int(self.position.shape[2])

    def take(self, draws: slice | IntArray) -> SpatialActors:
        return SpatialActors(self.capability[draws], self.position[draws], self.salience[draws])


@dataclass(frozen=True)
class SMPResult:
    """What the SMP returns, per draw.

    ``history`` ``(draws, turns + 1, actors, dims)`` on 0-100, turn 0 the input; a draw that
    stopped earlier than the longest repeats its last state. ``turns`` ``(draws,)`` the number of
    turns of each draw. ``risk`` ``(draws, turns + 1, actors)`` each state's risk attitudes.
    Of the final state: ``representative`` marks the actors whose position starts a new
    distinct outcome (KTAB's unique positions), ``probability`` the probability of each distinct
    outcome at its representative (0 elsewhere), ``actor_probability`` that of each actor's
    outcome, ``expected`` ``(draws, dims)`` the probability-weighted mean of the distinct
    outcomes and ``most_probable`` ``(draws, dims)`` the likeliest one (earliest on ties).
    """

    history: FloatArray
    turns: IntArray
    risk: FloatArray
    representative: BoolArray
    probability: FloatArray
    actor_probability: FloatArray
    expected: FloatArray
    most_probable: FloatArray


# ------------------------------------------------------------------------------------------
# Primitives (smp.cpp, kmodel.cpp)


def fold_sum(terms: FloatArray) -> FloatArray:
    """``((terms[0] + terms[1]) + terms[2]) + ...``: a left-to-right sum over the *first* axis.

    KTAB adds in index order; the order decides the last bit, and the last bit can decide a
    rounding to KTAB's 1e-4 grid. numpy reduces a C-contiguous array over its first axis one
    slice after another, elementwise, i.e. in exactly this order, and fast; its pairwise
    summation (a different order) is used only when the reduced axis is the innermost loop,
    which happens here only if a slice has a single element, so that case takes the
    (always sequential, slower) ``accumulate``. ``tests/test_smp.py`` checks both against a
    plain Python loop.
    """
    terms = np.ascontiguousarray(terms, dtype=np.float64)
    if terms[0].size < 2:
        return np.asarray(np.add.accumulate(terms, axis=0)[-1])
    return np.asarray(np.add.reduce(terms, axis=0))


def fold_prod(factors: FloatArray) -> FloatArray:
    """``((1.0 * f[0]) * f[1]) * ...`` over the first axis, in order (numpy's multiply never
    reorders a reduction)."""
    return np.asarray(np.multiply.reduce(np.ascontiguousarray(factors, dtype=np.float64), axis=0))


def libm_square(x: FloatArray) -> FloatArray:
    """``pow(x, 2.0)`` as C's libm computes it (KTAB's ``interpBrgnSnPm`` calls ``pow``).

    ``x * x`` is the correctly rounded square; glibc's ``pow`` is accurate to 0.52 ulp and so
    can differ from it only when the exact square lies within a hair of the midpoint between
    two doubles (or just below a power of two, where the spacing of doubles changes). The
    exact rounding error of ``x * x`` (Dekker's product) finds those rare entries, and
    ``math.pow`` (the same libm call) settles them; numpy's ``power`` is no substitute (it
    uses ``x * x`` or its own SIMD ``pow``).
    """
    x = np.asarray(x, dtype=np.float64)
    sq = x * x
    split = 134217729.0 * x  # Veltkamp: x = hi + lo exactly, each with 26 bits
    hi = split - (split - x)
    lo = x - hi
    err = ((hi * hi - sq) + 2.0 * hi * lo) + lo * lo
    # Below a power of two the spacing halves, so there the test above is not enough.
    unsure = (
        (np.abs(err) >= 0.45 * np.spacing(sq))
        | (np.frexp(sq)[0] == 0.5)
        | (np.abs(x) < 1e-100)
        | ~np.isfinite(sq)
    )
    if unsure.any():
        idx = np.flatnonzero(unsure)
        flat = sq.reshape(-1).copy()
        flat[idx] = [math.pow(float(v), 2.0) for v in x.reshape(-1)[idx]]
        sq = flat.reshape(sq.shape)
    return np.asarray(sq)


def bs_util(sd: FloatArray, big_r: FloatArray | float) -> FloatArray:
    """Utility of a weighted distance ``sd`` for risk attitude R (``SMPModel::bsUtil``).

    u = (1 - sd)(1 + sd R) for sd <= 1, (1 - sd)(1 + R) beyond (reached only through
    round-off or positions off the 0-100 scale): 1 at the ideal point, 0 at distance 1;
    R in [-1/2, 1], R > 0 risk-averse.
    """
    u = (1.0 - sd) * (1.0 + sd * big_r)
    far = sd > 1.0
    if far.any():
        u = np.where(far, (1.0 - sd) * (1.0 + big_r), u)
    return np.asarray(u)


def bv_diff(diff: FloatArray, sal: FloatArray, sal_sq: FloatArray) -> FloatArray:
    """Salience-weighted distance ``sqrt(sum_k (d_k s_k)^2 / sum_k s_k^2)`` (``SMPModel::bvDiff``).

    ``diff`` and ``sal`` have the dimensions on the last axis; ``sal_sq`` is ``sum_k s_k^2``
    summed in dimension order. KTAB throws where ``sal_sq`` is 0 (an actor who cares about no
    dimension); here that actor is at distance 0 from everything, i.e. indifferent.
    """
    ds_sq = np.zeros(np.broadcast_shapes(diff.shape, sal.shape)[:-1])
    for k in range(diff.shape[-1]):
        ds = diff[..., k] * sal[..., k]
        ds_sq = ds_sq + ds * ds
    safe = np.where(sal_sq > 0.0, sal_sq, 1.0)
    return np.asarray(np.where(sal_sq > 0.0, np.sqrt(ds_sq / safe), 0.0))


def cache_blocks(draws: int, rows: int, per_row: int) -> list[tuple[slice, slice]]:
    """(draws, rows) blocks of an array of ``draws x rows x per_row`` elements, each about
    ``_BLOCK_ELEMENTS`` (1 MB of doubles per buffer, about an L2 cache): numpy's elementwise
    passes over a block then stay in cache. Small tables are blocked over draws only (one block
    for a single small table), so no loop runs over actors; a draw too large for a block alone
    is split into blocks of rows, each still large enough for the loop's cost not to count.
    """
    per_draw = rows * per_row
    if per_draw <= _BLOCK_ELEMENTS:
        step = max(1, _BLOCK_ELEMENTS // per_draw)
        return [(slice(d, min(draws, d + step)), slice(0, rows)) for d in range(0, draws, step)]
    step = max(1, _BLOCK_ELEMENTS // per_row)
    return [
        (slice(d, d + 1), slice(r, min(rows, r + step)))
        for d in range(draws)
        for r in range(0, rows, step)
    ]


def coalitions(weight: FloatArray, util: FloatArray) -> FloatArray:
    """c[b, o, p] = 1e-8 + sum_k max(0, w_k (u_ko - u_kp)) over voters k in order.

    ``Model::coalitions`` with ``Model::vote``'s proportional rule v = w (u_o - u_p). ``util`` is
    ``(draws, voters, options)``. c[o, p] + c[p, o] are the votes cast on the pair; KTAB fills
    both from one pass over the pair, which gives these same numbers since
    w (u_p - u_o) = -(w (u_o - u_p)) exactly.
    """
    # Contiguous operands make numpy's outputs C-ordered, which fold_sum needs (and is fast on).
    ut = np.ascontiguousarray(np.swapaxes(util, 0, 1))  # (voters, B, options)
    w = np.ascontiguousarray(np.swapaxes(weight, 0, 1))[:, :, None, None]
    k, b, n_opt = ut.shape
    out = np.empty((b, n_opt, n_opt))
    for ds, rows in cache_blocks(b, n_opt, k * n_opt):
        votes = w[:, ds] * (ut[:, ds, rows, None] - ut[:, ds, None, :])
        np.maximum(votes, 0.0, out=votes)
        votes[0] = MIN_COALITION + votes[0]
        out[ds, rows] = fold_sum(votes)
    return out


def victory_probabilities(coal: FloatArray) -> FloatArray:
    """Linear victory probabilities p[o, p] = c[o, p] / (c[o, p] + c[p, o]), 1/2 on the diagonal
    (``Model::vProb``, VPModel Linear)."""
    pv = coal / (coal + np.swapaxes(coal, 1, 2))
    n = pv.shape[-1]
    pv[:, np.arange(n), np.arange(n)] = 0.5
    return np.asarray(pv)


def conditional_pce(pv: FloatArray, valid: BoolArray | None = None) -> FloatArray:
    """Conditional PCE (``Model::condPCE``): p_o proportional to prod_p pv[o, p] over the options
    in order, normalised by their sum in order.

    ``valid`` (the shape of ``pv[..., 0]``) restricts the election to some options; the others
    get probability 0 and do not enter any product.
    """
    factors = np.ascontiguousarray(np.moveaxis(pv, -1, 0))
    if valid is not None:
        factors = np.where(np.moveaxis(valid, -1, 0)[..., None], factors, 1.0)
    p = fold_prod(factors)
    if valid is not None:
        p = np.where(valid, p, 0.0)
    return np.asarray(p / fold_sum(np.moveaxis(p, -1, 0))[..., None])


def risk_attitudes(prob: FloatArray) -> FloatArray:
    """R_i = (3 p_i - (p_max + 2 p_min)) / (2 (p_max - p_min)) (``Model::bigRfromProb``, Mid).

    The actor whose position is least likely to win gets -1/2, the likeliest +1. Where every
    p is equal (e.g. one actor) KTAB divides 0 by 0; here every R is then 0 (risk-neutral).
    """
    p_min = prob.min(axis=-1, keepdims=True)
    p_max = prob.max(axis=-1, keepdims=True)
    span = p_max - p_min
    r = (3.0 * prob - (p_max + 2.0 * p_min)) / (2.0 * np.where(span > 0.0, span, 1.0))
    return np.asarray(np.where(span > 0.0, r, 0.0))


def round4(x: FloatArray) -> FloatArray:
    """KTAB's rounding of bargain coordinates to the 1e-4 grid: ``(int)(0.5 + x * 1e4) / 1e4``."""
    return np.asarray(np.trunc(0.5 + x * GRID) / GRID)


# ------------------------------------------------------------------------------------------
# One state


@dataclass(frozen=True)
class _Actors:
    """The constants of a run, on KTAB's internal scales, for a chunk of draws."""

    cap: FloatArray  # (B, n)
    sal: FloatArray  # (B, n, D)
    sal_sq: FloatArray  # (B, n): sum_k s_k^2, dimension order
    total_sal: FloatArray  # (B, n): S_i = sum_k s_k, dimension order
    sal_pow: FloatArray  # (B, n, D): pow(s, 2)

    @classmethod
    def of(cls, cap: FloatArray, sal: FloatArray) -> _Actors:
        sal_sq = np.zeros(sal.shape[:2])
        total = np.zeros(sal.shape[:2])
        for k in range(sal.shape[2]):
            sal_sq = sal_sq + sal[:, :, k] * sal[:, :, k]
            total = total + sal[:, :, k]
        return cls(cap, sal, sal_sq, total, libm_square(sal))


@dataclass(frozen=True)
class _State:
    """A state: positions (ideal points are the same), distances, risk attitudes."""

    pos: FloatArray  # (B, n, D) on [0, 1]
    vdiff: FloatArray  # (B, i, j): distance from i's ideal to j's position, i's saliences
    nra: FloatArray  # (B, n): risk attitudes R

    @classmethod
    def of(cls, pos: FloatArray, act: _Actors) -> _State:
        """``SMPState::setAllAUtil``: distances, then a risk-neutral PCE over all n positions
        (duplicates included, weights = capabilities), then R from its probabilities."""
        diff = pos[:, :, None, :] - pos[:, None, :, :]
        vdiff = bv_diff(diff, act.sal[:, :, None, :], act.sal_sq[:, :, None])
        neutral = bs_util(vdiff, 0.0)
        prob = conditional_pce(victory_probabilities(coalitions(act.cap, neutral)))
        return cls(pos, vdiff, risk_attitudes(prob))

    def perceived_risk(self) -> FloatArray:
        """rhi[b, h, i] = (2 R_h + R_i) / 3: h's estimate of i's R (``Model::estNRA``, OneThird)."""
        return np.asarray(((2.0 * self.nra[:, :, None]) + self.nra[:, None, :]) / 3.0)

    def own_utility(self, rhi: FloatArray) -> FloatArray:
        """own[b, a, x] = aUtil[a][a][x]: a's utility, as a sees itself, of x's position."""
        n = self.nra.shape[1]
        self_r = rhi[:, np.arange(n), np.arange(n)]
        return bs_util(self.vdiff, self_r[:, :, None])


def _challenges(st: _State, act: _Actors, rhi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """edu[b, i, j], i's expected gain from challenging j, and phij[b, i, j], i's estimate of
    the probability that i beats j (``SMPState::probEduChlg(h=i, k=i, i, j)``).

    With U = aUtil[i] (i's view: U[m][x] = u(vdiff[m, x], rhi[i, m])) and w_m = S_m c_m:
    the principals' strengths are chij = 1e-10 + [w_i (U_ii - U_ij)]^+ + [w_j (U_ji - U_jj)]^+
    and chji likewise with the negative parts. Each third party m (ascending, m != i, j) first
    estimates the contest from the principals and its own vote c_m = w_m (U_mi - U_mj):
    pin = cni / (cni + cnj), cni = chij0 + c_m^+, cnj = chji0 + c_m^-, pjn = 1 - pin; then
    votes v_m = w_m ((pin (2 U_mi + U_mm) + pjn 3 U_mj) - (pin 3 U_mi + pjn (2 U_mj + U_mm)))
    (``Actor::vProbLittle`` and ``Actor::thirdPartyVoteSU``, SemiCommit), added to chij or chji
    by sign. phij = chij / (chij + chji), and with s_j = S_j:
    edu = (1 - s_j) 2 U_ii + s_j (phij 2 U_ii + phji 2 U_ij) - (U_ii + U_ij).
    Arrays of third parties have m first, the axis summed in order.
    """
    b, n, _ = st.vdiff.shape
    diag = np.arange(n)
    sc = act.total_sal * act.cap  # (B, n)
    # Contiguous (m, ...) operands keep the O(n^3) arrays below C-ordered for fold_sum.
    vd_m = np.ascontiguousarray(np.swapaxes(st.vdiff, 0, 1))  # [m, b, x] = vdiff[b, m, x]
    r_m = np.ascontiguousarray(np.moveaxis(rhi, 2, 0))  # [m, b, i] = rhi[b, i, m]
    umi = bs_util(vd_m, r_m)  # [m, b, i] = U_i[m][i]
    umm = bs_util(st.vdiff[:, diag, diag].T[:, :, None], r_m)  # [m, b, i] = U_i[m][m]
    uii = umi[diag, :, diag].T  # (B, i): U_i[i][i]
    uij = bs_util(st.vdiff, rhi[:, diag, diag][:, :, None])  # [b, i, j]: U_i[i][j]
    uji = np.moveaxis(umi, 0, 2)  # [b, i, j]: U_i[j][i] (m = j)
    ujj = np.moveaxis(umm, 0, 2)  # [b, i, j]: U_i[j][j]

    contrib_i = sc[:, :, None] * (uii[:, :, None] - uij)
    contrib_j = sc[:, None, :] * (uji - ujj)
    chij0 = (MIN_CHALLENGE_COALITION + np.maximum(contrib_i, 0.0)) + np.maximum(contrib_j, 0.0)
    chji0 = (MIN_CHALLENGE_COALITION + np.maximum(-contrib_i, 0.0)) + np.maximum(-contrib_j, 0.0)

    # The third parties' votes are the O(n^3) part of a turn, computed in cache-sized blocks
    # (cache_blocks); blocking changes no number, every operation being elementwise or a fold
    # over m.
    chij = np.empty((b, n, n))
    chji = np.empty((b, n, n))
    wm = sc.T[:, :, None, None]
    for ds, rows in cache_blocks(b, n, n * n):
        chij[ds, rows], chji[ds, rows] = _third_parties(
            vd_m[:, ds],
            r_m[:, ds, rows],
            umi[:, ds, rows],
            umm[:, ds, rows],
            wm[:, ds],
            chij0[ds, rows],
            chji0[ds, rows],
            np.arange(n)[rows],
        )

    phij = chij / (chij + chji)
    phji = chji / (chij + chji)
    u_vict = (uii + uii)[:, :, None]
    u_lose = uij + uij
    eu_sq = uii[:, :, None] + uij
    eu_contest = (phij * u_vict) + (phji * u_lose)
    sj = act.total_sal[:, None, :]
    eu_chlg = ((1.0 - sj) * u_vict) + (sj * eu_contest)
    return np.asarray(eu_chlg - eu_sq), np.asarray(phij)


def _third_parties(
    vd_m: FloatArray,
    r_m: FloatArray,
    umi: FloatArray,
    umm: FloatArray,
    wm: FloatArray,
    chij0: FloatArray,
    chji0: FloatArray,
    rows: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """chij, chji of :func:`_challenges` for the challengers ``rows``: the principals'
    strengths plus every third party's vote, folded over m in order.

    Computed in place in a few (m, B, i, j) buffers, each operation exactly KTAB's
    (x + max(y, 0) equals KTAB's "add y if positive", a - b equals a + (-b) bit for bit).
    """
    n = vd_m.shape[0]
    vd_mj = vd_m[:, :, None, :]
    r_mi = r_m[:, :, :, None]
    umj = np.multiply(vd_mj, r_mi)  # [m, b, i, j] = U_i[m][j] = (1 - sd)(1 + sd R)
    umj += 1.0
    umj *= 1.0 - vd_mj
    if (vd_m > 1.0).any():
        umj = bs_util(vd_mj, r_mi)
    cm = np.subtract(umi[..., None], umj)
    cm *= wm
    cni = np.maximum(cm, 0.0)
    cni += chij0
    np.negative(cm, out=cm)
    np.maximum(cm, 0.0, out=cm)
    cm += chji0  # cnj
    both = np.add(cni, cm)
    pin = np.divide(cni, both, out=cni)
    pjn = np.subtract(1.0, pin, out=cm)
    twice_j = np.add(umj, umj, out=both)
    umj += twice_j  # 2 U_mj + U_mj
    twice_j += umm[..., None]  # 2 U_mj + U_mm
    umj *= pjn
    twice_j *= pjn
    vm = pin * ((umi + umi) + umm)[..., None]
    vm += umj  # u_ik_j
    pin *= ((umi + umi) + umi)[..., None]
    pin += twice_j  # u_i_jk
    vm -= pin
    vm *= wm
    m = np.arange(n)[:, None, None]
    principal = (m == rows[None, :, None]) | (m == np.arange(n)[None, None, :])  # m is i or j
    np.copyto(vm, 0.0, where=principal[:, None, :, :])
    gain = np.maximum(vm, 0.0, out=umj)
    gain[0] = chij0 + gain[0]
    chij = fold_sum(gain)
    np.negative(vm, out=vm)
    np.maximum(vm, 0.0, out=vm)
    vm[0] = chji0 + vm[0]
    return chij, fold_sum(vm)


def _targets(edu: FloatArray) -> tuple[IntArray, BoolArray]:
    """Each actor's target: the j with the largest gain above 1e-5, the lowest j on ties
    (``SMPState::bestChallenge``); ``has`` is False for actors who challenge no one."""
    n = edu.shape[1]
    ok = (edu > MIN_GAIN) & ~np.eye(n, dtype=bool)
    best = np.argmax(np.where(ok, edu, -np.inf), axis=2)
    return np.asarray(best, dtype=np.intp), np.asarray(ok.any(axis=2))


def _bargains(
    st: _State, act: _Actors, best: IntArray, p_win: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Positions proposed by i's bargain with its target j (``SMPActor::interpBrgnSnPm``, S2P2).

    Per dimension, w_i = s_i^2 p^2, w_j = s_j^2 (1 - p)^2 with p i's estimate that it wins:
    i moves to round4(((w_i + 1e-6) x_i + w_j x_j) / (w_i + 1e-6 + w_j)) and j to
    round4((w_i x_i + (1e-6 + w_j) x_j) / (w_i + 1e-6 + w_j)).
    """
    bidx = np.arange(best.shape[0])[:, None]
    pos_j = st.pos[bidx, best]
    wi = act.sal_pow * libm_square(p_win)[:, :, None]
    wj = act.sal_pow[bidx, best] * libm_square(1.0 - p_win)[:, :, None]
    den = (wi + MIN_WEIGHT) + wj
    init = round4((((wi + MIN_WEIGHT) * st.pos) + (wj * pos_j)) / den)
    rcvr = round4(((wi * st.pos) + ((MIN_WEIGHT + wj) * pos_j)) / den)
    return init, rcvr


def _step(st: _State, act: _Actors) -> FloatArray:
    """One turn (``SMPState::stepBCN``): challenges, bargains, each actor's election among the
    bargains it is party to and its status quo; returns the new positions."""
    b, n, _ = st.vdiff.shape
    rhi = st.perceived_risk()
    edu, phij = _challenges(st, act, rhi)
    best, has = _targets(edu)
    bidx = np.arange(b)[:, None]
    p_win = phij[bidx, np.arange(n)[None, :], best]
    init, rcvr = _bargains(st, act, best, p_win)

    # Everyone's utility for the state after each bargain (option i = i's bargain, option n =
    # no change): the mean over the n positions of that state, posUtil(a, y) using R_a itself
    # for the two moved actors and aUtil[a][a][x] for the others, summed in KTAB's order.
    own = st.own_utility(rhi)
    nra = st.nra[:, :, None]
    sal_a = act.sal[:, :, None, :]
    sq_a = act.sal_sq[:, :, None]
    u_init = bs_util(bv_diff(st.pos[:, :, None, :] - init[:, None, :, :], sal_a, sq_a), nra)
    u_rcvr = bs_util(bv_diff(st.pos[:, :, None, :] - rcvr[:, None, :, :], sal_a, sq_a), nra)
    x = np.arange(n)
    moved = (x[:, None, None] == x[None, None, :]) | (x[:, None, None] == best[None, :, :])
    own_x = np.ascontiguousarray(np.moveaxis(own, 2, 0))  # [x, b, a]
    rest = np.where(moved[:, :, None, :], 0.0, own_x[..., None])  # [x, b, a, i]
    rest[0] = (u_init + u_rcvr) + rest[0]
    u_brgn = fold_sum(rest) / float(n)
    u_sq = fold_sum(own_x) / float(n)
    util = np.concatenate([u_brgn, u_sq[:, :, None]], axis=2)  # (B, voters, n + 1)
    pv = victory_probabilities(coalitions(act.cap, util))

    # Actor k's candidates, in the order a single-threaded KTAB queues them: bargains aimed at
    # k by lower-numbered actors, k's status quo, k's own bargain, bargains from higher ones.
    opt = np.arange(n + 1)
    k = np.arange(n)[None, :, None]
    aimed = has[:, None, :] & (best[:, None, :] == k)
    mine = has[:, None, :] & (opt[None, None, :n] == k)
    member = np.concatenate([aimed | mine, np.ones((b, n, 1), dtype=bool)], axis=2)
    key = np.concatenate(
        [np.where(mine, 2 * k + 1, 2 * opt[:n]), np.broadcast_to(2 * k, (b, n, 1))], 2
    )
    key = np.where(member, key, 4 * n + 4)
    order = np.argsort(key, axis=2, kind="stable")
    count = member.sum(axis=2)
    width = int(count.max())
    order = order[:, :, :width]
    valid = np.arange(width)[None, None, :] < count[:, :, None]
    sub = pv[np.arange(b)[:, None, None, None], order[:, :, :, None], order[:, :, None, :]]
    prob = conditional_pce(sub, valid)
    choice = np.argmax(np.where(valid, np.abs(prob), -1.0), axis=2)
    chosen = np.take_along_axis(order, choice[:, :, None], axis=2)[:, :, 0]  # (B, n)

    idx = np.minimum(chosen, n - 1)
    as_init = (chosen == np.arange(n)[None, :])[:, :, None]
    from_init = init[bidx, idx]
    from_rcvr = rcvr[bidx, idx]
    new = np.where(as_init, from_init, from_rcvr)
    return np.asarray(np.where((chosen == n)[:, :, None], st.pos, new))


def state_distance(a: FloatArray, b: FloatArray) -> FloatArray:
    """sum_i ||a_i - b_i|| over actors in order, each norm summed over dimensions in order
    (``smpStopFn``'s stateDist, ``KBase::norm``)."""
    d = a - b
    sq = np.zeros(d.shape[:2])
    for k in range(d.shape[2]):
        sq = sq + d[:, :, k] * d[:, :, k]
    return fold_sum(np.sqrt(sq).T)


# ------------------------------------------------------------------------------------------
# Outcome


def _distribution(st: _State, act: _Actors) -> tuple[BoolArray, FloatArray, FloatArray]:
    """Distinct outcomes of a state and their probabilities (``SMPState::pDist(-1)``).

    Actors are scanned in order; an actor starts a new outcome unless it is within ``POS_TOL``
    of an earlier outcome's first actor (``State::setUENdx``). Each actor votes with its own
    utilities aUtil[i][i] and its capability in a Conditional PCE over the distinct outcomes.
    Returns the representatives, the outcomes' probabilities (at their representatives, 0
    elsewhere) and each actor's probability: that of the last outcome it is within ``POS_TOL``
    of (``State::posProb``).
    """
    b, n, d = st.pos.shape
    diff = st.pos[:, :, None, :] - st.pos[:, None, :, :]
    sq = np.zeros((b, n, n))
    for k in range(d):
        sq = sq + diff[..., k] * diff[..., k]
    near = np.sqrt(sq) < POS_TOL
    rep = np.zeros((b, n), dtype=bool)
    # Whether i starts an outcome depends on the decisions for the actors before it: a scan,
    # run once per solve on (draws,) arrays.
    for i in range(n):
        rep[:, i] = ~np.any(rep[:, :i] & near[:, i, :i], axis=1)
    own = st.own_utility(st.perceived_risk())
    pv = victory_probabilities(coalitions(act.cap, own))
    prob = conditional_pce(pv, rep)
    last = np.where(near & rep[:, None, :], np.arange(n)[None, None, :], -1).max(axis=2)
    return rep, prob, np.take_along_axis(prob, last, axis=1)


# ------------------------------------------------------------------------------------------
# The engine


@dataclass(frozen=True)
class SpatialPolitics(Engine):
    """KTAB's Spatial Model of Politics with its default options.

    ``solve`` takes the one-dimensional :class:`ActorArrays` (positions 0-100); ``solve_nd`` any
    number of dimensions. The forecast is the expected outcome: the mean of the final state's
    distinct positions weighted by their PCE probabilities (``SMPState::pDist(-1)``).
    ``max_turns`` is KTAB's ``maxIter`` (100). ``ActorArrays.risk`` is not used: the SMP
    computes its own risk attitudes every turn, and ``ActorArrays.veto`` is not used either:
    KTAB's model has no veto players, and bounding its expected outcome by them would make it
    something else than KTAB's forecast.
    """

    max_turns: int = MAX_ITER

    name = "smp"

    def __post_init__(self) -> None:
        check_count("SpatialPolitics", "max_turns", self.max_turns, 1, 10_000)

    def solve(self, actors: ActorArrays) -> EngineResult:
        res = self.solve_nd(SpatialActors.from_arrays(actors))
        hist = res.history[:, :, :, 0]
        weight = np.broadcast_to(actors.weight()[:, None, :], hist.shape)
        return EngineResult(
            forecast=res.expected[:, 0],
            history_positions=hist,
            history_mean=weighted_mean(hist, weight),
        )

    def solve_nd(self, actors: SpatialActors) -> SMPResult:
        b, n, d = actors.position.shape
        chunk = max(1, _CHUNK_ELEMENTS // max(1, n * n * (n + 2)))
        # At least one chunk per core once there are enough draws to share.
        cores = os.cpu_count() or 1
        if b >= 8 * cores:
            chunk = min(chunk, -(-b // cores))
        slices = [actors.take(slice(i, i + chunk)) for i in range(0, b, chunk)]
        if len(slices) == 1:
            parts = [self._run(slices[0])]
        else:
            # numpy releases the GIL in its loops; chunks of draws never interact, so the
            # numbers cannot depend on the scheduling.
            with ThreadPoolExecutor(max_workers=min(len(slices), os.cpu_count() or 1)) as pool:
                parts = list(pool.map(self._run, slices))
        turns = max(p.history.shape[1] for p in parts)
        return SMPResult(
            history=np.concatenate([_pad(p.history, turns) for p in parts]),
            turns=np.concatenate([p.turns for p in parts]),
            risk=np.concatenate([_pad(p.risk, turns) for p in parts]),
            representative=np.concatenate([p.representative for p in parts]),
            probability=np.concatenate([p.probability for p in parts]),
            actor_probability=np.concatenate([p.actor_probability for p in parts]),
            expected=np.concatenate([p.expected for p in parts]),
            most_probable=np.concatenate([p.most_probable for p in parts]),
        )

    def _run(self, actors: SpatialActors) -> SMPResult:
        """``Model::run`` for a chunk of draws; each draw stops by its own rule (``smpStopFn``),
        and only the draws still running are computed."""
        b = actors.n_draws
        act = _Actors.of(actors.capability, actors.salience)
        start = _State.of(actors.position / 100.0, act)
        cur_pos, cur_vdiff, cur_nra = start.pos, start.vdiff, start.nra
        pos_hist = [cur_pos]
        risk_hist = [cur_nra]
        turns = np.zeros(b, dtype=np.intp)
        first = np.zeros(b)
        active = np.arange(b)
        for it in range(1, self.max_turns + 1):
            if active.size == 0:
                break
            sub_act = _sub(act, active)
            st = _State(cur_pos[active], cur_vdiff[active], cur_nra[active])
            new = _State.of(_step(st, sub_act), sub_act)
            moved = state_distance(new.pos, st.pos)
            if it == 1:
                first[active] = moved + MIN_SIG_DELTA
            # Fresh arrays each turn: the history keeps the previous ones.
            cur_pos, cur_vdiff, cur_nra = cur_pos.copy(), cur_vdiff.copy(), cur_nra.copy()
            cur_pos[active] = new.pos
            cur_vdiff[active] = new.vdiff
            cur_nra[active] = new.nra
            turns[active] = it
            pos_hist.append(cur_pos)
            risk_hist.append(cur_nra)
            ratio = moved / first[active]
            stop = (it >= self.max_turns) | ((it >= MIN_ITER) & (ratio < MIN_DELTA_RATIO))
            active = active[~stop]
        final = _State(cur_pos, cur_vdiff, cur_nra)
        rep, prob, actor_prob = _distribution(final, act)
        scaled = final.pos * 100.0
        expected = fold_sum(np.swapaxes(prob[:, :, None] * scaled, 0, 1))
        top = np.argmax(prob, axis=1)
        return SMPResult(
            history=np.stack(pos_hist, axis=1) * 100.0,
            turns=turns,
            risk=np.stack(risk_hist, axis=1),
            representative=rep,
            probability=prob,
            actor_probability=actor_prob,
            expected=expected,
            most_probable=scaled[np.arange(b), top],
        )


def _sub(act: _Actors, idx: IntArray) -> _Actors:
    return _Actors(
        act.cap[idx], act.sal[idx], act.sal_sq[idx], act.total_sal[idx], act.sal_pow[idx]
    )


def _pad(hist: FloatArray, turns: int) -> FloatArray:
    """Repeat the last state of a chunk that stopped early so all chunks have one length."""
    missing = turns - hist.shape[1]
    if missing <= 0:
        return hist
    return np.concatenate([hist, np.repeat(hist[:, -1:], missing, axis=1)], axis=1)
