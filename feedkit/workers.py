"""Spreading CPU-bound batch work (parsing, rendering) over the machine's cores.

The calling process does its share of the chunks itself, so no core sits idle waiting for the
others, and takes the workers' results as they come, so no large batch of them waits in memory.
A build starts its workers first (`started_early`), while the process is small: a worker forked
later, after a large site was loaded, would begin as a copy of all of it, held (and counted) twice.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
CHUNKS_PER_CORE = 4  # smaller chunks: results arrive in pieces, and the cores finish together

_started: concurrent.futures.ProcessPoolExecutor | None = None


@contextmanager
def started_early() -> Iterator[None]:
    """Fork the workers now, for every map_chunks call until the block ends."""
    global _started  # noqa: PLW0603 - one pool per process, for the calls inside the block
    cores = os.cpu_count() or 1
    if _started is not None or cores < 2 or not _may_fork():
        yield
        return
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(cores - 1, mp_context=context) as pool:
        pool.submit(int).result()  # the workers are forked now, not at the first real task
        _started = pool
        try:
            yield
        finally:
            _started = None


def _may_fork() -> bool:
    """fork() is only safe while this process has one thread (a CLI run, not a web server's
    request)."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def map_chunks(
    work: Callable[[list[Item]], list[Result]], items: list[Item], min_share: int
) -> list[Result]:
    """`work` applied to slices of `items`, results in order; parallel only when each core gets
    `min_share`.

    `work` must be a module-level function (or a partial of one) so a worker process can run it.
    """
    return list(each_result(work, items, min_share))


def each_result(
    work: Callable[[list[Item]], list[Result]], items: list[Item], min_share: int
) -> Iterator[Result]:
    """As map_chunks, one result at a time, so the caller can use each as it comes."""
    cores = min(os.cpu_count() or 1, len(items) // max(min_share, 1))
    if cores < 2:
        yield from work(items)
    elif _started is not None:
        yield from _spread(_started, work, items, cores, min_share)
    elif not _may_fork():
        yield from work(items)
    else:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(cores - 1, mp_context=context) as pool:
            yield from _spread(pool, work, items, cores, min_share)


def _spread(
    pool: concurrent.futures.Executor,
    work: Callable[[list[Item]], list[Result]],
    items: list[Item],
    cores: int,
    min_share: int,
) -> Iterator[Result]:
    """Every `cores`-th chunk is done here, the others in the pool; results come in order."""
    size = max(min_share, -(-len(items) // (cores * CHUNKS_PER_CORE)))
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    futures = {
        index: pool.submit(work, chunk) for index, chunk in enumerate(chunks) if index % cores
    }
    for index, chunk in enumerate(chunks):
        yield from (work(chunk) if index % cores == 0 else futures.pop(index).result())
