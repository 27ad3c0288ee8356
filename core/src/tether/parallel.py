"""``parallel_map``: a thread pool that stops promptly on Ctrl-C.

``with ThreadPoolExecutor() as pool: pool.map(...)`` waits for every queued
task on the way out, so an interrupt during a 20,000-file hash would wait for
all of them. Here queued work is cancelled and only tasks already running
finish.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """``[fn(x) for x in items]`` on ``workers`` threads, results in order.

    The first exception a call raises is raised here (calls not yet started
    are cancelled), so a failing worker is never a silent gap in the results.

    Each call runs in a copy of the caller's context, so what the caller set in
    context variables (the progress reporter of :mod:`tether.progress`) holds
    in the workers too, as it would have without threads."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [fn(x) for x in items]
    pool = ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix="tether")
    try:
        context = contextvars.copy_context()
        results = list(pool.map(lambda x: context.copy().run(fn, x), items))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results
