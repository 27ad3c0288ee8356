"""Progress on stderr while a command works: one bar per stage.

Shown only when stderr is a terminal, unless ``--progress`` / ``--no-progress``
says otherwise, so a pipe or a log file never receives control characters.
The bars are drawn by tqdm from :class:`tether.progress.ProgressEvent`\\ s,
which may arrive from several threads.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from ..progress import Progress, ProgressEvent

F = TypeVar("F", bound=Callable[..., Any])


def progress_option(f: F) -> F:
    """``--progress/--no-progress``, the same on every command that works long."""
    return click.option("--progress/--no-progress", default=None,
                        help="Show progress on stderr (default: only when stderr is a terminal).")(f)


def _columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


def wanted(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


class Display:
    """Draws :class:`ProgressEvent`\\ s as tqdm bars on stderr, one per stage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bars: dict[str, Any] = {}

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            bar = self._bars.get(event.stage)
            if bar is None:
                bar = self._bars[event.stage] = self._new_bar(event)
            if event.total is not None and bar.total != event.total:
                bar.total = event.total
                bar.refresh()
            if event.done > bar.n:
                bar.update(event.done - bar.n)

    @staticmethod
    def _new_bar(event: ProgressEvent) -> Any:
        from tqdm import tqdm

        # A terminal that reports no width (a fresh pseudo-terminal) would get bars
        # zero columns wide, which tqdm draws as nothing: assume 80 there.
        width: dict[str, Any] = {"dynamic_ncols": True} if _columns() else {"ncols": 80, "nrows": 24}
        if event.unit == "bytes":
            return tqdm(total=event.total, initial=event.done, desc=event.stage, unit="B", unit_scale=True,
                        unit_divisor=1024, file=sys.stderr, leave=False, **width)
        return tqdm(total=event.total, initial=event.done, desc=event.stage, unit=f" {event.unit}",
                    file=sys.stderr, leave=False, bar_format="{desc}: {n_fmt}{unit} found [{elapsed}]", **width)

    def close(self) -> None:
        with self._lock:
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()


@contextmanager
def display(enabled: bool) -> Iterator[Progress | None]:
    """A progress callback drawing on stderr, or None when progress is not wanted."""
    if not enabled:
        yield None
        return
    shown = Display()
    try:
        yield shown
    finally:
        shown.close()


@contextmanager
def byte_bar(total: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A bar counting ``total`` bytes (``download``): yields the callback to
    feed, or None when no bar is wanted or there is nothing to count."""
    if not enabled or total <= 0:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False)
    try:
        yield bar.update
    finally:
        bar.close()
