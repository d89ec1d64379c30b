"""Rank chunks of profiles on every CPU: this process ranks some, forked workers the others.

Half of ranking a chunk is Python (profile rows, reasons, results), which one process can only run
on one core. Workers are forked after the features are fitted, so they inherit them without any
copying; each ranks the chunks given to it and leaves its results in a spool file (in memory,
under /dev/shm where there is one), read here in order. A worker never waits for this process to
take its results, and a worker that fails or dies costs nothing: its chunk is ranked here instead.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

AHEAD = 2  # chunks queued per worker: enough to keep it busy, few enough to bound memory
SHARED_MEMORY = Path("/dev/shm")

# What the forked workers rank: set just before they are forked, read by `_run_task` there.
_task: Callable[[int], Any] | None = None
_forking = threading.RLock()


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ordered_map(task: Callable[[int], Any], count: int, workers: int) -> Iterator[Any]:
    """Yield task(0), task(1), ... task(count - 1) in order, computed by up to `workers` processes.

    Falls back to this process alone where it cannot fork or there is nothing to share.
    """
    helpers = min(workers, count) - 1
    if helpers < 1 or not _can_fork():
        yield from map(task, range(count))
        return
    global _task
    context = multiprocessing.get_context("fork")
    spool_in = SHARED_MEMORY if SHARED_MEMORY.is_dir() else None
    # one BLAS thread per process: spinning BLAS threads of two processes fight over the cores
    with (
        _forking,  # another thread's map must not swap the task before these workers fork
        tempfile.TemporaryDirectory(prefix="digest-rank-", dir=spool_in) as spool,
        threadpool_limits(1),
        ProcessPoolExecutor(helpers, mp_context=context, initializer=gc.disable) as pool,
    ):
        _task = task
        yield from _interleave(task, count, helpers, pool, spool)


def _interleave(
    task: Callable[[int], Any], count: int, helpers: int, pool: ProcessPoolExecutor, spool: str
) -> Iterator[Any]:
    """Yield the results in order. Workers are kept a few tasks ahead; this process runs the
    task due if nobody has taken it, and while a worker still has it, the next one nobody has
    taken: whoever is faster (this process also turns results into objects) runs more."""
    untaken = deque(range(count))
    queued: dict[int, Future[str]] = {}
    ready: dict[int, Any] = {}  # run here ahead of their turn
    pool_open = True
    try:
        for index in range(count):
            while index not in ready:
                mine = bool(untaken) and untaken[0] == index  # due, and nobody has taken it
                if mine:
                    untaken.popleft()
                pool_open = pool_open and _top_up(pool, spool, untaken, queued, AHEAD * helpers)
                if mine:
                    ready[index] = task(index)
                elif queued[index].done() or not untaken or len(ready) >= AHEAD:
                    ready[index] = _result(queued.pop(index), task, index)
                else:
                    ahead = untaken.popleft()
                    ready[ahead] = task(ahead)
            yield ready.pop(index)
    finally:
        for future in queued.values():
            future.cancel()


def _top_up(
    pool: ProcessPoolExecutor,
    spool: str,
    untaken: deque[int],
    queued: dict[int, Future[str]],
    limit: int,
) -> bool:
    """Queue the first untaken tasks to the pool until `limit` are; False if it takes no more."""
    while untaken and len(queued) < limit:
        try:
            queued[untaken[0]] = pool.submit(_run_task, untaken[0], spool)
        except (BrokenProcessPool, OSError) as error:  # no worker (left): the rest run here
            log.warning("no ranking worker (%r); ranking the rest here", error)
            return False
        untaken.popleft()
    return True


def _can_fork() -> bool:
    """Fork is there, and this is not a daemon (a Celery worker's child may not have children)."""
    daemon = multiprocessing.current_process().daemon
    return "fork" in multiprocessing.get_all_start_methods() and not daemon


def _result(future: Future[str], task: Callable[[int], Any], index: int) -> Any:
    """The worker's result for `index`, or the task run here if the worker failed or died."""
    try:
        path = Path(future.result())
        with path.open("rb") as spooled:
            result = pickle.load(spooled)
        path.unlink()
        return result
    except Exception as error:
        log.warning("ranking worker failed on chunk %d (%r); ranking it here", index, error)
        return task(index)


def _run_task(index: int, spool: str) -> str:
    """In a worker: run the task, spool its result, return the file's path."""
    assert _task is not None, "ordered_map sets the task before forking"
    result = _task(index)
    with tempfile.NamedTemporaryFile("wb", dir=spool, delete=False) as spooled:
        pickle.dump(result, spooled, protocol=pickle.HIGHEST_PROTOCOL)
    return spooled.name
