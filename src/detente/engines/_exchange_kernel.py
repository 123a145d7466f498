"""The exchange model's inner loop: one candidate's (re)calculation, and an execution's touches.

Plain Python on scalars and arrays, compiled by numba on first use (:func:`compile_kernel`; numba
is a dependency, imported only then so that other commands do not pay for it; without it the same
functions run as Python, only slower). Everything a candidate holds lives in a few 2-D arrays
indexed ``[row, candidate]``, with the rows named below; ``docs/engines.md`` gives the equations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", bound=Callable[..., Any])
#: The kernel's functions as plain Python, by name (what :func:`compile_kernel` compiles).
PLAIN: dict[str, Callable[..., Any]] = {}
_compiled = False


def _jit(fn: _F) -> _F:
    """Register a kernel function; it stays plain Python until :func:`compile_kernel`."""
    PLAIN[fn.__name__] = fn
    return fn


def compile_kernel() -> None:
    """Replace the kernel's functions by numba's compiled ones (cached on disk), once.

    Compiled functions call each other through this module's globals, so all are replaced
    before the first call compiles any of them.
    """
    global _compiled
    if _compiled:
        return
    _compiled = True
    try:
        from numba import njit
    except ImportError:  # pragma: no cover - numba is a dependency
        return
    namespace = globals()
    for name, fn in PLAIN.items():
        # a zero weight gives inf or nan, never an exception: such a candidate is never valid
        namespace[name] = njit(cache=True, nogil=True, error_model="numpy")(fn)


#: ``is_move_valid``: a move of at most this is no move; a gain below this is no gain.
MIN_MOVE = 1e-10
MIN_GAIN = 1e-10
#: Slack on the bounds [0, 100] when a move lands on one (decimal x + (t - x) is t exactly).
SLACK = 1e-9
#: Within this of its target the MDS check is decided in decimal (by the caller).
NEAR = 1e-9

# rows of C (constants per candidate); side 0 is I (supplies q), side 1 is J (supplies p)
T0, T1 = 0, 1  # each side's target: the other's round-start position on its supply issue
X00, X01 = 2, 3  # round-start supply positions
W0, W1 = 4, 5  # w = c s of the side on its supply issue
WT0, WT1 = 6, 7  # W of the side's supply issue
K1, K2, G1, G2 = 8, 9, 10, 11  # plain calculation (see ``calc``)
TRAD = 12  # 1 when both supply sides carry weight
S0S, S0D, S1S, S1D = 13, 14, 15, 16  # salience of each side on its supply and demand issue
N_C = 17
# rows of F (float state)
X0, X1 = 0, 1  # current supply positions
M0, M1 = 2, 3  # last planned moves
PS0, PS1 = 4, 5  # sum of the earlier moves in the history
GAIN = 6
YBF = 7  # I's voting position before J's MDS correction (what I's nbs_1 saw)
N0, N1 = 8, 9  # sum_a w_a x_a over the supply issue, updates applied, own actor at round start
OWN0, OWN1 = 10, 11  # the own actor's update (NaN: none)
SCORE = 12  # gain while listed, -inf once gone
DP, DQ = 13, 14  # the exchange ratios as the program names them (``exchange.dp``, ``.dq``)
N_F = 15
# rows of B (flags)
PN0, PN1 = 0, 1  # every earlier move negative
PP0, PP1 = 2, 3  # every earlier move positive
VALID = 4
FIX0, FIX1 = 5, 6  # the last calculation's MDS corrections
ADJ0, ADJ1 = 7, 8  # ``is_adjusted_by_nbs`` (sticky)
ALIVE = 9
N_B = 10
# rows of K (integers): actors, issues, actor-issue keys a * m + k
KI, KJ, KP, KQ = 0, 1, 2, 3
KIS, KJS, KID, KJD = 4, 5, 6, 7  # I supply, J supply, I demand, J demand
N_K = 8

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@_jit
def move_ok(F: FloatArray, B: BoolArray, side: int, c: int, x: float, m: float) -> bool:
    """``is_move_valid``: a real move, inside [0, 100], the history's sum at most 100, and every
    move of the history in one direction."""
    am = abs(m)
    if not (MIN_MOVE < am <= 100.0):
        return False
    y = x + m
    if y < -SLACK or y > 100.0 + SLACK:
        return False
    if F[PS0 + side, c] + m > 100.0:
        return False
    if m < 0.0:
        return bool(B[PN0 + side, c])
    if m > 0.0:
        return bool(B[PP0 + side, c])
    return False


@_jit
def calc(c: int, C: FloatArray, F: FloatArray, B: BoolArray) -> bool:
    """``EqualGainExchange.calculate`` for candidate c; True if the MDS check needs decimals.

    Plain: J moves all the way to I's position on p (``|dx_p|``), I's move is
    ``|dx_p| K1`` (``K1 = (w_Jp / W_p) r (W_q / w_Iq)``, ``r = (s_Ip + s_Jp) / (s_Iq + s_Jq)``),
    gain ``|dx_p| G1``; if I's move would pass J's position, I moves all the way (``|dx_q|``),
    J moves ``|dx_q| K2`` and the gain is ``|dx_q| G2``. Then ``check_nbs``, I's side first.
    """
    x0 = F[X0, c]
    x1 = F[X1, c]
    t0 = C[T0, c]
    t1 = C[T1, c]
    d0 = abs(t0 - x0)
    d1 = abs(t1 - x1)
    m_i = d1 * C[K1, c]
    if m_i > d0:
        m_i = d0
        m_j = d0 * C[K2, c]
        gain = d0 * C[G2, c]
        # dq = |dx_q| w_Iq / W_q, dp = dq / r with r = (s_Ip + s_Jp) / (s_Iq + s_Jq)
        dq = d0 * C[W0, c] / C[WT0, c]
        dp = dq * (C[S0S, c] + C[S1D, c]) / (C[S0D, c] + C[S1S, c])
    else:
        m_j = d1
        gain = d1 * C[G1, c]
        dp = d1 * C[W1, c] / C[WT1, c]
        dq = dp * (C[S0D, c] + C[S1S, c]) / (C[S0S, c] + C[S1D, c])
    if x0 > t0:
        m_i = -m_i
    if x1 > t1:
        m_j = -m_j
    F[M0, c] = m_i
    F[M1, c] = m_j
    F[GAIN, c] = gain
    F[DP, c] = dp
    F[DQ, c] = dq
    F[YBF, c] = math.nan
    B[FIX0, c] = False
    B[FIX1, c] = False
    ok = (
        C[TRAD, c] > 0.0
        and gain >= MIN_GAIN
        and move_ok(F, B, 0, c, x0, m_i)
        and move_ok(F, B, 1, c, x1, m_j)
    )
    B[VALID, c] = ok
    if not ok:
        return False
    return check_nbs(c, C, F, B)


@_jit
def check_nbs(c: int, C: FloatArray, F: FloatArray, B: BoolArray) -> bool:
    """``check_nbs`` for I then J; True (and nothing changed) if a check needs decimals.

    A side A whose target t lies strictly between the MDS of its supply issue before and after
    its move (``n0``, ``n1``) has its move cut so that the MDS lands on t:
    ``delta = |t W - N_t| / w``, ``r_A = delta w / W``, ``r_O = r_A (s_Ak + s_Ok) / (s_Ad + s_Od)``,
    the other's move ``r_O W_d / w_Od``, gain ``|r_O s_Od - r_A s_Ok|``.
    """
    x_i = F[X0, c]
    x_j = F[X1, c]
    m_i = F[M0, c]
    m_j = F[M1, c]
    gain = F[GAIN, c]
    dp = F[DP, c]
    dq = F[DQ, c]
    fix_i = False
    fix_j = False
    ybf = math.nan
    # I's side: supply issue q, target x_Jq
    w = C[W0, c]
    wt = C[WT0, c]
    n = F[N0, c]
    start = C[X00, c]
    t = C[T0, c]
    n0 = (n + w * (x_i - start)) / wt
    n1 = (n + w * (x_i + m_i - start)) / wt
    if abs(t - n0) < NEAR or abs(t - n1) < NEAR:
        return True
    if (t - n0) * (t - n1) < 0.0:
        own = F[OWN0, c]
        numer = n + w * ((x_i if math.isnan(own) else own) - start)
        delta = abs(t * wt - numer) / w
        r_a = delta * w / wt
        r_o = r_a * (C[S0S, c] + C[S1D, c]) / (C[S0D, c] + C[S1S, c])
        mo = abs(r_o * C[WT1, c] / C[W1, c])
        m_j = -mo if x_j > C[T1, c] else mo
        m_i = -delta if x_i > t else delta
        gain = abs(r_o * C[S1S, c] - r_a * C[S1D, c])
        dp = r_a
        dq = r_o
        fix_i = True
    # J's side: supply issue p, target x_Ip; sees J's move as I's check left it
    w = C[W1, c]
    wt = C[WT1, c]
    n = F[N1, c]
    start = C[X01, c]
    t = C[T1, c]
    n0 = (n + w * (x_j - start)) / wt
    n1 = (n + w * (x_j + m_j - start)) / wt
    if abs(t - n0) < NEAR or abs(t - n1) < NEAR:
        return True
    if (t - n0) * (t - n1) < 0.0:
        own = F[OWN1, c]
        numer = n + w * ((x_j if math.isnan(own) else own) - start)
        delta = abs(t * wt - numer) / w
        r_a = delta * w / wt
        r_o = r_a * (C[S1S, c] + C[S0D, c]) / (C[S1D, c] + C[S0S, c])
        ybf = x_i + m_i
        mo = abs(r_o * C[WT0, c] / C[W0, c])
        m_i = -mo if x_i > C[T0, c] else mo
        m_j = -delta if x_j > t else delta
        gain = abs(r_o * C[S0S, c] - r_a * C[S0D, c])
        dp = r_a
        dq = r_o
        fix_j = True
    F[M0, c] = m_i
    F[M1, c] = m_j
    F[GAIN, c] = gain
    F[DP, c] = dp
    F[DQ, c] = dq
    F[YBF, c] = ybf
    B[FIX0, c] = fix_i
    B[FIX1, c] = fix_j
    if fix_i:
        B[ADJ0, c] = True
    if fix_j:
        B[ADJ1, c] = True
    B[VALID, c] = move_ok(F, B, 0, c, x_i, m_i) and move_ok(F, B, 1, c, x_j, m_j)
    return False


@_jit
def pick(score: FloatArray, tie: float, near: IntArray) -> tuple[int, int]:
    """The head of the list: the highest score, and how many scores lie within ``tie`` of it
    (written to ``near``, in candidate order). -1 when the list is empty."""
    top = -1
    best = -math.inf
    for c in range(score.shape[0]):
        if score[c] > best:
            best = score[c]
            top = c
    if top < 0:
        return -1, 0
    count = 0
    for c in range(score.shape[0]):
        if score[c] >= best - tie:
            near[count] = c
            count += 1
    return top, count


@_jit
def initial(C: FloatArray, F: FloatArray, B: BoolArray, near: IntArray) -> int:
    """Calculate every candidate; the ones whose MDS check needs decimals go to ``near``."""
    count = 0
    for c in range(C.shape[1]):
        if calc(c, C, F, B):
            near[count] = c
            count += 1
        F[SCORE, c] = F[GAIN, c]
    return count


@_jit
def touch(
    e: int,
    y_i: float,
    y_j: float,
    s_from: int,
    C: FloatArray,
    F: FloatArray,
    B: BoolArray,
    K: IntArray,
    upd: FloatArray,
    x0: FloatArray,
    w: FloatArray,
    by_key: IntArray,
    key_bounds: IntArray,
    seen: IntArray,
    near: IntArray,
    h_c: IntArray,
    h_s: IntArray,
    h_f: FloatArray,
    h_b: BoolArray,
    nh: int,
) -> tuple[int, int]:
    """``AbstractExchange.recalculate`` of every listed candidate the executed exchange e touches.

    Supply contact: a side with e's actor and supply issue takes e's voting position; a touched
    side keeps its previous planned move in its history, an untouched side's last move is
    replaced. Demand contact: a side with the actor and demand issue of one of e's sides records
    the other side's voting position in its ``updates``; a later record keeps the smaller of the
    two if that actor's round-start position is below the earlier record, else the larger
    (``update_updates``). Each recalculation is logged (``h_*``, see :func:`log`) for the
    tie-break. Returns the
    number of candidates put in ``near`` and the new log length.
    """
    k_is = K[KIS, e]
    k_js = K[KJS, e]
    k_id = K[KID, e]
    k_jd = K[KJD, e]
    e_i = K[KI, e]
    e_j = K[KJ, e]
    e_p = K[KP, e]
    e_q = K[KQ, e]
    count = 0
    for key in (k_is, k_js, k_id, k_jd):
        for at in range(key_bounds[key], key_bounds[key + 1]):
            c = by_key[at]
            if not B[ALIVE, c] or seen[c] == e:
                continue
            seen[c] = e
            touched = False
            for side in range(2):
                k = K[KIS + side, c]
                if k == k_is or k == k_js:
                    touched = True
                    F[X0 + side, c] = y_i if k == k_is else y_j
                    last = F[M0 + side, c]
                    F[PS0 + side, c] += last
                    B[PN0 + side, c] = B[PN0 + side, c] and last < 0.0
                    B[PP0 + side, c] = B[PP0 + side, c] and last > 0.0
            for ev in range(2):
                k_dem = k_jd if ev == 0 else k_id
                actor = e_i if ev == 0 else e_j
                issue = e_q if ev == 0 else e_p
                y = y_i if ev == 0 else y_j
                start = x0[actor, issue]
                for side in range(2):
                    # side 0 (I) supplies what J demands; side 1 (J) what I demands
                    kd = K[KJD, c] if side == 0 else K[KID, c]
                    if kd != k_dem:
                        continue
                    touched = True
                    cur = upd[side, c, actor]
                    if math.isnan(cur):
                        new = y
                        old = x0[actor, issue]
                    else:
                        new = min(cur, y) if start <= cur else max(cur, y)
                        old = cur
                    upd[side, c, actor] = new
                    if actor == K[KI + side, c]:
                        F[OWN0 + side, c] = new
                    else:
                        F[N0 + side, c] += w[actor, issue] * (new - old)
            if not touched:
                continue
            if calc(c, C, F, B):
                near[count] = c
                count += 1
                continue
            if B[VALID, c]:
                F[SCORE, c] = F[GAIN, c]
            else:
                B[ALIVE, c] = False
                F[SCORE, c] = -math.inf
            nh = log(c, s_from, F, B, h_c, h_s, h_f, h_b, nh)
    return count, nh


@_jit
def log(
    c: int,
    s_from: int,
    F: FloatArray,
    B: BoolArray,
    h_c: IntArray,
    h_s: IntArray,
    h_f: FloatArray,
    h_b: BoolArray,
    nh: int,
) -> int:
    """Append candidate c's gain and state (from sort ``s_from`` on) to the log.

    The updates matter to the decimal calculation only where an MDS check corrected the
    exchange; the caller keeps a copy of them for those entries.
    """
    h_c[nh] = c
    h_s[nh] = s_from
    h_f[0, nh] = F[GAIN, c]
    h_f[1, nh] = F[X0, c]
    h_f[2, nh] = F[X1, c]
    h_b[0, nh] = B[FIX0, c]
    h_b[1, nh] = B[FIX1, c]
    return nh + 1
