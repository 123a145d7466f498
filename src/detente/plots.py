"""Figures (matplotlib, drawn off-screen)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from detente.forecast import Forecast  # noqa: E402
from detente.solve import IssueForecast  # noqa: E402


def plot_rounds(forecasts: Sequence[IssueForecast], path: Path) -> None:
    """Each actor's EUM position by round, with the weighted mean, one panel per issue."""
    fig, axes = plt.subplots(
        len(forecasts), 1, figsize=(9, 3.6 * len(forecasts)), squeeze=False, layout="constrained"
    )
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
    plt.close(fig)


def plot_forecast(forecast: Forecast, path: Path) -> None:
    """Four panels: probability of talks with its 90% band; economy; society and trust; factions."""
    months = forecast.months
    x = range(len(months))
    paths = forecast.mean_paths()
    p = forecast.paths.p_talks
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), layout="constrained")
    ax = axes[0, 0]
    ax.fill_between(x, np.percentile(p, 5, axis=0), np.percentile(p, 95, axis=0), alpha=0.25)
    ax.plot(x, p.mean(axis=0), lw=2, label="P(talks by month)")
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
    pos = forecast.paths.position.mean(axis=0)
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
    plt.close(fig)
