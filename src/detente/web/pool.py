"""A bounded pool of run processes: a time limit, cancellation, and memory given back.

Each run is simulated in a child process forked from a server of processes that imported the
model once (``multiprocessing``'s forkserver), so starting one costs milliseconds. A child can be
killed at any moment, which gives what a thread cannot: a hard time limit, cancellation when the
client goes away, and every byte of the run's arrays returned to the system when it ends.

At most ``slots`` children run at once and ``queue`` more requests wait for one; past that the
pool refuses at once (:class:`PoolFull`, a 503 with ``Retry-After``), so a burst of runs cannot
take the threads or memory that ``/api/health`` and the pages need.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import anyio

#: How often a waiting run looks at its child and its client (seconds).
POLL_SECONDS = 0.05
DISCONNECT_EVERY = 0.25
#: How much lower a run process's priority is than the server's.
RUN_NICENESS = 5


class PoolFull(Exception):
    """Every slot and queue place is taken."""


class RunTimeout(Exception):
    """A run passed the time limit; its process was killed."""


class ClientGone(Exception):
    """The client disconnected; the run's process was killed."""


class RunFailed(Exception):
    """The child ended without a result (killed by the system, out of memory) or raised."""


class RunRefused(Exception):
    """The child refused the input: ``error`` is its ``InputError``, rebuilt here."""

    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error


def _context() -> Any:
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")  # Windows: slower to start, the same guarantees
    ctx = mp.get_context("forkserver")
    # the forkserver imports the model once; each child forked from it starts warm
    ctx.set_forkserver_preload(["detente.web.worker"])
    return ctx


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the child: ``fn(*args)`` and its outcome sent back as ("ok" | "input" | "error", x)."""
    from detente.errors import InputError

    # runs yield the processor to the server itself: health checks and pages stay quick
    with contextlib.suppress(OSError):
        os.nice(RUN_NICENESS)
    try:
        conn.send(("ok", fn(*args)))
    except InputError as exc:
        conn.send(("input", (exc.file, exc.where, exc.message)))
    except MemoryError:
        conn.send(("error", "out of memory"))
    except Exception as exc:  # noqa: BLE001 - a bug or a resource; reported, never a traceback
        conn.send(("error", type(exc).__name__))
    finally:
        conn.close()


class RunPool:
    """Runs of :func:`run` in child processes, at most ``slots`` at once."""

    def __init__(self, slots: int, queue: int, timeout: float) -> None:
        self.slots = slots
        self.capacity = slots + queue
        self.timeout = timeout
        self._admitted = 0
        self._running: asyncio.Semaphore | None = None
        self._children: set[BaseProcess] = set()
        self._ctx = _context()

    @property
    def admitted(self) -> int:
        return self._admitted

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """A place in the pool for one request (running or waiting), or :class:`PoolFull`."""
        if self._admitted >= self.capacity:
            raise PoolFull
        self._admitted += 1
        try:
            yield
        finally:
            self._admitted -= 1

    async def run(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        disconnected: Callable[[], Awaitable[bool]],
    ) -> Any:
        """``fn(*args)`` in a child once a slot is free; its result, or one of this module's
        exceptions. The child is killed on time-out, disconnect or cancellation."""
        if self._running is None:
            self._running = asyncio.Semaphore(self.slots)
        async with self._running:
            recv, send = self._ctx.Pipe(duplex=False)
            child = self._ctx.Process(target=_child, args=(send, fn, args), daemon=True)
            child.start()
            send.close()
            self._children.add(child)
            try:
                kind, value = await self._wait(child, recv, disconnected)
            finally:
                recv.close()
                if child.is_alive():
                    child.kill()
                await anyio.to_thread.run_sync(child.join)
                self._children.discard(child)
        if kind == "ok":
            return value
        if kind == "input":
            from detente.errors import InputError

            raise RunRefused(InputError(*value))
        raise RunFailed(value)

    async def _wait(
        self, child: BaseProcess, recv: Connection, disconnected: Callable[[], Awaitable[bool]]
    ) -> tuple[str, Any]:
        start = time.monotonic()
        checked = start
        while not recv.poll():
            now = time.monotonic()
            if now - start > self.timeout:
                raise RunTimeout
            if now - checked > DISCONNECT_EVERY:
                checked = now
                if await disconnected():
                    raise ClientGone
            await asyncio.sleep(POLL_SECONDS)
        try:
            message: tuple[str, Any] = await anyio.to_thread.run_sync(recv.recv)
        except EOFError:
            await anyio.to_thread.run_sync(child.join)
            raise RunFailed(f"the run's process ended (exit code {child.exitcode})") from None
        return message

    def shutdown(self) -> None:
        """Kill every running child (the server is stopping)."""
        for child in list(self._children):
            if child.is_alive():
                child.kill()
        self._children.clear()
