"""``parallel_map``: a thread pool that stops promptly on Ctrl-C.

``with ThreadPoolExecutor() as pool: pool.map(...)`` waits for every queued
task on the way out, so an interrupt during a 20,000-file hash would wait for
all of them. Here queued work is cancelled and only tasks already running
finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """``[fn(x) for x in items]`` on ``workers`` threads, results in order."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [fn(x) for x in items]
    pool = ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix="tether")
    try:
        results = list(pool.map(fn, items))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results
