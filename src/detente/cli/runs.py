"""The run store: runs list, runs show, runs diff."""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from detente.cli.common import JsonOpt, StoreOpt, err, fail, out, print_json

if TYPE_CHECKING:
    from detente.store import RunStore

runs_app = typer.Typer(help="The run store: what was run, with what, and what came out.")


def _open_store(store: Path | None) -> RunStore:
    from detente.store import RunStore

    try:
        # reading never creates, migrates or locks a store
        return RunStore(store, read_only=True)
    except (OSError, sqlite3.Error) as exc:
        fail(f"cannot open the run store: {exc}")


@runs_app.command("list")
def runs_list(
    store: StoreOpt = None,
    scenario: Annotated[str | None, typer.Option(help="Only runs of this scenario id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The latest stored runs, newest first."""
    from detente.store import StoreWarning, default_path

    path = store if store is not None else default_path()
    if not path.exists():
        # a first look before any run: nothing recorded yet is an answer, not an error
        if as_json:
            print_json([])
        else:
            out.print(escape(f"No runs recorded yet (the run store {path} does not exist)."))
        return
    st = _open_store(store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StoreWarning)  # said below, one line each
        records = st.list(limit, scenario)
    for row in st.skipped:
        err.print(escape(f"warning: skipped {row}"))
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    table = Table(title=f"Runs in {st.path}", title_justify="left")
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
    as_json: JsonOpt = False,
) -> None:
    """One stored run: its inputs, summary and (with --json) full result and scenario text."""
    record = _open_store(store).get(run_id)
    if record is None:
        fail(f"no run {run_id} in the store")
    if as_json:
        print_json(record.to_dict(full=True))
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
    as_json: JsonOpt = False,
) -> None:
    """What differs between two stored runs: inputs and results."""
    st = _open_store(store)
    ra, rb = st.get(a), st.get(b)
    for rid, rec in ((a, ra), (b, rb)):
        if rec is None:
            fail(f"no run {rid} in the store")
    assert ra is not None and rb is not None
    from detente.store import diff as store_diff

    d = store_diff(ra, rb)
    if as_json:
        print_json(d)
        return
    out.print(f"[bold]run {a} -> run {b}[/]")
    if not d["inputs"] and not d["summary"]:
        out.print("identical inputs and results")
    for key, (va, vb) in d["inputs"].items():
        out.print(f"  input {key}: {escape(str(va))} -> {escape(str(vb))}", highlight=False)
    for key, entry in d["summary"].items():
        change = f" ({entry['change']:+.3f})" if "change" in entry else ""
        out.print(f"  {key}: {entry['a']} -> {entry['b']}{change}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
