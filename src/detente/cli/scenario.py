"""``detente check``, ``detente new`` and ``detente schema``: writing a scenario file.

Parse, call :mod:`detente.scenario.authoring`, print. Bad input is one line and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from detente.cli.common import check_output, err, fail
from detente.errors import InputError


def check(
    files: Annotated[list[Path], typer.Argument(help="Scenario files (or actor tables).")],
) -> None:
    """List every problem of each file, one line each; exit status 2 if there is any."""
    from detente.scenario.authoring import check_file

    bad = 0
    for path in files:
        problems = check_file(path)
        for problem in problems:
            err.print(f"[bold red]error:[/] {escape(str(problem))}", highlight=False)
        if problems:
            bad += 1
        else:
            print(f"{path}: ok")
    if bad:
        raise typer.Exit(2)


def new(
    scenario_id: Annotated[str, typer.Argument(metavar="ID", help="Letters, digits, . _ -")],
    sender: Annotated[str, typer.Option(help="Who applies the pressure.")],
    target: Annotated[str, typer.Option(help="The government pressed.")],
    start: Annotated[str, typer.Option(help="Month 0 of the run, YYYY-MM.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: ID.yaml).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite the file if it exists.")] = False,
) -> None:
    """Write a complete scenario that runs as it is, every number an assumption to replace."""
    from detente.scenario.authoring import new_scenario_text

    path = output if output is not None else Path(f"{scenario_id}.yaml")
    try:
        text = new_scenario_text(scenario_id, sender, target, start)
    except InputError as exc:
        fail(str(exc))
    check_output(path, force, (".yaml", ".yml"), "--output")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot be written ({exc.strerror or exc})")
    print(f"wrote {path}: replace its assumptions, then `detente check {path}`")


def schema() -> None:
    """Print the JSON Schema of a scenario file (for an editor's YAML support)."""
    from detente.scenario.authoring import scenario_schema

    sys.stdout.write(json.dumps(scenario_schema(), indent=2) + "\n")


def register(app: typer.Typer) -> None:
    """Add ``check``, ``new`` and ``schema`` to the ``detente`` command."""
    app.command()(check)
    app.command()(new)
    app.command()(schema)
