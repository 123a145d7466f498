"""What drives a forecast: sensitivity (Sobol indices) and sweeps over a grid."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from detente.cli.common import (
    PNG,
    BackendChoice,
    BackendOpt,
    ForceOpt,
    HorizonOpt,
    JsonOpt,
    LensOpt,
    NoStoreOpt,
    Record,
    ScenarioArg,
    SchedulerOpt,
    SeedOpt,
    StoreOpt,
    check_output,
    err,
    fail,
    labelled_table,
    open_backend,
    out,
    print_json,
    progress,
    record,
    working,
)
from detente.defaults import DEFAULT_CHUNK_ROWS, DEFAULT_SEED


def sensitivity(
    scenario: ScenarioArg,
    samples: Annotated[
        int, typer.Option(min=8, max=1 << 20, help="SALib's N (a power of 2); rows = N (D + 2).")
    ] = 512,
    horizon: HorizonOpt = None,
    seed: SeedOpt = DEFAULT_SEED,
    lens: LensOpt = None,
    top: Annotated[int, typer.Option(min=1, help="Rows shown in the table and the chart.")] = 15,
    as_json: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option(help="Tornado chart to this PNG.")] = None,
    force: ForceOpt = False,
    backend_name: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
) -> None:
    """Which uncertain parameters carry the forecast: Sobol indices (S1, ST) of P(talks)."""
    from detente import api
    from detente.analysis.sensitivity import rows_needed

    check_output(plot, force, PNG, "--plot")
    if samples & (samples - 1):
        fail(f"--samples {samples}: use a power of 2 (e.g. 256, 512, 1024) for Sobol sequences")
    scn = api.load_scenario(scenario)
    lens_model = api.load_lens(lens)
    rows = rows_needed(scn, samples, lens_model)
    with working(
        "no indices (Sobol needs every sample)",
        backend_name,
        scheduler,
        "Sobol",
        -(-rows // DEFAULT_CHUNK_ROWS),
    ) as (
        runner,
        tick,
    ):
        res = api.sensitivity(
            scn,
            samples=samples,
            horizon=horizon,
            seed=seed,
            lens=lens_model,
            backend=runner,
            progress=tick,
        )
    doc = res.to_dict()
    if plot is not None:
        from detente.plots import plot_tornado

        plot_tornado(res, plot, top)
    if as_json:
        print_json(doc)
    else:
        table = labelled_table(
            f"Sobol indices of P(talks within {res.horizon} months), {res.rows:,} model runs",
            ("parameter", "ST", "+/-", "S1", "+/- "),
        )
        for i in res.indices[:top]:
            table.add_row(
                i.label, f"{i.ST:.3f}", f"{i.ST_conf:.3f}", f"{i.S1:.3f}", f"{i.S1_conf:.3f}"
            )
        out.print(table)
        if len(res.indices) > top:
            out.print(f"... {len(res.indices) - top} more in --json")
        if plot is not None:
            out.print(f"tornado chart drawn to {plot}")
    record(
        store,
        no_store,
        Record(
            "sensitivity",
            {"samples": samples, "seed": seed, "horizon": res.horizon, "lens": lens},
            {"top": [{"name": i.name, "ST": i.ST, "S1": i.S1} for i in res.indices[:5]]},
            doc,
            scenario,
            scn.id,
            seed,
        ),
    )


def sweep(
    scenario: ScenarioArg,
    grid: Annotated[
        list[str], typer.Option(help="PATH=a:b:n, n values from a to b (repeat for more axes).")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the table (.parquet or .csv).")
    ] = None,
    draws: Annotated[int, typer.Option(min=1, max=100_000, help="Draws per grid point.")] = 200,
    horizon: HorizonOpt = None,
    seed: SeedOpt = DEFAULT_SEED,
    lens: LensOpt = None,
    as_json: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option(help="Heat map (two axes) or curve (one).")] = None,
    force: ForceOpt = False,
    backend_name: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
) -> None:
    """P(talks within the horizon) over a grid of parameters, as a tidy table."""
    from detente import api
    from detente.analysis.sweep import Axis

    check_output(output, force, (".parquet", ".csv"), "-o")
    check_output(plot, force, PNG, "--plot")
    if output is not None and output.suffix.lower() == ".parquet":
        from detente.extras import require

        require("pyarrow", "viz")  # before the work, not after it
    scn = api.load_scenario(scenario)
    try:  # for the progress bar; the API checks the grid's paths and ranges before running
        points = math.prod(len(Axis.parse(g).values) for g in grid)
    except ValueError as exc:
        fail(str(exc))
    per_chunk = max(1, DEFAULT_CHUNK_ROWS // draws)
    with (
        open_backend(backend_name, scheduler) as runner,
        progress("sweep", -(-points // per_chunk)) as tick,
    ):
        res = api.sweep(
            scn, grid, draws=draws, seed=seed, horizon=horizon, lens=lens, backend=runner,
            progress=tick,
        )  # fmt: skip
    table = res.table
    if output is not None:
        if output.suffix.lower() == ".csv":
            table.to_csv(output, index=False)
        else:
            table.to_parquet(output, index=False)
    rec = Record(
        "sweep",
        {"grid": grid, "draws": draws, "seed": seed, "horizon": horizon, "lens": lens},
        {"points": len(table), "of": res.total_points, "complete": res.complete},
        {"rows": table.to_dict(orient="records")},
        scenario,
        scn.id,
        seed,
    )
    if not res.complete:
        record(store, no_store, rec)
        where = f"; written to {output}" if output is not None else ""
        err.print(
            escape(f"interrupted: {len(table)} of {res.total_points} grid points finished{where}"),
            highlight=False,
        )
        raise typer.Exit(130)
    if plot is not None:
        from detente.plots import plot_sweep

        plot_sweep(table, res.axes, plot)
    if as_json:
        print_json(res.to_dict())
    else:
        shown = Table(
            title=f"P(talks within {table['horizon'].iloc[0]} months)", title_justify="left"
        )
        for col in [*res.axes, "p", "lo", "hi"]:
            shown.add_column(col, justify="right")
        step = max(1, len(table) // 20)
        for _, row in table.iloc[::step].iterrows():
            cells = [f"{row[a]:.4g}" for a in res.axes] + [
                f"{row[c]:.3f}" for c in ("p", "lo", "hi")
            ]
            shown.add_row(*cells)
        out.print(shown)
        if step > 1:
            out.print(f"(every {step}th of {len(table)} points; all in -o or --json)")
        if output is not None:
            out.print(f"{len(table)} rows written to {output}")
        if plot is not None:
            out.print(f"chart drawn to {plot}")
    record(store, no_store, rec)


def register(app: typer.Typer) -> None:
    app.command()(sensitivity)
    app.command()(sweep)
