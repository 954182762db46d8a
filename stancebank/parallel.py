"""Run a function over a stream of items in worker processes, results in the items' order.

The workers are forked, so they inherit ``state`` (e.g. the articles a pull checks against) instead of
receiving it with every item; at most ``2 * jobs`` items are in flight, which bounds memory. With one
job, no ``fork`` on this platform, or a single item, everything runs in this process: the results are
the same either way, and an error raised in a worker is raised here as the same exception.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import importlib
import itertools
import multiprocessing as mp
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: What the workers of the pool in use inherit; read with :func:`state`.
_STATE: dict[str, Any] = {}


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def state() -> dict[str, Any]:
    """The ``state`` given to the :class:`OrderedPool` in use (in a worker or in this process)."""
    return _STATE


class OrderedPool:
    """``with OrderedPool(jobs, state) as pool: for result in pool.map(fn, items): …``

    ``fn`` must be a module-level function (it is pickled by name) and reads the shared state with
    :func:`state`; items and results are pickled between processes."""

    def __init__(self, jobs: int, shared: dict[str, Any]) -> None:
        self.jobs = jobs
        self.shared = shared
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> OrderedPool:
        if _STATE:
            raise RuntimeError("an OrderedPool is already in use in this process")
        _STATE.update(self.shared)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            gc.unfreeze()
        _STATE.clear()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        stream = iter(items)
        head = list(itertools.islice(stream, 2))
        if self.jobs <= 1 or len(head) < 2 or "fork" not in mp.get_all_start_methods():
            yield from (fn(item) for item in itertools.chain(head, stream))
            return
        if self.pool is None:  # forked at the first submit, after the state is in place
            # The state is moved out of the collector's reach first: a collection would otherwise write
            # to every inherited object's header, copying its page into each worker (copy-on-write).
            # No collection before: it walks every object (≈ 0.07 s a pool after an export's imports)
            # while no worker runs yet, and cyclic garbage frozen here is collected after the unfreeze.
            gc.freeze()
            release_memory()  # the heap's free pages are not inherited either
            self.pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=mp.get_context("fork"))
        pending: deque[Future[R]] = deque()
        for item in itertools.chain(head, stream):
            if len(pending) >= 2 * self.jobs:
                yield pending.popleft().result()
            pending.append(self.pool.submit(fn, item))
        while pending:
            yield pending.popleft().result()


class Preload:
    """Modules imported in a thread of this process while its workers have the cores' work (the import
    would otherwise keep one core busy and the other idle before the work starts). Start it only after
    the pool in use has forked, and join it before the next pool forks: a fork in the middle of an
    import would leave that module's lock held in the child. An import that fails here is left for the
    code that needs the module, which raises the error."""

    def __init__(self, modules: Iterable[str]) -> None:
        self.modules = tuple(modules)
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is None and self.modules:
            self.thread = threading.Thread(target=self._run, name="stancebank-preload", daemon=True)
            self.thread.start()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()

    def _run(self) -> None:
        for module in self.modules:
            try:
                importlib.import_module(module)
            except Exception:  # raised again where the module is needed
                return


def use_c_heap_for_arrow() -> None:
    """Arrow's buffers from the C heap (``malloc``) rather than Arrow's bundled mimalloc, unless
    ``ARROW_DEFAULT_MEMORY_POOL`` names a pool. Arrow reads the variable when it is imported: a command
    calls this before it imports pyarrow (an earlier import keeps the pool it chose). ``validate`` and
    ``export`` do: their chunks and ranges allocate and free large buffers one after another, and on the
    100k benchmark the C heap took ≈ 1.4 CPU-s of system time and ≈ 100 MB off the export's largest
    process (≈ 0.5 CPU-s and 90 MB off validate's). ``studio pull`` does not: there it was no better."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def small_pages_for_numpy() -> None:
    """Numpy's large arrays in ordinary pages rather than transparent huge pages, unless
    ``NUMPY_MADVISE_HUGEPAGE`` names a choice. Numpy reads the variable when it is imported (its "global
    state" documentation): a command calls this before it imports numpy. ``validate`` and ``export``
    do: their chunks and ranges are arrays that live for one step in workers that live for one pass,
    so a huge page is faulted in fresh (2 MiB zeroed at once) more often than it saves address
    translations. On the benchmark machine (2 cores, a VM) ``validate`` took 3.40 s against 3.67 s at
    1.05M spans and 5.16 s against 5.49 s at 2.1M (system time 0.93 s against 1.20 s at 1.05M), and
    ``export`` of 100k articles ≈ 0.1 s less, in paired runs."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def release_memory() -> None:
    """Hand the memory freed by the last item back to the system (Arrow's pool and the C heap keep
    it otherwise): a worker then holds one item's memory at its peak, not the largest item's for good."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
