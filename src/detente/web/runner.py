"""``/api/run``'s work: admission to the pool, the checks before any work, the run in a child.

Every refusal is one line: a full pool is a 503 with ``Retry-After``; bad YAML, a run over the
server's limits (:data:`detente.limits.SERVER_LIMITS`: factions, draws x months, memory, and
the work budget that weighs the EUM's cost) or over the time limit is a 422.
"""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request

from detente.errors import InputError
from detente.limits import check_run
from detente.scenario.coercion import Scenario, scenario_from_text
from detente.scenario.yamlio import check_yaml_text
from detente.web.pool import ClientGone, PoolFull, RunFailed, RunPool, RunRefused, RunTimeout
from detente.web.settings import ServerSettings
from detente.web.worker import forecast_doc

#: Scenario texts parsed at once: pure Python holds the GIL, and a second parsing thread takes
#: the event loop's turns (health checks slowed to ~1 s under a burst of runs with 2).
PARSE_AT_ONCE = 1


def parse_scenario(text: str, file: str) -> Scenario:
    """A scenario from request text, after the bounded look at its YAML (InputError if bad)."""
    check_yaml_text(text, file, aliases=False)
    try:
        return scenario_from_text(text, file)
    except (RecursionError, ValueError, TypeError, OverflowError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(file, None, f"cannot be read ({type(exc).__name__})") from None


def read_folder_text(path: Path, name: str, limit: int) -> str:
    """A scenario file of the folder as text: a regular file of at most ``limit`` bytes in
    UTF-8, else an InputError (a FIFO would block, a huge file would fill memory)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(name, None, "not a regular file")
        if info.st_size > limit:
            raise InputError(name, None, f"{info.st_size:,} bytes; at most {limit:,} here")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(name, None, "not a UTF-8 text file") from None
    except OSError as exc:
        raise InputError(name, None, f"cannot be read ({exc.strerror})") from None


class RunService:
    """The pool and the checks, one per app (``app.state.runs``)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.pool = RunPool(settings.run_slots, settings.run_queue, settings.run_timeout)
        self._parse: anyio.CapacityLimiter | None = None

    async def parse(self, text: str, file: str) -> Scenario:
        if self._parse is None:
            self._parse = anyio.CapacityLimiter(PARSE_AT_ONCE)
        return await anyio.to_thread.run_sync(parse_scenario, text, file, limiter=self._parse)

    @asynccontextmanager
    async def _refusals(self) -> AsyncIterator[None]:
        """The pool's refusals as HTTP errors, one line each; an InputError from the child is
        raised again here, for the endpoint to report as it reports its own."""
        try:
            yield
        except RunRefused as exc:
            raise exc.error from None
        except PoolFull:
            retry = {"Retry-After": str(self.settings.retry_after)}
            raise HTTPException(503, "every run slot is busy; try again shortly", retry) from None
        except RunTimeout:
            secs = f"{self.settings.run_timeout:g}"
            raise HTTPException(422, f"the run took over {secs} s, the limit here") from None
        except ClientGone:
            raise HTTPException(400, "the client disconnected; the run was stopped") from None
        except RunFailed as exc:
            raise HTTPException(500, f"the run failed: {exc}") from None

    async def call(self, request: Request, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a run process, within the pool's places and time limit (the
        function checks its input and the run limits itself: an InputError comes back)."""
        async with self._refusals(), self.pool.admit():
            return await self.pool.run(fn, args, request.is_disconnected)

    async def forecast(
        self,
        request: Request,
        text: str,
        draws: int,
        seed: int,
        horizon: int | None,
        lens: str | None,
        as_of: str | None = None,
    ) -> tuple[Scenario, dict[str, Any]]:
        """The scenario and ``detente run --json``'s document for it, or an HTTPException. The
        text is parsed and the limits checked here, before a process is started."""
        lim = self.settings.limits
        try:
            async with self._refusals(), self.pool.admit():
                scn = await self.parse(text, "scenario")
                months = horizon if horizon is not None else scn.horizon
                if horizon is None and months > lim.max_months - 1:
                    raise InputError(
                        "scenario", "horizon", f"{months} months; at most {lim.max_months - 1} here"
                    )
                check_run(draws, months + 1, len(scn.factions), scn.engine, lim, lim.workers,
                          lim.chunk_rows or 1000)  # fmt: skip
                args = (scn, draws, seed, horizon, lens, lim, as_of)
                doc = await self.pool.run(forecast_doc, args, request.is_disconnected)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        return scn, doc


async def in_run_process(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in the app's run pool (:meth:`RunService.call`), or in a thread where the
    app has none (a router mounted on another app)."""
    service = getattr(request.app.state, "runs", None)
    if isinstance(service, RunService):
        return await service.call(request, fn, *args)
    return await anyio.to_thread.run_sync(lambda: fn(*args))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown, kill the runs still going (the server's graceful deadline has passed)."""
    yield
    service = getattr(app.state, "runs", None)
    if isinstance(service, RunService):
        service.pool.shutdown()
