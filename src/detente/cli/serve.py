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
) -> None:
    """The local web dashboard: open a scenario, move its assumptions, see the forecast."""
    from detente.extras import require

    folder = scenarios_folder(scenarios)
    uvicorn = require("uvicorn", "web")
    require("fastapi", "web")
    from detente.web import create_app

    out.print(f"detente dashboard on http://{host}:{port}/ (scenarios: {escape(str(folder))})")
    uvicorn.run(create_app(folder, store), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command()(serve)
