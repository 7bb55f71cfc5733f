"""Spreading CPU-bound batch work (parsing, rendering) over the machine's cores.

The calling process does one share itself, so no core sits idle waiting for the others.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_chunks(
    work: Callable[[list[Item]], list[Result]], items: list[Item], min_share: int
) -> list[Result]:
    """`work` applied to slices of `items`, results in order; parallel only when each core gets
    `min_share`.

    `work` must be a module-level function (or a partial of one) so a worker process can run it.
    """
    cores = min(os.cpu_count() or 1, len(items) // max(min_share, 1))
    # fork() is only safe while this process has one thread (a CLI run, not a web server's
    # request).
    if (
        cores < 2
        or threading.active_count() > 1
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return work(items)
    size = -(-len(items) // cores)
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(len(chunks) - 1, mp_context=context) as pool:
        others = [pool.submit(work, chunk) for chunk in chunks[1:]]
        results = work(chunks[0])
        for future in others:
            results.extend(future.result())
    return results
