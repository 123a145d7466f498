"""Stokman's exchange model with equal gain, as the DECIDE program computes it.

Sources: Stokman, F. N. & Van Oosten, R. (1994), "The exchange of voting positions: an
object-oriented model of policy networks", in Bueno de Mesquita & Stokman (eds.), *European
Community Decision Making*, Yale UP; Stokman & Van der Knoop (1997); Dijkstra, Van Assen &
Stokman (2008), "Outcomes of collective decisions with externalities predicted",
*Journal of Theoretical Politics* 20(4): 415-441 (the equal-gain exchange rate). The behaviour
reproduced, quirks included, is that of the Python package ``decide-exchange-model`` 2025.3.1
(GNU GPL v3; no code of it is used here), as described step by step in
``shared/data/decide/SPEC.md``; ``docs/engines.md`` gives every equation under the names used in
this file and each departure with its reason.

Notation: actor a on issue k has capability c_ak, salience s_ak (0-1) and position x_ak on the
internal 0-100 scale; w_ak = c_ak s_ak, W_k = sum_a w_ak, and the prediction is the mean
MDS_k = sum_a w_ak x_ak / W_k. An exchange (I, J, p, q): I supplies q (moves toward J's position on
q) and demands p; J supplies p and demands q.

Shapes: B draws, n actors, m issues. A round's candidates (pairs of issues by pairs of actors) are
built as array operations over all of them at once. The order of execution is sequential by nature
(each execution changes the gains the next choice is made on); the arithmetic of the candidates an
execution touches runs in :mod:`detente.engines._exchange_kernel`. A 28-digit decimal shadow of the
program's own arithmetic decides wherever binary rounding could change a choice (:class:`_Run`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

from detente.engines import _exchange_kernel as kern
from detente.engines.base import (
    ActorArrays,
    BoolArray,
    DrawsAndActors,
    Engine,
    EngineResult,
    FloatArray,
    check_count,
    clip_to_veto,
    weighted_mean,
)

IntArray = NDArray[np.int64]

#: Rounds the program runs ("iterations"); it has no convergence test.
DEFAULT_ROUNDS = 10
#: ``calculations.new_start_position``: x' = x + ((1 - s) SALIENCE_WEIGHT + FIXED_WEIGHT)(y - x).
SALIENCE_WEIGHT = 0.4
FIXED_WEIGHT = 0.1
#: Gains closer than this in binary are compared in decimal, as the program's sort compares them
#: (binary rounding is ~1e-15 here; the reference runs' gaps between the two highest gains are
#: either below 1e-20 or above 1e-9).
_GAIN_TIE = 1e-11


@dataclass(frozen=True)
class IssueArrays(DrawsAndActors):
    """Actors on several issues at once: arrays ``(draws, actors, issues)``.

    ``position`` is on each issue's own scale, from ``lower`` to ``upper`` (shape ``(issues,)``;
    the model works on 0-100 inside, DECIDE's normalisation). ``salience`` is on 0-1.
    ``present`` ``(actors, issues)`` marks the actors that take part in an issue (DECIDE's ``#D``
    rows); values where an actor is absent are ignored.
    """

    capability: FloatArray
    position: FloatArray
    salience: FloatArray
    present: BoolArray
    lower: FloatArray
    upper: FloatArray
    #: Per issue, the order of its actors in the source (DECIDE: the ``#D`` rows). The program
    #: sums in that order; it matters only in the last of its 28 decimal digits.
    order: tuple[tuple[int, ...], ...] | None = None

    @classmethod
    def from_2d(
        cls,
        capability: object,
        position: object,
        salience: object,
        present: object | None = None,
        lower: object | None = None,
        upper: object | None = None,
        order: tuple[tuple[int, ...], ...] | None = None,
    ) -> IssueArrays:
        """A single-draw table from ``(actors, issues)`` sequences; bounds default to 0-100."""

        def cube(a: object) -> FloatArray:
            arr = np.asarray(a, dtype=np.float64)
            return arr[None] if arr.ndim == 2 else arr

        pos = cube(position)
        m = pos.shape[-1]
        mask = np.ones(pos.shape[1:], dtype=bool) if present is None else np.asarray(present)
        return cls(
            capability=cube(capability),
            position=pos,
            salience=cube(salience),
            present=mask.astype(bool),
            lower=np.zeros(m) if lower is None else np.asarray(lower, dtype=np.float64),
            upper=np.full(m, 100.0) if upper is None else np.asarray(upper, dtype=np.float64),
            order=order,
        )

    @property
    def n_issues(self) -> int:
        return int(self.position.shape[2])

    def step(self) -> FloatArray:
        """DECIDE's ``Issue.step_size``: internal units per unit of the issue's scale."""
        return np.asarray(100.0 / (self.upper - self.lower))


#: Columns of :class:`ExchangeLog`, in the order of ``shared/data/decide/outputs/exchanges.csv``.
LOG_FIELDS = (
    "round",
    "seq",
    "i_actor",
    "j_actor",
    "p",
    "q",
    "inner_ad",
    "i_round_start_pos",
    "i_x",
    "i_move",
    "i_y",
    "i_target_pos",
    "j_round_start_pos",
    "j_x",
    "j_move",
    "j_y",
    "j_target_pos",
    "gain",
    "dp",
    "dq",
    "i_nbs0",
    "i_nbs1",
    "j_nbs0",
    "j_nbs1",
    "i_adjusted_by_nbs",
    "j_adjusted_by_nbs",
    "ext_inner_pos",
    "ext_inner_neg",
    "ext_outer_pos",
    "ext_outer_neg",
    "ext_own",
)


@dataclass(frozen=True)
class ExchangeLog:
    """Every executed exchange of one draw, in execution order, as columns.

    I supplies issue ``q`` and demands ``p``; J supplies ``p`` and demands ``q`` (``p`` comes
    first in the issue order). Positions, moves, ``dp``/``dq`` and the MDS values are on the
    internal 0-100 scale. ``inner_ad`` is true for an a-d exchange, false for b-c.
    """

    columns: dict[str, NDArray[np.float64]]

    def __len__(self) -> int:
        return int(self.columns["round"].shape[0])

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        return self.columns[name]


@dataclass(frozen=True)
class RoundCounts:
    """Per round: candidates created, of which valid, exchanges executed, tied selections."""

    candidates: IntArray
    valid: IntArray
    executed: IntArray
    tied: IntArray


@dataclass(frozen=True)
class ExchangeResult:
    """What the exchange model returns, on each issue's own scale unless stated.

    * ``forecast`` ``(draws, issues)``: the MDS of the voting positions of the last round (the
      program's final prediction);
    * ``mds_start``, ``mds_voting`` ``(draws, rounds, issues)``: the MDS before and after each
      round's exchanges;
    * ``start_positions`` ``(draws, rounds + 1, actors, issues)``: positions at the start of each
      round, then after the last round's update; ``voting_positions`` ``(draws, rounds, actors,
      issues)``: after each round's exchanges. NaN where an actor is absent;
    * ``exchanges``: one :class:`ExchangeLog` per draw; ``counts``: one :class:`RoundCounts`.
    """

    forecast: FloatArray
    mds_start: FloatArray
    mds_voting: FloatArray
    start_positions: FloatArray
    voting_positions: FloatArray
    exchanges: tuple[ExchangeLog, ...] = field(default=())
    counts: tuple[RoundCounts, ...] = field(default=())

    @property
    def rounds(self) -> int:
        return int(self.mds_voting.shape[1])


class Exchange(Engine):
    """Stokman's exchange model, equal gain (the DECIDE program), ``rounds`` rounds."""

    name = "exchange"

    def __init__(self, rounds: int = DEFAULT_ROUNDS) -> None:
        check_count("Exchange", "rounds", rounds, 0)
        self.rounds = rounds

    def solve(self, actors: ActorArrays) -> EngineResult:
        """One issue: no pair of issues, so no exchange; the forecast is the MDS.

        With a single issue nothing can be traded, and the program's prediction is the mean
        ``sum_a c_a s_a x_a / sum_a c_a s_a`` of the positions (``calculations.
        nash_bargaining_solution``), the compromise engine's forecast; veto players bound it as in
        every engine here.
        """
        forecast = weighted_mean(actors.position, actors.weight())
        return EngineResult(forecast=clip_to_veto(forecast, actors.position, actors.veto))

    def solve_issues(self, table: IssueArrays) -> ExchangeResult:
        """Run the model on every draw of ``table`` (draws run one after another)."""
        kern.compile_kernel()
        step = table.step()
        lower = table.lower
        b, n, m = table.position.shape
        r = self.rounds
        out_start = np.full((b, r + 1, n, m), np.nan)
        out_vote = np.full((b, r, n, m), np.nan)
        mds_start = np.empty((b, r, m))
        mds_vote = np.empty((b, r, m))
        logs = []
        counts = []
        for d in range(b):
            run = _Run(
                table.capability[d],
                table.salience[d],
                table.position[d],
                table.present,
                table.lower,
                table.upper,
                table.order,
            )
            for k in range(r):
                out_start[d, k] = run.x
                mds_start[d, k] = run.mds()
                run.round(k + 1)
                out_vote[d, k] = run.voting
                mds_vote[d, k] = run.mds(run.voting)
                run.advance()
            out_start[d, r] = run.x
            logs.append(run.log())
            counts.append(run.counts())

        def scale(v: FloatArray) -> FloatArray:
            return np.asarray(v / step + lower)

        absent = ~table.present
        out_start[..., absent] = np.nan
        out_vote[..., absent] = np.nan
        final = scale(mds_vote[:, -1]) if r else scale(_mds_of(table, step))
        return ExchangeResult(
            forecast=final,
            mds_start=scale(mds_start),
            mds_voting=scale(mds_vote),
            start_positions=scale(out_start),
            voting_positions=scale(out_vote),
            exchanges=tuple(logs),
            counts=tuple(counts),
        )


def _mds_of(table: IssueArrays, step: FloatArray) -> FloatArray:
    """The MDS of the input positions (internal scale), every draw."""
    w = np.where(table.present, table.capability * table.salience, 0.0)
    x = (table.position - table.lower) * step
    return np.stack([mds(x[d], w[d], table.present) for d in range(table.n_draws)])


def mds(x: FloatArray, w: FloatArray, present: BoolArray) -> FloatArray:
    """MDS_k = sum_a w_ak x_ak / W_k over the actors present on k (``calc_nbs``).

    Clipped to the present positions' range, which only removes rounding (a mean of equal
    positions is that position). With W_k = 0 no one pulls: the plain mean of positions (the
    program would give 0 there; see ``docs/engines.md``).
    """
    w = np.where(present, w, 0.0)
    xs = np.where(present, x, 0.0)
    total = w.sum(axis=0)
    eq = present.astype(np.float64)
    num = np.where(total > 0, (w * xs).sum(axis=0), (eq * xs).sum(axis=0))
    den = np.where(total > 0, total, np.maximum(eq.sum(axis=0), 1.0))
    lo = np.where(present, x, np.inf).min(axis=0)
    hi = np.where(present, x, -np.inf).max(axis=0)
    mean = num / den
    return np.asarray(np.where(np.isfinite(lo), np.clip(mean, lo, hi), mean))


def _dec(v: float) -> Decimal:
    """A float read from a file, as the decimal it was written as (shortest round trip)."""
    return Decimal(repr(float(v)))


class _Run:
    """One draw: the state carried from round to round, and one round's candidates.

    Two copies of the positions are kept. The float arrays drive everything; a 28-digit decimal
    shadow, the program's arithmetic, is updated for each executed exchange and at each round's
    end. The shadow gives the voting and start positions (so binary rounding does not pile up over
    rounds), which side of the MDS each actor is on, and every choice that binary rounding could
    change: gains equal in binary (the program's stable sort orders them by their decimal
    rounding) and MDS checks on a target the MDS already sits on (decided in the 28th digit).
    """

    def __init__(
        self,
        c: FloatArray,
        s: FloatArray,
        position: FloatArray,
        present: BoolArray,
        lower: FloatArray,
        upper: FloatArray,
        order: tuple[tuple[int, ...], ...] | None = None,
    ) -> None:
        self.present = present
        self.c = np.where(present, c, 0.0)
        self.s = np.where(present, s, 0.0)
        self.w = self.c * self.s
        self.W = self.w.sum(axis=0)
        n, m = present.shape
        self.n, self.m = n, m
        self.members = [
            [a for a in (order[k] if order is not None else range(n)) if present[a, k]]
            for k in range(m)
        ]
        with localcontext(_CONTEXT):
            self.cE = [[_dec(c[a, k]) for k in range(m)] for a in range(n)]
            self.sE = [[_dec(s[a, k]) for k in range(m)] for a in range(n)]
            self.WE = [
                sum((self.sE[a][k] * self.cE[a][k] for a in self.members[k]), ZERO)
                for k in range(m)
            ]
            steps = [Decimal(100) / (_dec(upper[k]) - _dec(lower[k])) for k in range(m)]
            self.xE: list[list[Decimal]] = [
                [
                    (_dec(position[a, k]) - _dec(lower[k])) * steps[k] if present[a, k] else ZERO
                    for k in range(m)
                ]
                for a in range(n)
            ]
        self.x = self._floats(self.xE)
        self.voting = self.x
        self.next_start = self.x
        self.next_E = self.xE
        pairs = np.array(list(combinations(range(m), 2)), dtype=np.int64).reshape(-1, 2)
        # an issue on which no one carries weight cannot shift: no exchange involves it
        usable = (self.W[pairs[:, 0]] > 0) & (self.W[pairs[:, 1]] > 0)
        self.pairs = pairs[usable]
        self._rows: list[tuple[float, ...]] = []
        self._counts: list[tuple[int, int, int, int]] = []

    def _floats(self, xe: list[list[Decimal]]) -> FloatArray:
        x = np.array([[float(v) for v in row] for row in xe], dtype=np.float64)
        return np.asarray(np.where(self.present, x, np.nan))

    def mds(self, x: FloatArray | None = None) -> FloatArray:
        return mds(self.x if x is None else x, self.w, self.present)

    def exact_sums(self, xe: list[list[Decimal]]) -> list[Decimal]:
        """sum_a x_ak s_ak c_ak per issue (``nash_bargaining_solution``'s numerator)."""
        return [
            sum((xe[a][k] * self.sE[a][k] * self.cE[a][k] for a in self.members[k]), ZERO)
            for k in range(self.m)
        ]

    # ------------------------------------------------------------------ one round
    def round(self, number: int) -> None:
        """``ModelLoop.loop``: candidates, the selection loop, voting and new start positions."""
        with localcontext(_CONTEXT):
            sums = self.exact_sums(self.xE)
            mds0 = [sums[k] / self.WE[k] if self.WE[k] != 0 else ZERO for k in range(self.m)]
            # a position on the MDS counts as left (``determine_positions``)
            left = np.array(
                [
                    [self.present[a, k] and self.xE[a][k] <= mds0[k] for k in range(self.m)]
                    for a in range(self.n)
                ],
                dtype=bool,
            )
            cand = self._candidates(left, sums)
            ncand = int(cand.ai.shape[0])
            executed: list[int] = []
            tied = 0
            n_valid = 0
            if ncand:
                n_valid = cand.n_valid
                executed, tied = cand.select_and_execute()
            voting = [row[:] for row in self.xE]
            nxt = [row[:] for row in self.xE]
            for e in executed:
                i, j, p, q = int(cand.ai[e]), int(cand.aj[e]), int(cand.p[e]), int(cand.q[e])
                yi, yj = cand.exact_y[e]
                voting[i][q] = yi
                voting[j][p] = yj
            for e in executed:
                i, j, p, q = int(cand.ai[e]), int(cand.aj[e]), int(cand.p[e]), int(cand.q[e])
                yi, yj = cand.exact_y[e]
                nxt[i][q] = _new_start(self.sE[i][q], self.xE[i][q], yi)
                nxt[j][p] = _new_start(self.sE[j][p], self.xE[j][p], yj)
        self.voting = self._floats(voting)
        self.next_start = self._floats(nxt)
        self.next_E = nxt
        if executed:
            self._rows.extend(cand.rows(number, np.array(executed, dtype=np.int64), left))
        self._counts.append((ncand, n_valid, len(executed), tied))

    def advance(self) -> None:
        self.x = self.next_start
        self.xE = self.next_E

    def _candidates(self, left: BoolArray, sums: list[Decimal]) -> _Candidates:
        """Every (pair of issues, pair of actors) that may exchange, in the program's order.

        For issues p < q (``#P`` order) an actor present on both is in group
        ``left_p + 2 left_q`` (a = 0: right on both, b = 1, c = 2, d = 3: left on both). Actors
        trade across the MDS on both issues: a with d, then b with c, the first actor in the
        outer loop (``determine_groups_and_calculate_exchanges``).
        """
        pr = self.pairs
        if pr.shape[0] == 0 or self.n < 2:
            z = np.zeros(0, dtype=np.int64)
            return _Candidates(self, z, z, z, z, np.zeros(0, dtype=bool))
        pp, qq = pr[:, 0], pr[:, 1]
        both = self.present[:, pp] & self.present[:, qq]  # (n, pairs)
        g = (left[:, pp].astype(np.int64) + 2 * left[:, qq]).T  # (pairs, n)
        g = np.where(both.T, g, -1)
        ad = (g[:, :, None] == 0) & (g[:, None, :] == 3)
        bc = (g[:, :, None] == 1) & (g[:, None, :] == 2)
        k, block, u, v = np.nonzero(np.stack([ad, bc], axis=1))
        p, q = pp[k], qq[k]
        s = self.s
        # I is the actor with the larger relative salience for p (s_p / s_q), u on a tie; the
        # comparison is cross-multiplied so that a salience of 0 needs no division
        v_first = s[u, p] * s[v, q] < s[v, p] * s[u, q]
        ai = np.where(v_first, v, u)
        aj = np.where(v_first, u, v)
        return _Candidates(self, ai, aj, p, q, block == 0)

    # ------------------------------------------------------------------ output
    def log(self) -> ExchangeLog:
        arr = np.array(self._rows, dtype=np.float64).reshape(-1, len(LOG_FIELDS))
        return ExchangeLog({f: arr[:, i] for i, f in enumerate(LOG_FIELDS)})

    def counts(self) -> RoundCounts:
        arr = np.array(self._counts, dtype=np.int64).reshape(-1, 4)
        return RoundCounts(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


ZERO = Decimal(0)
#: The program computes in Python's default decimal context: 28 digits, half-even rounding.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_SW = Decimal(SALIENCE_WEIGHT)  # the binary 0.4 as a decimal, as the program builds it
_FW = Decimal(FIXED_WEIGHT)
_TIE_EXACT = Decimal("1e-20")


def _new_start(s: Decimal, x: Decimal, y: Decimal) -> Decimal:
    """``new_start_position``: (1 - s) sw y + fw y + (1 - (1 - s) sw - fw) x."""
    return (1 - s) * _SW * y + _FW * y + (1 - (1 - s) * _SW - _FW) * x


#: A candidate's state as its decimal calculation reads it: x_Iq, x_Jp, I fixed, J fixed, and
#: the updates of each side's supply issue, ``(2, actors)`` (NaN: none).
_State = tuple[float, float, bool, bool, FloatArray]


class _Candidates:
    """One round's candidate exchanges, one column per candidate of the kernel's arrays.

    Side 0 is I (supply issue q, target x_Jq), side 1 is J (supply issue p, target x_Ip). Each
    side keeps what the program's exchange objects keep: the current supply position, the history
    of planned moves (the sum and signs of all but the last, and the last) and the ``updates`` of
    other actors' positions on its supply issue. The arithmetic per candidate is in
    :mod:`detente.engines._exchange_kernel`; this class runs the selection loop and the decimal
    shadow.
    """

    def __init__(
        self,
        run: _Run,
        ai: IntArray,
        aj: IntArray,
        p: IntArray,
        q: IntArray,
        inner_ad: BoolArray,
    ) -> None:
        self.run = run
        self.ai, self.aj, self.p, self.q, self.inner_ad = ai, aj, p, q, inner_ad
        x0, s, w, W = run.x, run.s, run.w, run.W
        nc = ai.shape[0]
        self.nc = nc
        n, m = run.n, run.m
        sIp, sIq, sJp, sJq = s[ai, p], s[ai, q], s[aj, p], s[aj, q]
        wIq, wJp = w[ai, q], w[aj, p]
        Wp, Wq = W[p], W[q]
        C = np.zeros((kern.N_C, nc))
        C[kern.T0], C[kern.T1] = x0[aj, q], x0[ai, p]
        C[kern.X00], C[kern.X01] = x0[ai, q], x0[aj, p]
        C[kern.W0], C[kern.W1] = wIq, wJp
        C[kern.WT0], C[kern.WT1] = Wq, Wp
        # a zero weight on a supply side cannot shift the MDS: the program would divide by 0
        trad = (wIq > 0) & (wJp > 0) & (sIq + sJq > 0) & (sIp + sJp > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r1 = (sIp + sJp) / (sIq + sJq)
            # J all the way: dp = |dx_p| w_Jp / W_p, dq = r1 dp, I's move dq W_q / w_Iq
            C[kern.K1] = np.where(trad, wJp / Wp * r1 * Wq / wIq, 0.0)
            C[kern.G1] = np.where(trad, wJp / Wp * np.abs(r1 * sIq - sIp), 0.0)
            # I all the way: dq = |dx_q| w_Iq / W_q, dp = dq / r1, J's move dp W_p / w_Jp
            C[kern.K2] = np.where(trad, wIq / Wq / r1 * Wp / wJp, 0.0)
            C[kern.G2] = np.where(trad, wIq / Wq * np.abs(sIq - sIp / r1), 0.0)
        C[kern.TRAD] = trad
        C[kern.S0S], C[kern.S0D], C[kern.S1S], C[kern.S1D] = sIq, sIp, sJp, sJq
        self.C = C
        F = np.zeros((kern.N_F, nc))
        F[kern.X0], F[kern.X1] = C[kern.X00], C[kern.X01]
        S = (np.where(run.present, w * x0, 0.0)).sum(axis=0)
        F[kern.N0], F[kern.N1] = S[q], S[p]
        F[kern.OWN0] = F[kern.OWN1] = np.nan
        self.F = F
        B = np.zeros((kern.N_B, nc), dtype=bool)
        B[kern.PN0 : kern.PP1 + 1] = True
        B[kern.ALIVE] = True
        self.B = B
        keys = [ai * m + q, aj * m + p, ai * m + p, aj * m + q]
        K = np.stack([ai, aj, p, q, *keys]).astype(np.int64)
        self.K = K
        self.upd = np.full((2, nc, n), np.nan)
        flat = K[kern.KIS :].ravel()
        owner = np.tile(np.arange(nc, dtype=np.int64), 4)
        order = np.argsort(flat, kind="stable")
        self.by_key = np.ascontiguousarray(owner[order])
        self.key_bounds = np.searchsorted(flat[order], np.arange(n * m + 1)).astype(np.int64)
        self.seen = np.full(nc, -1, dtype=np.int64)
        self.near = np.empty(max(nc, 1), dtype=np.int64)
        self.x0 = np.where(run.present, x0, 0.0)
        self.w = w
        # the log of recalculations, for the tie-break
        cap = max(2 * nc, 16)
        self.h_c = np.empty(cap, dtype=np.int64)
        self.h_s = np.empty(cap, dtype=np.int64)
        self.h_f = np.empty((3, cap))
        self.h_b = np.empty((2, cap), dtype=bool)
        self.h_u: dict[int, FloatArray] = {}  # the updates of log entries with a correction
        self.nh = 0
        self.sort_of: dict[int, int] = {}
        self.exact_y: dict[int, tuple[Decimal, Decimal]] = {}
        self._yf: dict[int, tuple[float, float]] = {}
        # decimal values of every float position this round: (actor, issue, float) -> decimal
        self.exact: dict[tuple[int, int, float], Decimal] = {}
        for a in range(n):
            for k in range(m):
                if run.present[a, k]:
                    self.exact[(a, k, float(x0[a, k]))] = run.xE[a][k]
        if nc:
            count = kern.initial(C, F, B, self.near)
            for c in self.near[:count].tolist():
                self._resolve(c)
                F[kern.SCORE, c] = F[kern.GAIN, c]
        self._no_updates = np.full((2, n), np.nan)
        self.n_valid = int(B[kern.VALID].sum())
        self.init_gain = F[kern.GAIN].copy()
        self.init_fix = B[kern.FIX0 : kern.FIX1 + 1].copy()

    def _resolve(self, c: int) -> None:
        """Candidate c's MDS checks in the program's decimal arithmetic."""
        out = self.exact_calculate(c, decide=True)
        F, B = self.F, self.B
        fixed = (bool(out[7]), bool(out[8]))
        F[kern.M0, c], F[kern.M1, c], F[kern.GAIN, c] = float(out[2]), float(out[3]), float(out[4])
        F[kern.DP, c], F[kern.DQ, c] = float(out[5]), float(out[6])
        F[kern.YBF, c] = float(out[9]) if fixed[1] else math.nan
        for a in (0, 1):
            B[kern.FIX0 + a, c] = fixed[a]
            B[kern.ADJ0 + a, c] |= fixed[a]
        B[kern.VALID, c] = kern.move_ok(F, B, 0, c, F[kern.X0, c], F[kern.M0, c]) and kern.move_ok(
            F, B, 1, c, F[kern.X1, c], F[kern.M1, c]
        )

    # ------------------------------------------------------------------ decimal shadow
    def _dec(self, a: int, k: int, v: float) -> Decimal:
        got = self.exact.get((a, k, v))
        return got if got is not None else Decimal(v)

    def state(self, c: int) -> _State:
        """What the decimal calculation of candidate c reads."""
        F, B = self.F, self.B
        return (
            float(F[kern.X0, c]),
            float(F[kern.X1, c]),
            bool(B[kern.FIX0, c]),
            bool(B[kern.FIX1, c]),
            self.upd[:, c],
        )

    def exact_calculate(
        self, c: int, decide: bool = False, state: _State | None = None
    ) -> tuple[Decimal, ...]:
        """The program's decimal arithmetic for candidate c in its current state (or ``state``).

        Returns ``(y_I, y_J, m_I, m_J, gain, dp, dq, fixed_I, fixed_J, y_I before J's fix)``.
        With ``decide`` the MDS checks are made here (from the program's sums); otherwise the
        binary calculation's outcome of them is followed.
        """
        run = self.run
        sE, cE, WE, xE = run.sE, run.cE, run.WE, run.xE
        ai, aj, p, q = (int(v) for v in self.K[: kern.KQ + 1, c])
        xI_f, xJ_f, fix_I, fix_J, upd = self.state(c) if state is None else state
        was_fixed = (fix_I, fix_J)
        xIq = self._dec(ai, q, xI_f)
        xJp = self._dec(aj, p, xJ_f)
        xIp, xJq = xE[ai][p], xE[aj][q]
        sIp, sIq, sJp, sJq = sE[ai][p], sE[ai][q], sE[aj][p], sE[aj][q]
        cIq, cJp = cE[ai][q], cE[aj][p]
        Wp, Wq = WE[p], WE[q]
        dp = (abs(xIp - xJp) * sJp * cJp) / Wp
        dq = ((sJp + sIp) / (sJq + sIq)) * dp
        mI = (dq * Wq) / (cIq * sIq)
        mJ = abs(xIp - xJp)
        if abs(mI) > abs(xJq - xIq):
            dq = (abs(xJq - xIq) * sIq * cIq) / Wq
            dp = ((sIq + sJq) / (sIp + sJp)) * dq
            mI = abs(xJq - xIq)
            mJ = (dp * Wp) / (cJp * sJp)
        if xIq > xJq:
            mI = -mI
        if xJp > xIp:
            mJ = -mJ
        gain = abs(dq * sIq - dp * sIp)
        X = [xIq, xJp]
        T = [xJq, xIp]
        M = [mI, mJ]
        issue = (q, p)
        actor = (ai, aj)
        fixed = [False, False]
        y_before = X[0] + M[0]
        for a in (0, 1):
            if decide:
                n0 = self._exact_nbs(a, actor[a], issue[a], X[a], upd[a])
                n1 = self._exact_nbs(a, actor[a], issue[a], X[a] + M[a], upd[a])
                t = T[a]
                if (t - n0 >= 0 and t - n1 >= 0) or (t - n0 <= 0 and t - n1 <= 0):
                    continue
            elif not was_fixed[a]:
                continue
            fixed[a] = True
            if a == 1:
                y_before = X[0] + M[0]
            o = 1 - a
            k, d = issue[a], issue[o]
            aa, ao = actor[a], actor[o]
            numer = self._exact_numerator(aa, k, X[a], upd[a])
            delta = abs((T[a] * WE[k] - numer) / (sE[aa][k] * cE[aa][k]))
            dp = (delta * sE[aa][k] * cE[aa][k]) / WE[k]
            dq = ((sE[aa][k] + sE[ao][k]) / (sE[aa][d] + sE[ao][d])) * dp
            M[o] = abs((dq * WE[d]) / (cE[ao][d] * sE[ao][d]))
            M[a] = delta
            if X[o] > T[o]:
                M[o] = -M[o]
            if X[a] > T[a]:
                M[a] = -M[a]
            gain = abs(dq * sE[ao][d] - dp * sE[ao][k])
        return (
            X[0] + M[0],
            X[1] + M[1],
            M[0],
            M[1],
            gain,
            dp,
            dq,
            Decimal(fixed[0]),
            Decimal(fixed[1]),
            y_before,
        )

    def _exact_nbs(self, a: int, aa: int, k: int, pos: Decimal, upd: FloatArray) -> Decimal:
        """``adjusted_nbs``: the MDS of issue k, the updates applied, then A at ``pos``."""
        run = self.run
        total = ZERO
        for b in run.members[k]:
            if b == aa:
                x = pos
            elif not math.isnan(upd[b]):
                x = self._dec(b, k, float(upd[b]))
            else:
                x = run.xE[b][k]
            total += x * run.sE[b][k] * run.cE[b][k]
        return total / run.WE[k]

    def _exact_numerator(self, aa: int, k: int, xa: Decimal, upd: FloatArray) -> Decimal:
        """``adjusted_nbs_by_position``'s numerator: A at ``xa``, then the updates applied."""
        run = self.run
        total = ZERO
        for b in run.members[k]:
            if not math.isnan(upd[b]):
                pos = self._dec(b, k, float(upd[b]))
            elif b == aa:
                pos = xa
            else:
                pos = run.xE[b][k]
            total += pos * run.sE[b][k] * run.cE[b][k]
        return total

    # ------------------------------------------------------------------ the selection loop
    def select_and_execute(self) -> tuple[list[int], int]:
        """``ModelLoop.loop`` with ``EqualGainModel.highest_gain`` (no random tie-break).

        The list is sorted by gain (stable) and its head taken; an invalid head is dropped. After
        an execution every invalid candidate leaves the list and every valid one the exchange
        touches is recalculated. Gains equal in binary are compared in decimal; gains equal in
        decimal keep their list order, the order of the previous sort: of two tied candidates the
        first is the one that was ahead at the last sort where their gains differed, or the one
        created first.
        """
        F, B = self.F, self.B
        score = F[kern.SCORE]
        alive = B[kern.ALIVE]
        valid = B[kern.VALID]
        executed: list[int] = []
        tied = 0
        sort_no = 0
        first_execution = True
        near = np.empty(self.nc, dtype=np.int64)
        while True:
            sort_no += 1
            top, count = kern.pick(score, _GAIN_TIE, near)
            if top < 0:
                break
            if count > 1:
                top, was_tie = self._first_in_list(near[:count].copy())
                tied += was_tie
            alive[top] = False
            score[top] = -np.inf
            if not valid[top]:
                continue
            self.sort_of[top] = sort_no
            self._execute(top)
            executed.append(top)
            if first_execution:
                alive &= valid
                score[~alive] = -np.inf
                first_execution = False
            self._touch(top, sort_no + 1)
        return executed, tied

    def _touch(self, e: int, s_from: int) -> None:
        if self.nh + self.nc > self.h_c.shape[0]:
            grow = self.h_c.shape[0] + self.nc
            self.h_c = np.concatenate([self.h_c, np.empty(grow, dtype=np.int64)])
            self.h_s = np.concatenate([self.h_s, np.empty(grow, dtype=np.int64)])
            self.h_f = np.concatenate([self.h_f, np.empty((3, grow))], axis=1)
            self.h_b = np.concatenate([self.h_b, np.empty((2, grow), dtype=bool)], axis=1)
        yI, yJ = self._yf[e]
        first = self.nh
        count, self.nh = kern.touch(
            e,
            yI,
            yJ,
            s_from,
            self.C,
            self.F,
            self.B,
            self.K,
            self.upd,
            self.x0,
            self.w,
            self.by_key,
            self.key_bounds,
            self.seen,
            self.near,
            self.h_c,
            self.h_s,
            self.h_f,
            self.h_b,
            self.nh,
        )
        self._keep_updates(first)
        F, B = self.F, self.B
        for c in self.near[:count].tolist():
            self._resolve(c)
            if B[kern.VALID, c]:
                F[kern.SCORE, c] = F[kern.GAIN, c]
            else:
                B[kern.ALIVE, c] = False
                F[kern.SCORE, c] = -np.inf
            self.nh = kern.log(c, s_from, F, B, self.h_c, self.h_s, self.h_f, self.h_b, self.nh)
            self._keep_updates(self.nh - 1)

    def _keep_updates(self, first: int) -> None:
        """Copy the updates of the log entries from ``first`` on whose MDS check corrected."""
        fixed = self.h_b[0, first : self.nh] | self.h_b[1, first : self.nh]
        for h in (first + np.flatnonzero(fixed)).tolist():
            self.h_u[h] = self.upd[:, int(self.h_c[h])].copy()

    def _execute(self, e: int) -> None:
        """Fix the executed exchange's voting positions at their decimal values."""
        ai, aj, p, q = (int(v) for v in self.K[: kern.KQ + 1, e])
        if self.B[kern.FIX0, e] or self.B[kern.FIX1, e]:
            out = self.exact_calculate(e)
            yI, yJ = out[0], out[1]
        else:
            yI, yJ = self._exact_plain_y(e, ai, aj, p, q)
        self._yf[e] = (float(yI), float(yJ))
        self.exact[(ai, q, self._yf[e][0])] = yI
        self.exact[(aj, p, self._yf[e][1])] = yJ
        self.exact_y[e] = (yI, yJ)

    def _exact_plain_y(self, e: int, ai: int, aj: int, p: int, q: int) -> tuple[Decimal, Decimal]:
        """The voting positions of :meth:`exact_calculate` when no MDS check corrected it."""
        run = self.run
        sE, cE, WE, xE = run.sE, run.cE, run.WE, run.xE
        xIq = self._dec(ai, q, float(self.F[kern.X0, e]))
        xJp = self._dec(aj, p, float(self.F[kern.X1, e]))
        xIp, xJq = xE[ai][p], xE[aj][q]
        sIp, sIq, sJp, sJq = sE[ai][p], sE[ai][q], sE[aj][p], sE[aj][q]
        cIq, cJp = cE[ai][q], cE[aj][p]
        Wp, Wq = WE[p], WE[q]
        dx_p = abs(xIp - xJp)
        dx_q = abs(xJq - xIq)
        dp = (dx_p * sJp * cJp) / Wp
        dq = ((sJp + sIp) / (sJq + sIq)) * dp
        mI = (dq * Wq) / (cIq * sIq)
        mJ = dx_p
        if abs(mI) > dx_q:
            dq = (dx_q * sIq * cIq) / Wq
            dp = ((sIq + sJq) / (sIp + sJp)) * dq
            mI = dx_q
            mJ = (dp * Wp) / (cJp * sJp)
        return (xIq - mI if xIq > xJq else xIq + mI), (xJp - mJ if xJp > xIp else xJp + mJ)

    def _first_in_list(self, near: IntArray) -> tuple[int, int]:
        """Of candidates with gains equal in binary, the one the program's sort puts first."""
        self._exact_gains: dict[tuple[int, int], Decimal] = {}
        exact = {c: self.exact_calculate(c)[4] for c in near.tolist()}
        ranked = sorted(exact.values(), reverse=True)
        was_tie = int(ranked[0] - ranked[1] < _TIE_EXACT)
        tops = [c for c in near.tolist() if exact[c] == ranked[0]]
        best = tops[0]
        for other in tops[1:]:
            if self._ahead(other, best):
                best = other
        return best, was_tie

    def _history(self, c: int) -> list[tuple[int, float, _State]]:
        """Candidate c's gain and state from each sort on: creation, then each recalculation."""
        start: _State = (
            float(self.C[kern.X00, c]),
            float(self.C[kern.X01, c]),
            bool(self.init_fix[0, c]),
            bool(self.init_fix[1, c]),
            self._no_updates,
        )
        out = [(1, float(self.init_gain[c]), start)]
        for h in np.flatnonzero(self.h_c[: self.nh] == c).tolist():
            st: _State = (
                float(self.h_f[1, h]),
                float(self.h_f[2, h]),
                bool(self.h_b[0, h]),
                bool(self.h_b[1, h]),
                self.h_u.get(h, self._no_updates),
            )
            out.append((int(self.h_s[h]), float(self.h_f[0, h]), st))
        return out

    def _ahead(self, a: int, b: int) -> bool:
        """Is a before b in the program's list? Walking back through the sorts, the one ahead is
        the one with the larger gain at the last sort where their gains differed."""
        ha, hb = self._history(a), self._history(b)
        ia, ib = len(ha) - 1, len(hb) - 1
        memo = self._exact_gains
        while True:
            ga, gb = ha[ia][1], hb[ib][1]
            if abs(ga - gb) > _GAIN_TIE:
                return ga > gb
            if (a, ia) not in memo:
                memo[(a, ia)] = self.exact_calculate(a, state=ha[ia][2])[4]
            if (b, ib) not in memo:
                memo[(b, ib)] = self.exact_calculate(b, state=hb[ib][2])[4]
            ea, eb = memo[(a, ia)], memo[(b, ib)]
            if ea != eb:
                return ea > eb
            if ia == 0 and ib == 0:
                return a < b
            # step back past the later of the two latest changes
            if ha[ia][0] >= hb[ib][0] and ia > 0:
                if hb[ib][0] == ha[ia][0] and ib > 0:
                    ib -= 1
                ia -= 1
            else:
                ib -= 1

    # ------------------------------------------------------------------ output
    def rows(self, number: int, executed: IntArray, left: BoolArray) -> list[tuple[float, ...]]:
        """Log rows of the executed exchanges, with their externalities (``Externalities``).

        For every actor X present on both issues: ``(|nbs0_J - x_Xp| - |nbs1_J - x_Xp|) s_Xp +
        (|nbs0_I - x_Xq| - |nbs1_I - x_Xq|) s_Xq`` at round-start positions; the two exchanging
        actors get the gain instead. Others are inner when in the exchange's own two groups of
        the pair at the round start (a and d, or b and c), outer otherwise; a value of 0 counts as
        negative.
        """
        run = self.run
        e = executed
        C, F, B = self.C[:, e], self.F[:, e], self.B[:, e]
        ai, aj, p, q = self.ai[e], self.aj[e], self.p[e], self.q[e]
        x0, s = run.x, run.s
        y = np.array([self._yf[c] for c in e.tolist()], dtype=np.float64).reshape(-1, 2).T
        X = F[kern.X0 : kern.X1 + 1]
        N = F[kern.N0 : kern.N1 + 1]
        w2 = C[kern.W0 : kern.W1 + 1]
        Wd = C[kern.WT0 : kern.WT1 + 1]
        X0 = C[kern.X00 : kern.X01 + 1]
        # the MDS of each side's supply issue before and after its move (``nbs_0``, ``nbs_1``);
        # I's ``nbs_1`` is not recomputed when J's check corrects the exchange
        n0 = (N + w2 * (X - X0)) / Wd
        stale = B[kern.FIX1] & ~np.isnan(F[kern.YBF])
        y_seen = np.stack([np.where(stale, F[kern.YBF], y[0]), y[1]])
        n1 = (N + w2 * (y_seen - X0)) / Wd
        xp, xq = x0[:, p].T, x0[:, q].T  # (executed, actors)
        sp, sq = s[:, p].T, s[:, q].T
        both = (run.present[:, p] & run.present[:, q]).T
        with np.errstate(invalid="ignore"):
            ext = (np.abs(n0[1][:, None] - xp) - np.abs(n1[1][:, None] - xp)) * sp + (
                np.abs(n0[0][:, None] - xq) - np.abs(n1[0][:, None] - xq)
            ) * sq
        ext = np.where(both, ext, 0.0)
        code = np.where(both, left[:, p].T.astype(np.int64) + 2 * left[:, q].T, -1)
        ad = self.inner_ad[e][:, None]
        inner = np.where(ad, (code == 0) | (code == 3), (code == 1) | (code == 2))
        ar = np.arange(run.n)[None, :]
        own = (ar == ai[:, None]) | (ar == aj[:, None])
        pos = ext > 0

        def total(sel: BoolArray) -> FloatArray:
            return np.asarray(np.where(sel & ~own, ext, 0.0).sum(axis=1))

        cols = [
            np.full(e.shape[0], float(number)),
            np.arange(1, e.shape[0] + 1, dtype=np.float64),
            ai.astype(np.float64),
            aj.astype(np.float64),
            p.astype(np.float64),
            q.astype(np.float64),
            self.inner_ad[e].astype(np.float64),
            X0[0],
            X[0],
            y[0] - X[0],
            y[0],
            C[kern.T0],
            X0[1],
            X[1],
            y[1] - X[1],
            y[1],
            C[kern.T1],
            F[kern.GAIN],
            F[kern.DP],
            F[kern.DQ],
            n0[0],
            n1[0],
            n0[1],
            n1[1],
            B[kern.ADJ0].astype(np.float64),
            B[kern.ADJ1].astype(np.float64),
            total(inner & pos),
            total(inner & ~pos),
            total(~inner & pos),
            total(~inner & ~pos),
            2.0 * F[kern.GAIN],
        ]
        return [tuple(r) for r in np.column_stack(cols).tolist()]
