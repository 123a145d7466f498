"""Collective decisions from an actor table: solve."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from detente.cli.common import (
    PNG,
    ForceOpt,
    JsonOpt,
    check_output,
    fail,
    labelled_table,
    out,
    print_json,
)

if TYPE_CHECKING:
    from detente.solve import ExchangeForecast, IssueForecast, SpatialForecast


class Model(StrEnum):
    compromise = "compromise"
    median = "median"
    eum = "eum"
    exchange = "exchange"
    smp = "smp"


class Variant(StrEnum):
    published = "published"
    scholz_code = "scholz-code"


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
    as_json: JsonOpt = False,
    plot: Annotated[
        Path | None, typer.Option(help="Draw EUM positions by round to this PNG.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Forecast the outcome of each issue of an actor table with every engine."""
    from detente import api

    check_output(plot, force, PNG, "--plot")
    if plot is not None and model is not None and model is not Model.eum:
        fail("--plot draws the EUM's rounds; it needs the eum model")
    if variant is Variant.scholz_code and q != 1.0:
        fail("--q applies to the published variant only (Scholz's program uses Q = 1)")
    res = api.solve(
        actors,
        model=None if model is None else model.value,
        rounds=rounds,
        variant=variant.value,
        q=q,
        t=t,
        issue=issue,
    )
    if plot is not None:
        from detente.plots import plot_rounds

        plot_rounds(res.issues, plot)
    if as_json:
        print_json(res.to_dict())
        return
    if res.spatial is not None:
        _print_spatial(res.spatial)
        return
    if res.models == ("exchange",) and res.exchange is not None:
        _print_exchange(res.exchange)
        return
    for f in res.issues:
        _print_forecast(f, res.eum_variant)
    if res.exchange is not None and len(res.issues) > 1:
        _print_exchange(res.exchange)
    if plot is not None:
        out.print(f"positions by round drawn to {plot}")


def _print_exchange(joint: ExchangeForecast) -> None:
    doc = joint.to_dict()
    table = labelled_table(
        f"Exchange model (equal gain), {doc['rounds']} rounds, {len(doc['exchanges'])} exchanges",
        ("issue", "MDS before", "after round 1", "forecast"),
    )
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


def _print_spatial(fc: SpatialForecast) -> None:
    doc = fc.to_dict()
    smp = doc["models"]["smp"]
    if doc["title"]:
        out.print(f"[bold]{escape(doc['title'])}[/]")
    table = labelled_table(
        f"SMP (KTAB's Spatial Model of Politics), {smp['turns']} turns",
        ("dimension", "expected", "most probable"),
    )
    for k, dim in enumerate(doc["dimensions"]):
        table.add_row(escape(dim), f"{smp['forecast'][k]:.2f}", f"{smp['most_probable'][k]:.2f}")
    out.print(table)
    actors = labelled_table(
        "Actors (positions by dimension)", ("actor", "capability", "start", "final", "P(final)")
    )
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


def _print_forecast(f: IssueForecast, variant: str) -> None:
    doc = f.to_dict()
    title = f"[bold]{escape(f.issue.id)}[/]" + (
        f": {escape(f.issue.question)}" if f.issue.question else ""
    )
    out.print(title)
    table = Table(title="Forecast by engine", title_justify="left")
    table.add_column("model")
    table.add_column("forecast", justify="right")
    for name, entry in doc["models"].items():
        label = f"{name} ({variant}, {entry['rounds']} rounds)" if name == "eum" else name
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
    actors = labelled_table("Actors", ("actor", "capability", "salience", "start", "EUM final"))
    final = doc["models"]["eum"]["final_positions"]
    for a in f.issue.actors:
        name = a.name + (" (veto)" if a.veto else "")
        actors.add_row(
            name, f"{a.capability:g}", f"{a.salience:g}", f"{a.position:g}", f"{final[a.name]:.2f}"
        )
    out.print(actors)


def register(app: typer.Typer) -> None:
    app.command()(solve)
