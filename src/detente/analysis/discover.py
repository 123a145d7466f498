"""Scenario discovery: which combinations of the uncertain inputs make talks likely (PRIM).

The Patient Rule Induction Method (Friedman and Fisher 1999, "Bump hunting in high-dimensional
data", Statistics and Computing 9:123-143), as used in exploratory modelling (Bryant and Lempert
2010; the EMA workbench): starting from the box holding every draw, each step peels off the
share ``alpha`` of the draws still inside at one side of one input, choosing the peel that leaves
the highest share of "interesting" draws (talks past the threshold) inside. Peeling stops when the
box would hold less than ``min_support`` of all draws. Every step's box is kept (the peeling
trajectory), with its

    coverage = (interesting draws inside) / (interesting draws)
    density  = (interesting draws inside) / (draws inside)
    support  = (draws inside) / (draws)

Pasting (optional) then widens the chosen box again, one side at a time, by ``alpha`` of its
draws, while that raises the density. Covering finds further boxes among the draws outside the
boxes found so far.

:func:`prim` is a pure function on arrays; :func:`discover_scenario` draws a scenario's inputs and
runs it (the inputs of draw d are those of draw d of ``detente run`` with the same seed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.engines.base import FloatArray
from detente.errors import InputError
from detente.forecast import conditional, run_scenario
from detente.scenario.coercion import Scenario
from detente.scenario.params import Param
from detente.scenario.sample import Lens, draw_params

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Box:
    """Limits per input (``low <= x <= high``) and how the box does on the draws."""

    low: FloatArray
    high: FloatArray
    coverage: float
    density: float
    support: float

    def inside(self, x: FloatArray) -> BoolArray:
        return np.asarray(np.all((x >= self.low) & (x <= self.high), axis=1))

    def restricted(self) -> list[int]:
        """The inputs the box limits (an open side is infinite)."""
        return [
            j for j in range(len(self.low)) if np.isfinite(self.low[j]) or np.isfinite(self.high[j])
        ]


@dataclass(frozen=True)
class Prim:
    """The peeling trajectory (step 0: every draw) and the boxes chosen from it."""

    trajectory: list[Box]
    boxes: list[Box] = field(default_factory=list)


def _stats(inside: BoolArray, y: BoolArray, total_y: int, n: int) -> tuple[float, float, float]:
    k = int(inside.sum())
    hits = int((inside & y).sum())
    return (hits / total_y if total_y else 0.0, hits / k if k else 0.0, k / n)


def peel(
    x: FloatArray,
    y: BoolArray,
    alpha: float = 0.05,
    min_support: float = 0.05,
    among: BoolArray | None = None,
) -> list[Box]:
    """The peeling trajectory over the draws ``among`` (default all); coverage and support are
    measured against those draws."""
    n_all = len(y)
    pool = np.ones(n_all, dtype=bool) if among is None else among.copy()
    n, total = int(pool.sum()), int((pool & y).sum())
    low, high = np.full(x.shape[1], -np.inf), np.full(x.shape[1], np.inf)
    inside = pool.copy()
    out = [Box(low.copy(), high.copy(), *_stats(inside, y, total, n))]
    while True:
        best: tuple[float, int, int, float, BoolArray] | None = None
        for j in range(x.shape[1]):
            xj = x[inside, j]
            for side, q in ((0, alpha), (1, 1 - alpha)):
                cut = float(np.quantile(xj, q))
                keep = inside & ((x[:, j] >= cut) if side == 0 else (x[:, j] <= cut))
                k = int(keep.sum())
                if k == int(inside.sum()) or k < min_support * n or k == 0:
                    continue  # peels nothing (ties) or leaves too little
                mean = float(y[keep].mean())
                if best is None or (mean, k) > (best[0], int(best[4].sum())):
                    best = (mean, j, side, cut, keep)
        if best is None:
            return out
        _, j, side, cut, inside = best
        if side == 0:
            low[j] = cut
        else:
            high[j] = cut
        out.append(Box(low.copy(), high.copy(), *_stats(inside, y, total, n)))


def paste(x: FloatArray, y: BoolArray, box: Box, alpha: float = 0.05) -> Box:
    """Widen ``box`` one side at a time while the density does not fall: by ``alpha`` of its
    draws, or by the single nearest draw when a step that large would lower it (the widest of the
    best steps), so a box's edge can come back to where the draws of interest end."""
    n, total = len(y), int(y.sum())
    low, high = box.low.copy(), box.high.copy()
    d_in = x.shape[1]
    within = (x >= low) & (x <= high)
    inside = np.all(within, axis=1)
    density = float(y[inside].mean()) if inside.any() else 0.0
    while True:
        count = within.sum(axis=1)
        best: tuple[float, int, int, int, float, BoolArray] | None = None
        for j in range(d_in):
            # draws inside the box on every input but j
            others = count - within[:, j] == d_in - 1
            for side in (0, 1):
                if not np.isfinite(low[j] if side == 0 else high[j]):
                    continue  # that side is open
                outside = others & ((x[:, j] < low[j]) if side == 0 else (x[:, j] > high[j]))
                vals = np.sort(x[outside, j])
                for step in {max(1, int(round(alpha * inside.sum()))), 1}:
                    if vals.size == 0:
                        break
                    k = min(step, vals.size)
                    edge = float(vals[-k] if side == 0 else vals[k - 1])
                    more = outside & ((x[:, j] >= edge) if side == 0 else (x[:, j] <= edge))
                    grown = inside | more
                    d = float(y[grown].mean())
                    size = int(grown.sum())
                    # ties kept: widening at the same density covers more
                    if d >= density and (best is None or (d, size) > (best[0], best[3])):
                        best = (d, j, side, size, edge, grown)
        if best is None:
            return Box(low, high, *_stats(inside, y, total, n))
        density, j, side, _, edge, inside = best
        # a side widened past the last draw is open again
        beyond = (x[:, j] < edge).any() if side == 0 else (x[:, j] > edge).any()
        if side == 0:
            low[j] = edge if beyond else -np.inf
        else:
            high[j] = edge if beyond else np.inf
        within[:, j] = (x[:, j] >= low[j]) & (x[:, j] <= high[j])


def choose(trajectory: list[Box], min_coverage: float = 0.5) -> Box:
    """The densest box of the trajectory that still covers ``min_coverage`` of the interesting
    draws (the widest of equally dense ones)."""
    ok = [b for b in trajectory if b.coverage >= min_coverage] or trajectory[:1]
    return max(ok, key=lambda b: (b.density, b.support))


def prim(
    x: FloatArray,
    y: BoolArray,
    alpha: float = 0.05,
    min_support: float = 0.05,
    min_coverage: float = 0.5,
    pasting: bool = False,
    max_boxes: int = 2,
) -> Prim:
    """Peeling trajectory and up to ``max_boxes`` boxes (covering: each next box among the draws
    outside the earlier ones), each kept only if denser than the share of interesting draws.

    ``x`` is ``(draws, inputs)``, ``y`` the draws of interest. Coverage and support are shares of
    all draws (of interest); a covering box counts only the draws no earlier box holds."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError("prim: x must be (draws, inputs) and y (draws,)")
    if not 0 < alpha < 0.5 or not 0 < min_support < 1:
        raise ValueError("prim: alpha in (0, 0.5), min_support in (0, 1)")
    n, total = len(y), int(y.sum())
    base = total / n
    trajectory = peel(x, y, alpha, min_support)
    boxes: list[Box] = []
    left = np.ones(n, dtype=bool)
    steps = trajectory
    while total and len(boxes) < max_boxes:
        box = choose(steps, min_coverage)
        if pasting:
            box = paste(x, y, box, alpha)
        inside = box.inside(x) & left
        if not inside.any():
            break
        cov, dens, sup = _stats(inside, y, total, n)
        if dens <= base:
            break
        boxes.append(Box(box.low, box.high, cov, dens, sup))
        left &= ~inside
        if not (left & y).any() or left.sum() < min_support * n:
            break
        steps = peel(x, y, alpha, min_support / (left.sum() / n), among=left)
    return Prim(trajectory, boxes)


def box_limits(box: Box, names: list[str]) -> dict[str, dict[str, float | None]]:
    """The restricted inputs of a box: their low and high limits (None where the side is open)."""
    return {
        names[j]: {
            "low": float(box.low[j]) if np.isfinite(box.low[j]) else None,
            "high": float(box.high[j]) if np.isfinite(box.high[j]) else None,
        }
        for j in box.restricted()
    }


def prim_to_dict(result: Prim, names: list[str]) -> dict[str, Any]:
    """The JSON of ``detente discover --json``: trajectory and boxes (see docs/analysis.md)."""
    return {
        "trajectory": [
            {
                "coverage": b.coverage,
                "density": b.density,
                "support": b.support,
                "restricted": [names[j] for j in b.restricted()],
            }
            for b in result.trajectory
        ],  # fmt: skip
        "boxes": [
            {
                "coverage": b.coverage,
                "density": b.density,
                "support": b.support,
                "limits": box_limits(b, names),
            }
            for b in result.boxes
        ],  # fmt: skip
    }


def scenario_draws(
    scn: Scenario,
    draws: int,
    seed: int,
    horizon: int,
    lens: Lens | None = None,
    coefficients: dict[str, Param] | None = None,
) -> tuple[FloatArray, list[str], FloatArray]:
    """The uncertain inputs of each draw ``(draws, inputs)``, their names (paths, as ``--set``
    takes them) and each draw's probability of direct talks within ``horizon`` months.

    The inputs are drawn as :func:`detente.forecast.run_scenario` draws them (same seed, same
    streams), so row d is the input of the run's draw d; numbers that take one value in every draw
    are left out. ``coefficients`` replaces the shipped global coefficients."""
    if horizon > scn.horizon:
        raise InputError(
            "--horizon", None, f"{horizon} months: the scenario's horizon is {scn.horizon}"
        )
    params = draw_params(scn, draws, seed, lens, coefficients=coefficients)
    names = [k for k, v in params.items() if np.ptp(v) > 0]
    x = np.stack([params[k] for k in names], axis=1) if names else np.zeros((draws, 0))
    forecast = run_scenario(scn, draws, seed, horizon, lens, coefficients=coefficients)
    p = conditional(forecast.paths, forecast.origin, horizon)
    return x, names, p


def discover_scenario(
    scn: Scenario,
    draws: int,
    seed: int,
    horizon: int = 24,
    threshold: float = 0.5,
    lens: Lens | None = None,
    alpha: float = 0.05,
    min_support: float = 0.05,
    pasting: bool = False,
    coefficients: dict[str, Param] | None = None,
) -> dict[str, Any]:
    """PRIM on a scenario's draws: which inputs must lie where for P(talks within ``horizon``)
    to reach ``threshold``. The JSON of ``detente discover --json`` (docs/analysis.md)."""
    x, names, p = scenario_draws(scn, draws, seed, horizon, lens, coefficients)
    y = p >= threshold
    doc: dict[str, Any] = {
        "scenario": scn.id,
        "question": scn.question,
        "draws": draws,
        "seed": seed,
        "horizon": horizon,
        "threshold": threshold,
        "alpha": alpha,
        "min_support": min_support,
        "pasting": pasting,
        "inputs": names,
        "share": float(y.mean()),
    }
    if not names or not y.any() or y.all():
        doc.update({"trajectory": [], "boxes": []})
        return doc
    result = prim(x, y, alpha, min_support, pasting=pasting)
    doc.update(prim_to_dict(result, names))
    return doc
