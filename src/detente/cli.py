"""The ``detente`` command line: parses, calls the library, prints. No model logic here."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from detente import __version__
from detente.analysis.sensitivity import rows_needed, scenario_sensitivity
from detente.analysis.sweep import Axis, run_sweep
from detente.analysis.tipping import find_tipping_point
from detente.backends import Backend, make_backend
from detente.engines import ENGINE_NAMES
from detente.engines.eum import ExpectedUtility
from detente.engines.exchange import DEFAULT_ROUNDS as DEFAULT_EXCHANGE_ROUNDS
from detente.errors import InputError
from detente.forecast import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    Forecast,
    run_scenario,
)
from detente.history.deu import DeuData, backtest_deu, read_deu
from detente.history.ensemble import backtest_ensemble, cross_validate, load_weights
from detente.scenario.actors import ActorFile, Issue, load_actor_file
from detente.scenario.coercion import Scenario, load_scenario
from detente.scenario.ktab import spatial_table
from detente.scenario.params import Param
from detente.scenario.sample import (
    Lens,
    check_fixed,
    load_coefficients,
    load_lens,
    parameter_ranges,
)
from detente.solve import (
    ISSUE_MODELS,
    ExchangeForecast,
    IssueForecast,
    SpatialForecast,
    solve_issues,
    solve_spatial,
)
from detente.store import RunStore
from detente.store import diff as store_diff

app = typer.Typer(
    name="detente",
    help="Will pressure bring a government to the table? Forecasts from actor tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
backtest_app = typer.Typer(help="Score the engines against real outcomes.", no_args_is_help=True)
app.add_typer(backtest_app, name="backtest")

# In a pipe or file rich would assume 80 columns; tables read better at 120.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)


class Model(StrEnum):
    compromise = "compromise"
    median = "median"
    eum = "eum"
    exchange = "exchange"
    smp = "smp"


class Variant(StrEnum):
    published = "published"
    scholz_code = "scholz-code"


class CapabilityChoice(StrEnum):
    gdp = "gdp"
    equal = "equal"


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, emoji=False)
    raise typer.Exit(2)


def _check_new_file(path: Path, force: bool) -> None:
    """Never overwrite a user's file silently."""
    if path.exists() and not force:
        _fail(f"{path}: already exists; choose another name or pass --force to overwrite it")
    if not path.parent.exists():
        _fail(f"{path}: folder {path.parent} does not exist")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


def _version(value: bool) -> None:
    if value:
        out.print(f"detente {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """detente: forecasts of collective decisions and of coercion."""


@app.command()
def solve(
    actors: Annotated[
        Path,
        typer.Argument(
            help="Actor table: .csv (one issue, or KTAB's format) or .yaml, "
            "or a DECIDE #A/#P/#M/#D file."
        ),
    ],
    model: Annotated[
        Model | None, typer.Option("--model", "-m", help="Run only this engine.")
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option(
            min=0, max=10_000, help="Fix the number of rounds (EUM; exchange model, default 10)."
        ),
    ] = None,
    variant: Annotated[Variant, typer.Option(help="EUM variant.")] = Variant.published,
    q: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="EUM: probability the challenged does not resist."),
    ] = 1.0,
    t: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="EUM: probability the status quo improves.")
    ] = 1.0,
    issue: Annotated[str | None, typer.Option(help="Only this issue (YAML files).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Draw EUM positions by round to this PNG.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Allow --plot to overwrite a file.")] = False,
) -> None:
    """Forecast the outcome of each issue of an actor table with every engine."""
    try:
        data = load_actor_file(actors)
    except InputError as exc:
        _fail(str(exc))
    issues = data.issues
    if issue is not None:
        issues = [i for i in issues if i.id == issue]
        if not issues:
            _fail(
                f"{actors}: no issue {issue!r}; the file has {', '.join(i.id for i in data.issues)}"
            )
    if variant is Variant.scholz_code and q != 1.0:
        _fail("--q applies to the published variant only (Scholz's program uses Q = 1)")
    if model is Model.smp:
        _solve_smp(data.path, data, issues, as_json, plot)
        return
    models = (model.value,) if model else ISSUE_MODELS
    if plot is not None:
        _check_new_file(plot, force)
        if "eum" not in models:
            _fail("--plot draws the EUM's rounds; it needs the eum model")
    eum = ExpectedUtility(variant=variant.value, rounds=rounds, q=q, t=t)
    forecasts, joint = solve_issues(
        issues,
        models,
        eum,
        actor_order=data.actor_order,
        exchange_rounds=DEFAULT_EXCHANGE_ROUNDS if rounds is None else rounds,
    )
    if plot is not None:
        from detente.plots import plot_rounds

        plot_rounds(forecasts, plot)
    if as_json:
        if models == ("exchange",) and joint is not None:
            _print_json(_exchange_doc(joint, data.path))
            return
        docs = [_with_meta(f, data.path, eum) for f in forecasts]
        doc: dict[str, Any] = docs[0] if len(docs) == 1 else {"file": data.path, "issues": docs}
        if joint is not None and len(docs) > 1:
            doc["exchange"] = joint.to_dict()
        _print_json(doc)
        return
    if models == ("exchange",) and joint is not None:
        _print_exchange(joint)
        return
    for f in forecasts:
        _print_forecast(f, eum)
    if joint is not None and len(forecasts) > 1:
        _print_exchange(joint)
    if plot is not None:
        out.print(f"positions by round drawn to {plot}")


def _exchange_doc(joint: ExchangeForecast, path: str) -> dict[str, Any]:
    """``solve --model exchange --json``: the model runs on all the issues together."""
    return {
        "file": path,
        "issues": [i.id for i in joint.issues],
        "actors": joint.actors,
        "models": {"exchange": joint.to_dict()},
    }


def _print_exchange(joint: ExchangeForecast) -> None:
    doc = joint.to_dict()
    table = Table(
        title=f"Exchange model (equal gain), {doc['rounds']} rounds, "
        f"{len(doc['exchanges'])} exchanges",
        title_justify="left",
    )
    for col in ("issue", "MDS before", "after round 1", "forecast"):
        table.add_column(col, justify="left" if col == "issue" else "right")
    first = doc["history"][0]["mds"] if doc["history"] else doc["forecast"]
    for k, v in doc["forecast"].items():
        table.add_row(escape(k), f"{doc['mds_before'][k]:.2f}", f"{first[k]:.2f}", f"{v:.2f}")
    out.print(table)
    per_round = Table(title="Exchanges by round", title_justify="left")
    per_round.add_column("round", justify="right")
    per_round.add_column("exchanges", justify="right")
    counts: dict[int, int] = {}
    for e in doc["exchanges"]:
        counts[e["round"]] = counts.get(e["round"], 0) + 1
    for r in range(1, doc["rounds"] + 1):
        per_round.add_row(str(r), str(counts.get(r, 0)))
    out.print(per_round)


def _solve_smp(
    path: str, data: ActorFile, issues: list[Issue], as_json: bool, plot: Path | None
) -> None:
    """The SMP takes the selected issues together, as the dimensions of one decision."""
    if plot is not None:
        _fail("--plot draws the EUM's rounds; it needs the eum model")
    try:
        table = spatial_table(data, issues)
    except InputError as exc:
        _fail(str(exc))
    fc = solve_spatial(table)
    if as_json:
        _print_json({"file": path, **fc.to_dict()})
        return
    _print_spatial(fc)


def _print_spatial(fc: SpatialForecast) -> None:
    doc = fc.to_dict()
    smp = doc["models"]["smp"]
    if doc["title"]:
        out.print(f"[bold]{escape(doc['title'])}[/]")
    table = Table(
        title=f"SMP (KTAB's Spatial Model of Politics), {smp['turns']} turns",
        title_justify="left",
    )
    for col in ("dimension", "expected", "most probable"):
        table.add_column(col, justify="left" if col == "dimension" else "right")
    for k, dim in enumerate(doc["dimensions"]):
        table.add_row(escape(dim), f"{smp['forecast'][k]:.2f}", f"{smp['most_probable'][k]:.2f}")
    out.print(table)
    actors = Table(title="Actors (positions by dimension)", title_justify="left")
    for col in ("actor", "capability", "start", "final", "P(final)"):
        actors.add_column(col, justify="left" if col == "actor" else "right")
    for a in doc["actors"]:
        final = smp["final_positions"][a["name"]]
        actors.add_row(
            escape(a["name"]),
            f"{a['capability']:g}",
            " ".join(f"{x:.1f}" for x in a["position"]),
            " ".join(f"{x:.1f}" for x in final),
            f"{smp['final_probabilities'][a['name']]:.3f}",
        )
    out.print(actors)


def _with_meta(f: IssueForecast, path: str, eum: ExpectedUtility) -> dict[str, Any]:
    doc = {"file": path, **f.to_dict()}
    if "eum" in doc["models"]:
        doc["models"]["eum"]["variant"] = eum.variant
    return doc


def _print_forecast(f: IssueForecast, eum: ExpectedUtility) -> None:
    doc = f.to_dict()
    title = f"[bold]{escape(f.issue.id)}[/]" + (
        f": {escape(f.issue.question)}" if f.issue.question else ""
    )
    out.print(title)
    table = Table(title="Forecast by engine", title_justify="left")
    table.add_column("model")
    table.add_column("forecast", justify="right")
    for name, entry in doc["models"].items():
        label = f"{name} ({eum.variant}, {entry['rounds']} rounds)" if name == "eum" else name
        table.add_row(label, f"{entry['forecast']:.2f}")
    out.print(table)
    if "eum" not in doc["models"]:
        return
    hist = doc["models"]["eum"]["history"]
    rounds = Table(title="EUM round by round", title_justify="left")
    rounds.add_column("round", justify="right")
    rounds.add_column("weighted mean", justify="right")
    rounds.add_column("median", justify="right")
    n = len(hist["mean"])
    shown = list(range(n)) if n <= 20 else [*range(11), -1, *range(n - 5, n)]
    for k in shown:
        if k < 0:
            rounds.add_row("...", f"({n - 16} rounds; all in --json)", "")
            continue
        rounds.add_row(str(k), f"{hist['mean'][k]:.3f}", f"{hist['median'][k]:.3f}")
    out.print(rounds)
    actors = Table(title="Actors", title_justify="left")
    for col in ("actor", "capability", "salience", "start", "EUM final"):
        actors.add_column(col, justify="left" if col == "actor" else "right")
    final = doc["models"]["eum"]["final_positions"]
    for a in f.issue.actors:
        name = a.name + (" (veto)" if a.veto else "")
        actors.add_row(
            name, f"{a.capability:g}", f"{a.salience:g}", f"{a.position:g}", f"{final[a.name]:.2f}"
        )
    out.print(actors)


@backtest_app.command("deu")
def backtest_deu_cmd(
    file: Annotated[Path, typer.Argument(help="A file in the DEU layout (tab-separated).")],
    capability: Annotated[
        CapabilityChoice, typer.Option(help="Capability: the file's row (gdp) or 1 for all.")
    ] = CapabilityChoice.gdp,
    variant: Annotated[Variant, typer.Option(help="EUM variant.")] = Variant.published,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Only this forecaster: an engine, or 'ensemble' (the shipped weights, fitted on "
            "the development split; its members use their default settings).",
        ),
    ] = None,
    cv: Annotated[
        int | None,
        typer.Option(
            "--cv",
            min=2,
            help="With --model ensemble: K-fold cross-validation on FILE, folds grouped by "
            "proposal, weights refitted inside each fold; compared with the compromise model.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the CV folds and bootstrap.")] = 0,
) -> None:
    """Run every engine on every DEU issue with an outcome; mean and median absolute error."""
    try:
        data = read_deu(file, capability=capability.value)
    except InputError as exc:
        _fail(str(exc))
    if cv is not None and model != "ensemble":
        _fail("--cv goes with --model ensemble")
    if model == "ensemble":
        _backtest_ensemble(file, data, capability.value, cv, seed, as_json, store, no_store)
        return
    if model is not None and model not in ENGINE_NAMES:
        _fail(f"unknown model {model!r}; expected one of {', '.join(ENGINE_NAMES)}, ensemble")
    chosen = ENGINE_NAMES if model is None else (model,)
    with _progress("engines", len(chosen)) as tick:
        result = backtest_deu(data, models=chosen, progress=tick, variant=variant.value)
    result["capability"] = capability.value
    result["eum_variant"] = variant.value
    models: dict[str, Any] = result["models"]  # type: ignore[assignment]
    _record(
        store,
        no_store,
        "backtest deu",
        {"file": str(file), "capability": capability.value, "variant": variant.value},
        {"n_issues": result["n_issues"], "mae": {k: v["mae"] for k, v in models.items()}},
        result,
    )
    if as_json:
        _print_json(result)
        return
    table = Table(
        title=f"DEU backtest: {result['n_issues']} issues, capability = {capability.value}",
        title_justify="left",
    )
    for col in ("forecast", "n", "mean abs. error", "median abs. error"):
        table.add_column(col, justify="left" if col == "forecast" else "right")
    rows: list[tuple[str, dict[str, Any]]] = [
        *((k, v) for k, v in result["models"].items()),  # type: ignore[attr-defined]
        *((f"naive: {k.replace('_', ' ')}", v) for k, v in result["baselines"].items()),  # type: ignore[attr-defined]
    ]
    for name, s in rows:
        table.add_row(name, str(s["n"]), f"{s['mae']:.2f}", f"{s['median_ae']:.2f}")
    out.print(table)


def _backtest_ensemble(
    file: Path,
    data: DeuData,
    capability: str,
    cv: int | None,
    seed: int,
    as_json: bool,
    store: Path | None,
    no_store: bool,
) -> None:
    """``backtest deu --model ensemble [--cv K]``: the shipped weights, or their CV on FILE."""
    shipped = load_weights()
    with _progress("members", len(shipped.members)) as tick:
        if cv is None:
            result = backtest_ensemble(data, shipped, progress=tick)
        else:
            try:
                result = cross_validate(data, cv, shipped.members, seed=seed, progress=tick)
            except ValueError as exc:
                _fail(str(exc))
    result["capability"] = capability
    args = {
        "file": str(file),
        "capability": capability,
        "model": "ensemble",
        "cv": cv,
        "seed": seed,
    }
    if cv is None:
        summary = {"n_issues": result["n_issues"], "mae": result["models"]["ensemble"]["mae"]}
    else:
        summary = {"n_issues": result["n_issues"], "cv_mae": result["cv_mae"]}
    _record(store, no_store, "backtest deu", args, summary, result)
    if as_json:
        _print_json(result)
        return
    if cv is None:
        w = ", ".join(f"{k} {v:.4f}" for k, v in result["ensemble"]["weights"].items())
        table = Table(
            title=f"DEU backtest, ensemble ({w}): {result['n_issues']} issues",
            title_justify="left",
        )
        for col in ("forecast", "n", "mean abs. error", "median abs. error"):
            table.add_column(col, justify="left" if col == "forecast" else "right")
        for name, sc in result["models"].items():
            table.add_row(name, str(sc["n"]), f"{sc['mae']:.2f}", f"{sc['median_ae']:.2f}")
        out.print(table)
        return
    table = Table(
        title=f"DEU ensemble, {cv}-fold CV by proposal: {result['n_issues']} issues, "
        f"{result['n_proposals']} proposals (95% bootstrap over proposals)",
        title_justify="left",
    )
    for col in ("forecast", "CV MAE", "95% interval", "median abs. error"):
        table.add_column(col, justify="left" if col == "forecast" else "right")
    for name, iv in result["cv_mae"].items():
        table.add_row(
            name,
            f"{iv['estimate']:.2f}",
            f"{iv['low']:.2f} - {iv['high']:.2f}",
            f"{result['cv_median_ae'][name]:.2f}",
        )
    d = result["difference_ensemble_minus_compromise"]
    table.add_row(
        "ensemble - compromise", f"{d['estimate']:+.2f}", f"{d['low']:+.2f} - {d['high']:+.2f}", ""
    )
    out.print(table)
    if d["high"] < 0:
        verdict = "beats the compromise model: the interval of the difference is below 0"
    elif d["low"] > 0:
        verdict = "does worse than the compromise model: the interval of the difference is above 0"
    else:
        verdict = "does not beat the compromise model: the interval of the difference includes 0"
    out.print(f"Out of sample the ensemble {verdict}.")


DrawsOpt = Annotated[
    int, typer.Option(min=1, max=1_000_000, help="Monte Carlo draws of the uncertain parameters.")
]
SeedOpt = Annotated[int, typer.Option(min=0, help="Random seed (same seed, same numbers).")]
CoefficientsOpt = Annotated[
    str | None,
    typer.Option(
        "--coefficients",
        help="Global coefficients: fitted (the default where shipped), apriori, or a file.",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="YYYY-MM: forecast from the end of this month with only what was announced by "
        "then, given no talks by then (default: the scenario's start).",
    ),
]
HorizonOpt = Annotated[
    int | None, typer.Option(min=1, max=240, help="Months to simulate (default: the file's).")
]
LensOpt = Annotated[
    str | None,
    typer.Option(help="A thesis over the coefficients: author, proponent, or a lens .yaml file."),
]


class BackendChoice(StrEnum):
    local = "local"
    dask = "dask"


BackendOpt = Annotated[
    BackendChoice,
    typer.Option(help="local: this machine's cores; dask: a Dask distributed cluster."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (host:port); without it, a LocalCluster here."),
]


@contextmanager
def _backend(choice: BackendChoice, scheduler: str | None) -> Iterator[Backend]:
    if scheduler and choice is BackendChoice.local:
        _fail("--scheduler goes with --backend dask")
    try:
        backend = make_backend(choice.value, scheduler)
    except OSError as exc:
        _fail(f"cannot reach the Dask scheduler {scheduler}: {exc}")
        raise
    try:
        yield backend
    finally:
        backend.close()


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on the terminal (stderr); silent when not a terminal."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _interrupted(what: str) -> None:
    err.print(f"interrupted: {escape(what)}", highlight=False, emoji=False)
    raise typer.Exit(130)


StoreOpt = Annotated[
    Path | None,
    typer.Option(
        help="Run store (SQLite) to record in; default: $DETENTE_STORE or the user data dir."
    ),
]
NoStoreOpt = Annotated[bool, typer.Option("--no-store", help="Do not record this run.")]


def _record(
    store: Path | None,
    no_store: bool,
    command: str,
    args: dict[str, Any],
    summary: dict[str, Any],
    result: dict[str, Any],
    scenario: Path | None = None,
    scenario_id: str | None = None,
    seed: int | None = None,
) -> int | None:
    """Record a finished command in the run store (one transaction); returns the run id."""
    if no_store:
        return None
    try:
        text = scenario.read_text(encoding="utf-8") if scenario is not None else None
        run_id = RunStore(store).add(command, args, summary, result, scenario_id, text, seed)
    except (OSError, sqlite3.Error) as exc:
        err.print(f"warning: not recorded in the run store: {escape(str(exc))}", highlight=False)
        return None
    err.print(f"recorded as run {run_id}", highlight=False)
    return run_id


TiesOpt = Annotated[
    Path | None,
    typer.Option("--ties", help="TIES data (CSV) for the outside view; default: $DETENTE_TIES."),
]


def _ties_path(ties_file: Path | None) -> Path | None:
    if ties_file is not None:
        return ties_file
    env = os.environ.get("DETENTE_TIES")
    return Path(env) if env else None


def _outside_view(scn: Scenario, ties_file: Path | None, k: int = 30) -> dict[str, Any] | None:
    """The outside view as a dict, or None with the reason in 'missing'."""
    from detente.history import ties

    if scn.outside_view is None:
        return {"missing": f"{scn.id} has no outside_view block"}
    if ties_file is None:
        return {"missing": "give --ties FILE (or set DETENTE_TIES) for the outside view"}
    df = ties.read_ties(ties_file)
    view = ties.outside_view(df, ties.profile(scn.outside_view), k)
    return {"ties": str(ties_file), **view.to_dict()}


def _print_outside(view: dict[str, Any]) -> None:
    if "missing" in view:
        out.print(f"Outside view: {escape(view['missing'])}.")
        return
    share = f"{view['share']:.2f}, 90% interval {view['lo']:.2f}-{view['hi']:.2f}"
    out.print(
        f"Outside view (TIES): of the {view['n']} most similar coded episodes, "
        f"{view['successes']} ({share}) ended in target acquiescence or a negotiated settlement; "
        f"a logistic model on TIES ({view['n_train']} episodes) gives {view['model_p']:.2f} "
        f"(base rate {view['base_rate']:.2f})."
    )


def _coefficients(name_or_path: str | None) -> dict[str, Param] | None:
    try:
        return None if name_or_path is None else load_coefficients(name_or_path)
    except InputError as exc:
        _fail(str(exc))
        raise


def _load_run_inputs(path: Path, lens: str | None) -> tuple[Scenario, Lens | None]:
    try:
        return load_scenario(path), (load_lens(lens) if lens else None)
    except InputError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="A coercion scenario (.yaml).")],
    draws: DrawsOpt = DEFAULT_DRAWS,
    seed: SeedOpt = DEFAULT_SEED,
    horizon: HorizonOpt = None,
    lens: LensOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Draw the monthly paths to this PNG.")] = None,
    force: Annotated[bool, typer.Option(help="Allow --plot to overwrite a file.")] = False,
    backend: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    ties_file: TiesOpt = None,
    as_of: AsOfOpt = None,
    coefficients: CoefficientsOpt = None,
) -> None:
    """Forecast whether and when the target's leadership opens direct talks with the sender."""
    scn, lens_model = _load_run_inputs(scenario, lens)
    coefs = _coefficients(coefficients)
    if plot is not None:
        _check_new_file(plot, force)
    chunks = -(-draws // DEFAULT_CHUNK_ROWS)
    try:
        with _backend(backend, scheduler) as runner, _progress("simulating", chunks) as tick:
            forecast = run_scenario(
                scn,
                draws=draws,
                seed=seed,
                horizon=horizon,
                lens=lens_model,
                backend=runner,
                progress=tick,
                as_of=as_of,
                coefficients=coefs,
            )
    except KeyboardInterrupt:
        _interrupted("no forecast (a run is all draws or nothing)")
    except InputError as exc:
        _fail(str(exc))
        raise
    doc = forecast.to_dict()
    try:
        outside = _outside_view(scn, _ties_path(ties_file))
    except InputError as exc:
        _fail(str(exc))
        raise
    doc["outside_view"] = outside
    _record(
        store,
        no_store,
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
    )
    if plot is not None:
        from detente.plots import plot_forecast

        plot_forecast(forecast, plot)
    if as_json:
        _print_json(doc)
        return
    _print_run(forecast)
    if outside is not None:
        _print_outside(outside)
    if plot is not None:
        out.print(f"monthly paths drawn to {plot}")


def _print_run(f: Forecast) -> None:
    s = f.scenario
    lens = f" - lens: {f.lens}" if f.lens else ""
    out.print(f"[bold]{escape(s.title)}[/]{escape(lens)}")
    out.print(f"{escape(s.question)}  ({f.draws:,} draws, seed {f.seed}, engine {s.engine})")
    out.print(
        f"As of the end of {f.as_of}: only events announced by then, given no talks by then;"
        " months count from it."
    )
    table = Table(title="Probability of direct talks", title_justify="left")
    for col in ("within", "p", "90% interval", "public", "secret", "mediated first"):
        table.add_column(col, justify="right")
    for h, v in f.by_horizon().items():
        ch = v["by_channel"]
        table.add_row(
            f"{h} months",
            f"{v['p']:.2f}",
            f"{v['lo']:.2f} - {v['hi']:.2f}",
            f"{ch['public']:.2f}",
            f"{ch['secret']:.2f}",
            f"{ch['mediated']:.2f}",
        )
    out.print(table)
    even = f.month_of_even_odds()
    out.print(f"Even odds of talks reached by {even}." if even else "Talks never reach even odds.")
    paths = f.mean_paths()
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
    for month, row in paths.iloc[::3].iterrows():
        cells = [f"{row[c]:.0f}" if c == "stance" else f"{row[c]:.2f}" for c in cols]
        traj.add_row(str(month), *cells)
    out.print(traj)
    fac = Table(
        title="Factions: position on talks (0 refuse - 100 talks now)", title_justify="left"
    )
    for col in ("faction", "start", "end", "salience end"):
        fac.add_column(col, justify="left" if col == "faction" else "right")
    for k, (name, d) in enumerate(f.faction_paths().items()):
        leader = " (leader)" if name == s.leader.faction else ""
        start = f"{f.initial_position[k]:.0f}"
        fac.add_row(name + leader, start, f"{d['position'][-1]:.0f}", f"{d['salience'][-1]:.0f}")
    out.print(fac)


@app.command()
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    backend: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    as_of: AsOfOpt = None,
    coefficients: CoefficientsOpt = None,
) -> None:
    """Two forecasts side by side: two scenarios, one scenario under two lenses, or one scenario
    as stated and with --set changes (a counterfactual)."""
    lenses = lens or []
    changes = _parse_sets(set_ or [])
    one_lens = lenses[0] if len(lenses) == 1 else None
    pairs: list[tuple[Path, str | None, dict[str, float]]] = []
    if len(scenarios) == 2 and len(lenses) <= 1 and not changes:
        pairs = [(scenarios[0], one_lens, {}), (scenarios[1], one_lens, {})]
    elif len(scenarios) == 1 and len(lenses) == 2 and not changes:
        pairs = [(scenarios[0], lenses[0], {}), (scenarios[0], lenses[1], {})]
    elif len(scenarios) == 1 and len(lenses) <= 1 and changes:
        pairs = [(scenarios[0], one_lens, {}), (scenarios[0], one_lens, changes)]
    else:
        _fail(
            "compare takes two scenarios, or one scenario and two --lens, "
            "or one scenario and --set PATH=VALUE changes"
        )
    coefs = _coefficients(coefficients)
    prepared = []
    for path, lens_name, fixed in pairs:
        scn, lens_model = _load_run_inputs(path, lens_name)
        _check_sets(scn, fixed)
        prepared.append((scn, lens_model, fixed))
    runs = []
    try:
        with _backend(backend, scheduler) as runner, _progress("simulating", 2) as tick:
            for scn, lens_model, fixed in prepared:
                runs.append(
                    run_scenario(
                        scn,
                        draws=draws,
                        seed=seed,
                        horizon=horizon,
                        lens=lens_model,
                        fixed=fixed,
                        backend=runner,
                        as_of=as_of,
                        coefficients=coefs,
                    )
                )
                tick(1)
    except KeyboardInterrupt:
        _interrupted("no comparison")
    except InputError as exc:
        _fail(str(exc))
        raise
    a, b = (r.by_horizon() for r in runs)
    common = [h for h in a if h in b]
    diff = {h: b[h]["p"] - a[h]["p"] for h in common}
    if as_json:
        _print_json({"runs": [r.to_dict(trajectories=False) for r in runs], "difference": diff})
        return
    labels = [
        r.scenario.id
        + (f" ({r.lens})" if r.lens else "")
        + (" with " + ", ".join(f"{k}={v}" for k, v in r.overrides.items()) if r.overrides else "")
        for r in runs
    ]
    table = Table(title="Probability of direct talks, side by side", title_justify="left")
    table.add_column("within", justify="right")
    for label in labels:
        table.add_column(label, justify="right")
    table.add_column("difference", justify="right")
    for h in common:
        cells = [f"{x[h]['p']:.2f} [{x[h]['lo']:.2f}-{x[h]['hi']:.2f}]" for x in (a, b)]
        table.add_row(f"{h} months", *cells, f"{diff[h]:+.2f}")
    out.print(table)
    for label, r in zip(labels, runs, strict=True):
        even = r.month_of_even_odds()
        out.print(f"{label}: even odds {'by ' + even if even else 'never reached'}")


def _parse_sets(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        try:
            if not sep or not path.strip():
                raise ValueError
            out[path.strip()] = float(raw)
        except ValueError:
            _fail(f"--set {item!r}: expected PATH=NUMBER, e.g. leader.legacy_weight=0.2")
    return out


def _check_sets(scn: Scenario, fixed: dict[str, float]) -> None:
    try:
        check_fixed(scn, fixed)
    except InputError as exc:
        _fail(str(exc))


@app.command()
def tip(
    scenario: Annotated[Path, typer.Argument(help="A coercion scenario (.yaml).")],
    param: Annotated[str, typer.Option(help="The parameter's path, e.g. leader.legacy_weight.")],
    target: Annotated[float, typer.Option(min=0.0, max=1.0, help="Probability to cross.")] = 0.5,
    horizon: HorizonOpt = None,
    low: Annotated[
        float | None, typer.Option(help="Search from (default: allowed minimum).")
    ] = None,
    high: Annotated[
        float | None, typer.Option(help="Search to (default: allowed maximum).")
    ] = None,
    draws: Annotated[int, typer.Option(min=1, max=1_000_000, help="Draws per evaluation.")] = 1000,
    seed: SeedOpt = DEFAULT_SEED,
    lens: LensOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    backend: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    coefficients: CoefficientsOpt = None,
) -> None:
    """The value of one parameter at which the probability of talks crosses the target.

    Bisection over the parameter, the others drawn as the scenario says (the same draws for every
    value). The probability is that of talks within the horizon (default: the scenario's).
    """
    scn, lens_model = _load_run_inputs(scenario, lens)
    ranges = parameter_ranges(scn)
    if param not in ranges:
        _check_sets(scn, {param: 0.0})
    lo = ranges[param].low if low is None else low
    hi = ranges[param].high if high is None else high
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        _fail(f"{param}: give a finite search interval with --low and --high (low < high)")
    _check_sets(scn, {param: lo})
    _check_sets(scn, {param: hi})
    months = horizon if horizon is not None else scn.horizon
    coefs = _coefficients(coefficients)

    try:
        with _backend(backend, scheduler) as runner, _progress("bisecting", 20) as tick:

            def p_of(value: float) -> float:
                f = run_scenario(
                    scn,
                    draws=draws,
                    seed=seed,
                    horizon=months,
                    lens=lens_model,
                    fixed={param: value},
                    backend=runner,
                    coefficients=coefs,
                )
                tick(1)
                return f.p_within(months)

            res = find_tipping_point(p_of, lo, hi, target)
    except KeyboardInterrupt:
        _interrupted("no tipping point")
    doc = {"param": param, "target": target, "horizon": months, **res.to_dict()}
    if as_json:
        _print_json(doc)
        return
    if res.found:
        assert res.value is not None and res.p_at_value is not None
        out.print(
            f"{param} = {res.value:.4g} gives P(talks within {months} months) = "
            f"{res.p_at_value:.3f} (target {target}); "
            f"at {lo:g}: {res.p_at_low:.3f}, at {hi:g}: {res.p_at_high:.3f}"
        )
    else:
        out.print(
            f"No value of {param} in [{lo:g}, {hi:g}] brings P(talks within {months} months) to "
            f"{target}: it goes from {res.p_at_low:.3f} to {res.p_at_high:.3f}."
        )


@app.command()
def sensitivity(
    scenario: Annotated[Path, typer.Argument(help="A coercion scenario (.yaml).")],
    samples: Annotated[
        int, typer.Option(min=8, max=1 << 20, help="SALib's N (a power of 2); rows = N (D + 2).")
    ] = 512,
    horizon: HorizonOpt = None,
    seed: SeedOpt = DEFAULT_SEED,
    lens: LensOpt = None,
    top: Annotated[int, typer.Option(min=1, help="Rows shown in the table and the chart.")] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Tornado chart to this PNG.")] = None,
    force: Annotated[bool, typer.Option(help="Allow --plot to overwrite a file.")] = False,
    backend: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
) -> None:
    """Which uncertain parameters carry the forecast: Sobol indices (S1, ST) of P(talks)."""
    scn, lens_model = _load_run_inputs(scenario, lens)
    if plot is not None:
        _check_new_file(plot, force)
    if samples & (samples - 1):
        _fail(f"--samples {samples}: use a power of 2 (e.g. 256, 512, 1024) for Sobol sequences")
    rows = rows_needed(scn, samples, lens_model)
    try:
        with (
            _backend(backend, scheduler) as runner,
            _progress("Sobol", -(-rows // DEFAULT_CHUNK_ROWS)) as tick,
        ):
            res = scenario_sensitivity(
                scn, samples, seed, horizon, lens_model, backend=runner, progress=tick
            )
    except ValueError as exc:
        _fail(str(exc))
        raise
    except KeyboardInterrupt:
        _interrupted("no indices (Sobol needs every sample)")
    doc = res.to_dict()
    _record(
        store,
        no_store,
        "sensitivity",
        {"samples": samples, "seed": seed, "horizon": res.horizon, "lens": lens},
        {"top": [{"name": i.name, "ST": i.ST, "S1": i.S1} for i in res.indices[:5]]},
        doc,
        scenario,
        scn.id,
        seed,
    )
    if plot is not None:
        from detente.plots import plot_tornado

        plot_tornado(res, plot, top)
    if as_json:
        _print_json(doc)
        return
    table = Table(
        title=f"Sobol indices of P(talks within {res.horizon} months), {res.rows:,} model runs",
        title_justify="left",
    )
    for col in ("parameter", "ST", "+/-", "S1", "+/- "):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for i in res.indices[:top]:
        table.add_row(i.label, f"{i.ST:.3f}", f"{i.ST_conf:.3f}", f"{i.S1:.3f}", f"{i.S1_conf:.3f}")
    out.print(table)
    if len(res.indices) > top:
        out.print(f"... {len(res.indices) - top} more in --json")
    if plot is not None:
        out.print(f"tornado chart drawn to {plot}")


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="A coercion scenario (.yaml).")],
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Heat map (two axes) or curve (one).")] = None,
    force: Annotated[bool, typer.Option(help="Allow overwriting -o and --plot files.")] = False,
    backend: BackendOpt = BackendChoice.local,
    scheduler: SchedulerOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
) -> None:
    """P(talks within the horizon) over a grid of parameters, as a tidy table."""
    scn, lens_model = _load_run_inputs(scenario, lens)
    try:
        axes = [Axis.parse(g) for g in grid]
    except ValueError as exc:
        _fail(str(exc))
        raise
    if len({a.path for a in axes}) != len(axes):
        _fail("each --grid parameter may appear once")
    for a in axes:
        _check_sets(scn, {a.path: float(a.values.min())})
        _check_sets(scn, {a.path: float(a.values.max())})
    for path in (output, plot):
        if path is not None:
            _check_new_file(path, force)
    if output is not None and output.suffix.lower() not in (".parquet", ".csv"):
        _fail(f"{output}: write .parquet or .csv")
    points = int(np.prod([len(a.values) for a in axes]))
    per_chunk = max(1, DEFAULT_CHUNK_ROWS // draws)
    with (
        _backend(backend, scheduler) as runner,
        _progress("sweep", -(-points // per_chunk)) as tick,
    ):
        res = run_sweep(scn, axes, draws, seed, horizon, lens_model, runner, progress=tick)
    table = res.table
    _record(
        store,
        no_store,
        "sweep",
        {"grid": grid, "draws": draws, "seed": seed, "horizon": horizon, "lens": lens},
        {"points": len(table), "of": res.total_points, "complete": res.complete},
        {"rows": table.to_dict(orient="records")},
        scenario,
        scn.id,
        seed,
    )
    if output is not None:
        if output.suffix.lower() == ".csv":
            table.to_csv(output, index=False)
        else:
            table.to_parquet(output, index=False)
    if not res.complete:
        where = f"; written to {output}" if output is not None else ""
        err.print(
            escape(f"interrupted: {len(table)} of {res.total_points} grid points finished{where}"),
            highlight=False,
        )
        raise typer.Exit(130)
    if plot is not None:
        from detente.plots import plot_sweep

        plot_sweep(table, [a.path for a in axes], plot)
    if as_json:
        _print_json({"scenario": scn.id, "rows": table.to_dict(orient="records")})
        return
    shown = Table(title=f"P(talks within {table['horizon'].iloc[0]} months)", title_justify="left")
    for col in [a.path for a in axes] + ["p", "lo", "hi"]:
        shown.add_column(col, justify="right")
    step = max(1, len(table) // 20)
    for _, row in table.iloc[::step].iterrows():
        cells = [f"{row[a.path]:.4g}" for a in axes] + [f"{row[c]:.3f}" for c in ("p", "lo", "hi")]
        shown.add_row(*cells)
    out.print(shown)
    if step > 1:
        out.print(f"(every {step}th of {len(table)} points; all in -o or --json)")
    if output is not None:
        out.print(f"{len(table)} rows written to {output}")
    if plot is not None:
        out.print(f"chart drawn to {plot}")


@app.command()
def report(
    scenario: Annotated[Path, typer.Argument(help="A coercion scenario (.yaml).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The report (.html).")],
    draws: DrawsOpt = DEFAULT_DRAWS,
    seed: SeedOpt = DEFAULT_SEED,
    horizon: HorizonOpt = None,
    lens: LensOpt = None,
    samples: Annotated[
        int, typer.Option(min=0, help="Sobol N for the drivers section (power of 2; 0 = skip).")
    ] = 128,
    force: Annotated[bool, typer.Option(help="Allow overwriting the output file.")] = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    ties_file: TiesOpt = None,
    as_of: AsOfOpt = None,
    coefficients: CoefficientsOpt = None,
) -> None:
    """One self-contained HTML report: forecast, trajectories, factions, drivers, assumptions."""
    from detente.report import build_report

    scn, lens_model = _load_run_inputs(scenario, lens)
    _check_new_file(output, force)
    if samples and samples & (samples - 1):
        _fail(f"--samples {samples}: use a power of 2, or 0 to skip the drivers section")
    try:
        with _progress("report", 2) as tick:
            forecast = run_scenario(
                scn,
                draws=draws,
                seed=seed,
                horizon=horizon,
                lens=lens_model,
                as_of=as_of,
                coefficients=_coefficients(coefficients),
            )
            tick(1)
            sens = None
            if samples:
                try:
                    sens = scenario_sensitivity(scn, samples, seed, horizon, lens_model)
                except ValueError:
                    sens = None  # a scenario with no uncertain parameter has no drivers
            tick(1)
    except KeyboardInterrupt:
        _interrupted("no report written")
    except InputError as exc:
        _fail(str(exc))
        raise
    try:
        outside = _outside_view(scn, _ties_path(ties_file))
    except InputError as exc:
        _fail(str(exc))
        raise
    page = build_report(
        forecast, sens, dict(lens_model.coefficients) if lens_model else None, outside
    )
    output.write_text(page, encoding="utf-8")
    doc = forecast.to_dict()
    _record(
        store,
        no_store,
        "report",
        {"draws": draws, "seed": seed, "horizon": forecast.horizon, "lens": lens,
         "output": str(output)},
        {"horizons": doc["horizons"], "even_odds_month": doc["even_odds_month"]},
        doc,
        scenario,
        scn.id,
        seed,
    )  # fmt: skip
    out.print(f"report written to {escape(str(output))} ({len(page) // 1024} KiB, self-contained)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    scenarios: Annotated[
        Path, typer.Option(help="Folder of scenarios to open, and where edits are saved.")
    ] = Path("examples/cases"),
    store: StoreOpt = None,
) -> None:
    """The local web dashboard: open a scenario, move its assumptions, see the forecast."""
    import uvicorn

    from detente.web import create_app

    if not scenarios.is_dir():
        _fail(f"{scenarios}: no such folder (--scenarios)")
    out.print(f"detente dashboard on http://{host}:{port}/ (scenarios: {escape(str(scenarios))})")
    uvicorn.run(create_app(scenarios, store), host=host, port=port, log_level="warning")


runs_app = typer.Typer(help="The run store: what was run, with what, and what came out.")
app.add_typer(runs_app, name="runs")


def _open_store(store: Path | None) -> RunStore:
    try:
        return RunStore(store)
    except (OSError, sqlite3.Error) as exc:
        _fail(f"cannot open the run store: {exc}")
        raise


@runs_app.command("list")
def runs_list(
    store: StoreOpt = None,
    scenario: Annotated[str | None, typer.Option(help="Only runs of this scenario id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The latest stored runs, newest first."""
    records = _open_store(store).list(limit, scenario)
    if as_json:
        _print_json([r.to_dict() for r in records])
        return
    table = Table(title=f"Runs in {RunStore(store).path}", title_justify="left")
    for col in ("id", "when (UTC)", "command", "scenario", "seed", "summary"):
        table.add_column(col)
    for r in records:
        table.add_row(
            str(r.id),
            r.created,
            r.command,
            r.scenario_id or "",
            str(r.seed or ""),
            _brief(r.summary),
        )
    out.print(table)


def _brief(summary: dict[str, Any]) -> str:
    horizons = summary.get("horizons")
    if isinstance(horizons, dict):
        ordered = sorted(horizons.items(), key=lambda kv: int(kv[0]))
        return "  ".join(f"{h}m: {v['p']:.2f}" for h, v in ordered)
    return escape(json.dumps(summary)[:80])


@runs_app.command("show")
def runs_show(
    run_id: Annotated[int, typer.Argument(help="Run id (see detente runs list).")],
    store: StoreOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole record as JSON.")
    ] = False,
) -> None:
    """One stored run: its inputs, summary and (with --json) full result and scenario text."""
    record = _open_store(store).get(run_id)
    if record is None:
        _fail(f"no run {run_id} in the store")
        raise typer.Exit(2)
    if as_json:
        _print_json(record.to_dict(full=True))
        return
    out.print(f"[bold]run {record.id}[/]: {record.command} {escape(record.scenario_id or '')}")
    for key, value in record.to_dict().items():
        if key not in ("id", "command"):
            out.print(f"  {key}: {escape(json.dumps(value))}", highlight=False)


@runs_app.command("diff")
def runs_diff(
    a: Annotated[int, typer.Argument(help="First run id.")],
    b: Annotated[int, typer.Argument(help="Second run id.")],
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What differs between two stored runs: inputs and results."""
    st = _open_store(store)
    ra, rb = st.get(a), st.get(b)
    for rid, rec in ((a, ra), (b, rb)):
        if rec is None:
            _fail(f"no run {rid} in the store")
    assert ra is not None and rb is not None
    d = store_diff(ra, rb)
    if as_json:
        _print_json(d)
        return
    out.print(f"[bold]run {a} -> run {b}[/]")
    if not d["inputs"] and not d["summary"]:
        out.print("identical inputs and results")
    for key, (va, vb) in d["inputs"].items():
        out.print(f"  input {key}: {escape(str(va))} -> {escape(str(vb))}", highlight=False)
    for key, entry in d["summary"].items():
        change = f" ({entry['change']:+.3f})" if "change" in entry else ""
        out.print(f"  {key}: {entry['a']} -> {entry['b']}{change}", highlight=False)


@app.command("outside-view")
def outside_view_cmd(
    scenario: Annotated[
        Path, typer.Argument(help="A coercion scenario with an outside_view block.")
    ],
    ties_file: TiesOpt = None,
    k: Annotated[int, typer.Option(min=5, max=500, help="Size of the reference class.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Base rates: how the TIES episodes most like this one ended, and a model fitted on TIES."""
    scn, _ = _load_run_inputs(scenario, None)
    try:
        view = _outside_view(scn, _ties_path(ties_file), k)
    except InputError as exc:
        _fail(str(exc))
        raise
    assert view is not None
    if "missing" in view:
        _fail(view["missing"])
    if as_json:
        _print_json(view)
        return
    _print_outside(view)
    out.print(f"Reference class: TIES caseid {', '.join(view['caseids'][:12])}"
              + (" ..." if len(view["caseids"]) > 12 else ""))  # fmt: skip


@backtest_app.command("cases")
def backtest_cases_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder of scenarios with outcomes.")] = Path(
        "examples/cases"
    ),
    horizon: Annotated[int, typer.Option(min=1, max=240, help="Months.")] = 24,
    draws: Annotated[int, typer.Option(min=10, max=100_000, help="Draws per case.")] = 1000,
    seed: SeedOpt = DEFAULT_SEED,
    ties_file: TiesOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Calibration plot to this PNG.")] = None,
    force: Annotated[bool, typer.Option(help="Allow --plot to overwrite a file.")] = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    origins: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=120,
            help="Also forecast every N months after each case's start, until its talks or "
            "horizon, each as of that month; scored by origin.",
        ),
    ] = None,
    cv: Annotated[
        bool,
        typer.Option(
            "--cv",
            help="Also refit the coefficients without each case in turn and forecast it: "
            "out-of-sample scores under 'cv'.",
        ),
    ] = False,
    lenses: Annotated[
        str | None,
        typer.Option(help="With --cv: lenses to weigh by their out-of-sample scores, a,b."),
    ] = None,
    fit_draws: Annotated[
        int, typer.Option(min=8, max=2000, help="With --cv: draws per case in the fits.")
    ] = 64,
    coefficients: CoefficientsOpt = None,
) -> None:
    """Run the coercion model on every case with an outcome, as of its start (no event announced
    later is seen); Brier score against baselines; with --cv, out of sample."""
    from detente.history import cases, crossval, ties

    try:
        library = cases.load_library(folder)
        tpath = _ties_path(ties_file)
        outside = None
        if tpath is not None:
            df = ties.read_ties(tpath)
            outside = {
                scn.id: ties.outside_view(df, ties.profile(scn.outside_view)).model_p
                for _, scn in library
                if scn.outside_view is not None
            }
    except InputError as exc:
        _fail(str(exc))
        raise
    with _progress("cases", len(library)) as tick:
        results = cases.run_library(
            library, horizon, draws, seed, outside, tick, origins, _coefficients(coefficients)
        )
    doc = cases.score_library(results)
    if cv:
        names = [n.strip() for n in (lenses or "").split(",") if n.strip()]
        try:
            for name in names:
                load_lens(name)
        except InputError as exc:
            _fail(str(exc))
        with _progress("leave-one-out refits", len(library)) as tick:
            cv_rows = crossval.leave_one_out(
                library,
                draws=draws,
                seed=seed,
                fit_draws=fit_draws,
                origins=origins,
                horizon=horizon,
                lenses=names,
                progress=tick,
            )
        doc["cv"] = crossval.summarise(cv_rows, horizon, outside)
    doc["horizon"] = horizon
    doc["origins"] = origins
    doc["excluded"] = {
        c: "talks opened in the start month: nothing to forecast as of its end"
        for c in cases.opened_at_start(library)
    }
    if plot is not None:
        _check_new_file(plot, force)
        from detente.plots import plot_calibration

        plot_calibration(_calibration_doc(doc), plot)
    _record(
        store,
        no_store,
        "backtest cases",
        {
            "folder": str(folder),
            "horizon": horizon,
            "draws": draws,
            "seed": seed,
            "origins": origins,
        },
        {k: doc[k] for k in ("n_cases", "brier", "base_rate_brier")},
        doc,
    )
    if as_json:
        _print_json(doc)
        return
    table = Table(
        title=f"Case library: direct talks within {horizon} months, as of each case's start",
        title_justify="left",
    )
    for col in ("case", "model p", "TIES p", "outcome", "talks in the record"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in results:
        if r.origin:
            continue
        tp = "" if r.outside_p is None else f"{r.outside_p:.2f}"
        record = f"{r.kind}, {r.talks_month}" if r.talks_month else r.kind
        table.add_row(r.id, f"{r.p:.2f}", tp, str(r.outcome), record)
    out.print(table)
    out.print(
        f"Brier: model {doc['brier']:.3f}, leave-one-out base rate {doc['base_rate_brier']:.3f}"
        f"; log loss: model {doc['log_loss']:.3f}, base rate {doc['base_rate_log_loss']:.3f}"
    )
    by_h: dict[str, Any] = doc["by_horizon"]  # type: ignore[assignment]
    out.print(
        "By horizon (Brier, model / base rate): "
        + "; ".join(
            f"{h} months {v['brier']:.3f} / {v['base_rate_brier']:.3f}" for h, v in by_h.items()
        )
    )
    if "by_origin" in doc:
        by_o: dict[str, Any] = doc["by_origin"]  # type: ignore[assignment]
        out.print(
            "By origin (months after the start: n, Brier model / base rate): "
            + "; ".join(
                f"{o}: {v['n']}, {v['brier']:.3f} / {v['base_rate_brier']:.3f}"
                for o, v in by_o.items()
            )
        )
    if "cv" in doc:
        _print_cv(doc["cv"])  # type: ignore[arg-type]
    if "outside_view" in doc:
        ov: dict[str, Any] = doc["outside_view"]  # type: ignore[assignment]
        out.print(
            f"TIES outside view on {ov['n_cases']} cases: Brier {ov['brier']:.3f} "
            f"(model on the same cases {ov['model_brier_same_cases']:.3f}); {ov['note']}"
        )


@app.command("fit")
def fit_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder of scenarios with outcomes.")] = Path(
        "examples/cases"
    ),
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The fitted coefficients (.yaml).")
    ] = Path("coefficients.fitted.yaml"),
    draws: Annotated[int, typer.Option(min=8, max=2000, help="Draws per case.")] = 64,
    seed: SeedOpt = 1,
    lenses: Annotated[
        str | None,
        typer.Option(
            help="Also weigh these lenses (a,b) by leave-one-out scores and store the weights "
            "(for --lens weighted).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Allow overwriting the output file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit the choice's global coefficients to a case library (posterior mode)."""
    from detente.history import cases, crossval
    from detente.history import fit as fitting
    from detente.scenario.sample import apriori_coefficients

    if output.suffix.lower() not in (".yaml", ".yml"):
        _fail(f"{output}: the fitted coefficients are a .yaml file")
    _check_new_file(output, force)
    try:
        library = cases.load_library(folder)
        names = [n.strip() for n in (lenses or "").split(",") if n.strip()]
        for name in names:
            load_lens(name)
    except InputError as exc:
        _fail(str(exc))
        raise
    apriori = apriori_coefficients()
    with _progress("fitting", 1) as tick:
        batch = fitting.Batch.of(fitting.prepare([s for _, s in library], apriori, draws, seed))
        result = fitting.fit(batch, apriori)
        tick(1)
    weights = None
    if names:
        with _progress("leave-one-out (lens weights)", len(library)) as tick:
            rows = crossval.leave_one_out(
                library, fit_draws=draws, lenses=names, progress=tick, draws=500
            )
        lens_doc = crossval.weigh_lenses([r for r in rows if r.origin == 0], names, "24")
        weights = {n: float(lens_doc[n]["weight"]) for n in names}  # type: ignore[index]
    text = fitting.fitted_file_text(
        result, apriori, folder, [p for p, _ in library], __version__, draws, seed, weights
    )
    output.write_text(text, encoding="utf-8")
    doc = {
        "output": str(output),
        "cases": len(library),
        "cases_with_information": len(result.case_ids),
        "converged": result.converged,
        "iterations": result.iterations,
        "log_posterior": result.log_posterior,
        "coefficients": {
            n: {"apriori": result.apriori[n], "fitted": v, "lo": result.lo[n], "hi": result.hi[n]}
            for n, v in result.values.items()
        },
        "lens_weights": weights,
    }
    if as_json:
        _print_json(doc)
        return
    table = Table(title=f"Fitted on {len(result.case_ids)} cases of {folder}", title_justify="left")
    for col in ("coefficient", "a priori", "fitted", "90% interval"):
        table.add_column(col, justify="left" if col == "coefficient" else "right")
    for n, v in result.values.items():
        table.add_row(
            n, f"{result.apriori[n]:.3g}", f"{v:.3g}", f"{result.lo[n]:.3g}-{result.hi[n]:.3g}"
        )
    out.print(table)
    if weights:
        out.print("Lens weights: " + ", ".join(f"{k} {v:.2f}" for k, v in weights.items()))
    out.print(f"written to {escape(str(output))}")


def _calibration_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """What the calibration plot draws: the out-of-sample forecasts when there are some."""
    if "cv" not in doc:
        return doc
    cv = doc["cv"]
    h = str(cv["horizon"])
    return {
        "title": "Out of sample (leave one case out)",
        "cases": [{"id": c["id"], "p": c["p"][h], "outcome": c["outcome"][h]} for c in cv["cases"]],
        "calibration": cv["calibration"],
        "brier": cv["brier"],
        "base_rate_brier": cv["base_rate_brier"],
        "horizon": cv["horizon"],
    }


def _print_cv(cv: dict[str, Any]) -> None:
    lo, hi = cv["brier_ci"]
    out.print(
        f"Out of sample (coefficients refitted without each case), within {cv['horizon']} "
        f"months, {cv['n']} cases: Brier {cv['brier']:.3f} (90% bootstrap {lo:.3f}-{hi:.3f}), "
        f"log loss {cv['log_loss']:.3f}; base rate {cv['base_rate_brier']:.3f}; heuristic "
        f"(talks if legitimacy > 0) {cv['heuristic_brier']:.3f}; a-priori coefficients "
        f"{cv['unfitted_brier']:.3f}"
    )
    for name, lens in cv.get("lenses", {}).items():
        if name != "telling_cases":
            out.print(
                f"  lens {name}: Brier {lens['brier']:.3f}, log loss {lens['log_loss']:.3f}, "
                f"weight {lens['weight']:.2f}"
            )
    if "pooled" in cv and "brier" in cv["pooled"]:
        p = cv["pooled"]
        out.print(
            f"  pooled with TIES (weight on the model {p['weight_on_model']:.2f}): Brier "
            f"{p['brier']:.3f} (model {p['model_brier']:.3f}, TIES {p['outside_brier']:.3f})"
        )


@backtest_app.command("ties")
def backtest_ties_cmd(
    train: Annotated[
        Path, typer.Option(help="TIES episodes to fit on (CSV, the published columns).")
    ],
    test: Annotated[Path | None, typer.Option(help="TIES episodes to score on.")] = None,
    cv: Annotated[
        int | None, typer.Option(min=2, max=50, help="Instead of --test: k-fold cross-validation.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
) -> None:
    """The outside-view model (logistic regression on TIES features) scored on other episodes."""
    from detente.history import ties

    if (test is None) == (cv is None):
        _fail("give --test FILE, or --cv K to cross-validate on the --train file")
    try:
        train_df = ties.read_ties(train)
        test_df = ties.read_ties(test) if test is not None else None
    except InputError as exc:
        _fail(str(exc))
        raise
    if test_df is not None:
        result: dict[str, Any] = dict(ties.backtest(train_df, test_df))
    else:
        assert cv is not None
        result = dict(ties.cross_validate(train_df, cv))
    result["outcome"] = "1 = finaloutcome 1, 2, 5, 6, 7, 10; 0 = 3, 4, 8, 9; others left out"
    _record(
        store,
        no_store,
        "backtest ties",
        {"train": str(train), "test": None if test is None else str(test), "cv": cv},
        {k: v for k, v in result.items() if k in ("brier", "base_rate_brier", "log_loss", "auc")},
        result,
    )
    if as_json:
        _print_json(result)
        return
    how = f"fit on {train}, scored on {test}" if test else f"{cv}-fold cross-validation on {train}"
    table = Table(title=f"TIES outside-view model: {escape(how)}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key != "outcome":
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    out.print(table)
    out.print(escape(result["outcome"]))


from detente.cli_scenario import register as _reg_scenario  # noqa: E402

_reg_scenario(app)


def main() -> None:
    """Entry point: user errors are one line and exit status 2, never a traceback."""
    try:
        app()
    except InputError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, emoji=False)
        sys.exit(2)
