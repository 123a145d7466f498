"""Figures (matplotlib, drawn off-screen)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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
