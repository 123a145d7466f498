"""Where chunks of work run: this machine (threads) or a Dask distributed cluster.

A backend maps a module-level function over a list of work items and returns the results in
order. Work items are chunks of draws or of grid points; each is computed the same way wherever it
runs, so results do not depend on the backend or on the chunking (tests check this bit for bit).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[int], None]
#: Called with (index of the item, its result) as each item finishes, in any order: a caller that
#: is interrupted keeps what it was given.
OnResult = Callable[[int, Any], None]


class Backend(Protocol):
    name: str

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        progress: Progress | None = None,
        on_result: OnResult | None = None,
        keep: bool = True,
    ) -> list[R]:
        """fn over items, results in the order of items; ``progress(1)`` after each one. With
        ``keep=False`` results go only to ``on_result`` (a caller writing them into one
        preallocated array) and the list returned is empty, so no result is held twice."""

    def close(self) -> None:
        """Release what the backend holds (a cluster it started)."""


class LocalBackend:
    """Threads on this machine: numpy releases the GIL in its loops, so chunks use every core."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        progress: Progress | None = None,
        on_result: OnResult | None = None,
        keep: bool = True,
    ) -> list[R]:
        results: dict[int, R] = {}

        def done(k: int, res: R) -> None:
            if keep:
                results[k] = res
            if on_result:
                on_result(k, res)
            if progress:
                progress(1)

        if len(items) <= 1 or self.workers == 1:
            for k, item in enumerate(items):
                done(k, fn(item))
            return [results[k] for k in range(len(items))] if keep else []
        # imported here: a one-chunk run (most command-line runs) needs no threads
        from concurrent.futures import ThreadPoolExecutor, as_completed

        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(items)))

        # the result goes to on_result in the worker and is dropped there: a finished future
        # holds None, not a chunk (callers write disjoint rows, so threads do not collide)
        def hand_over(k: int, item: T) -> None:
            res = fn(item)
            if on_result:
                on_result(k, res)

        futures: dict[Future[Any], int] = {}
        try:
            # submitting inside the try: a Ctrl-C that lands while chunks are being submitted
            # still cancels them, rather than leaving the workers to run them all before exit
            for k, item in enumerate(items):
                fut = pool.submit(fn, item) if keep else pool.submit(hand_over, k, item)
                futures[fut] = k
            for fut in as_completed(futures):
                res: Any = fut.result()
                if keep:
                    done(futures[fut], res)
                elif progress:
                    progress(1)
        finally:
            for fut in futures:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        return [results[k] for k in range(len(items))] if keep else []

    def close(self) -> None:
        return None


class DaskBackend:
    """Chunks sent to a Dask distributed cluster at ``scheduler`` (host:port), or, without one,
    to a LocalCluster started on this machine for the run."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        from detente.extras import require

        distributed = require("distributed", "dask")
        Client, LocalCluster = distributed.Client, distributed.LocalCluster

        self._cluster: Any = None
        if scheduler:
            self.client = Client(scheduler, timeout="10s")
        else:
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                dashboard_address=None,
                processes=True,
            )
            self.client = Client(self._cluster)

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        progress: Progress | None = None,
        on_result: OnResult | None = None,
        keep: bool = True,
    ) -> list[R]:
        from distributed import as_completed as dask_completed

        futures: list[Any] = []
        results: dict[int, R] = {}
        try:
            # submitted inside the try, so that a Ctrl-C meanwhile cancels what was submitted
            futures.extend(self.client.submit(fn, item, pure=False) for item in items)
            index = {f.key: k for k, f in enumerate(futures)}
            for fut in dask_completed(futures):
                k = index[fut.key]
                res = fut.result()
                fut.release()
                if keep:
                    results[k] = res
                if on_result:
                    on_result(k, res)
                if progress:
                    progress(1)
        except BaseException:
            self.client.cancel(futures)
            raise
        return [results[k] for k in range(len(items))] if keep else []

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_backend(name: str, scheduler: str | None = None) -> Backend:
    if name == "local":
        if scheduler:
            raise ValueError("--scheduler goes with --backend dask")
        return LocalBackend()
    if name == "dask":
        return DaskBackend(scheduler)
    raise ValueError(f"unknown backend {name!r}; expected local or dask")
