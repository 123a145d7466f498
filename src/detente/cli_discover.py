"""``detente discover``: scenario discovery (PRIM) over the draws of every uncertain input."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from detente.analysis.discover import discover_scenario
from detente.errors import InputError
from detente.forecast import DEFAULT_SEED
from detente.scenario.coercion import load_scenario
from detente.scenario.sample import load_lens

out = Console(highlight=False)


def plot_peeling(doc: dict[str, Any], path: Path | IO[bytes]) -> None:
    """The peeling trajectory: density against coverage of each step's box, coloured by how many
    inputs the box restricts; the chosen boxes marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = doc["trajectory"]
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
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
    plt.close(fig)


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


def register(app: typer.Typer) -> None:
    """Add ``discover`` to the ``detente`` command line."""

    @app.command()
    def discover(
        scenario: Annotated[Path, typer.Argument(help="A coercion scenario (.yaml).")],
        horizon: Annotated[int, typer.Option(min=1, max=240, help="Months ahead.")] = 24,
        threshold: Annotated[
            float, typer.Option(min=0.0, max=1.0, help="P(talks) a draw must reach.")
        ] = 0.5,
        draws: Annotated[int, typer.Option(min=50, max=100_000, help="Monte Carlo draws.")] = 2000,
        seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = DEFAULT_SEED,
        lens: Annotated[str | None, typer.Option(help="author, proponent or a lens file.")] = None,
        alpha: Annotated[
            float, typer.Option(min=0.01, max=0.3, help="Share peeled at each step.")
        ] = 0.05,
        min_support: Annotated[
            float, typer.Option(min=0.01, max=0.5, help="Smallest box, as a share of draws.")
        ] = 0.05,
        paste: Annotated[bool, typer.Option(help="Paste the boxes after peeling.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        plot: Annotated[Path | None, typer.Option(help="Peeling trajectory to this PNG.")] = None,
        force: Annotated[bool, typer.Option(help="Allow --plot to overwrite a file.")] = False,
    ) -> None:
        """Scenario discovery: under which combinations of the uncertain inputs talks pass the
        threshold (PRIM boxes: coverage, density, the limits per input)."""
        if plot is not None:
            if plot.exists() and not force:
                raise InputError(str(plot), None, "already exists; pass --force to overwrite it")
            if not plot.parent.exists():
                raise InputError(str(plot), None, f"folder {plot.parent} does not exist")
        scn = load_scenario(scenario)
        lens_model = load_lens(lens) if lens else None
        doc = discover_scenario(
            scn, draws, seed, horizon, threshold, lens_model, alpha, min_support, paste
        )
        if plot is not None:
            plot_peeling(doc, plot)
        if as_json:
            sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False) + "\n")
            return
        print_discovery(doc)
        if plot is not None:
            out.print(escape(f"peeling trajectory drawn to {plot}"))
