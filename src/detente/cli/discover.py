"""``detente discover``: scenario discovery (PRIM) over the draws of every uncertain input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from detente.cli.common import (
    PNG,
    CoefficientsOpt,
    ForceOpt,
    JsonOpt,
    LensOpt,
    ScenarioArg,
    SeedOpt,
    check_output,
    interruptible,
    out,
    print_json,
)
from detente.defaults import DEFAULT_SEED


def _limits_text(lim: dict[str, float | None]) -> str:
    lo, hi = lim["low"], lim["high"]
    if lo is not None and hi is not None:
        return f"{lo:.4g} to {hi:.4g}"
    return f">= {lo:.4g}" if lo is not None else f"<= {hi:.4g}"


def print_discovery(doc: dict[str, Any]) -> None:
    """What would have to be true, box by box."""
    out.print(
        escape(
            f"{doc['question']}\nP(talks within {doc['horizon']} months) >= {doc['threshold']:g} "
            f"in {doc['share']:.1%} of {doc['draws']:,} draws ({len(doc['inputs'])} uncertain "
            "inputs)"
        )
    )
    if not doc["boxes"]:
        out.print("No box: too few or too many draws pass the threshold to tell them apart.")
        return
    for k, box in enumerate(doc["boxes"], 1):
        table = Table(
            title=f"What would have to be true, box {k}: coverage {box['coverage']:.2f}, "
            f"density {box['density']:.2f}, support {box['support']:.2f}",
            title_justify="left",
        )
        table.add_column("input")
        table.add_column("limits", justify="right")
        for name, lim in box["limits"].items():
            table.add_row(escape(name), _limits_text(lim))
        out.print(table)


def discover(
    scenario: ScenarioArg,
    horizon: Annotated[int, typer.Option(min=1, max=240, help="Months ahead.")] = 24,
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="P(talks) a draw must reach.")
    ] = 0.5,
    draws: Annotated[int, typer.Option(min=50, max=100_000, help="Monte Carlo draws.")] = 2000,
    seed: SeedOpt = DEFAULT_SEED,
    lens: LensOpt = None,
    coefficients: CoefficientsOpt = None,
    alpha: Annotated[
        float, typer.Option(min=0.01, max=0.3, help="Share peeled at each step.")
    ] = 0.05,
    min_support: Annotated[
        float, typer.Option(min=0.01, max=0.5, help="Smallest box, as a share of draws.")
    ] = 0.05,
    paste: Annotated[bool, typer.Option(help="Paste the boxes after peeling.")] = False,
    as_json: JsonOpt = False,
    plot: Annotated[
        Path | None, typer.Option(help="Draw the peeling trajectory to this file (.png).")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Scenario discovery: under which combinations of the uncertain inputs talks pass the
    threshold (PRIM boxes: coverage, density, the limits per input)."""
    from detente import api

    check_output(plot, force, PNG, "--plot")
    with interruptible("no discovery"):
        doc = api.discover(
            scenario,
            horizon=horizon,
            threshold=threshold,
            draws=draws,
            seed=seed,
            lens=lens,
            coefficients=coefficients,
            alpha=alpha,
            min_support=min_support,
            paste=paste,
        )
    if plot is not None:
        from detente.plots import plot_peeling

        plot_peeling(doc, plot)
    if as_json:
        print_json(doc)
        return
    print_discovery(doc)
    if plot is not None:
        out.print(escape(f"peeling trajectory drawn to {plot}"))


def register(app: typer.Typer) -> None:
    app.command()(discover)
