"""The ``detente`` command line: parses, calls :mod:`detente.api`, prints. No model logic here.

One module per command group (:mod:`.forecast`, :mod:`.analysis`, :mod:`.discover`,
:mod:`.scenario`, :mod:`.solve`, :mod:`.backtest`, :mod:`.serve`, :mod:`.runs`), each adding its
commands with ``register(app)``; the options they share are declared once in :mod:`.common`; bad
input (:class:`detente.InputError`) becomes one line and exit status 2 in one place
(:class:`_Commands`).

Commands are built lazily: :data:`COMMANDS` names every command, the module that registers it and
its one-line summary, so ``detente --help`` lists them without importing a module, and
``detente run ...`` imports and builds ``run`` alone (typer builds a command's parameters when it
is built, which for all 23 commands cost more than a short run itself).
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer

# typer's vendored click: the parser's refusals (bad options and arguments)
from typer._click.core import Command, Context
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_name, get_group

from detente import __version__
from detente.cli.common import detail, fail, out, verbosity
from detente.errors import InputError
from detente.extras import MissingExtra

#: Every command, in the order ``detente --help`` lists them: the module of :mod:`detente.cli`
#: whose ``register(app)`` adds it, and its summary (the first paragraph of its help, which a
#: test holds equal).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "forecast",
        "Forecast whether and when the target's leadership opens direct talks with the sender.",
    ),
    "compare": (
        "forecast",
        "Two forecasts side by side: two scenarios, one scenario under two lenses, or one "
        "scenario as stated and with --set changes (a counterfactual).",
    ),
    "tip": (
        "forecast",
        "The value of one parameter at which the probability of talks crosses the target.",
    ),
    "outside-view": (
        "forecast",
        "Base rates: how the TIES episodes most like this one ended, and a model fitted on TIES.",
    ),
    "report": (
        "forecast",
        "One self-contained HTML report: forecast, trajectories, factions, drivers, assumptions.",
    ),
    "sensitivity": (
        "analysis",
        "Which uncertain parameters carry the forecast: Sobol indices (S1, ST) of P(talks).",
    ),
    "sweep": (
        "analysis",
        "P(talks within the horizon) over a grid of parameters, as a tidy table.",
    ),
    "discover": (
        "discover",
        "Scenario discovery: under which combinations of the uncertain inputs talks pass the "
        "threshold (PRIM boxes: coverage, density, the limits per input).",
    ),
    "check": (
        "scenario",
        "List every problem of each file, one line each; exit status 2 if there is any.",
    ),
    "new": (
        "scenario",
        "Write a complete scenario that runs as it is, every number an assumption to replace.",
    ),
    "schema": (
        "scenario",
        "Print the JSON Schema of a scenario file (for an editor's YAML support).",
    ),
    "solve": ("solve", "Forecast the outcome of each issue of an actor table with every engine."),
    "fit": ("backtest", "Fit the choice's global coefficients to a case library (posterior mode)."),
    "serve": (
        "serve",
        "The local web dashboard: open a scenario, move its assumptions, see the forecast.",
    ),
    "backtest": ("backtest", "Score the engines against real outcomes."),
    "runs": ("runs", "The run store: what was run, with what, and what came out."),
}


class _Commands(TyperGroup):
    """The root group: every command (and sub-group) runs inside :meth:`invoke`, so this is the
    one place where a user's bad input becomes one line and exit status 2, and a missing
    optional dependency one line naming the ``pip install`` (exit 1). Commands of
    :data:`COMMANDS` are built on first use; while the root's help is written they are listed
    from their summaries."""

    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.commands, *(name for name in COMMANDS if name not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        if self._listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][1])
        command = build_command(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Context, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as exc:
            from difflib import get_close_matches

            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                exc.message = (
                    exc.message.rstrip(".")
                    + ". Did you mean "
                    + (", ".join(repr(m) for m in matches) + "?")
                )
            raise

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


def build_command(name: str) -> Command:
    """The click command (or sub-group) ``name`` of :data:`COMMANDS`, built alone: its module's
    ``register`` adds its commands to a scratch app, and only ``name`` is kept and built."""
    module = importlib.import_module(f"detente.cli.{COMMANDS[name][0]}")
    scratch = typer.Typer(rich_markup_mode=app.rich_markup_mode, pretty_exceptions_enable=False)
    module.register(scratch)
    scratch.registered_commands = [
        info
        for info in scratch.registered_commands
        if info.callback is not None
        and (info.name or get_command_name(info.callback.__name__)) == name
    ]
    scratch.registered_groups = [info for info in scratch.registered_groups if info.name == name]
    built = get_group(scratch).commands.get(name)
    if built is None:  # pragma: no cover - COMMANDS and a register() disagree
        raise LookupError(f"detente.cli.{COMMANDS[name][0]} does not register {name!r}")
    if isinstance(built, TyperGroup):
        # a group lists its commands by their summaries: in one line each, as the root does
        # (typer's rich help keeps a docstring's line breaks)
        for command in built.commands.values():
            command.short_help = command.short_help or summary(command.help or "")
    return built


def summary(help_text: str) -> str:
    """The first paragraph of a command's help, in one line."""
    return " ".join(help_text.split("\n\n")[0].split())


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


def main() -> NoReturn:
    """Entry point (``detente``, ``python -m detente``).

    pydantic looks up its plugins (package metadata of every installed distribution) when the
    first model is built; the command line does without them, as typer does for its own
    parameters, unless ``PYDANTIC_DISABLE_PLUGINS`` is set (set it empty to load them)."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app()
        code: str | int | None = 0
    except SystemExit as exc:
        code = exc.code
    leave(code)


def leave(code: str | int | None) -> NoReturn:
    """Exit with ``code`` without Python's teardown of every module the command loaded.

    A run loads some 470 modules (pydantic's, numpy's, typer's); taking them apart one by one
    and collecting their objects at exit took about 60 ms of a 380 ms ``detente run ...
    --draws 100`` (``benchmarks/bench_startup.py``), to free memory the system frees anyway.
    What the exit must still do is done here: stdout and stderr flushed, the ``atexit``
    handlers run. Files are never left open for the teardown to flush: every command writes
    its files in ``with`` blocks and the store commits before it returns. While another thread
    still runs, when the code is not a number (``sys.exit("message")``), when flushing fails (a
    closed pipe) or on an interpreter without CPython's atexit runner, Python exits as usual.
    """
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if code is None:
        code = 0
    if not isinstance(code, int) or threading.active_count() > 1 or run_exitfuncs is None:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # the usual exit reports it, as it did before
    run_exitfuncs()
    os._exit(code)
