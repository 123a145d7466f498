"""Forecasts of a coercion scenario: run, compare, tip, outside-view, report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from detente.cli.common import (
    PNG,
    AsOfOpt,
    BackendChoice,
    BackendOpt,
    CoefficientsOpt,
    DrawsOpt,
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
    TiesOpt,
    check_output,
    fail,
    interruptible,
    labelled_table,
    out,
    print_json,
    progress,
    record,
    working,
)
from detente.defaults import DEFAULT_CHUNK_ROWS, DEFAULT_DRAWS, DEFAULT_SEED, MAX_DRAWS
from detente.errors import InputError

if TYPE_CHECKING:
    from detente.forecast import Forecast
    from detente.results import OutsideView

#: Said under every table of probabilities: what the interval is, and what it is not.
INTERVAL_NOTE = (
    "The 90% interval is the spread over the parameter uncertainty (5th-95th percentile of the "
    "draws' probabilities), not a sampling error; +/- is the Monte Carlo standard error of p."
)


def run(
    scenario: ScenarioArg,
    draws: DrawsOpt = DEFAULT_DRAWS,
    seed: SeedOpt = DEFAULT_SEED,
    horizon: HorizonOpt = None,
    lens: LensOpt = None,
    as_json: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option(help="Draw the monthly paths to this PNG.")] = None,
    force: ForceOpt = False,
    backend_name: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    ties_file: TiesOpt = None,
    as_of: AsOfOpt = None,
    coefficients: CoefficientsOpt = None,
) -> None:
    """Forecast whether and when the target's leadership opens direct talks with the sender."""
    from detente import api

    check_output(plot, force, PNG, "--plot")
    scn = api.load_scenario(scenario)
    chunks = -(-draws // DEFAULT_CHUNK_ROWS)
    with working(
        "no forecast (a run is all draws or nothing)", backend_name, scheduler, "simulating", chunks
    ) as (
        runner,
        tick,
    ):
        forecast = api.run(
            scn,
            draws=draws,
            seed=seed,
            horizon=horizon,
            lens=lens,
            backend=runner,
            progress=tick,
            as_of=as_of,
            coefficients=coefficients,
        )
    view = api.outside_view(scn, ties=ties_file, as_of=as_of)
    doc = forecast.to_dict()
    doc["outside_view"] = view.to_dict()
    if plot is not None:
        from detente.plots import plot_forecast

        plot_forecast(forecast, plot)
    if as_json:
        print_json(doc)
    else:
        print_run(forecast)
        print_outside(view)
        if plot is not None:
            out.print(f"monthly paths drawn to {plot}")
    record(
        store,
        no_store,
        Record(
            "run",
            {
                "draws": draws,
                "seed": seed,
                "horizon": forecast.horizon,
                "lens": lens,
                "as_of": forecast.as_of,
                "coefficients": coefficients,
            },
            {"horizons": doc["horizons"], "even_odds_month": doc["even_odds_month"]},
            doc,
            scenario,
            scn.id,
            seed,
        ),
    )


def print_run(f: Forecast) -> None:
    s = f.scenario
    lens = f" - lens: {f.lens}" if f.lens else ""
    out.print(f"[bold]{escape(s.title)}[/]{escape(lens)}")
    out.print(f"{escape(s.question)}  ({f.draws:,} draws, seed {f.seed}, engine {s.engine})")
    out.print(
        f"As of the end of {f.as_of}: only events announced by then, given no talks by then;"
        " months count from it."
    )
    table = Table(title="Probability of direct talks", title_justify="left")
    for col in ("within", "p", "+/-", "90% interval", "public", "secret", "mediated first"):
        table.add_column(col, justify="right")
    for h, v in f.by_horizon().items():
        ch = v["by_channel"]
        table.add_row(
            f"{h} months",
            f"{v['p']:.2f}",
            f"{v['mc_se']:.3f}",
            f"{v['lo']:.2f} - {v['hi']:.2f}",
            f"{ch['public']:.2f}",
            f"{ch['secret']:.2f}",
            f"{ch['mediated']:.2f}",
        )
    out.print(table)
    out.print(INTERVAL_NOTE)
    even = f.month_of_even_odds()
    out.print(f"Even odds of talks reached by {even}." if even else "Talks never reach even odds.")
    paths = f.mean_series()
    cols = {
        "pressure": "press.",
        "pain": "pain",
        "evasion": "evas.",
        "discontent": "disc.",
        "instability": "instab.",
        "rally": "rally",
        "trust": "trust",
        "stance": "stance",
        "hazard": "hazard",
        "p_talks": "P(talks)",
    }
    traj = Table(
        title="Monthly paths (mean over draws, every 3 months)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    traj.add_column("month")
    for head in cols.values():
        traj.add_column(head, justify="right")
    for t in range(0, len(f.months), 3):
        cells = [f"{paths[c][t]:.0f}" if c == "stance" else f"{paths[c][t]:.2f}" for c in cols]
        traj.add_row(f.months[t], *cells)
    out.print(traj)
    fac = labelled_table(
        "Factions: position on talks (0 refuse - 100 talks now)",
        ("faction", "start", "end", "salience end"),
    )
    for k, (name, d) in enumerate(f.faction_paths().items()):
        leader = " (leader)" if name == s.leader.faction else ""
        start = f"{f.initial_position[k]:.0f}"
        fac.add_row(name + leader, start, f"{d['position'][-1]:.0f}", f"{d['salience'][-1]:.0f}")
    out.print(fac)


def print_outside(view: OutsideView) -> None:
    if view.missing is not None:
        out.print(f"Outside view: {escape(view.missing)}.")
        return
    v = view.doc
    share = f"{v['share']:.2f}, 90% interval {v['lo']:.2f}-{v['hi']:.2f}"
    out.print(
        f"Outside view (TIES): of the {v['n']} most similar coded episodes, "
        f"{v['successes']} ({share}) ended in target acquiescence or a negotiated settlement; "
        f"a logistic model on TIES ({v['n_train']} episodes) gives {v['model_p']:.2f} "
        f"(base rate {v['base_rate']:.2f}); episodes on record by {v['as_of']}."
    )


def parse_sets(items: list[str]) -> dict[str, float]:
    """``--set PATH=NUMBER`` options as a mapping."""
    values: dict[str, float] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        try:
            if not sep or not path.strip():
                raise ValueError
            values[path.strip()] = float(raw)
        except ValueError:
            fail(f"--set {item!r}: expected PATH=NUMBER, e.g. leader.legacy_weight=0.2")
    return values


def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="One or two scenarios (.yaml).")],
    lens: Annotated[
        list[str] | None,
        typer.Option(help="A lens (repeat for two: one scenario under both lenses)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="PATH=VALUE: compare the scenario as stated with this change (repeatable).",
        ),
    ] = None,
    draws: DrawsOpt = DEFAULT_DRAWS,
    seed: SeedOpt = DEFAULT_SEED,
    horizon: HorizonOpt = None,
    as_json: JsonOpt = False,
    backend_name: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    as_of: AsOfOpt = None,
    coefficients: CoefficientsOpt = None,
) -> None:
    """Two forecasts side by side: two scenarios, one scenario under two lenses, or one scenario
    as stated and with --set changes (a counterfactual)."""
    from detente import api

    changes = parse_sets(set_ or [])
    if len(scenarios) > 2:
        fail(
            "compare takes two scenarios, or one scenario and two --lens, "
            "or one scenario and --set PATH=VALUE changes"
        )
    second = scenarios[1] if len(scenarios) == 2 else None
    with working("no comparison", backend_name, scheduler, "simulating", 2) as (
        runner,
        tick,
    ):
        res = api.compare(
            scenarios[0],
            second,
            lenses=lens or [],
            fixed=changes,
            draws=draws,
            seed=seed,
            horizon=horizon,
            as_of=as_of,
            backend=runner,
            coefficients=coefficients,
            progress=tick,
        )
    if as_json:
        print_json(res.to_dict())
        return
    a, b = (r.by_horizon() for r in res.runs)
    table = Table(title="Probability of direct talks, side by side", title_justify="left")
    table.add_column("within", justify="right")
    for label in res.labels:
        table.add_column(label, justify="right")
    table.add_column("difference", justify="right")
    for h, d in res.difference.items():
        cells = [f"{x[h]['p']:.2f} [{x[h]['lo']:.2f}-{x[h]['hi']:.2f}]" for x in (a, b)]
        table.add_row(f"{h} months", *cells, f"{d:+.2f}")
    out.print(table)
    out.print(INTERVAL_NOTE.split(";")[0] + ".")
    for label, r in zip(res.labels, res.runs, strict=True):
        even = r.month_of_even_odds()
        out.print(f"{label}: even odds {'by ' + even if even else 'never reached'}")


def tip(
    scenario: ScenarioArg,
    param: Annotated[str, typer.Option(help="The parameter's path, e.g. leader.legacy_weight.")],
    target: Annotated[float, typer.Option(min=0.0, max=1.0, help="Probability to cross.")] = 0.5,
    horizon: HorizonOpt = None,
    low: Annotated[
        float | None, typer.Option(help="Search from (default: allowed minimum).")
    ] = None,
    high: Annotated[
        float | None, typer.Option(help="Search to (default: allowed maximum).")
    ] = None,
    draws: Annotated[int, typer.Option(min=1, max=MAX_DRAWS, help="Draws per evaluation.")] = 1000,
    seed: SeedOpt = DEFAULT_SEED,
    lens: LensOpt = None,
    as_json: JsonOpt = False,
    backend_name: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    coefficients: CoefficientsOpt = None,
) -> None:
    """The value of one parameter at which the probability of talks crosses the target.

    Bisection over the parameter, the others drawn as the scenario says (the same draws for every
    value). The probability is that of talks within the horizon (default: the scenario's).
    """
    from detente import api

    with working("no tipping point", backend_name, scheduler, "bisecting", 20) as (
        runner,
        tick,
    ):
        res = api.tipping_point(
            scenario,
            param,
            target=target,
            horizon=horizon,
            low=low,
            high=high,
            draws=draws,
            seed=seed,
            lens=lens,
            backend=runner,
            coefficients=coefficients,
            progress=tick,
        )
    if as_json:
        print_json(res.to_dict())
        return
    r, months = res.result, res.horizon
    if r.found:
        assert r.value is not None and r.p_at_value is not None
        out.print(
            f"{param} = {r.value:.4g} gives P(talks within {months} months) = "
            f"{r.p_at_value:.3f} (target {target}); "
            f"at {r.low:g}: {r.p_at_low:.3f}, at {r.high:g}: {r.p_at_high:.3f}"
        )
    else:
        out.print(
            f"No value of {param} in [{r.low:g}, {r.high:g}] brings P(talks within {months} "
            f"months) to {target}: it goes from {r.p_at_low:.3f} to {r.p_at_high:.3f}."
        )


def outside_view(
    scenario: Annotated[
        Path, typer.Argument(help="A coercion scenario with an outside_view block.")
    ],
    ties_file: TiesOpt = None,
    k: Annotated[int, typer.Option(min=5, max=500, help="Size of the reference class.")] = 30,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Base rates: how the TIES episodes most like this one ended, and a model fitted on TIES.

    Only the episodes whose outcome was on record by the as-of month (default: the start)."""
    from detente import api

    view = api.outside_view(scenario, ties=ties_file, k=k, as_of=as_of)
    if view.missing is not None:
        fail(view.missing)
    if as_json:
        print_json(view.to_dict())
        return
    print_outside(view)
    ids: list[str] = view.doc["caseids"]
    out.print(
        f"Reference class: TIES caseid {', '.join(ids[:12])}" + (" ..." if len(ids) > 12 else "")
    )


def report(
    scenario: ScenarioArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="The report (.html).")],
    draws: DrawsOpt = DEFAULT_DRAWS,
    seed: SeedOpt = DEFAULT_SEED,
    horizon: HorizonOpt = None,
    lens: LensOpt = None,
    samples: Annotated[
        int, typer.Option(min=0, help="Sobol N for the drivers section (power of 2; 0 = skip).")
    ] = 128,
    force: ForceOpt = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    ties_file: TiesOpt = None,
    as_of: AsOfOpt = None,
    coefficients: CoefficientsOpt = None,
    discover: Annotated[
        bool,
        typer.Option(
            "--discover",
            help="Add 'What would have to be true': PRIM boxes at 24 months (detente discover).",
        ),
    ] = False,
) -> None:
    """One self-contained HTML report: forecast, trajectories, factions, drivers, assumptions."""
    from detente import api
    from detente.report import build_report

    check_output(output, force, (".html", ".htm"), "-o")
    if samples and samples & (samples - 1):
        fail(f"--samples {samples}: use a power of 2, or 0 to skip the drivers section")
    scn = api.load_scenario(scenario)
    lens_model = api.load_lens(lens)
    with interruptible("no report written"), progress("report", 3 if discover else 2) as tick:
        forecast = api.run(
            scn,
            draws=draws,
            seed=seed,
            horizon=horizon,
            lens=lens_model,
            as_of=as_of,
            coefficients=coefficients,
        )
        tick(1)
        sens = None
        if samples:
            try:
                sens = api.sensitivity(scn, samples=samples, horizon=horizon, seed=seed, lens=lens)
            except InputError:
                sens = None  # a scenario with no uncertain parameter has no drivers
        tick(1)
        discovery = None
        if discover:
            months = min(24, forecast.horizon)
            discovery = api.discover(
                scn, horizon=months, seed=seed, lens=lens_model, coefficients=coefficients
            )
            tick(1)
    view = api.outside_view(scn, ties=ties_file, as_of=as_of)
    page = build_report(
        forecast,
        sens,
        dict(lens_model.coefficients) if lens_model else None,
        view.to_dict(),
        discovery,
    )
    output.write_text(page, encoding="utf-8")
    out.print(f"report written to {escape(str(output))} ({len(page) // 1024} KiB, self-contained)")
    doc = forecast.to_dict()
    record(
        store,
        no_store,
        Record(
            "report",
            {"draws": draws, "seed": seed, "horizon": forecast.horizon, "lens": lens,
             "output": str(output)},
            {"horizons": doc["horizons"], "even_odds_month": doc["even_odds_month"]},
            doc,
            scenario,
            scn.id,
            seed,
        ),
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(compare)
    app.command()(tip)
    app.command("outside-view")(outside_view)
    app.command()(report)
