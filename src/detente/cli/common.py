"""What every command shares: the consoles, the options (declared once, one wording each),
one-line errors, output paths checked before any work, progress bars and the run store."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from detente.defaults import MAX_DRAWS, MAX_SEED
from detente.errors import InputError

if TYPE_CHECKING:
    from rich.table import Table

# In a pipe or file rich would assume 80 columns; tables read better at 120.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)


@dataclass
class Verbosity:
    """-q: no notes on stderr (errors only); -v: also what each step took and where."""

    level: int = 0


verbosity = Verbosity()


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and exit (2: the user's input; 1: the environment, e.g. the store)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, emoji=False)
    raise typer.Exit(code)


def note(message: str) -> None:
    """A line for the user on stderr (where a run was recorded, ...), silenced by -q."""
    if verbosity.level >= 0:
        err.print(escape(message), highlight=False, emoji=False)


def detail(message: str) -> None:
    """A line shown with -v only."""
    if verbosity.level > 0:
        err.print(escape(message), highlight=False, emoji=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


def input_error(exc: InputError) -> NoReturn:
    fail(str(exc))


def labelled_table(title: str, columns: Iterable[str]) -> Table:
    """A table titled on the left, its first column (each row's label) left-aligned and the
    others (numbers) right-aligned: the shape of most of the commands' tables."""
    from rich.table import Table  # when a table is printed, not at every start

    table = Table(title=title, title_justify="left")
    for k, col in enumerate(columns):
        table.add_column(col, justify="left" if k == 0 else "right")
    return table


# --- output files: checked before any work starts ---------------------------------------------

PNG = (".png", ".svg", ".pdf")


def check_output(path: Path | None, force: bool, suffixes: tuple[str, ...], option: str) -> None:
    """An output file the command will write: the right suffix, not overwriting a file without
    --force, in an existing folder this process can create files in. Checked before any work,
    so a long run never ends in a traceback at the last step."""
    if path is None:
        return
    if path.suffix.lower() not in suffixes:
        fail(f"{option} {path}: expected a {' or '.join(suffixes)} file")
    if path.is_dir():
        fail(f"{option} {path}: a folder; give a file name")
    if path.exists() and not force:
        fail(f"{path}: already exists; choose another name or pass --force to overwrite it")
    parent = path.parent
    if not parent.exists():
        fail(f"{path}: folder {parent} does not exist")
    if not parent.is_dir():
        fail(f"{path}: {parent} is not a folder")
    try:
        # creating a file is the only reliable test (read-only mounts, /proc, ACLs, root)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".detente-check-"):
            pass
    except OSError as exc:
        fail(f"{option} {path}: cannot write in {parent} ({exc.strerror or exc})")


# --- options shared by several commands (one declaration, one wording each) --------------------

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DrawsOpt = Annotated[
    int, typer.Option(min=1, max=MAX_DRAWS, help="Monte Carlo draws of the uncertain parameters.")
]
SeedOpt = Annotated[
    int, typer.Option(min=0, max=MAX_SEED, help="Random seed (same seed, same numbers).")
]
HorizonOpt = Annotated[
    int | None, typer.Option(min=1, max=240, help="Months to simulate (default: the file's).")
]
LensOpt = Annotated[
    str | None,
    typer.Option(help="A thesis over the coefficients: author, proponent, or a lens .yaml file."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="YYYY-MM: forecast from the end of this month with only what was announced by "
        "then, given no talks by then (default: the scenario's start).",
    ),
]
CoefficientsOpt = Annotated[
    str | None,
    typer.Option(
        "--coefficients",
        help="Global coefficients: fitted (the default where shipped), apriori, or a file.",
    ),
]
ForceOpt = Annotated[bool, typer.Option(help="Allow overwriting the output files.")]
PlotOpt = Annotated[Path | None, typer.Option(help="Draw the figure to this file (.png).")]
ScenarioArg = Annotated[Path, typer.Argument(help="A coercion scenario (.yaml).")]
StoreOpt = Annotated[
    Path | None,
    typer.Option(
        help="Run store (SQLite) to record in; default: $DETENTE_STORE or the user data dir."
    ),
]
NoStoreOpt = Annotated[bool, typer.Option("--no-store", help="Do not record this run.")]
TiesOpt = Annotated[
    Path | None,
    typer.Option("--ties", help="TIES data (CSV) for the outside view; default: $DETENTE_TIES."),
]


class BackendChoice(StrEnum):
    local = "local"
    dask = "dask"


BackendOpt = Annotated[
    BackendChoice,
    typer.Option(
        "--backend", help="local: this machine's cores; dask: a Dask distributed cluster."
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (host:port); without it, a LocalCluster here."),
]


@contextmanager
def open_backend(choice: BackendChoice, scheduler: str | None) -> Iterator[Any]:
    """The chosen backend, closed at the end."""
    from detente.backends import make_backend

    if scheduler and choice is BackendChoice.local:
        fail("--scheduler goes with --backend dask")
    try:
        made = make_backend(choice.value, scheduler)
    except OSError as exc:
        fail(f"cannot reach the Dask scheduler {scheduler}: {exc}")
    try:
        yield made
    finally:
        made.close()


def _no_progress(n: int) -> None:
    return None


@contextmanager
def progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on the terminal (stderr); none (and rich's progress machinery not loaded)
    when stderr is not a terminal or with -q."""
    if not err.is_terminal or verbosity.level < 0:
        yield _no_progress
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def interruptible(what: str) -> Iterator[None]:
    """Ctrl-C: one line saying what was not produced, exit status 130."""
    try:
        yield
    except KeyboardInterrupt:
        err.print(f"interrupted: {escape(what)}", highlight=False, emoji=False)
        raise typer.Exit(130) from None


@contextmanager
def working(
    interrupted: str, choice: BackendChoice, scheduler: str | None, label: str, total: int
) -> Iterator[tuple[Any, Callable[[int], None]]]:
    """A command's compute: its backend and progress bar; Ctrl-C says ``interrupted`` (what was
    not produced) and exits 130. With -v, says how long the work took."""
    import time

    start = time.perf_counter()
    with (
        interruptible(interrupted),
        open_backend(choice, scheduler) as runner,
        progress(label, total) as tick,
    ):
        yield runner, tick
    detail(f"{label}: {time.perf_counter() - start:.2f} s on the {choice.value} backend")


# --- the run store -------------------------------------------------------------------------------


@dataclass
class Record:
    """What a command records in the run store once its answer is printed."""

    command: str
    args: dict[str, Any]
    summary: dict[str, Any]
    result: dict[str, Any]
    scenario: Path | None = None
    scenario_id: str | None = None
    seed: int | None = None


def record(store: Path | None, no_store: bool, rec: Record) -> int | None:
    """Record a finished command in the run store (one transaction) and say where, once.

    A run that could not be recorded is an error (exit 1, one line) unless --no-store was given:
    a user relying on the store must not find a run missing later."""
    if no_store:
        return None
    import sqlite3

    from detente.store import RunStore

    try:
        text = rec.scenario.read_text(encoding="utf-8") if rec.scenario is not None else None
        st = RunStore(store)
        run_id = st.add(
            rec.command, rec.args, rec.summary, rec.result, rec.scenario_id, text, rec.seed
        )
    except (OSError, sqlite3.Error, ValueError, OverflowError) as exc:
        fail(f"not recorded in the run store: {exc} (--no-store to run without it)", code=1)
    note(f"recorded as run {run_id} in {st.path}")
    return run_id


def env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None
