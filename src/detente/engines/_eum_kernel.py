"""The EUM's rounds as one compiled (numba) loop per draw, for large batches of draws.

This module mirrors :mod:`detente.engines.eum` operation by operation (same equations, same
tie rules, the same prefix-sum arithmetic above 16 actors); the numpy code there stays the
reference and documents each equation with its source (Scholz, Calbert & Smith 2011, eqs. 1-9;
Bueno de Mesquita 1994). What can differ in the last bits: sums are taken in index order (numpy's
matrix product and its pairwise sums have orders of their own), and every power b^r with r != 1
is exp(r log b) from the vectorised :func:`_exp` and :func:`_log` below (each within 1 ulp of
the C library's) instead of ``pow``. Discrete choices (which offer an actor takes) can then flip
in ill-conditioned cases, more often the longer the run (``docs/engines.md``).
``tests/test_eum_kernel.py`` checks 10-round trajectories against numpy to 1e-9.

Importing this module imports numba and compiles (or loads from numba's cache) the kernel, so
:mod:`detente.engines.eum` imports it only when a batch is large enough to pay for that.

Each draw is computed by itself, in scalar loops, so the numbers cannot depend on how the
draws are chunked or scheduled on threads. The kernel releases the GIL (``nogil``): threads run
chunks on every core.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Same constants as in :mod:`detente.engines.eum`.
DIRECT_MAX_ACTORS = 16
TIE_SCALE = 1e10  # round(v, 10) = rint(v * 1e10) / 1e10, as numpy rounds
MEDIAN_TIE_RTOL = 1e-12
# exp and log (fdlibm's constants)
_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


@njit(cache=True, nogil=True, error_model="numpy")
def _powr(base, r):
    """base ** r; r = 1 returns base itself (numpy's path skips the power then)."""
    if r == 1.0:
        return base
    return base**r


@njit(cache=True, nogil=True, error_model="numpy")
def _weighted_median(x, w):
    """:func:`detente.engines.base.weighted_median` for one draw."""
    n = x.shape[0]
    total_w = 0.0
    for k in range(n):
        total_w += w[k]
    we = w.copy()
    if not total_w > 0:
        for k in range(n):
            we[k] = 1.0
    order = np.argsort(x, kind="mergesort")
    cum = np.empty(n)
    acc = 0.0
    for k in range(n):
        acc += we[order[k]]
        cum[k] = acc
    half = cum[n - 1] / 2.0
    tol = MEDIAN_TIE_RTOL * cum[n - 1]
    lower = 0
    for k in range(n):
        if cum[k] >= half - tol:
            lower = k
            break
    upper = 0
    for k in range(n):
        if cum[k] > half + tol:
            upper = k
            break
    return (x[order[lower]] + x[order[upper]]) / 2.0


@njit(cache=True, nogil=True, error_model="numpy")
def _support(x, w, loss, out, prefix):
    """out[i, j] = sum_k w_k max(0, loss_kj - loss_ki), the votes for x_i over x_j (Scholz
    eqs. 1-2).

    Up to 16 actors each entry is summed directly, over k in table order; above, the sorted
    prefix sums of ``eum._support_sorted``: the same arithmetic in the same order, with the
    counts t_ij = #{k : 2 x_k < x_i + x_j} found by a pointer over the sorted positions (O(n^2)).
    """
    n = x.shape[0]
    if n <= DIRECT_MAX_ACTORS:
        for i in range(n):
            row = out[i]
            for j in range(n):
                row[j] = 0.0
            for k in range(n):
                wk = w[k]
                lki = loss[k, i]
                lk = loss[k]
                for j in range(n):  # contiguous: vectorised
                    row[j] += wk * max(lk[j] - lki, 0.0)
        return
    srt = np.argsort(x, kind="mergesort")
    rank = np.empty(n, dtype=np.int64)
    xs = np.empty(n)
    for t in range(n):
        rank[srt[t]] = t
        xs[t] = x[srt[t]]
    for a in range(n):
        prefix[0, a] = 0.0
    for t in range(n):
        k = srt[t]
        for a in range(n):
            prefix[t + 1, a] = prefix[t, a] + w[k] * loss[k, a]
    # cnt[a, b] = #{k : 2 x_k < xs_a + xs_b} for ranks a <= b, by a pointer that only moves on
    cnt = np.empty((n, n), dtype=np.int64)
    for a in range(n):
        ptr = 0
        for b in range(a, n):
            mid = xs[a] + xs[b]
            while ptr < n and 2.0 * xs[ptr] < mid:
                ptr += 1
            cnt[a, b] = ptr
    for i in range(n):
        for j in range(n):
            ri, rj = rank[i], rank[j]
            c = cnt[ri, rj] if ri <= rj else cnt[rj, ri]
            left = prefix[c, j] - prefix[c, i]
            if x[i] < x[j]:
                out[i, j] = left
            elif x[i] > x[j]:
                out[i, j] = (prefix[n, j] - prefix[n, i]) - left
            else:
                out[i, j] = 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _win_probability(support, same, published, p):
    """P_ij (Scholz eq. 2, or the program's all-pairs normaliser); ``eum.win_probability``."""
    n = support.shape[0]
    if published:
        for i in range(n):
            for j in range(n):
                total = support[i, j] + support[j, i]
                p[i, j] = support[i, j] / total if total > 0 else 0.5
    else:
        acc = 0.0
        for i in range(n):
            for j in range(n):
                acc += support[i, j]
        total_all = 2.0 * acc
        for i in range(n):
            for j in range(n):
                p[i, j] = support[i, j] / total_all if total_all > 0 else 0.0
    for i in range(n):
        for j in range(n):
            if same[i, j]:
                p[i, j] = 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _sq_terms(e, med_a, d, ri, q, t):
    """e - (1 - Q)(T U_b + (1 - T) U_w) (Scholz eqs. 6-8), a the challenger."""
    shift = 0.25 * (med_a + d)
    low = 0.5 - shift
    if low < 0.0:
        low = 0.0
    u_b = 2.0 - 4.0 * _powr(low, ri)
    u_w = 2.0 - 4.0 * _powr(0.5 + shift, ri)
    return e - (1.0 - q) * (t * u_b + (1.0 - t) * u_w)


@njit(cache=True, nogil=True, error_model="numpy")
def _danger_utilities(x, s, w, dist, same, med, q, t, published, sq_terms, eu_ji, work):
    """eu_ji with every r = 1, for the danger of Scholz eq. 9 (no power is needed)."""
    n = x.shape[0]
    support, p, prefix = work[1], work[2], work[3]
    _support(x, w, dist, support, prefix)
    _win_probability(support, same, published, p)
    u_sq = 2.0 - 4.0 * 0.5
    for i in range(n):
        si = s[i]
        for j in range(n):
            d = dist[i, j]
            u_s = 2.0 - 4.0 * (0.5 - 0.5 * d)
            u_f = 2.0 - 4.0 * (0.5 + 0.5 * d)
            pji = p[j, i]
            e = si * (pji * u_s + (1.0 - pji) * u_f) + (1.0 - si) * u_s
            e = e - q * u_sq
            if sq_terms:
                e = _sq_terms(e, med[j], d, 1.0, q, t)
            eu_ji[i, j] = e


@njit(cache=True, nogil=True, error_model="numpy")
def _exp(src, out, ibuf):
    """out = exp(src) for src <= 0 (0 below -708), within 1 ulp, in loops the compiler vectorises.

    Cody-Waite reduction src = k ln 2 + r, |r| <= ln(2) / 2, then the Taylor polynomial of
    e^r to degree 13 (truncation below 1e-17) and 2^k from its bits.
    """
    m = src.shape[0]
    scale = ibuf.view(np.float64)
    for i in range(m):
        x = src[i]
        x = x if x > -708.0 else -708.0
        kf = math.floor(x * _INV_LN2 + 0.5)
        r = (x - kf * _LN2_HI) - kf * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        out[i] = p
        ibuf[i] = (np.int64(kf) + 1023) << 52
    for i in range(m):
        out[i] = out[i] * scale[i] if src[i] > -708.0 else 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _log(src, out, ibuf):
    """out = log(src) for src >= 0 (-inf at 0), within 1 ulp, in loops the compiler vectorises.

    fdlibm's ``__ieee754_log``: src = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1,
    s = f / (2 + f), log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2))), R its minimax polynomial.
    """
    m = src.shape[0]
    bits = src.view(np.int64)
    mant = ibuf.view(np.float64)
    for i in range(m):
        ibuf[i] = (bits[i] & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000
    for i in range(m):
        k = float((bits[i] >> 52) - 1023)
        mm = mant[i]
        big = mm > _SQRT2
        mm = mm * 0.5 if big else mm
        k = k + 1.0 if big else k
        f = mm - 1.0
        hfsq = 0.5 * f * f
        s = f / (2.0 + f)
        z = s * s
        w = z * z
        t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
        t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
        v = k * _LN2_HI - ((hfsq - (s * (hfsq + (t2 + t1)) + k * _LN2_LO)) - f)
        out[i] = v if src[i] > 0.0 else -math.inf


@njit(cache=True, nogil=True, error_model="numpy")
def _challenge_utilities(
    x, s, w, dist, same, r, med, q, t, published, sq_terms, eu_ij, eu_ji, work
):
    """eu_ij, eu_ji[i, j] as i sees them, with i's risk exponent (Scholz eqs. 1-8).

    Every power b^r (b a distance or 0.5 -+ 0.5 d, Scholz eqs. 1, 3-4) is computed as
    exp(r log b) with the vectorised :func:`_exp` and :func:`_log`: within a few ulps of
    ``pow``, several times faster. A power with r = 1 is the base itself, as in numpy.
    """
    n = x.shape[0]
    support, p, prefix = work[1], work[2], work[3]
    packed, packed_log, pair, arg, powers, ibuf = (
        work[4],
        work[5],
        work[6],
        work[7],
        work[8],
        work[9],
    )
    # the bases d_ij, 0.5 - 0.5 d_ij, 0.5 + 0.5 d_ij are symmetric: one log per pair i < j
    half = packed.shape[0] // 3
    for i in range(n):
        for j in range(i + 1, n):
            d = dist[i, j]
            at = pair[i, j]
            packed[at] = d
            packed[half + at] = 0.5 - 0.5 * d
            packed[2 * half + at] = 0.5 + 0.5 * d
    _log(packed, packed_log, ibuf)
    log_half = math.log(0.5)
    # exponents: loss[k, a] = d_ka^r_k; (0.5 -+ 0.5 d_ij)^r_i, each with the row actor's r
    for k in range(n):
        rk = r[k]
        for a in range(n):
            if k == a:
                arg[0, k, a] = -math.inf
                arg[1, k, a] = rk * log_half
                arg[2, k, a] = rk * log_half
            else:
                at = pair[k, a]
                arg[0, k, a] = rk * packed_log[at]
                arg[1, k, a] = rk * packed_log[half + at]
                arg[2, k, a] = rk * packed_log[2 * half + at]
    _exp(arg.reshape(arg.size), powers.reshape(powers.size), ibuf)
    loss, pw_s, pw_f = powers[0], powers[1], powers[2]
    for k in range(n):
        if r[k] == 1.0:
            for a in range(n):
                d = dist[k, a]
                loss[k, a] = d
                pw_s[k, a] = 0.5 - 0.5 * d
                pw_f[k, a] = 0.5 + 0.5 * d
    _support(x, w, loss, support, prefix)
    _win_probability(support, same, published, p)
    for i in range(n):
        ri = r[i]
        si = s[i]
        u_sq = 2.0 - 4.0 * _powr(0.5, ri)
        for j in range(n):
            d = dist[i, j]
            us = 2.0 - 4.0 * pw_s[i, j]
            uf = 2.0 - 4.0 * pw_f[i, j]
            # j challenges i: P_ji, the challenged i's salience, the challenger j's distance to
            # the median.
            pji = p[j, i]
            e = si * (pji * us + (1.0 - pji) * uf) + (1.0 - si) * us
            e = e - q * u_sq
            if sq_terms:
                e = _sq_terms(e, med[j], d, ri, q, t)
            eu_ji[i, j] = e
            # i challenges j: P_ij, the challenged j's salience, i's distance to the median.
            pij = p[i, j]
            sj = s[j]
            e = sj * (pij * us + (1.0 - pij) * uf) + (1.0 - sj) * us
            e = e - q * u_sq
            if sq_terms:
                e = _sq_terms(e, med[i], d, ri, q, t)
            eu_ij[i, j] = e


@njit(cache=True, nogil=True, error_model="numpy")
def _published_move(x, i, eu_ij, eu_ji, targets, moves):
    """Receiver i's new position, ``eum._published_moves`` for one actor."""
    n = x.shape[0]
    xi = x[i]
    best_move = math.inf
    any_offer = False
    for j in range(n):
        moves[j] = math.inf
        xj = x[j]
        a = eu_ij[i, j]
        b = eu_ji[i, j]
        if xi == xj or not b > 0:
            continue
        conf = a > 0 and b > a
        comp = a < 0 and b > -a
        capit = a < 0 and b < -a
        if not (conf or comp or capit):
            continue
        if comp:
            target = xi + (xj - xi) * (abs(a) / b)
        else:
            target = xj
        targets[j] = target
        moves[j] = abs(target - xi)
        any_offer = True
        if moves[j] < best_move:
            best_move = moves[j]
    if not any_offer:
        return xi
    best_resolve = -math.inf
    for j in range(n):
        if moves[j] == best_move:
            v = np.rint(eu_ji[i, j] * TIE_SCALE) / TIE_SCALE
            if v > best_resolve:
                best_resolve = v
    chosen = math.inf
    for j in range(n):
        if moves[j] == best_move:
            v = np.rint(eu_ji[i, j] * TIE_SCALE) / TIE_SCALE
            if v == best_resolve and targets[j] < chosen:
                chosen = targets[j]
    return chosen


@njit(cache=True, nogil=True, error_model="numpy")
def _scholz_move(x, i, eu_ij, eu_ji):
    """Receiver i's new position, ``eum._scholz_moves`` for one actor (first index wins ties)."""
    n = x.shape[0]
    xi = x[i]
    best_conf = -1
    best_conf_move = math.inf
    best_comp = -1
    best_comp_key = math.inf
    comp_target = xi
    for j in range(n):
        xj = x[j]
        if xi == xj:
            continue
        a = eu_ij[i, j]
        b = eu_ji[i, j]
        if b > a and a > 0:
            m = abs(xj - xi)
            if best_conf < 0 or m < best_conf_move:
                best_conf = j
                best_conf_move = m
        if b > 0 and a < 0 and b > abs(a):
            a_ij = abs(a)
            a_ji = abs(b)
            key = (a_ij * xi + a_ji * xj) / (a_ij + a_ji)
            if best_comp < 0 or key < best_comp_key:
                best_comp = j
                best_comp_key = key
                comp_target = xi + (xj - xi) * (a_ij / a_ji)
    if best_conf >= 0:
        return x[best_conf]
    if best_comp >= 0:
        return comp_target
    return xi


@njit(cache=True, nogil=True, error_model="numpy")
def solve_batch(x0, c, s, span, fixed_r, limit, fixed, tol, q, t, published, hist, stops):
    """Run every draw; ``hist[b, k]`` the positions after round k, ``stops[b]`` rounds run.

    ``eum.ExpectedUtility._run`` for one draw at a time: with ``fixed``, exactly ``limit``
    rounds; otherwise until a round moves no actor more than ``tol`` x D (that round's move
    is kept), at most ``limit``; later rounds repeat the last positions.
    """
    nb, n = x0.shape
    sq_terms = published and q != 1.0
    dist = np.empty((n, n))
    same = np.empty((n, n), dtype=np.bool_)
    eu_ij = np.empty((n, n))
    eu_ji = np.empty((n, n))
    r = np.empty(n)
    w = np.empty(n)
    med = np.zeros(n)
    danger = np.empty(n)
    x = np.empty(n)
    new_x = np.empty(n)
    targets = np.empty(n)
    moves = np.empty(n)
    pairs = 3 * (n * (n - 1) // 2)
    pair = np.zeros((n, n), dtype=np.int64)  # index of the pair (i, j), i != j, in a packed row
    at = 0
    for i in range(n):
        for j in range(i + 1, n):
            pair[i, j] = at
            pair[j, i] = at
            at += 1
    work = (
        np.empty((n, n)),
        np.empty((n, n)),
        np.empty((n, n)),
        np.empty((n + 1, n)),
        np.empty(pairs),
        np.empty(pairs),
        pair,
        np.empty((3, n, n)),
        np.empty((3, n, n)),
        np.empty(3 * n * n, dtype=np.int64),
    )
    for b in range(nb):
        sp = span[b]
        for k in range(n):
            x[k] = x0[b, k]
            w[k] = c[b, k] * s[b, k]
            hist[b, 0, k] = x[k]
        done = 0
        for rnd in range(limit):
            # geometry (eum._Geometry)
            for i in range(n):
                for j in range(n):
                    diff = x[i] - x[j]
                    dist[i, j] = abs(diff) / sp
                    same[i, j] = diff == 0.0
            if sq_terms:
                m = _weighted_median(x, w)
                for i in range(n):
                    med[i] = abs(x[i] - m) / sp
            # risk exponents (Scholz eq. 9), every r = 1 for the danger
            _danger_utilities(x, s[b], w, dist, same, med, q, t, published, sq_terms, eu_ji, work)
            for i in range(n):
                acc = 0.0
                for j in range(n):
                    count = (not same[i, j]) if published else (i != j)
                    acc += eu_ji[i, j] if count else 0.0
                danger[i] = acc
            hi = danger[0]
            lo = danger[0]
            for i in range(n):
                hi = max(hi, danger[i])
                lo = min(lo, danger[i])
            rng = hi - lo
            for i in range(n):
                big_r = (2.0 * danger[i] - hi - lo) / rng if rng > 0 else 0.0
                fr = fixed_r[b, i]
                if math.isnan(fr):
                    r[i] = (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)
                else:
                    r[i] = fr
            # offers and moves
            _challenge_utilities(
                x, s[b], w, dist, same, r, med, q, t, published, sq_terms, eu_ij, eu_ji, work
            )
            moved = 0.0
            for i in range(n):
                if published:
                    new_x[i] = _published_move(x, i, eu_ij, eu_ji, targets, moves)
                else:
                    new_x[i] = _scholz_move(x, i, eu_ij, eu_ji)
                moved = max(moved, abs(new_x[i] - x[i]))
            for i in range(n):
                x[i] = new_x[i]
                hist[b, rnd + 1, i] = x[i]
            done = rnd + 1
            if not fixed and not moved > tol * sp:
                break
        for rnd in range(done + 1, limit + 1):
            for i in range(n):
                hist[b, rnd, i] = x[i]
        stops[b] = done
