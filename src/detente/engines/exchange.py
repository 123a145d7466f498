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

Shapes: B draws, n actors, m issues. Pairs of issues and of actors are built as array operations
over every candidate exchange at once, and the (re)calculation of the candidates an executed
exchange touches is one array operation over those candidates. The order of execution is
sequential by nature (each execution changes the gains of the next choice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

from detente.engines.base import (
    ActorArrays,
    BoolArray,
    Engine,
    EngineResult,
    FloatArray,
    clip_to_veto,
    weighted_mean,
)

IntArray = NDArray[np.int64]

#: Rounds the program runs ("iterations"); it has no convergence test.
DEFAULT_ROUNDS = 10
#: ``calculations.new_start_position``: x' = x + ((1 - s) SALIENCE_WEIGHT + FIXED_WEIGHT)(y - x).
SALIENCE_WEIGHT = 0.4
FIXED_WEIGHT = 0.1
#: A move of at most this size is no move, and a gain below it is no gain (``is_move_valid``,
#: ``EqualGainExchange.calculate``).
_MIN_MOVE = 1e-10
_MIN_GAIN = 1e-10
#: The program's arithmetic is 28-digit decimal. Two gains closer than this are the same gain
#: (the program then takes the exchange earlier in its list); reference runs show gaps between the
#: two highest gains either below 1e-20 or above 1e-9.
_GAIN_TIE = 1e-11
#: Slack on the scale bounds [0, 100] when a move lands exactly on a bound: in decimal arithmetic
#: x + (t - x) is t, in binary it can miss by one unit in the last place.
_BOUND_SLACK = 1e-9
#: Within this of a target, the MDS check is decided in decimal (``_Candidates.calculate``).
_NBS_NEAR = 1e-9


@dataclass(frozen=True)
class IssueArrays:
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
    def n_draws(self) -> int:
        return int(self.position.shape[0])

    @property
    def n_actors(self) -> int:
        return int(self.position.shape[1])

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
        if rounds < 0:
            raise ValueError("rounds must be 0 or more")
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
    rounds) and decides between gains that are equal in binary: the program's stable sort orders
    them by their decimal rounding, which binary arithmetic cannot reproduce.
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
            self.WE = [sum((self.sE[a][k] * self.cE[a][k] for a in self.members[k]), ZERO) for k in range(m)]
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
        return [sum((xe[a][k] * self.sE[a][k] * self.cE[a][k] for a in self.members[k]), ZERO) for k in range(self.m)]

    # ------------------------------------------------------------------ one round
    def round(self, number: int) -> None:
        """``ModelLoop.loop``: candidates, the selection loop, voting and new start positions."""
        x0 = self.x
        with localcontext(_CONTEXT):
            sums = self.exact_sums(self.xE)
            mds0 = [sums[k] / self.WE[k] if self.WE[k] != 0 else ZERO for k in range(self.m)]
            # a position on the MDS counts as left (``determine_positions``)
            left = np.array(
                [[self.present[a, k] and self.xE[a][k] <= mds0[k] for k in range(self.m)] for a in range(self.n)],
                dtype=bool,
            )
            cand = self._candidates(left, sums)
            ncand = int(cand.I.shape[0])
            executed: list[int] = []
            tied = 0
            n_valid = 0
            if ncand:
                n_valid = sum(cand.valid)
                executed, tied = cand.select_and_execute()
            voting = [row[:] for row in self.xE]
            nxt = [row[:] for row in self.xE]
            for e in executed:
                i, j, p, q = int(cand.I[e]), int(cand.J[e]), int(cand.p[e]), int(cand.q[e])
                yi, yj = cand.exact_y[e]
                voting[i][q] = yi
                voting[j][p] = yj
            for e in executed:
                i, j, p, q = int(cand.I[e]), int(cand.J[e]), int(cand.p[e]), int(cand.q[e])
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
        I = np.where(v_first, v, u)
        J = np.where(v_first, u, v)
        return _Candidates(self, I, J, p, q, block == 0)

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
#: per side the updates (actor -> position) of its supply issue.
_State = tuple[float, float, bool, bool, tuple[dict[int, float], dict[int, float]]]


class _Candidates:
    """One round's candidate exchanges (one entry per candidate), evaluated lazily.

    Side 0 is I (supply issue q, target x_Jq), side 1 is J (supply issue p, target x_Ip). Each
    side keeps what the program's exchange objects keep: the current supply position, the history
    of planned moves (the sum and signs of all but the last, and the last) and the ``updates`` of
    other actors' positions on its supply issue.

    All candidates are calculated at once at the start (array operations). An execution then only
    records, for every candidate it touches, that the touch happened, and moves the touched supply
    positions. The recalculation a touch implies is done when the candidate could be the next
    choice: its plain gain ``min(|dx_p| G1, |dx_q| G2)`` at the current positions bounds what it
    can gain (the MDS check only cuts moves), so a touched candidate is brought up to date (its
    touches replayed in order, exactly as the program recalculates) only when that bound reaches
    the head of the list. Nothing of a candidate depends on another candidate, so the result is
    the program's.
    """

    def __init__(
        self,
        run: _Run,
        I: IntArray,
        J: IntArray,
        p: IntArray,
        q: IntArray,
        inner_ad: BoolArray,
    ) -> None:
        self.run = run
        self.I, self.J, self.p, self.q, self.inner_ad = I, J, p, q, inner_ad
        x0, s, w, W = run.x, run.s, run.w, run.W
        nc = I.shape[0]
        self.nc = nc
        n, m = run.n, run.m
        sIp, sIq, sJp, sJq = s[I, p], s[I, q], s[J, p], s[J, q]
        wIq, wJp = w[I, q], w[J, p]
        Wp, Wq = W[p], W[q]
        T = np.stack([x0[J, q], x0[I, p]])  # each side's target: the other's position
        X0 = np.stack([x0[I, q], x0[J, p]])
        w2 = np.stack([wIq, wJp])
        Wd = np.stack([Wq, Wp])
        # a zero weight on a supply side cannot shift the MDS: the program would divide by 0
        trad = (wIq > 0) & (wJp > 0) & (sIq + sJq > 0) & (sIp + sJp > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r1 = (sIp + sJp) / (sIq + sJq)
            # J all the way: dp = |dx_p| w_Jp / W_p, dq = r1 dp, I's move dq W_q / w_Iq
            K1 = np.where(trad, wJp / Wp * r1 * Wq / wIq, 0.0)
            G1 = np.where(trad, wJp / Wp * np.abs(r1 * sIq - sIp), 0.0)
            # I all the way: dq = |dx_q| w_Iq / W_q, dp = dq / r1, J's move dp W_p / w_Jp
            K2 = np.where(trad, wIq / Wq / r1 * Wp / wJp, 0.0)
            G2 = np.where(trad, wIq / Wq * np.abs(sIq - sIp / r1), 0.0)
        self.T, self.X0, self.G1, self.G2 = T, X0, G1, G2
        self.Xb = X0.copy()  # supply positions after every touch so far (for the bounds)
        S = (np.where(run.present, w * x0, 0.0)).sum(axis=0)
        # scalar copies for the candidate-by-candidate work
        self.lI, self.lJ, self.lp, self.lq = I.tolist(), J.tolist(), p.tolist(), q.tolist()
        self.lT = (T[0].tolist(), T[1].tolist())
        self.lX0 = (X0[0].tolist(), X0[1].tolist())
        self.lw = (wIq.tolist(), wJp.tolist())
        self.lW = (Wq.tolist(), Wp.tolist())
        self.lK1, self.lK2, self.lG1, self.lG2 = K1.tolist(), K2.tolist(), G1.tolist(), G2.tolist()
        self.ltrad = trad.tolist()
        # per side: (supply salience, demand salience)
        self.lsal = ((sIq.tolist(), sIp.tolist()), (sJp.tolist(), sJq.tolist()))
        self.x0l = x0.tolist()
        self.wl = w.tolist()
        # the state
        self.X = [X0[0].tolist(), X0[1].tolist()]
        self.M = [[0.0] * nc, [0.0] * nc]
        self.PS = [[0.0] * nc, [0.0] * nc]
        self.PN = [[True] * nc, [True] * nc]
        self.PP = [[True] * nc, [True] * nc]
        self.gain = [0.0] * nc
        self.valid = [False] * nc
        self.fix = [[False] * nc, [False] * nc]
        self.adjusted = [[False] * nc, [False] * nc]  # ``is_adjusted_by_nbs``, sticky
        self.yI_before_fix = [math.nan] * nc  # I's y before J's correction (I.nbs_1)
        # N: sum_a w_ak x_ak over the side's supply issue k with the updates applied, except the
        # side's own actor (at its round-start position); own: that actor's update
        self.N = [S[q].tolist(), S[p].tolist()]
        self.own = [[math.nan] * nc, [math.nan] * nc]
        self.upd: tuple[list[dict[int, float]], list[dict[int, float]]] = (
            [{} for _ in range(nc)],
            [{} for _ in range(nc)],
        )
        # actor-issue keys a * m + k: I supply, J supply, I demand, J demand
        self.keys = np.stack([I * m + q, J * m + p, I * m + p, J * m + q])
        self.lkeys = [row.tolist() for row in self.keys]
        flat = self.keys.ravel()
        owner = np.tile(np.arange(nc, dtype=np.int64), 4)
        order = np.argsort(flat, kind="stable")
        self._by_key = owner[order]
        self._key_bounds = np.searchsorted(flat[order], np.arange(n * m + 1))
        self.pending: list[list[int]] = [[] for _ in range(nc)]
        self.dirty = np.zeros(nc, dtype=bool)
        # per candidate, (first sort it holds for, gain, state) after each recalculation
        self.history: list[list[tuple[int, float, _State]]] = [[] for _ in range(nc)]
        self.sort_of: dict[int, int] = {}
        self.exact_y: dict[int, tuple[Decimal, Decimal]] = {}
        self.exact_log: dict[int, tuple[Decimal, ...]] = {}
        self._yf: dict[int, tuple[float, float]] = {}
        # decimal values of every float position this round: (actor, issue, float) -> decimal
        self.exact: dict[tuple[int, int, float], Decimal] = {}
        for a in range(n):
            for k in range(m):
                if run.present[a, k]:
                    self.exact[(a, k, float(x0[a, k]))] = run.xE[a][k]
        self._initial(K1, K2, w2, Wd, np.stack([S[q], S[p]]))

    # ------------------------------------------------------------------ equations
    def _initial(
        self, K1: FloatArray, K2: FloatArray, w2: FloatArray, Wd: FloatArray, N: FloatArray
    ) -> None:
        """``EqualGainExchange.calculate`` for every candidate at once (see :meth:`calculate`)."""
        X, T = self.X0, self.T
        dist = np.abs(T - X)  # row 0: |x_Jq - x_Iq|, row 1: |x_Ip - x_Jp|
        mI = dist[1] * K1
        over = mI > dist[0]
        mabs = np.where(over, np.stack([dist[0], dist[0] * K2]), np.stack([mI, dist[1]]))
        gain = np.where(over, dist[0] * self.G2, dist[1] * self.G1)
        M = np.where(X > T, -mabs, mabs)
        am = np.abs(M)
        Y = X + M
        ok = (
            (am <= 100.0)
            & (am > _MIN_MOVE)
            & (Y >= -_BOUND_SLACK)
            & (Y <= 100.0 + _BOUND_SLACK)
            & (M <= 100.0)
        )
        valid = ok[0] & ok[1] & (gain >= _MIN_GAIN) & np.asarray(self.ltrad, dtype=bool)
        # ``check_nbs``: is the other's position between the MDS before and after the move?
        n0 = (N + w2 * (X - X)) / Wd
        n1 = n0 + w2 / Wd * M
        d0 = T - n0
        d1 = T - n1
        check = ((d0 * d1 < 0) | (np.abs(d0) < _NBS_NEAR) | (np.abs(d1) < _NBS_NEAR)) & valid
        self.M = [M[0].tolist(), M[1].tolist()]
        self.gain = gain.tolist()
        self.valid = valid.tolist()
        for c in np.flatnonzero(check[0] | check[1]).tolist():
            self._check_nbs(c)
        self.score = np.asarray(self.gain, dtype=np.float64)
        self.init_gain = list(self.gain)
        self.init_fix = (list(self.fix[0]), list(self.fix[1]))

    def calculate(self, c: int) -> None:
        """``EqualGainExchange.calculate`` for candidate c.

        J first moves all the way to I's position on p, shifting MDS_p by
        ``dp = |x_Ip - x_Jp| w_Jp / W_p``; equal gain sets the shift on q to
        ``dq = dp (s_Ip + s_Jp) / (s_Iq + s_Jq)``, which takes I a distance ``dq W_q / w_Iq``.
        If that passes J's position on q, I moves all the way instead and
        ``dq = |x_Jq - x_Iq| w_Iq / W_q``, ``dp = dq (s_Iq + s_Jq) / (s_Ip + s_Jp)``,
        J's move ``dp W_p / w_Jp``. Each moves toward the other's position. The gain is
        ``|dq s_Iq - dp s_Ip|`` (= ``|dp s_Jp - dq s_Jq|``). A valid candidate is then checked
        against MDS overshoot, I's side first (:meth:`_check_nbs`).
        """
        x0, x1 = self.X[0][c], self.X[1][c]
        t0, t1 = self.lT[0][c], self.lT[1][c]
        d0, d1 = abs(t0 - x0), abs(t1 - x1)
        mI = d1 * self.lK1[c]
        if mI > d0:
            mI = d0
            mJ = d0 * self.lK2[c]
            gain = d0 * self.lG2[c]
        else:
            mJ = d1
            gain = d1 * self.lG1[c]
        if x0 > t0:
            mI = -mI
        if x1 > t1:
            mJ = -mJ
        self.M[0][c], self.M[1][c] = mI, mJ
        self.gain[c] = gain
        self.fix[0][c] = self.fix[1][c] = False
        self.yI_before_fix[c] = math.nan
        valid = (
            self.ltrad[c]
            and gain >= _MIN_GAIN
            and self._move_ok(0, c, x0, mI)
            and self._move_ok(1, c, x1, mJ)
        )
        self.valid[c] = valid
        if valid:
            self._check_nbs(c)

    def _move_ok(self, side: int, c: int, x: float, m: float) -> bool:
        """``is_move_valid``: a real move, inside [0, 100], the history's sum at most 100, and
        every move in the history in one direction."""
        am = abs(m)
        y = x + m
        return (
            _MIN_MOVE < am <= 100.0
            and -_BOUND_SLACK <= y <= 100.0 + _BOUND_SLACK
            and self.PS[side][c] + m <= 100.0
            and ((self.PN[side][c] and m < 0) or (self.PP[side][c] and m > 0))
        )

    def _check_nbs(self, c: int) -> None:
        """``AbstractExchangeActor.check_nbs`` for I then J (A the side, O the other).

        With ``adjust(pos)`` the MDS of A's supply issue k over the round-start positions, the
        exchange's updates, and A at ``pos``: if A's target t (O's position on k) lies strictly
        between ``adjust(x_A)`` and ``adjust(y_A)``, A's move would carry the MDS past it, so A's
        move is cut to ``delta = |t W_k - N| / w_Ak`` (N: the numerator with A at ``x_A`` and
        then the updates applied), the MDS shifts ``r_A = delta w_Ak / W_k``, the other side's
        shift is ``r_O = r_A (s_Ak + s_Ok) / (s_Ad + s_Od)`` and its move ``r_O W_d / w_Od``;
        the gain becomes ``|r_O s_Od - r_A s_Ok|``. Within ``_NBS_NEAR`` of the target the
        comparison is made in the program's decimal arithmetic.
        """
        X = [self.X[0][c], self.X[1][c]]
        M = [self.M[0][c], self.M[1][c]]
        gain = self.gain[c]
        sal = (self.lsal[0][0][c], self.lsal[0][1][c]), (self.lsal[1][0][c], self.lsal[1][1][c])
        for a in (0, 1):
            o = 1 - a
            w, W, N = self.lw[a][c], self.lW[a][c], self.N[a][c]
            x0 = self.lX0[a][c]
            n0 = (N + w * (X[a] - x0)) / W
            n1 = (N + w * (X[a] + M[a] - x0)) / W
            t = self.lT[a][c]
            if abs(t - n0) < _NBS_NEAR or abs(t - n1) < _NBS_NEAR:
                self._check_nbs_exact(c)
                return
            if (t - n0) * (t - n1) >= 0:
                continue
            own = self.own[a][c]
            numer = N + w * ((X[a] if math.isnan(own) else own) - x0)
            delta = abs(t * W - numer) / w
            r_a = delta * w / W
            r_o = r_a * (sal[a][0] + sal[o][1]) / (sal[a][1] + sal[o][0])
            if a == 1:
                self.yI_before_fix[c] = X[0] + M[0]
            mo = abs(r_o * self.lW[o][c] / self.lw[o][c])
            M[o] = -mo if X[o] > self.lT[o][c] else mo
            M[a] = -delta if X[a] > t else delta
            gain = abs(r_o * sal[o][0] - r_a * sal[o][1])
            self.fix[a][c] = True
            self.adjusted[a][c] = True
        self._set_checked(c, M, gain)

    def _set_checked(self, c: int, M: list[float], gain: float) -> None:
        self.M[0][c], self.M[1][c] = M
        self.gain[c] = gain
        self.valid[c] = self._move_ok(0, c, self.X[0][c], M[0]) and self._move_ok(
            1, c, self.X[1][c], M[1]
        )

    def _check_nbs_exact(self, c: int) -> None:
        """The MDS checks of candidate c in the program's decimal arithmetic."""
        out = self.exact_calculate(c, decide=True)
        fixed = (bool(out[7]), bool(out[8]))
        for a in (0, 1):
            self.fix[a][c] = fixed[a]
            self.adjusted[a][c] = self.adjusted[a][c] or fixed[a]
        self.yI_before_fix[c] = float(out[9]) if fixed[1] else math.nan
        self._set_checked(c, [float(out[2]), float(out[3])], float(out[4]))

    # ------------------------------------------------------------------ decimal shadow
    def _dec(self, a: int, k: int, v: float) -> Decimal:
        got = self.exact.get((a, k, v))
        return got if got is not None else Decimal(v)

    def state(self, c: int) -> _State:
        """What the decimal calculation of candidate c reads."""
        return (
            self.X[0][c],
            self.X[1][c],
            self.fix[0][c],
            self.fix[1][c],
            (dict(self.upd[0][c]), dict(self.upd[1][c])),
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
        I, J, p, q = self.lI[c], self.lJ[c], self.lp[c], self.lq[c]
        xI_f, xJ_f, fix_I, fix_J, upd = self.state(c) if state is None else state
        was_fixed = (fix_I, fix_J)
        xIq = self._dec(I, q, xI_f)
        xJp = self._dec(J, p, xJ_f)
        xIp, xJq = xE[I][p], xE[J][q]
        sIp, sIq, sJp, sJq = sE[I][p], sE[I][q], sE[J][p], sE[J][q]
        cIq, cJp = cE[I][q], cE[J][p]
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
        actor = (I, J)
        fixed = [False, False]
        y_before = X[0] + M[0]
        for a in (0, 1):
            if decide:
                n0 = self._exact_nbs(c, a, X[a], upd[a])
                n1 = self._exact_nbs(c, a, X[a] + M[a], upd[a])
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
            A, O = actor[a], actor[o]
            numer = self._exact_numerator(c, a, X[a], upd[a])
            delta = abs((T[a] * WE[k] - numer) / (sE[A][k] * cE[A][k]))
            dp = (delta * sE[A][k] * cE[A][k]) / WE[k]
            dq = ((sE[A][k] + sE[O][k]) / (sE[A][d] + sE[O][d])) * dp
            M[o] = abs((dq * WE[d]) / (cE[O][d] * sE[O][d]))
            M[a] = delta
            if X[o] > T[o]:
                M[o] = -M[o]
            if X[a] > T[a]:
                M[a] = -M[a]
            gain = abs(dq * sE[O][d] - dp * sE[O][k])
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

    def _exact_nbs(self, c: int, a: int, pos: Decimal, upd: dict[int, float]) -> Decimal:
        """``adjusted_nbs``: the MDS of side a's supply issue, updates applied, its actor at pos."""
        run = self.run
        k = self.lq[c] if a == 0 else self.lp[c]
        A = self.lI[c] if a == 0 else self.lJ[c]
        total = ZERO
        for b in run.members[k]:
            if b == A:
                x = pos
            elif b in upd:
                x = self._dec(b, k, upd[b])
            else:
                x = run.xE[b][k]
            total += x * run.sE[b][k] * run.cE[b][k]
        return total / run.WE[k]

    def _exact_numerator(self, c: int, a: int, xa: Decimal, upd: dict[int, float]) -> Decimal:
        """``adjusted_nbs_by_position``'s numerator: side a's actor at ``xa``, then the updates."""
        run = self.run
        k = self.lq[c] if a == 0 else self.lp[c]
        A = self.lI[c] if a == 0 else self.lJ[c]
        total = ZERO
        for b in run.members[k]:
            if b in upd:
                pos = self._dec(b, k, upd[b])
            elif b == A:
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
        score = self.score  # the gain, or for a touched candidate a bound on it; -inf: gone
        alive = np.ones(self.nc, dtype=bool)
        executed: list[int] = []
        tied = 0
        sort_no = 0
        first_execution = True
        dirty = self.dirty
        while True:
            sort_no += 1
            top = int(np.argmax(score))
            g = float(score[top])
            if g == -np.inf:
                break
            if dirty[top]:
                self._refresh(top, score, alive)
                continue
            near = np.flatnonzero(score >= g - _GAIN_TIE)
            if near.shape[0] > 1:
                stale = near[dirty[near]]
                if stale.shape[0]:
                    for c in stale.tolist():
                        self._refresh(c, score, alive)
                    sort_no -= 1
                    continue
                top, was_tie = self._first_in_list(near)
                tied += was_tie
            alive[top] = False
            score[top] = -np.inf
            if not self.valid[top]:
                continue
            self.sort_of[top] = sort_no
            self._execute(top)
            executed.append(top)
            if first_execution:
                alive &= np.asarray(self.valid, dtype=bool)
                score[~alive] = -np.inf
                first_execution = False
            self._touch(top, alive, score)
        return executed, tied

    def _refresh(self, c: int, score: FloatArray, alive: BoolArray) -> None:
        """Replay the touches candidate c has had since its last calculation."""
        for e in self.pending[c]:
            self._recalculate(c, e)
            if not self.valid[c]:
                break
        self.pending[c] = []
        self.dirty[c] = False
        if self.valid[c]:
            score[c] = self.gain[c]
        else:
            alive[c] = False
            score[c] = -np.inf

    def _execute(self, e: int) -> None:
        """Fix the executed exchange's voting positions at their decimal values."""
        out = self.exact_calculate(e)
        yI, yJ = out[0], out[1]
        I, J, p, q = self.lI[e], self.lJ[e], self.lp[e], self.lq[e]
        self._yf[e] = (float(yI), float(yJ))
        self.exact[(I, q, float(yI))] = yI
        self.exact[(J, p, float(yJ))] = yJ
        self.exact_y[e] = (yI, yJ)
        self.exact_log[e] = out

    def _touch(self, e: int, alive: BoolArray, score: FloatArray) -> None:
        """Record exchange e's touch on every listed candidate it touches.

        Supply contact: a side with e's actor and supply issue takes e's voting position. Demand
        contact: a side with the actor and demand issue of one of e's sides records the other
        side's voting position (``AbstractExchange.recalculate``, done in :meth:`_recalculate`).
        The supply positions move now, so that the bounds are current.
        """
        m = self.run.m
        I, J, p, q = self.lI[e], self.lJ[e], self.lp[e], self.lq[e]
        k_is, k_js, k_id, k_jd = I * m + q, J * m + p, I * m + p, J * m + q
        order, bounds = self._by_key, self._key_bounds
        mask = np.zeros(self.nc, dtype=bool)
        for k in (k_is, k_js, k_id, k_jd):
            mask[order[bounds[k] : bounds[k + 1]]] = True
        mask &= alive
        idx = np.flatnonzero(mask)
        if idx.shape[0] == 0:
            return
        keys = self.keys[:, idx]
        t_i = keys[:2] == k_is
        t_j = keys[:2] == k_js
        dem = keys[2:]
        contact = (t_i | t_j | (dem == k_jd) | (dem == k_id)).any(axis=0)
        if not contact.all():
            idx, t_i, t_j = idx[contact], t_i[:, contact], t_j[:, contact]
        yI, yJ = self._yf[e]
        X = np.where(t_i, yI, np.where(t_j, yJ, self.Xb[:, idx]))
        self.Xb[:, idx] = X
        dist = np.abs(self.T[:, idx] - X)
        score[idx] = np.minimum(dist[1] * self.G1[idx], dist[0] * self.G2[idx])
        self.dirty[idx] = True
        pending = self.pending
        for c in idx.tolist():
            pending[c].append(e)

    def _recalculate(self, c: int, e: int) -> None:
        """``AbstractExchange.recalculate`` of candidate c after exchange e.

        A touched side keeps its previous planned move in its history (an untouched side's last
        move is replaced). A demand contact records the other side's voting position among the
        ``updates``; a later record keeps the smaller of the two if the round-start position is
        below the earlier record, else the larger (``update_updates``).
        """
        m = self.run.m
        eI, eJ, ep, eq = self.lI[e], self.lJ[e], self.lp[e], self.lq[e]
        k_is, k_js, k_id, k_jd = eI * m + eq, eJ * m + ep, eI * m + ep, eJ * m + eq
        yI, yJ = self._yf[e]
        keys = self.lkeys
        touched = False
        for side in (0, 1):
            k = keys[side][c]
            if k == k_is or k == k_js:
                touched = True
                self.X[side][c] = yI if k == k_is else yJ
                last = self.M[side][c]
                self.PS[side][c] += last
                self.PN[side][c] = self.PN[side][c] and last < 0
                self.PP[side][c] = self.PP[side][c] and last > 0
        # side 0 (I) supplies what X.J demands; side 1 (J) supplies what X.I demands
        kId, kJd = keys[2][c], keys[3][c]
        x0 = self.x0l
        for k_dem, actor, issue, y in ((k_jd, eI, eq, yI), (k_id, eJ, ep, yJ)):
            for side, kd in ((0, kJd), (1, kId)):
                if kd != k_dem:
                    continue
                touched = True
                start = x0[actor][issue]
                upd = self.upd[side][c]
                cur = upd.get(actor)
                if cur is None:
                    new = y
                    old = x0[actor][issue]
                else:
                    new = min(cur, y) if start <= cur else max(cur, y)
                    old = cur
                upd[actor] = new
                if actor == (self.lI[c] if side == 0 else self.lJ[c]):
                    self.own[side][c] = new
                else:
                    self.N[side][c] += self.wl[actor][issue] * (new - old)
        if touched:
            self.calculate(c)
            self.history[c].append((self.sort_of[e] + 1, self.gain[c], self.state(c)))

    def _first_in_list(self, near: IntArray) -> tuple[int, int]:
        """Of candidates with gains equal in binary, the one the program's sort puts first."""
        exact = {c: self.exact_calculate(c)[4] for c in near.tolist()}
        ranked = sorted(exact.values(), reverse=True)
        was_tie = int(ranked[0] - ranked[1] < _TIE_EXACT)
        tops = [c for c in near.tolist() if exact[c] == ranked[0]]
        best = tops[0]
        for other in tops[1:]:
            if self._ahead(other, best):
                best = other
        return best, was_tie

    def _ahead(self, a: int, b: int) -> bool:
        """Is a before b in the program's list? Walking back through the sorts, the one ahead is
        the one with the larger gain at the last sort where their gains differed."""

        def start(c: int) -> tuple[int, float, _State]:
            st: _State = (
                self.lX0[0][c],
                self.lX0[1][c],
                self.init_fix[0][c],
                self.init_fix[1][c],
                ({}, {}),
            )
            return (1, self.init_gain[c], st)

        ha = [start(a), *self.history[a]]
        hb = [start(b), *self.history[b]]
        ia, ib = len(ha) - 1, len(hb) - 1
        while True:
            ga, gb = ha[ia][1], hb[ib][1]
            if abs(ga - gb) > _GAIN_TIE:
                return ga > gb
            ea = self.exact_calculate(a, state=ha[ia][2])[4]
            eb = self.exact_calculate(b, state=hb[ib][2])[4]
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
        el = e.tolist()
        I, J, p, q = self.I[e], self.J[e], self.p[e], self.q[e]
        x0, s = run.x, run.s
        exact = np.array([[float(v) for v in self.exact_log[c][:7]] for c in el]).reshape(-1, 7)
        y = exact[:, :2].T
        X = np.array([[self.X[0][c] for c in el], [self.X[1][c] for c in el]])
        N = np.array([[self.N[0][c] for c in el], [self.N[1][c] for c in el]])
        w2 = np.array([[self.lw[0][c] for c in el], [self.lw[1][c] for c in el]])
        Wd = np.array([[self.lW[0][c] for c in el], [self.lW[1][c] for c in el]])
        X0 = self.X0[:, e]
        # the MDS of each side's supply issue before and after its move (``nbs_0``, ``nbs_1``);
        # I's ``nbs_1`` is not recomputed when J's check corrects the exchange
        n0 = (N + w2 * (X - X0)) / Wd
        y_stale = np.array([self.yI_before_fix[c] for c in el])
        fixJ = np.array([self.fix[1][c] for c in el], dtype=bool)
        y_seen = np.stack([np.where(fixJ & ~np.isnan(y_stale), y_stale, y[0]), y[1]])
        n1 = (N + w2 * (y_seen - X0)) / Wd
        xp, xq = x0[:, p].T, x0[:, q].T  # (ne, n)
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
        own = (ar == I[:, None]) | (ar == J[:, None])
        pos = ext > 0

        def total(sel: BoolArray) -> FloatArray:
            return np.asarray(np.where(sel & ~own, ext, 0.0).sum(axis=1))

        adjusted = np.array([[self.adjusted[0][c], self.adjusted[1][c]] for c in el], dtype=float)
        cols = [
            np.full(e.shape[0], float(number)),
            np.arange(1, e.shape[0] + 1, dtype=np.float64),
            I.astype(np.float64),
            J.astype(np.float64),
            p.astype(np.float64),
            q.astype(np.float64),
            self.inner_ad[e].astype(np.float64),
            X0[0],
            X[0],
            exact[:, 2],
            exact[:, 0],
            self.T[0, e],
            X0[1],
            X[1],
            exact[:, 3],
            exact[:, 1],
            self.T[1, e],
            exact[:, 4],
            exact[:, 5],
            exact[:, 6],
            n0[0],
            n1[0],
            n0[1],
            n1[1],
            adjusted[:, 0],
            adjusted[:, 1],
            total(inner & pos),
            total(inner & ~pos),
            total(~inner & pos),
            total(~inner & ~pos),
            2.0 * exact[:, 4],
        ]
        return [tuple(r) for r in np.column_stack(cols).tolist()]
