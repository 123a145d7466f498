"""``detente serve``: the dashboard server, with its Host allow-list (``--allow-host``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from detente.errors import InputError


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    scenarios: Annotated[
        Path, typer.Option(help="Folder of scenarios to open, and where edits are saved.")
    ] = Path("examples/cases"),
    store: Annotated[
        Path | None,
        typer.Option(
            help="Run store (SQLite) to record in; default: $DETENTE_STORE or the user data dir."
        ),
    ] = None,
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
    from detente.web.serve import GRACEFUL_SECONDS, exposure_note
    from detente.web.serve import serve as run_server

    if not scenarios.is_dir():
        raise InputError(str(scenarios), None, "no such folder (--scenarios)")
    out = Console(highlight=False)
    out.print(f"detente dashboard on http://{host}:{port}/ (scenarios: {escape(str(scenarios))})")
    note = exposure_note(host, allow_host or [])
    if note:
        out.print(escape(note))
    grace = GRACEFUL_SECONDS if shutdown_grace is None else shutdown_grace
    run_server(scenarios, store, host, port, allow_host or [], grace)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``, in place of an older ``serve`` without ``--allow-host``."""
    app.registered_commands[:] = [
        c
        for c in app.registered_commands
        if (c.name or getattr(c.callback, "__name__", "")) != "serve"
    ]
    app.command("serve")(serve)
