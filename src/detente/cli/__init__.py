"""The ``detente`` command line: parses, calls :mod:`detente.api`, prints. No model logic here.

One module per command group (:mod:`.forecast`, :mod:`.analysis`, :mod:`.solve`,
:mod:`.backtest`, :mod:`.runs`, :mod:`.serve`), the options they share declared once in
:mod:`.common`, and bad input (:class:`detente.InputError`) turned into one line and exit status 2
in one place (:class:`_Commands`). Other modules add commands with ``register(app)`` at the end of
this file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

# typer's vendored click: the parser's refusals (bad options and arguments)
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from detente import __version__
from detente.cli import analysis, backtest, discover, forecast, runs, scenario, serve, solve
from detente.cli.common import (  # noqa: F401 - shared names re-exported for cli_<topic>.py
    AsOfOpt,
    BackendOpt,
    CoefficientsOpt,
    DrawsOpt,
    ForceOpt,
    HorizonOpt,
    JsonOpt,
    LensOpt,
    NoStoreOpt,
    Record,
    SchedulerOpt,
    SeedOpt,
    StoreOpt,
    TiesOpt,
    check_output,
    detail,
    err,
    fail,
    out,
    print_json,
    progress,
    record,
    verbosity,
)
from detente.errors import InputError
from detente.extras import MissingExtra


class _Commands(TyperGroup):
    """The root group: every command (and sub-group) runs inside :meth:`invoke`, so this is the
    one place where a user's bad input becomes one line and exit status 2, and a missing
    optional dependency one line naming the ``pip install`` (exit 1)."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _one_line_usage():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            with _one_line_usage():
                return super().invoke(ctx)
        except InputError as exc:
            fail(str(exc))
        except MissingExtra as exc:
            fail(str(exc), code=1)


@contextmanager
def _one_line_usage() -> Iterator[None]:
    """An option or argument the parser refuses (a misspelt option, a seed out of range, a
    missing file name) as one line naming the command, like every other bad input, instead of
    the usage text and a boxed error. Help shown for a bare group is left as it is."""
    try:
        yield
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            raise
        where = exc.ctx.command_path if exc.ctx is not None else "detente"
        fail(f"{where}: {exc.format_message()} (see {where} --help)")


app = typer.Typer(
    name="detente",
    cls=_Commands,
    help="Will pressure bring a government to the table? Forecasts from actor tables.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"detente {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only results and errors: no notes, no bars.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also say what each step took.")
    ] = False,
) -> None:
    """detente: forecasts of collective decisions and of coercion."""
    if quiet and verbose:
        fail("--quiet and --verbose exclude each other")
    verbosity.level = -1 if quiet else 1 if verbose else 0
    if verbose:
        import time

        start = time.perf_counter()
        ctx.call_on_close(lambda: detail(f"took {time.perf_counter() - start:.2f} s"))


for _group in (forecast, analysis, discover, scenario, solve, backtest, serve, runs):
    _group.register(app)


# Names of the former single-file cli.py, for modules written against it (cli_<topic>.py).
_fail = fail
_print_json = print_json
_progress = progress


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
    return record(
        store, no_store, Record(command, args, summary, result, scenario, scenario_id, seed)
    )


def _check_new_file(path: Path, force: bool) -> None:
    check_output(path, force, (path.suffix.lower(),), "output")


# Commands of other modules register here, one line each, e.g.:
# from detente.cli_topic import register as _reg_topic; _reg_topic(app)


def main() -> None:
    """Entry point (``detente``, ``python -m detente``)."""
    app()
    sys.exit(0)  # pragma: no cover - app() exits itself
