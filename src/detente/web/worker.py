"""What a run process does (imported once by the pool's forkserver, so children start warm)."""

from __future__ import annotations

from typing import Any

from detente.backends import LocalBackend
from detente.forecast import run_scenario
from detente.limits import RunLimits
from detente.scenario.coercion import Scenario
from detente.scenario.sample import load_lens


def forecast_doc(
    scenario: Scenario,
    draws: int,
    seed: int,
    horizon: int | None,
    lens: str | None,
    limits: RunLimits,
    as_of: str | None = None,
) -> dict[str, Any]:
    """The JSON of ``detente run --json`` for one request, within the server's ``limits`` (one
    thread, small chunks: a server runs several of these at once)."""
    return run_scenario(
        scenario,
        draws,
        seed,
        horizon,
        load_lens(lens) if lens else None,
        backend=LocalBackend(limits.workers),
        chunk_rows=limits.chunk_rows or 1000,
        limits=limits,
        as_of=as_of,
    ).to_dict()
