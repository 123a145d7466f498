"""Start the dashboard server (``detente serve``) with its limits and a shutdown deadline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from detente.web.app import create_app
from detente.web.settings import WILDCARDS, ServerSettings

#: Seconds the server waits for requests in flight when asked to stop, before it ends them
#: (and kills their run processes).
GRACEFUL_SECONDS = 10
#: Open connections at most (uvicorn answers 503 past them): far above the run pool's places,
#: so health checks and pages still get in while runs queue.
MAX_CONNECTIONS = 256


def serve(
    scenarios: Path,
    store: Path | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_hosts: Sequence[str] = (),
    graceful_seconds: float = GRACEFUL_SECONDS,
) -> None:
    """Serve the dashboard on ``host:port``, answering to this machine's names, ``host``, and
    ``allow_hosts`` (a deliberate exposure, e.g. the machine's name on a trusted network)."""
    import uvicorn

    settings = ServerSettings(bind_host=host, allow_hosts=tuple(allow_hosts))
    uvicorn.run(
        create_app(scenarios, store, settings),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=max(1, round(graceful_seconds)),
        limit_concurrency=MAX_CONNECTIONS,
    )


def exposure_note(host: str, allow_hosts: Sequence[str]) -> str | None:
    """What to tell someone who listens on every interface without naming a host to accept."""
    if host.strip("[]") in WILDCARDS and not allow_hosts:
        return (
            f"listening on {host}, but only requests naming localhost are answered; "
            "add --allow-host NAME for each name clients use"
        )
    return None
