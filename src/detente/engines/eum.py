"""Bueno de Mesquita's expected utility model (EUM), vectorised over draws.

Sources: Bueno de Mesquita (1994), "Political forecasting: an expected utility method", in
Bueno de Mesquita & Stokman (eds.), *European Community Decision Making*, Yale UP; Scholz, Calbert
& Smith (2011), "Unravelling Bueno de Mesquita's group decision model", *Journal of Theoretical
Politics* 23(4): 510-531 (the equations below are numbered as there where they have a number).

Notation: actor k has capability c_k, salience s_k in [0, 1], position x_k and risk exponent r_k;
D = max_k x_k - min_k x_k of the *input* positions, fixed for the whole run; d_ka = |x_k - x_a| / D.

Two variants (``docs/engines.md`` explains each difference):

* ``"published"`` (default): the model as published in Scholz et al. (2011) and BdM (1994).
* ``"scholz-code"``: the behaviour of Scholz's own program, reproduced to 1e-9 on the paper's
  worked example (``tests/test_eum.py``).

Arrays: B draws, n actors. Every step is an array operation over ``(B, n, n)`` or
``(B, n, n, n)``; draws are processed in chunks to bound memory, which cannot change any number
because draws never interact.

Batches of at least ``KERNEL_MIN_DRAWS`` draws run instead through a compiled kernel
(:mod:`detente.engines._eum_kernel`, numba) that mirrors this code operation by operation, one
draw at a time; it is imported only then, so a single table never pays for a compiler. Without
numba the numpy code runs everything. The two agree on 10-round trajectories of random tables to
1e-9, except where the model compares two (nearly) equal quantities and the last bit decides; past
about 30 rounds the model amplifies last-bit differences until a discrete choice flips, so long
trajectories are reproducible bit for bit within one build (one code path), not across them
(``docs/engines.md`` gives the measured rates).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from numbers import Real
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from detente.engines.base import (
    ActorArrays,
    BoolArray,
    Engine,
    EngineResult,
    FloatArray,
    check_count,
    clip_to_veto,
    weighted_mean,
    weighted_median,
)

Variant = Literal["published", "scholz-code"]
VARIANTS: tuple[Variant, ...] = ("published", "scholz-code")
Kernel = Literal["auto", "compiled", "numpy"]
KERNELS: tuple[Kernel, ...] = ("auto", "compiled", "numpy")

#: ``kernel="auto"`` uses the compiled kernel from this many draws on (and numpy below): importing
#: numba and loading the kernel from its cache costs 0.4-1 s once per process, which pays off only
#: for batches; a single table solves in milliseconds with numpy. A fixed threshold (not "whatever
#: is loaded already") keeps a batch's numbers independent of what ran before in the process.
KERNEL_MIN_DRAWS = 1000

#: Elements of the largest temporary array per chunk of draws (bounds memory, keeps caches warm).
_CHUNK_ELEMENTS = 1_000_000
#: Up to this many actors the votes are summed directly; above, through sorted prefix sums.
_DIRECT_MAX_ACTORS = 16
#: Decimals to which expected utilities are rounded when they only break ties between offers,
#: so that the choice cannot depend on the order of floating-point summation.
_TIE_DECIMALS = 10


@dataclass(frozen=True)
class EUMState:
    """Positions and the run's constants for a chunk of draws."""

    x: FloatArray  # (B, n) current positions
    c: FloatArray  # (B, n) capability
    s: FloatArray  # (B, n) salience, 0-1
    span: FloatArray  # (B,) D, the input's range (1 where it is 0: nothing can move then)
    fixed_r: FloatArray  # (B, n) risk exponent where given, NaN where computed


def risk_exponent(risk_attitude: FloatArray) -> FloatArray:
    """r = (1 - R/3) / (1 + R/3): maps R in [-1, 1] to r in [0.5, 2] (BdM 1994; Scholz eq. 9)."""
    return np.asarray((1.0 - risk_attitude / 3.0) / (1.0 + risk_attitude / 3.0))


def win_probability(
    x: FloatArray,
    w: FloatArray,
    dist: FloatArray,
    same: BoolArray,
    r: FloatArray,
    pairwise: bool,
) -> FloatArray:
    """P[b, i, j], the probability that x_i prevails over x_j.

    Vote of k for x_i over x_j (Scholz eq. 1): v_k(i, j) = c_k s_k (d_kj^r_k - d_ki^r_k),
    d = ``dist`` = |x_k - x_a| / D. Published (eq. 2): P_ij = sum_k max(0, v_k(i, j)) /
    sum_k |v_k(i, j)|, so P_ij + P_ji = 1; 0.5 where no one cares (every v_k(i, j) = 0).
    Scholz's program: the denominator is sum_k sum_(a, b) |v_k(a, b)| over all ordered pairs,
    which is twice the sum of all supports. Both set P_ij = 0 where x_i = x_j (``same``).
    """
    support = pairwise_support(x, w, _power(dist, r[:, :, None]))
    if pairwise:
        total = support + support.transpose(0, 2, 1)
        p = np.divide(support, total, out=np.full_like(support, 0.5), where=total > 0)
    else:
        total_all = np.broadcast_to(2.0 * support.sum(axis=(1, 2))[:, None, None], support.shape)
        p = np.divide(support, total_all, out=np.zeros_like(support), where=total_all > 0)
    return np.where(same, 0.0, p)


def pairwise_support(x: FloatArray, w: FloatArray, loss: FloatArray) -> FloatArray:
    """support[b, i, j] = sum_k w_k max(0, loss_kj - loss_ki): k's votes for x_i over x_j.

    Summed directly (O(n^3) per draw, fastest in numpy for small tables) up to
    ``_DIRECT_MAX_ACTORS`` actors, through sorted prefix sums (O(n^2 log n)) above.
    """
    if x.shape[1] <= _DIRECT_MAX_ACTORS:
        return _support_direct(w, loss)
    return _support_sorted(x, w, loss)


def _support_direct(w: FloatArray, loss: FloatArray) -> FloatArray:
    """sum_k w_k max(0, loss_kj - loss_ki) as a batched matrix product over k."""
    b, n, _ = loss.shape
    gain = loss[:, :, None, :] - loss[:, :, :, None]  # (B, k, i, j)
    np.maximum(gain, 0.0, out=gain)
    support = np.matmul(w[:, None, :], gain.reshape(b, n, n * n))
    return np.asarray(support.reshape(b, n, n))


def _support_sorted(x: FloatArray, w: FloatArray, loss: FloatArray) -> FloatArray:
    """The same sum as :func:`_support_direct` in O(n^2 log n) per draw.

    ``loss[b, k, a]`` = d_ka^r_k grows with |x_k - x_a|, so k prefers x_i to x_j exactly when k
    is on i's side of the midpoint m_ij = (x_i + x_j) / 2. Sorting actors by position turns that
    set into a prefix (x_i < x_j: the t_ij actors with x_k < m_ij) or the complementary suffix
    (x_i > x_j), so with prefix sums C[t, a] = sum of w_k loss_ka over the t leftmost k:

        x_i < x_j:  support_ij = C[t_ij, j] - C[t_ij, i]
        x_i > x_j:  support_ij = (C[n, j] - C[t_ij, j]) - (C[n, i] - C[t_ij, i])

    Actors exactly at the midpoint are indifferent and add nothing either way. This equals the
    direct O(n^3) sum (``tests/test_eum.py`` checks it) at a fraction of the cost.
    """
    b, n = x.shape
    order = np.argsort(x, axis=1, kind="stable")
    weighted = np.take_along_axis(w[:, :, None] * loss, order[:, :, None], axis=1)
    prefix = np.zeros((b, n + 1, n))
    np.cumsum(weighted, axis=1, out=prefix[:, 1:, :])
    t = _count_left_of_midpoints(x)
    gathered = np.take_along_axis(prefix, t, axis=1)  # [b, i, j] = C[t_ij, j]
    left = gathered - gathered.transpose(0, 2, 1)  # C[t_ij, j] - C[t_ij, i] (t is symmetric)
    total = prefix[:, n, :]
    right = (total[:, None, :] - total[:, :, None]) - left
    xi, xj = x[:, :, None], x[:, None, :]
    return np.where(xi < xj, left, np.where(xi > xj, right, 0.0))


def _count_left_of_midpoints(x: FloatArray) -> NDArray[np.intp]:
    """t[b, i, j] = #{k : x_k < (x_i + x_j) / 2}, by one sort of all midpoints with the points.

    Compares 2 x_k with x_i + x_j. Midpoints are placed before the points in the array that is
    sorted (stably), so a point equal to a midpoint is not counted as left of it.
    """
    b, n = x.shape
    sums = (x[:, :, None] + x[:, None, :]).reshape(b, n * n)
    keys = np.concatenate([sums, 2.0 * x], axis=1)
    order = np.argsort(keys, axis=1, kind="stable")
    is_point = order >= n * n
    before = np.cumsum(is_point, axis=1) - is_point
    counts = np.empty_like(before)
    np.put_along_axis(counts, order, before, axis=1)
    return np.asarray(counts[:, : n * n].reshape(b, n, n))


def _power(base: FloatArray, r: FloatArray) -> FloatArray:
    """base ** r, skipping the costly general power where every exponent is 1."""
    if np.all(r == 1.0):
        return np.broadcast_to(base, np.broadcast_shapes(base.shape, r.shape))
    return np.asarray(base**r)


@dataclass(frozen=True)
class OutcomeUtilities:
    """Utilities of a challenge's outcomes, seen by observer i (Scholz eqs. 3-5), ``(B, i, j)``.

    U_s = 2 - 4 (0.5 - 0.5 d_ij)^r_i (success), U_f = 2 - 4 (0.5 + 0.5 d_ij)^r_i (failure),
    U_sq = 2 - 4 (0.5)^r_i (status quo). They depend on the pair only through d_ij = |x_i - x_j|/D,
    so i challenging j and j challenging i share them.
    """

    dist: FloatArray
    r_obs: FloatArray  # (B, n, 1)
    success: FloatArray
    failure: FloatArray
    status_quo: FloatArray

    @classmethod
    def of(cls, dist: FloatArray, r_obs: FloatArray) -> OutcomeUtilities:
        return cls(
            dist=dist,
            r_obs=r_obs,
            success=2.0 - 4.0 * _power(0.5 - 0.5 * dist, r_obs),
            failure=2.0 - 4.0 * _power(0.5 + 0.5 * dist, r_obs),
            status_quo=2.0 - 4.0 * _power(np.full_like(r_obs, 0.5), r_obs),
        )


def challenge_utility(
    p_ab: FloatArray,
    s_b: FloatArray,
    u: OutcomeUtilities,
    dist_am: FloatArray | None,
    q: float,
    t: float,
    status_quo_terms: bool,
) -> FloatArray:
    """Expected utility of actor a challenging actor b, as an observer with exponent r sees it.

    E[U] = s_b (P_ab U_s + (1 - P_ab) U_f) + (1 - s_b) U_s - Q U_sq
           - (1 - Q) (T U_b + (1 - T) U_w)                                  (Scholz eq. 8)
    with U_b = 2 - 4 (0.5 - 0.25 (d_am + d_ab))^r, U_w = 2 - 4 (0.5 + 0.25 (d_am + d_ab))^r
    (Scholz eqs. 6-7; m the current median). s_b is the salience of the challenged actor: how
    likely b is to resist. Scholz's program drops the last term (``status_quo_terms=False``),
    which is also what Q = 1 gives.
    """
    eu = s_b * (p_ab * u.success + (1.0 - p_ab) * u.failure) + (1.0 - s_b) * u.success
    eu = eu - q * u.status_quo
    if status_quo_terms and q != 1.0:
        assert dist_am is not None
        shift = 0.25 * (dist_am + u.dist)
        u_b = 2.0 - 4.0 * _power(np.clip(0.5 - shift, 0.0, None), u.r_obs)
        u_w = 2.0 - 4.0 * _power(0.5 + shift, u.r_obs)
        eu = eu - (1.0 - q) * (t * u_b + (1.0 - t) * u_w)
    return np.asarray(eu)


@dataclass(frozen=True)
class ExpectedUtility(Engine):
    """Bueno de Mesquita's expected utility model.

    Parameters
    ----------
    variant:
        ``"published"`` (default) or ``"scholz-code"``.
    rounds:
        Number of rounds. ``None``: 10 for ``scholz-code`` (as the program), and for
        ``published`` up to ``max_rounds``, stopping when no position moves by more than
        ``tol`` x D in a round.
    q, t:
        Q, the probability that a challenged actor does not resist, and T, the probability that
        the status quo improves (Scholz eq. 8). The paper's worked example uses Q = T = 1.
    kernel:
        ``"auto"`` (default): the compiled kernel for batches of at least ``KERNEL_MIN_DRAWS``
        draws when numba is installed, numpy otherwise; ``"compiled"``: always the kernel (an
        error without numba); ``"numpy"``: always numpy.
    """

    variant: Variant = "published"
    rounds: int | None = None
    q: float = 1.0
    t: float = 1.0
    max_rounds: int = 100
    tol: float = 1e-3
    kernel: Kernel = "auto"

    name = "eum"

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown EUM variant {self.variant!r}; expected one of {VARIANTS}")
        if self.kernel not in KERNELS:
            raise ValueError(f"unknown EUM kernel {self.kernel!r}; expected one of {KERNELS}")
        # probabilities and counts: out of range they give numbers without meaning, not an error
        for name in ("q", "t"):
            value = getattr(self, name)
            real = isinstance(value, Real) and not isinstance(value, bool)
            if not (real and 0.0 <= float(value) <= 1.0):
                raise ValueError(f"ExpectedUtility: {name} = {value!r}, expected a probability 0-1")
        if self.variant == "scholz-code" and self.q != 1.0:
            raise ValueError("ExpectedUtility: q applies to the published variant only (Q = 1)")
        if self.rounds is not None:
            check_count("ExpectedUtility", "rounds", self.rounds, 0, 10_000)
        check_count("ExpectedUtility", "max_rounds", self.max_rounds, 1, 10_000)
        if isinstance(self.tol, bool) or not isinstance(self.tol, Real) or not self.tol > 0:
            raise ValueError(f"ExpectedUtility: tol = {self.tol!r}, expected > 0")

    @property
    def _fixed_rounds(self) -> int | None:
        if self.rounds is not None:
            return self.rounds
        return 10 if self.variant == "scholz-code" else None

    def solve(self, actors: ActorArrays, chunk: int | None = None) -> EngineResult:
        """Solve every draw; ``chunk`` (draws per chunk) only bounds memory: no number depends
        on it (``tests/test_eum_kernel.py``)."""
        b, n = actors.position.shape
        per_draw = n**3 if n <= _DIRECT_MAX_ACTORS else n * n
        if chunk is None:
            chunk = max(1, _CHUNK_ELEMENTS // per_draw)
        run = partial(self._solve_chunk_and_mean, kernel=self._kernel_for(b))
        slices = [actors.take(slice(i, i + chunk)) for i in range(0, b, chunk)]
        if len(slices) == 1:
            parts = [run(slices[0])]
        else:
            # numpy and the compiled kernel release the GIL, so threads use every core; chunks
            # of draws are independent, so the numbers do not depend on how they are scheduled.
            with ThreadPoolExecutor(max_workers=min(len(slices), os.cpu_count() or 1)) as pool:
                parts = list(pool.map(run, slices))
        rounds = max(h.shape[1] for h, _ in parts)
        hist = np.concatenate([_pad_rounds(h, rounds) for h, _ in parts], axis=0)
        hist_mean = np.concatenate([_pad_rounds(m, rounds) for _, m in parts], axis=0)
        final = hist[:, -1, :]
        forecast = weighted_median(final, actors.weight())
        return EngineResult(
            forecast=clip_to_veto(forecast, final, actors.veto),
            history_positions=hist,
            history_mean=hist_mean,
        )

    def _solve_chunk_and_mean(
        self, actors: ActorArrays, kernel: Callable[..., Any] | None
    ) -> tuple[FloatArray, FloatArray]:
        """Positions by round and their capability x salience weighted mean, for one chunk.

        The mean is taken row by row, so per chunk (on the chunk's thread) it is the same as on
        the whole batch; a stopped draw's repeated last round has its last mean.
        """
        hist = self._solve_chunk(actors, kernel)
        return hist, weighted_mean(hist, actors.weight()[:, None, :])

    def _kernel_for(self, draws: int) -> Callable[..., Any] | None:
        """The compiled kernel's entry point if this batch uses it, else ``None`` (numpy)."""
        if self.kernel == "numpy" or (self.kernel == "auto" and draws < KERNEL_MIN_DRAWS):
            return None
        kernel = compiled_kernel()
        if kernel is None and self.kernel == "compiled":
            raise RuntimeError("kernel='compiled' needs numba, which is not installed")
        return kernel

    def _solve_chunk(
        self, actors: ActorArrays, kernel: Callable[..., Any] | None = None
    ) -> FloatArray:
        """Positions by round, ``(B, rounds + 1, n)``, for one chunk of draws.

        The published variant first puts each draw's actors in a canonical order (by position,
        then capability, salience and risk), so that floating-point sums, and with them every
        decision, are the same whatever the order of the input table; Scholz's program keeps the
        table's order, which it uses to break ties.
        """
        if self.variant == "scholz-code":
            return self._run(actors, kernel)
        risk = actors.risk if actors.risk is not None else np.zeros_like(actors.position)
        keys = (np.nan_to_num(risk, nan=9.0), actors.salience, actors.capability, actors.position)
        order = np.lexsort(keys, axis=-1)
        canonical = ActorArrays(
            capability=np.take_along_axis(actors.capability, order, axis=1),
            position=np.take_along_axis(actors.position, order, axis=1),
            salience=np.take_along_axis(actors.salience, order, axis=1),
            risk=None if actors.risk is None else np.take_along_axis(actors.risk, order, axis=1),
        )
        hist = self._run(canonical, kernel)
        inverse = np.argsort(order, axis=1)
        return np.take_along_axis(hist, inverse[:, None, :], axis=2)

    def _run(self, actors: ActorArrays, kernel: Callable[..., Any] | None = None) -> FloatArray:
        x0 = actors.position
        span = x0.max(axis=1) - x0.min(axis=1)
        risk = actors.risk if actors.risk is not None else np.full_like(x0, np.nan)
        state = EUMState(
            x=x0.copy(),
            c=actors.capability,
            s=actors.salience,
            span=np.where(span > 0, span, 1.0),
            fixed_r=np.where(np.isnan(risk), np.nan, risk_exponent(risk)),
        )
        fixed = self._fixed_rounds
        limit = fixed if fixed is not None else self.max_rounds
        if kernel is not None:
            return self._run_compiled(kernel, state, fixed is not None, limit)
        history = [state.x.copy()]
        active = np.ones(x0.shape[0], dtype=bool)
        x = state.x
        for _ in range(limit):
            if not active.any():
                break
            new_x = self._round(EUMState(x, state.c, state.s, state.span, state.fixed_r))
            if fixed is None:
                moved = np.abs(new_x - x).max(axis=1) > self.tol * state.span
                new_x = np.where(active[:, None], new_x, x)
                active &= moved
            x = new_x
            history.append(x.copy())
        return np.stack(history, axis=1)

    def _run_compiled(
        self, kernel: Callable[..., Any], st: EUMState, fixed: bool, limit: int
    ) -> FloatArray:
        """:meth:`_run` through the compiled kernel: the same rounds, one draw at a time."""
        b, n = st.x.shape
        hist = np.empty((b, limit + 1, n))
        stops = np.zeros(b, dtype=np.int64)
        as_c = np.ascontiguousarray
        kernel(
            as_c(st.x, dtype=np.float64),
            as_c(st.c, dtype=np.float64),
            as_c(st.s, dtype=np.float64),
            as_c(st.span, dtype=np.float64),
            as_c(st.fixed_r, dtype=np.float64),
            limit,
            fixed,
            float(self.tol),
            float(self.q),
            float(self.t),
            self.variant == "published",
            hist,
            stops,
        )
        # as the numpy loop: a chunk runs until its last draw stops
        rounds = limit if fixed or b == 0 else int(stops.max())
        return hist[:, : rounds + 1, :]

    def _round(self, st: EUMState) -> FloatArray:
        """One round: risk exponents, then every actor's offers, then all move at once."""
        geo = _Geometry.of(st, with_median=self.variant == "published" and self.q != 1.0)
        r = self._risk_exponents(st, geo)
        eu_ij, eu_ji = self._challenge_utilities(st, geo, r)
        if self.variant == "scholz-code":
            return _scholz_moves(st.x, eu_ij, eu_ji)
        return _published_moves(st.x, eu_ij, eu_ji)

    def _challenge_utilities(
        self, st: EUMState, geo: _Geometry, r: FloatArray | None, only_ji: bool = False
    ) -> tuple[FloatArray, FloatArray]:
        """eu_ij, eu_ji[b, i, j]: i challenging j and j challenging i, both as i sees them.

        ``r=None`` stands for every risk exponent equal to 1.
        """
        published = self.variant == "published"
        ones = np.ones_like(st.x)
        r_k = ones if r is None else r
        p = win_probability(st.x, geo.w, geo.dist, geo.same, r_k, pairwise=published)
        u = OutcomeUtilities.of(geo.dist, r_k[:, :, None])
        common = dict(q=self.q, t=self.t, status_quo_terms=published)
        med = geo.to_median
        eu_ji = challenge_utility(
            p.transpose(0, 2, 1),
            st.s[:, :, None],
            u,
            None if med is None else med[:, None, :],
            **common,  # type: ignore[arg-type]
        )
        if only_ji:
            return eu_ji, eu_ji
        eu_ij = challenge_utility(
            p,
            st.s[:, None, :],
            u,
            None if med is None else med[:, :, None],
            **common,  # type: ignore[arg-type]
        )
        return eu_ij, eu_ji

    def _risk_exponents(self, st: EUMState, geo: _Geometry) -> FloatArray:
        """Risk exponents from each actor's security level (BdM 1994; Scholz eq. 9).

        With every r set to 1, the danger to actor a is the sum over the other actors b of the
        expected utility, as a sees it, of b challenging a. Then
        R_a = (2 danger_a - max danger - min danger) / (max danger - min danger) and
        r_a = (1 - R_a/3) / (1 + R_a/3). An actor most in danger (R = 1) gets r = 0.5; the
        safest (R = -1) gets r = 2. With equal danger everywhere, R = 0 and r = 1. A risk attitude
        given in the table replaces the computed one. In the published variant an actor at the
        same position as a is not counted as a challenger of a (there is nothing to challenge).
        """
        _, eu_ji = self._challenge_utilities(st, geo, None, only_ji=True)
        n = st.x.shape[1]
        if self.variant == "published":
            others = ~geo.same
        else:
            others = np.broadcast_to(~np.eye(n, dtype=bool)[None, :, :], eu_ji.shape)
        danger = np.where(others, eu_ji, 0.0).sum(axis=2)
        hi = danger.max(axis=1, keepdims=True)
        lo = danger.min(axis=1, keepdims=True)
        rng = hi - lo
        big_r = np.divide(2.0 * danger - hi - lo, rng, out=np.zeros_like(danger), where=rng > 0)
        r = risk_exponent(big_r)
        return np.where(np.isnan(st.fixed_r), r, st.fixed_r)


@dataclass(frozen=True)
class _Geometry:
    """What a round's two phases share: weights, distances d_ij = |x_i - x_j| / D, ties."""

    w: FloatArray  # (B, n) capability x salience
    dist: FloatArray  # (B, n, n)
    same: BoolArray  # (B, n, n) x_i == x_j
    to_median: FloatArray | None  # (B, n) |x_i - m| / D, only where the status-quo terms need it

    @classmethod
    def of(cls, st: EUMState, with_median: bool) -> _Geometry:
        w = st.c * st.s
        diff = st.x[:, :, None] - st.x[:, None, :]
        med = None
        if with_median:
            med = np.abs(st.x - weighted_median(st.x, w)[:, None]) / st.span[:, None]
        return cls(w, np.abs(diff) / st.span[:, None, None], diff == 0.0, med)


def _scholz_moves(x: FloatArray, eu_ij: FloatArray, eu_ji: FloatArray) -> FloatArray:
    """Each actor's move in Scholz's program.

    Confrontation (i loses and moves to x_j) when eu_ji > eu_ij > 0; compromise (i moves to
    x_i + (x_j - x_i) |eu_ij / eu_ji|) when eu_ji > 0 > eu_ij and eu_ji > |eu_ij|. An actor with
    any confrontation takes the one that moves it least; otherwise, among compromises, the one with
    the smallest (|eu_ij| x_i + |eu_ji| x_j) / (|eu_ij| + |eu_ji|). Ties go to the earlier actor
    in the table.
    """
    xi, xj = x[:, :, None], x[:, None, :]
    differ = xi != xj
    conf = differ & (eu_ji > eu_ij) & (eu_ij > 0)
    comp = differ & (eu_ji > 0) & (eu_ij < 0) & (eu_ji > np.abs(eu_ij))
    move_conf = np.where(conf, np.abs(xj - xi), np.inf)
    best_conf = np.argmin(move_conf, axis=2)
    a_ij, a_ji = np.abs(eu_ij), np.abs(eu_ji)
    key = np.where(comp, (a_ij * xi + a_ji * xj) / np.where(comp, a_ij + a_ji, 1.0), np.inf)
    best_comp = np.argmin(key, axis=2)
    ratio = np.divide(a_ij, a_ji, out=np.zeros_like(a_ij), where=comp)
    comp_target = xi + (xj - xi) * ratio
    to_conf = _pick(np.broadcast_to(xj, conf.shape), best_conf)
    to_comp = _pick(comp_target, best_comp)
    return np.where(conf.any(axis=2), to_conf, np.where(comp.any(axis=2), to_comp, x))


def _published_moves(x: FloatArray, eu_ij: FloatArray, eu_ji: FloatArray) -> FloatArray:
    """Each actor's move in the published model (BdM 1994; Scholz et al. 2011, sec. 3).

    Confrontation when eu_ji > eu_ij > 0 (i moves to x_j); compromise when eu_ji > 0 > eu_ij
    and eu_ji > |eu_ij| (i moves to x_i + (x_j - x_i) |eu_ij / eu_ji|); capitulation when
    eu_ji > 0 > eu_ij and eu_ji < |eu_ij| (i moves to x_j). Each actor accepts the offer that
    moves it least, whatever its type. Ties are broken without reference to table order: the
    larger eu_ji (the more determined proposer) first, then the lower resulting position.
    """
    xi, xj = x[:, :, None], x[:, None, :]
    differ = xi != xj
    pressed = differ & (eu_ji > 0)
    conf = pressed & (eu_ij > 0) & (eu_ji > eu_ij)
    comp = pressed & (eu_ij < 0) & (eu_ji > -eu_ij)
    capit = pressed & (eu_ij < 0) & (eu_ji < -eu_ij)
    ratio = np.divide(np.abs(eu_ij), eu_ji, out=np.zeros_like(eu_ij), where=comp)
    target = np.where(comp, xi + (xj - xi) * ratio, np.broadcast_to(xj, comp.shape))
    offer = conf | comp | capit
    move = np.where(offer, np.abs(target - xi), np.inf)
    keep = move == move.min(axis=2, keepdims=True)
    resolve = np.where(keep, np.round(eu_ji, _TIE_DECIMALS), -np.inf)
    keep &= resolve == resolve.max(axis=2, keepdims=True)
    chosen = np.where(keep, target, np.inf).min(axis=2)
    return np.where(offer.any(axis=2), chosen, x)


def compiled_kernel() -> Callable[..., Any] | None:
    """The compiled kernel's entry point, imported (and compiled or loaded) on first use;
    ``None`` when numba is not installed."""
    try:
        from detente.engines._eum_kernel import solve_batch
    except ImportError:
        return None
    return solve_batch


def _pick(values: FloatArray, index: np.ndarray) -> FloatArray:
    """values[b, i, index[b, i]]."""
    return np.take_along_axis(values, index[:, :, None], axis=2)[:, :, 0]


def _pad_rounds(hist: FloatArray, rounds: int) -> FloatArray:
    """Repeat the last round (axis 1) of a stopped run so that every chunk has the same length."""
    missing = rounds - hist.shape[1]
    if missing <= 0:
        return hist
    return np.concatenate([hist, np.repeat(hist[:, -1:], missing, axis=1)], axis=1)
