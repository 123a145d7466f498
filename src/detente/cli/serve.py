"""The local web dashboard: serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from detente.cli.common import StoreOpt, fail, out

#: Where serve looks for scenarios without --scenarios: the case library of a detente checkout.
DEFAULT_SCENARIOS = Path("examples/cases")


def scenarios_folder(given: Path | None) -> Path:
    """The folder of scenarios to serve: the one given, else ./examples/cases; a clear message
    when neither is a folder (detente serve works from any directory with --scenarios)."""
    if given is not None:
        if not given.is_dir():
            fail(f"{given}: no such folder (--scenarios)")
        return given
    if DEFAULT_SCENARIOS.is_dir():
        return DEFAULT_SCENARIOS
    fail(
        f"no {DEFAULT_SCENARIOS} folder here ({Path.cwd()}); pass --scenarios FOLDER, a folder "
        "of scenario .yaml files (new ones are saved there), or run from a detente checkout"
    )


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    scenarios: Annotated[
        Path | None,
        typer.Option(
            help="Folder of scenarios to open, and where edits are saved "
            "(default: ./examples/cases)."
        ),
    ] = None,
    store: StoreOpt = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another Host name to answer (repeatable): only for a deliberate exposure; by "
            "default only localhost names and --host are answered (DNS rebinding is refused).",
        ),
    ] = None,
    shutdown_grace: Annotated[
        float | None,
        typer.Option(
            min=1,
            max=3600,
            help="Seconds requests in flight may take to finish once the server is asked to "
            "stop (SIGTERM, Ctrl-C), then they are ended and their runs killed [default: 10].",
        ),
    ] = None,
) -> None:
    """The local web dashboard: open a scenario, move its assumptions, see the forecast."""
    from detente.extras import require

    folder = scenarios_folder(scenarios)
    require("uvicorn", "web")
    require("fastapi", "web")
    from detente.web.serve import GRACEFUL_SECONDS, exposure_note
    from detente.web.serve import serve as run_server

    out.print(f"detente dashboard on http://{host}:{port}/ (scenarios: {escape(str(folder))})")
    note = exposure_note(host, allow_host or [])
    if note:
        out.print(escape(note))
    grace = GRACEFUL_SECONDS if shutdown_grace is None else shutdown_grace
    run_server(folder, store, host, port, allow_host or [], grace)


def register(app: typer.Typer) -> None:
    app.command()(serve)
