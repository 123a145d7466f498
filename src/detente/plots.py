"""Figures written to files (matplotlib, drawn off-screen).

Each figure is a :class:`matplotlib.figure.Figure` on its own Agg canvas: nothing here touches
pyplot's global state or switches a notebook's backend (importing this module selects no
backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from detente.analysis.sensitivity import ScenarioSensitivity
from detente.extras import require
from detente.forecast import Forecast
from detente.solve import IssueForecast

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def new_figure(**kwargs: Any) -> Figure:
    """A figure with its own Agg canvas (no pyplot, no global backend)."""
    figure = require("matplotlib.figure", "viz")
    agg = require("matplotlib.backends.backend_agg", "viz")
    fig: Figure = figure.Figure(**kwargs)
    agg.FigureCanvasAgg(fig)
    return fig


def plot_rounds(forecasts: Sequence[IssueForecast], path: Path) -> None:
    """Each actor's EUM position by round, with the weighted mean, one panel per issue."""
    fig = new_figure(figsize=(9, 3.6 * len(forecasts)), layout="constrained")
    axes = fig.subplots(len(forecasts), 1, squeeze=False)
    for ax, f in zip(axes[:, 0], forecasts, strict=True):
        res = f.results["eum"]
        assert res.history_positions is not None and res.history_mean is not None
        hist = res.history_positions[0]
        rounds = range(hist.shape[0])
        for k, name in enumerate(f.issue.names):
            ax.plot(rounds, hist[:, k], marker="o", ms=3, lw=1.2, label=name)
        ax.plot(rounds, res.history_mean[0], "k--", lw=2, label="weighted mean")
        ax.set_title(f.issue.question or f.issue.id, fontsize=10)
        ax.set_xlabel("round")
        ax.set_ylabel("position")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.savefig(path, dpi=110)


def plot_forecast(forecast: Forecast, path: Path | IO[bytes]) -> None:
    """Four panels: probability of talks with its 90% band; economy; society and trust; factions."""
    months = forecast.months
    x = range(len(months))
    paths = forecast.mean_series()
    doc = forecast.to_dict()["trajectories"]
    fig = new_figure(figsize=(12, 7.5), layout="constrained")
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    ax.fill_between(x, doc["p_talks_lo"], doc["p_talks_hi"], alpha=0.25)
    ax.plot(x, paths["p_talks"], lw=2, label=f"P(talks by month | none by {forecast.as_of})")
    ax.plot(x, paths["hazard"], lw=1, ls="--", label="monthly hazard")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_ylim(0, 1)
    ax.set_title("Direct talks (mean, 90% band)", fontsize=10)
    for name, axis in (("pressure", axes[0, 1]), ("pain", axes[0, 1]), ("evasion", axes[0, 1])):
        axis.plot(x, paths[name], label=name)
    axes[0, 1].plot(x, paths["substitution"], label="substitution")
    axes[0, 1].set_title("M1-M2: pressure, pain, adaptation", fontsize=10)
    for name in ("discontent", "instability", "rally", "trust"):
        axes[1, 0].plot(x, paths[name], label=name)
    axes[1, 0].set_title("M3, M5, M6: society and trust", fontsize=10)
    pos = np.einsum("d,dtf->tf", forecast.weights, forecast.paths.position)
    for k, fac in enumerate(forecast.scenario.factions):
        axes[1, 1].plot(x, pos[:, k], label=fac.name + (" (leader)" if fac.veto else ""))
    axes[1, 1].plot(x, paths["stance"], "k--", lw=2, label="collective stance")
    axes[1, 1].set_ylim(-2, 102)
    axes[1, 1].set_title("M9: factions' positions (0 refuse - 100 talks now)", fontsize=10)
    ticks = list(range(0, len(months), max(1, len(months) // 6)))
    for axis in axes.flat:
        axis.set_xticks(ticks, [months[t] for t in ticks], fontsize=8)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="best")
    lens = f" - lens: {forecast.lens}" if forecast.lens else ""
    fig.suptitle(f"{forecast.scenario.title}{lens}", fontsize=11)
    fig.savefig(path, dpi=100)


def plot_tornado(result: ScenarioSensitivity, path: Path | IO[bytes], top: int = 15) -> None:
    """Horizontal bars of total (ST) and first-order (S1) indices, largest first."""
    fig = new_figure(figsize=(9, 0.35 * min(top, len(result.indices)) + 1.5), layout="constrained")
    ax = result.plot(fig.subplots(), top)
    ax.set_title(
        f"{result.scenario}: what drives P(talks within {result.horizon} months)", fontsize=10
    )
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=110)


def plot_sweep(table: pd.DataFrame, axes: list[str], path: Path) -> None:
    """A curve with its 90% band for one swept parameter, a heat map for two."""
    fig = new_figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.subplots()
    horizon = int(table["horizon"].iloc[0])
    if len(axes) == 1:
        t = table.sort_values(axes[0])
        ax.fill_between(t[axes[0]], t["lo"], t["hi"], alpha=0.25, label="90% over draws")
        ax.plot(t[axes[0]], t["p"], lw=2, label="P(talks)")
        ax.set_xlabel(axes[0])
        ax.set_ylabel(f"P(talks within {horizon} months)")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
    else:
        pivot = table.pivot_table(index=axes[1], columns=axes[0], values="p", aggfunc="mean")
        xs, ys = pivot.columns.to_numpy(float), pivot.index.to_numpy(float)
        mesh = ax.pcolormesh(xs, ys, pivot.to_numpy(), vmin=0, vmax=1, shading="nearest")
        if pivot.shape[0] > 1 and pivot.shape[1] > 1:
            ax.contour(xs, ys, pivot.to_numpy(), levels=[0.5], colors="white", linewidths=1.5)
        fig.colorbar(mesh, ax=ax, label=f"P(talks within {horizon} months)")
        ax.set_xlabel(axes[0])
        ax.set_ylabel(axes[1])
        if len(axes) > 2:
            ax.set_title(f"mean over {', '.join(axes[2:])}", fontsize=9)
    ax.grid(alpha=0.2)
    fig.savefig(path, dpi=110)


def plot_calibration(doc: dict[str, Any], path: Path) -> None:
    """Reliability diagram: each case's forecast against its outcome, and binned frequencies."""
    cases = doc["cases"]
    fig = new_figure(figsize=(6.5, 6), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls=":", label="perfect calibration")
    jitter = np.linspace(-0.03, 0.03, len(cases))
    ax.scatter(
        [c["p"] for c in cases],
        [c["outcome"] + j for c, j in zip(cases, jitter, strict=True)],
        s=25,
        alpha=0.7,
        label="cases (outcome 0 or 1)",
    )
    for c, j in zip(cases, jitter, strict=True):
        ax.annotate(c["id"], (c["p"], c["outcome"] + j), fontsize=6, xytext=(3, 2),
                    textcoords="offset points")  # fmt: skip
    bins = [r for r in doc["calibration"] if r["n"]]
    ax.plot(
        [r["mean_forecast"] for r in bins],
        [r["observed"] for r in bins],
        "o-",
        lw=2,
        label="binned: observed frequency (n cases beside each bin)",
    )
    for r in bins:
        ax.annotate(f"n={r['n']}", (r["mean_forecast"], r["observed"]), fontsize=8,
                    xytext=(5, -10), textcoords="offset points")  # fmt: skip
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlabel(f"model's probability of direct talks within {doc.get('horizon', 24)} months")
    ax.set_ylabel("observed")
    what = doc.get("title", "Case library")
    ax.set_title(f"{what}: Brier {doc['brier']:.3f} (base rate {doc['base_rate_brier']:.3f})",
                 fontsize=10)  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.savefig(path, dpi=110)


def plot_peeling(doc: dict[str, Any], path: Path | IO[bytes]) -> None:
    """The peeling trajectory: density against coverage of each step's box, coloured by how many
    inputs the box restricts; the chosen boxes marked."""
    steps = doc["trajectory"]
    fig = new_figure(figsize=(7, 5), layout="constrained")
    ax = fig.subplots()
    if steps:
        cov = [s["coverage"] for s in steps]
        dens = [s["density"] for s in steps]
        dims = [len(s["restricted"]) for s in steps]
        pts = ax.scatter(cov, dens, c=dims, cmap="viridis", s=18)
        fig.colorbar(pts, ax=ax, label="inputs restricted")
        for k, b in enumerate(doc["boxes"]):
            ax.scatter([b["coverage"]], [b["density"]], marker="*", s=180, c="#cf222e")
            ax.annotate(f"box {k + 1}", (b["coverage"], b["density"]), xytext=(6, 6),
                        textcoords="offset points")  # fmt: skip
    ax.set_xlabel("coverage (share of the draws with talks inside the box)")
    ax.set_ylabel("density (share of the box's draws with talks)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(
        f"{doc['scenario']}: P(talks within {doc['horizon']} months) >= {doc['threshold']:g}"
    )
    fig.savefig(path, dpi=110)
