"""Typed answers of the Python API (:mod:`detente.api`), one class per question.

Every result has a short ``repr``, ``to_dict()`` (exactly the JSON the matching ``detente ...
--json`` command prints), ``to_dataframe()`` (a tidy table: one row per observation) and
``plot(ax=None)`` (draws on ``ax``, default the current axes, and returns it). Results with one
value per Monte Carlo draw also have ``to_xarray()``. pandas, matplotlib and xarray are imported
when these are called, never at ``import detente``.

The forecast itself is :class:`detente.forecast.Forecast`; the Sobol indices are
:class:`detente.analysis.sensitivity.ScenarioSensitivity`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from detente.extras import require

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.axes import Axes

    from detente.analysis.tipping import TipResult
    from detente.forecast import Forecast
    from detente.solve import ExchangeForecast, IssueForecast, SpatialForecast

#: A repr longer than this is cut (a result's repr is for a glance, to_dict() for the data).
REPR_LIMIT = 1_000


def _short(text: str) -> str:
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 4] + " ...>"


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    current: Axes = require("matplotlib.pyplot", "viz").gca()
    return current


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame: pd.DataFrame = require("pandas", "viz").DataFrame(rows)
    return frame


@dataclass(frozen=True, repr=False)
class Comparison:
    """Two forecasts side by side and the difference of their p (second minus first) at each
    horizon both have; the JSON of ``detente compare --json``."""

    runs: tuple[Forecast, Forecast]
    difference: dict[int, float]

    @property
    def labels(self) -> list[str]:
        """Each run's scenario id, lens and --set changes."""
        return [
            r.scenario.id
            + (f" ({r.lens})" if r.lens else "")
            + (
                " with " + ", ".join(f"{k}={v}" for k, v in r.overrides.items())
                if r.overrides
                else ""
            )
            for r in self.runs
        ]

    def by_horizon(self) -> dict[int, float]:
        return dict(self.difference)

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": [r.to_dict(trajectories=False) for r in self.runs],
            "difference": {str(h): d for h, d in self.difference.items()},
        }

    def __repr__(self) -> str:
        a, b = self.labels
        diff = ", ".join(f"{h}m: {d:+.2f}" for h, d in self.difference.items())
        return _short(f"<Comparison {a!r} -> {b!r}: difference in P(talks within) {diff}>")

    def to_dataframe(self) -> pd.DataFrame:
        """One row per run and horizon: p, lo, hi, mc_se."""
        return _frame(
            [
                {"run": label, "horizon": h, **{k: v[k] for k in ("p", "lo", "hi", "mc_se")}}
                for label, r in zip(self.labels, self.runs, strict=True)
                for h, v in r.by_horizon().items()
            ]
        )

    def to_xarray(self) -> xr.Dataset:
        """Both runs' per-draw paths (:meth:`Forecast.to_xarray`) along a ``run`` dimension
        labelled as in the table; factions or months one run lacks are NaN in it."""
        xarray = require("xarray", "viz")
        parts = [r.to_xarray().drop_attrs() for r in self.runs]
        both: xr.Dataset = xarray.concat(parts, dim="run", join="outer")
        return both.assign_coords(run=self.labels)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Both runs' P(talks by month) with their 90% bands."""
        ax = _axes(ax)
        for r in self.runs:
            r.plot(ax)
        return ax


@dataclass(frozen=True, repr=False)
class TippingPoint:
    """The value of ``param`` at which P(talks within ``horizon`` months) crosses ``target``;
    the JSON of ``detente tip --json``."""

    param: str
    target: float
    horizon: int
    result: TipResult

    @property
    def found(self) -> bool:
        return self.result.found

    @property
    def value(self) -> float | None:
        return self.result.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "target": self.target,
            "horizon": self.horizon,
            **self.result.to_dict(),
        }

    def __repr__(self) -> str:
        r = self.result
        where = f"at {r.value:.4g} (p {r.p_at_value:.3f})" if r.found else "not crossed"
        return (
            f"<TippingPoint {self.param} for P(talks within {self.horizon} months) = "
            f"{self.target}: {where}; p {r.p_at_low:.3f} at {r.low:g}, {r.p_at_high:.3f} at "
            f"{r.high:g}>"
        )

    def to_dataframe(self) -> pd.DataFrame:
        """The evaluated ends and the crossing: value, p."""
        r = self.result
        rows: list[dict[str, float | None]] = [
            {"value": r.low, "p": r.p_at_low},
            {"value": r.high, "p": r.p_at_high},
        ]
        if r.found:
            rows.insert(1, {"value": r.value, "p": r.p_at_value})
        return _frame([{"param": self.param, **row} for row in rows])

    def plot(self, ax: Axes | None = None) -> Axes:
        ax = _axes(ax)
        t = self.to_dataframe()
        ax.plot(t["value"], t["p"], "o-")
        ax.axhline(self.target, color="grey", ls=":")
        ax.set_xlabel(self.param)
        ax.set_ylabel(f"P(talks within {self.horizon} months)")
        return ax


@dataclass(frozen=True, repr=False)
class Sweep:
    """P(talks within the horizon) at each grid point (``table``, tidy); ``complete`` is False
    when the sweep was interrupted and holds the points that finished."""

    scenario: str
    axes: list[str]
    table: pd.DataFrame
    complete: bool
    total_points: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``detente sweep --json``."""
        return {"scenario": self.scenario, "rows": self.table.to_dict(orient="records")}

    def to_dataframe(self) -> pd.DataFrame:
        return self.table.copy()

    def __repr__(self) -> str:
        t = self.table
        span = f"p {t['p'].min():.2f}-{t['p'].max():.2f}" if len(t) else "no points"
        done = "" if self.complete else f" (interrupted: {len(t)} of {self.total_points})"
        return _short(
            f"<Sweep {self.scenario!r} over {', '.join(self.axes)}: {len(t)} points, {span}{done}>"
        )

    def plot(self, ax: Axes | None = None) -> Axes:
        """P against the first axis (mean over the others) with its 90% band."""
        ax = _axes(ax)
        t = self.table.groupby(self.axes[0], as_index=False)[["p", "lo", "hi"]].mean()
        ax.fill_between(t[self.axes[0]], t["lo"], t["hi"], alpha=0.25)
        ax.plot(t[self.axes[0]], t["p"], lw=2)
        ax.set_xlabel(self.axes[0])
        ax.set_ylabel("P(talks)")
        ax.set_ylim(0, 1)
        return ax


@dataclass(frozen=True, repr=False)
class OutsideView:
    """Base rates from TIES: how the most similar coded episodes ended, and a logistic model's
    forecast; the JSON of ``detente outside-view --json``. ``missing`` says why there is none."""

    scenario: str
    doc: dict[str, Any]

    @property
    def missing(self) -> str | None:
        m = self.doc.get("missing")
        return None if m is None else str(m)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.doc)

    def __repr__(self) -> str:
        if self.missing:
            return f"<OutsideView {self.scenario!r}: none ({self.missing})>"
        d = self.doc
        return (
            f"<OutsideView {self.scenario!r}: {d['successes']} of {d['n']} similar episodes "
            f"({d['share']:.2f}, 90% {d['lo']:.2f}-{d['hi']:.2f}); model p {d['model_p']:.2f}>"
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per measure (share, lo, hi, model_p, base_rate)."""
        keys = ("share", "lo", "hi", "model_p", "base_rate")
        return _frame([{"measure": k, "value": self.doc[k]} for k in keys if k in self.doc])

    def plot(self, ax: Axes | None = None) -> Axes:
        ax = _axes(ax)
        t = self.to_dataframe()
        ax.bar(t["measure"], t["value"])
        ax.set_ylim(0, 1)
        return ax


@dataclass(frozen=True, repr=False)
class Solution:
    """The engines' forecasts for each issue of an actor table; ``to_dict()`` is the JSON of
    ``detente solve --json`` with the same options."""

    file: str
    models: tuple[str, ...]
    issues: list[IssueForecast] = field(default_factory=list)
    exchange: ExchangeForecast | None = None
    spatial: SpatialForecast | None = None
    eum_variant: str = "published"

    def to_dict(self) -> dict[str, Any]:
        if self.spatial is not None:
            return {"file": self.file, **self.spatial.to_dict()}
        if self.models == ("exchange",) and self.exchange is not None:
            return {
                "file": self.file,
                "issues": [i.id for i in self.exchange.issues],
                "actors": self.exchange.actors,
                "models": {"exchange": self.exchange.to_dict()},
            }
        docs = [self._issue_doc(f) for f in self.issues]
        doc: dict[str, Any] = docs[0] if len(docs) == 1 else {"file": self.file, "issues": docs}
        if self.exchange is not None and len(docs) > 1:
            doc["exchange"] = self.exchange.to_dict()
        return doc

    def _issue_doc(self, f: IssueForecast) -> dict[str, Any]:
        doc = {"file": self.file, **f.to_dict()}
        if "eum" in doc["models"]:
            doc["models"]["eum"]["variant"] = self.eum_variant
        return doc

    def forecasts(self) -> dict[str, dict[str, float]]:
        """{issue: {model: forecast}}."""
        if self.spatial is not None:
            doc = self.spatial.to_dict()
            return {
                "smp": dict(zip(doc["dimensions"], doc["models"]["smp"]["forecast"], strict=True))
            }
        out = {
            f.issue.id: {m: float(e["forecast"]) for m, e in f.to_dict()["models"].items()}
            for f in self.issues
        }
        if self.exchange is not None and not out:
            out = {
                k: {"exchange": float(v)} for k, v in self.exchange.to_dict()["forecast"].items()
            }
        return out

    def __repr__(self) -> str:
        parts = "; ".join(
            f"{issue}: " + ", ".join(f"{m} {v:.2f}" for m, v in by.items())
            for issue, by in self.forecasts().items()
        )
        return _short(f"<Solution {self.file!r}: {parts}>")

    def to_dataframe(self) -> pd.DataFrame:
        """One row per issue and model: forecast."""
        return _frame(
            [
                {"issue": issue, "model": m, "forecast": v}
                for issue, by in self.forecasts().items()
                for m, v in by.items()
            ]
        )

    def plot(self, ax: Axes | None = None) -> Axes:
        ax = _axes(ax)
        t = self.to_dataframe()
        labels = [f"{i}: {m}" for i, m in zip(t["issue"], t["model"], strict=True)]
        ax.barh(labels, t["forecast"])
        ax.set_xlabel("forecast")
        return ax


@dataclass(frozen=True, repr=False)
class _Backtest:
    """A backtest's scores; ``doc`` is the JSON of the matching ``detente backtest`` command."""

    doc: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.doc)

    def scores(self) -> dict[str, dict[str, Any]]:
        """{forecaster: {measure: value}}."""
        raise NotImplementedError

    def to_dataframe(self) -> pd.DataFrame:
        """One row per forecaster, a column per measure."""
        return _frame([{"forecast": k, **v} for k, v in self.scores().items()])

    def plot(self, ax: Axes | None = None) -> Axes:
        """The main error measure of each forecaster (lower is better)."""
        ax = _axes(ax)
        t = self.to_dataframe()
        measure = next(c for c in ("mae", "brier", "estimate") if c in t.columns)
        ax.barh(t["forecast"], t[measure])
        ax.set_xlabel(measure)
        return ax

    def __repr__(self) -> str:
        measure = "mae" if "mae" in next(iter(self.scores().values()), {}) else "brier"
        parts = ", ".join(f"{k} {v[measure]:.3f}" for k, v in self.scores().items() if measure in v)
        return _short(f"<{type(self).__name__}: {measure} {parts}>")


@dataclass(frozen=True, repr=False)
class DeuBacktest(_Backtest):
    """Engines (or the ensemble) against DEU outcomes: mean and median absolute error."""

    @property
    def n_issues(self) -> int:
        return int(self.doc["n_issues"])

    def scores(self) -> dict[str, dict[str, Any]]:
        if "cv_mae" in self.doc:
            return {
                k: {"estimate": v["estimate"], "low": v["low"], "high": v["high"]}
                for k, v in self.doc["cv_mae"].items()
            }
        out = dict(self.doc["models"])
        for k, v in self.doc.get("baselines", {}).items():
            out[f"naive: {k.replace('_', ' ')}"] = v
        return out

    def __repr__(self) -> str:
        if "cv_mae" in self.doc:
            parts = ", ".join(f"{k} {v['estimate']:.2f}" for k, v in self.doc["cv_mae"].items())
            return _short(f"<DeuBacktest {self.n_issues} issues, CV MAE {parts}>")
        return _short(f"<DeuBacktest {self.n_issues} issues: " + super().__repr__()[1:])


@dataclass(frozen=True, repr=False)
class CasesBacktest(_Backtest):
    """The coercion model on the case library: Brier and log loss against the base rate."""

    @property
    def n_cases(self) -> int:
        return int(self.doc["n_cases"])

    @property
    def brier(self) -> float:
        return float(self.doc["brier"])

    def scores(self) -> dict[str, dict[str, Any]]:
        d = self.doc
        out = {
            "model": {"brier": d["brier"], "log_loss": d["log_loss"]},
            "base rate": {"brier": d["base_rate_brier"], "log_loss": d["base_rate_log_loss"]},
        }
        for key, label in (("cv", "leave-one-out"), ("forward", "forward in time")):
            if key in d:
                b = d[key]
                out[f"model, {label}"] = {"brier": b["brier"], "log_loss": b["log_loss"]}
                out[f"base rate, {label}"] = {
                    "brier": b["base_rate_brier"],
                    "log_loss": b["base_rate_log_loss"],
                }
        return out

    def by_horizon(self) -> dict[int, dict[str, Any]]:
        return {int(h): v for h, v in self.doc["by_horizon"].items()}


@dataclass(frozen=True, repr=False)
class TiesBacktest(_Backtest):
    """The TIES outside-view model scored on other episodes (or cross-validated)."""

    def scores(self) -> dict[str, dict[str, Any]]:
        keep = {k: v for k, v in self.doc.items() if isinstance(v, int | float)}
        return {"outside-view model": keep}
