"""Run a coercion scenario: draws -> the monthly model -> labelled, summarised results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from detente.backends import Backend, LocalBackend, Progress
from detente.defaults import DEFAULT_CHUNK_ROWS as DEFAULT_CHUNK_ROWS
from detente.defaults import DEFAULT_DRAWS as DEFAULT_DRAWS
from detente.defaults import DEFAULT_SEED as DEFAULT_SEED
from detente.dynamics.simulate import CHANNELS, PER_DRAW_SERIES, SERIES, Trajectories, simulate
from detente.engines import Engine, make_engine
from detente.engines.base import FloatArray
from detente.errors import InputError
from detente.extras import require
from detente.limits import RunLimits, check_run
from detente.scenario.coercion import Scenario, format_month, iter_params, parse_month
from detente.scenario.params import Param
from detente.scenario.sample import (
    Lens,
    build_case,
    build_coefficients,
    draw_params,
    month_labels,
)

if TYPE_CHECKING:  # heavy libraries, imported where used
    import pandas as pd
    import xarray as xr
    from matplotlib.axes import Axes

HORIZONS = (6, 12, 24, 36)
#: Inside the monthly model the EUM runs at most this many rounds a month (docs/model.md, M9).
EUM_MONTHLY_ROUNDS = 20


def conditional(paths: Trajectories, origin: int, h: int, series: str = "p_talks") -> FloatArray:
    """Each draw's probability that ``series`` happens within ``h`` months after the end of month
    ``origin``, given that no channel of talks had opened by then:

        p_d = (F_d(origin + h) - F_d(origin)) / S_d(origin)

    F the cumulative probability (``p_talks``, ``p_public``, ...), S the survival. A draw in which
    talks had certainly opened has no conditional forecast (0 here, and weight 0 in summaries).
    """
    f = paths.series[series]
    alive = paths.series["survival"][:, origin]
    gain = f[:, origin + h] - f[:, origin]
    return np.asarray(np.divide(gain, alive, out=np.zeros_like(gain), where=alive > 0))


def survival_weights(paths: Trajectories, origin: int) -> FloatArray:
    """w_d = S_d(origin) / sum S: conditioning on no talks by the as-of month reweights draws
    (Bayes' rule over the parameter draws: draws in which talks were likely have gone quiet less
    often)."""
    alive = paths.series["survival"][:, origin]
    total = alive.sum()
    if not total > 0:
        return np.asarray(np.full_like(alive, 1.0 / len(alive)))
    return np.asarray(alive / total)


def weighted_quantile(x: FloatArray, w: FloatArray, q: float) -> float:
    """The q-quantile of ``x`` under weights ``w`` (linear in the cumulative weight; equal weights
    give numpy's default percentile)."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws)
    total = cum[-1]
    if len(xs) == 1 or not total > 0:
        return float(xs[0])
    # positions of the points on [0, 1] as numpy's linear method places them for equal weights
    pos = (cum - ws) / (total - ws[-1]) if total > ws[-1] else np.linspace(0, 1, len(xs))
    return float(np.interp(q, pos, xs))


def summarise(p: FloatArray, w: FloatArray) -> dict[str, float]:
    """p (the weighted mean over draws), lo and hi (weighted 5th and 95th percentiles)."""
    return {
        "p": float(np.dot(w, p)),
        "lo": weighted_quantile(p, w, 0.05),
        "hi": weighted_quantile(p, w, 0.95),
    }


def mc_standard_error(p: FloatArray, w: FloatArray) -> float:
    """The Monte Carlo standard error of the weighted mean p = sum w_d p_d (sum w = 1):

        se = sqrt(sum_d w_d^2 (p_d - p)^2)

    the delta-method error of a self-normalised importance-weighted mean (Owen, *Monte Carlo
    theory, methods and examples*, 2013, ch. 9); with equal weights it is the usual sd / sqrt(n)
    (up to the n / (n - 1) factor). It measures how far more draws would move p, not the
    parameter uncertainty (that is the lo-hi interval)."""
    mean = float(np.dot(w, p))
    return float(np.sqrt(np.dot(w * w, (p - mean) ** 2)))


@dataclass(frozen=True, repr=False)
class Forecast:
    """The result of one run: inputs that made it, the monthly paths, and the summary.

    ``paths`` run from the scenario's start to ``origin + horizon`` months; ``origin`` is the
    as-of month's index (0: the start). Every summary is conditioned on no talks by the end of the
    as-of month and counts horizons from it.
    """

    scenario: Scenario
    draws: int
    seed: int
    horizon: int
    lens: str | None
    months: list[str]
    paths: Trajectories
    initial_position: list[float] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    origin: int = 0

    @property
    def as_of(self) -> str:
        return self.months[self.origin]

    @property
    def weights(self) -> FloatArray:
        return survival_weights(self.paths, self.origin)

    def horizons(self) -> list[int]:
        return sorted({h for h in HORIZONS if h <= self.horizon} | {self.horizon})

    def p_within(self, h: int) -> float:
        """P(direct talks within h months of the as-of month | none by then)."""
        return float(np.dot(self.weights, conditional(self.paths, self.origin, h)))

    def by_horizon(self) -> dict[int, dict[str, Any]]:
        """For h in 6, 12, 24, 36 (and the run's horizon), keyed by h in months, the
        probability of talks by then.

        p is the mean over draws of each draw's probability of direct talks within h months of
        the as-of month, given none before (weighted by each draw's survival to it); lo and hi the
        weighted 5th and 95th percentiles over draws: the spread over the parameter uncertainty,
        not a sampling error. ``mc_se`` is the Monte Carlo standard error of p
        (:func:`mc_standard_error`: what more draws would change). ``by_channel`` gives each
        channel's probability of being the first to open within h.
        """
        w = self.weights
        out: dict[int, dict[str, Any]] = {}
        for h in self.horizons():
            p = conditional(self.paths, self.origin, h)
            row: dict[str, Any] = summarise(p, w)
            row["mc_se"] = mc_standard_error(p, w)
            row["by_channel"] = {
                c: float(np.dot(w, conditional(self.paths, self.origin, h, f"p_{c}")))
                for c in CHANNELS
            }
            out[h] = row
        return out

    def conditional_path(self, series: str = "p_talks") -> FloatArray:
        """``(draws, months)``: each draw's probability by month, given none by the origin."""
        f = self.paths.series[series]
        alive = self.paths.series["survival"][:, self.origin : self.origin + 1]
        gain = np.clip(f - f[:, self.origin : self.origin + 1], 0.0, None)
        p = np.divide(gain, alive, out=np.zeros_like(gain), where=alive > 0)
        p[:, : self.origin + 1] = 0.0
        return np.asarray(p)

    def month_of_even_odds(self) -> str | None:
        """The first month by whose end the probability of talks reaches 50%, if any."""
        mean = self.weights @ self.conditional_path()
        hit = np.flatnonzero(mean >= 0.5)
        return self.months[int(hit[0])] if hit.size else None

    def mean_series(self) -> dict[str, FloatArray]:
        """Monthly means over draws (survival-weighted) of every series; the probabilities
        (``p_*``) are conditional on no talks by the as-of month."""
        w = self.weights
        data: dict[str, FloatArray] = {}
        for name in SERIES:
            series = (
                self.conditional_path(name) if name.startswith("p_") else self.paths.series[name]
            )
            data[name] = np.asarray(w @ series)
        return data

    def mean_paths(self) -> pd.DataFrame:
        """:meth:`mean_series` as a table indexed by month."""
        import pandas as pd

        return pd.DataFrame(self.mean_series(), index=pd.Index(self.months, name="month"))

    def faction_paths(self) -> dict[str, dict[str, Any]]:
        names = [f.name for f in self.scenario.factions]
        w = self.weights
        pos = np.einsum("d,dtf->tf", w, self.paths.position)
        sal = np.einsum("d,dtf->tf", w, self.paths.salience)
        return {
            n: {
                "initial_position": self.initial_position[k],
                "position": pos[:, k].tolist(),
                "salience": sal[:, k].tolist(),
            }
            for k, n in enumerate(names)
        }

    def to_dict(self, trajectories: bool = True) -> dict[str, Any]:
        """The JSON of ``detente run --json``."""
        doc: dict[str, Any] = {
            "scenario": self.scenario.id,
            "title": self.scenario.title,
            "question": self.scenario.question,
            "start": self.scenario.start,
            "as_of": self.as_of,
            "draws": self.draws,
            "seed": self.seed,
            "horizon": self.horizon,
            "lens": self.lens,
            "overrides": self.overrides,
            "engine": self.scenario.engine,
            "horizons": {str(h): v for h, v in self.by_horizon().items()},
            "even_odds_month": self.month_of_even_odds(),
        }
        if trajectories:
            doc["months"] = self.months
            doc["trajectories"] = {c: v.tolist() for c, v in self.mean_series().items()}
            p = self.conditional_path()
            w = self.weights
            doc["trajectories"]["p_talks_lo"] = [
                weighted_quantile(p[:, t], w, 0.05) for t in range(p.shape[1])
            ]
            doc["trajectories"]["p_talks_hi"] = [
                weighted_quantile(p[:, t], w, 0.95) for t in range(p.shape[1])
            ]
            doc["factions"] = self.faction_paths()
        return doc

    def __repr__(self) -> str:
        hs = self.by_horizon()
        shown = ", ".join(
            f"{h}m: {v['p']:.2f} [{v['lo']:.2f}-{v['hi']:.2f}] +/-{v['mc_se']:.3f}"
            for h, v in hs.items()
        )
        lens = f", lens={self.lens!r}" if self.lens else ""
        return (
            f"<Forecast {self.scenario.id!r} as of {self.as_of}, {self.draws} draws, seed "
            f"{self.seed}{lens}: P(talks within) {shown}>"
        )

    def to_dataframe(self) -> pd.DataFrame:
        """Tidy: one row per horizon, with p, its interval (lo, hi: the spread over parameter
        uncertainty), its Monte Carlo standard error and each channel's share."""
        import pandas as pd

        rows = [
            {
                "scenario": self.scenario.id,
                "horizon": h,
                "p": v["p"],
                "lo": v["lo"],
                "hi": v["hi"],
                "mc_se": v["mc_se"],
                **{f"p_{c}": x for c, x in v["by_channel"].items()},
            }
            for h, v in self.by_horizon().items()
        ]
        return pd.DataFrame(rows)

    def to_xarray(self) -> xr.Dataset:
        """Every draw's monthly paths: each series on dims (``draw``, ``month``), the factions'
        positions and saliences on (``draw``, ``month``, ``faction``); ``weight`` the survival
        weight of each draw and ``p_talks_conditional`` its probability by month given no talks
        by the as-of month. The series of ``MEAN_ONLY_SERIES`` and the faction paths are
        float32, as the run keeps them (``Trajectories.empty``); the survival and the
        probabilities float64. Needs xarray (``pip install detente[viz]``)."""
        xarray = require("xarray", "viz")
        months = self.months
        factions = [f.name for f in self.scenario.factions]
        data: dict[str, Any] = {
            name: (("draw", "month"), v) for name, v in self.paths.series.items()
        }
        data["position"] = (("draw", "month", "faction"), self.paths.position)
        data["salience"] = (("draw", "month", "faction"), self.paths.salience)
        data["weight"] = (("draw",), self.weights)
        data["p_talks_conditional"] = (("draw", "month"), self.conditional_path())
        dataset: xr.Dataset = xarray.Dataset(
            data,
            coords={"draw": np.arange(self.draws), "month": months, "faction": factions},
            attrs={"scenario": self.scenario.id, "as_of": self.as_of, "seed": self.seed},
        )
        return dataset

    def plot(self, ax: Axes | None = None) -> Axes:
        """P(talks by month | none by the as-of month), mean over draws with its 90% band over
        the parameter uncertainty, on ``ax`` (default: the current axes); returns the axes."""
        if ax is None:
            ax = require("matplotlib.pyplot", "viz").gca()
        doc = self.to_dict()["trajectories"]
        x = np.arange(len(self.months))
        ax.fill_between(x, doc["p_talks_lo"], doc["p_talks_hi"], alpha=0.25, label="90% band")
        ax.plot(x, doc["p_talks"], lw=2, label=f"P(talks by month | none by {self.as_of})")
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_ylim(0, 1)
        ticks = list(range(0, len(self.months), max(1, len(self.months) // 6)))
        ax.set_xticks(ticks, [self.months[t] for t in ticks])
        ax.set_title(self.scenario.title, fontsize=10)
        ax.legend(fontsize=8)
        return ax


@dataclass(frozen=True)
class Chunk:
    """A unit of work for a backend: some rows of drawn numbers, to simulate from the start to
    ``months`` months after the as-of month (index ``as_of``)."""

    scenario: Scenario
    params: dict[str, FloatArray]
    months: int
    as_of: int = 0

    @property
    def rows(self) -> int:
        return len(next(iter(self.params.values())))

    @property
    def total_months(self) -> int:
        return self.as_of + self.months + 1


def make_stance_engine(scenario: Scenario) -> Engine:
    if scenario.engine == "eum":
        return make_engine("eum", max_rounds=EUM_MONTHLY_ROUNDS)
    return make_engine(scenario.engine)


def simulate_chunk(chunk: Chunk) -> Trajectories:
    """Simulate the rows of a chunk (runs anywhere: a thread, a Dask worker)."""
    inputs = build_case(chunk.scenario, chunk.params, chunk.total_months, chunk.as_of)
    coef = build_coefficients(chunk.params)
    return simulate(inputs, coef, make_stance_engine(chunk.scenario))


def p_talks_chunk(chunk: Chunk) -> FloatArray:
    """``(rows, months)``: each draw's probability of direct talks within 1, 2, ... months of the
    as-of month, given none by then (:func:`conditional`): what sensitivity needs back."""
    paths = simulate_chunk(chunk)
    return np.stack(
        [conditional(paths, chunk.as_of, h) for h in range(1, chunk.months + 1)], axis=1
    )


def split_rows(
    scenario: Scenario,
    params: dict[str, FloatArray],
    months: int,
    chunk_rows: int,
    as_of: int = 0,
) -> list[Chunk]:
    """Cut rows into chunks of at most ``chunk_rows``."""
    total = len(next(iter(params.values())))
    return [
        Chunk(scenario, {k: v[i : i + chunk_rows] for k, v in params.items()}, months, as_of)
        for i in range(0, total, max(1, chunk_rows))
    ]


def as_of_index(scenario: Scenario, as_of: str | None, where: str = "--as-of") -> int:
    """The as-of month's index from the start (0 when None), checked against the scenario, and
    no value of the scenario dated after it."""
    if as_of is None:
        _check_dated(
            scenario, scenario.start_month, f"the start {scenario.start}", "from the start"
        )
        return 0
    try:
        month = parse_month(as_of)
    except ValueError as exc:
        raise InputError(where, None, str(exc)) from None
    a = month - scenario.start_month
    if a < 0:
        raise InputError(where, None, f"{as_of} is before the scenario's start {scenario.start}")
    if a >= scenario.horizon:
        last = format_month(scenario.start_month + scenario.horizon - 1)
        raise InputError(
            where, None, f"{as_of} is after the scenario's horizon (its last month is {last})"
        )
    _check_dated(scenario, month, f"the as-of month {as_of}", f"as of {as_of}")
    return a


def _check_dated(scenario: Scenario, month: int, after: str, forecast: str) -> None:
    """No number the run uses is dated after ``month`` (a forecast then could not have known
    it); numbers inside events and phases announced later are not used, so not checked."""
    unseen = _unseen_prefixes(scenario, month)
    for path, param, _ in iter_params(scenario):
        if param.dated is None or parse_month(param.dated) <= month:
            continue
        if any(path.startswith(prefix) for prefix in unseen):
            continue  # inside an event or phase not yet announced: the run does not use it
        raise InputError(
            scenario.id,
            path,
            f"dated {param.dated}, after {after}: a forecast {forecast} cannot use it",
        )


def _unseen_prefixes(scenario: Scenario, month: int) -> list[str]:
    """Paths of the events, phases and sender elections announced after ``month``."""
    out = [
        f"events[{k}]."
        for k, ev in enumerate(scenario.events)
        if parse_month(ev.known_from) > month
    ]
    for name, channel in scenario.pressure.items():
        out += [
            f"pressure.{name}.timeline[{k}]."
            for k, phase in enumerate(channel.timeline)
            if parse_month(phase.known_from) > month
        ]
    if scenario.sender_side is not None:
        out += [
            f"sender_side.elections[{k}]."
            for k, e in enumerate(scenario.sender_side.elections)
            if parse_month(e.known_from) > month
        ]
    return out


def _check_finite(scenario: Scenario, paths: Trajectories) -> None:
    """The backstop behind the readers' bounds on every number: a probability that is not finite
    (an overflow somewhere in the arithmetic) is refused in one line, never printed as nan."""
    for name in PER_DRAW_SERIES:
        values = paths.series[name]
        if not np.isfinite(values).all():
            draws = int((~np.isfinite(values)).any(axis=1).sum())
            raise InputError(
                scenario.id,
                None,
                f"the model's arithmetic overflowed in {draws:,} draws ({name} not finite): "
                "check the magnitudes of the file's numbers (capabilities, exposures, scales)",
            )


def run_scenario(
    scenario: Scenario,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    horizon: int | None = None,
    lens: Lens | None = None,
    fixed: dict[str, float] | None = None,
    backend: Backend | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
    as_of: str | None = None,
    coefficients: dict[str, Param] | None = None,
    limits: RunLimits | None = None,
) -> Forecast:
    """Draw every number, simulate every draw, and label the result.

    ``as_of`` (YYYY-MM, default the scenario's start) is the month a forecaster stands at the end
    of: only events announced by then are seen, the months from the start to it are replayed,
    and the forecast counts ``horizon`` months (default the scenario's) from it, conditioned on
    no talks having opened by then. ``fixed`` sets numbers to one value in every draw: scenario
    paths (``leader.legacy_weight``) or global coefficients (``coefficients.w_legacy``); callers
    check them first with :func:`detente.scenario.sample.check_fixed`. Draws are simulated in
    chunks of ``chunk_rows`` on ``backend`` (default: this machine); the numbers do not depend on
    either. ``coefficients`` replaces the shipped global coefficients (a lens then applies on
    top of them). ``limits`` (default :func:`detente.limits.library_limits`) caps the run's
    size and estimated memory before any work (an :class:`InputError` past them).
    """
    origin = as_of_index(scenario, as_of)
    months = horizon if horizon is not None else scenario.horizon
    runner = backend if backend is not None else LocalBackend()
    # chunks on a cluster work in its memory: only the result is held here
    workers = 0 if runner.name == "dask" else getattr(runner, "workers", None)
    total = origin + months + 1
    check_run(draws, total, len(scenario.factions), scenario.engine, limits, workers, chunk_rows)
    fixed = fixed or {}
    params = draw_params(scenario, draws, seed, lens, fixed, coefficients)
    chunks = split_rows(scenario, params, months, chunk_rows, origin)
    # each chunk is written into one preallocated result as it finishes, then dropped
    paths = Trajectories.empty(draws, origin + months + 1, len(scenario.factions))
    step = max(1, chunk_rows)
    runner.map(
        simulate_chunk,
        chunks,
        progress,
        on_result=lambda k, part: paths.put(k * step, part),
        keep=False,
    )
    _check_finite(scenario, paths)
    return Forecast(
        scenario=scenario,
        draws=draws,
        seed=seed,
        horizon=months,
        lens=None if lens is None else lens.name,
        months=month_labels(scenario, origin + months + 1),
        paths=paths,
        initial_position=[
            float(params[f"factions[{k}].position"].mean()) for k in range(len(scenario.factions))
        ],
        overrides={k: f"{v:g}" for k, v in fixed.items()},
        origin=origin,
    )
