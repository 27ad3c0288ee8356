"""Progress of long operations: listing, hashing, uploading, verifying.

The long public operations (:meth:`Artifact.add_remote`, :meth:`Artifact.add`,
:meth:`Catalog.log`, :meth:`ArtifactVersion.verify`, :meth:`ArtifactVersion.status`)
take ``progress=``, a callable receiving :class:`ProgressEvent`\\ s. The work
itself happens deep inside drivers and worker threads, so instead of threading
a callback through every driver signature, the operation installs it for the
duration of the call (:func:`reporting`, a context variable, which
:func:`tether.parallel.parallel_map` carries into its threads) and the code
that does the work reports to whatever is installed (:func:`advance`,
:func:`expect`); with nothing installed both cost one context-variable lookup.

Stages and their units:

* ``listing``   – objects found so far (``objects``), while a folder or prefix is listed
* ``hashing``   – bytes read to compute checksums (``bytes``): logging local files, verifying
* ``uploading`` – bytes of ``Artifact.add`` files stored (``bytes``)

Events carry running totals per stage, so a display needs no state of its own.
The callback may be called from several threads at once, never concurrently
for the same reporter (calls are serialised by its lock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import attrs

__all__ = ["Progress", "ProgressEvent", "active", "advance", "bound", "expect", "reporting"]


@attrs.frozen
class ProgressEvent:
    """Where one stage of an operation stands: ``done`` of ``total`` (None while unknown)."""

    stage: str
    done: int
    total: int | None
    unit: str  # "objects" | "bytes"


Progress = Callable[[ProgressEvent], None]


class _Reporter:
    def __init__(self, callback: Progress) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}

    def advance(self, stage: str, amount: int, unit: str) -> None:
        with self._lock:
            done = self._done[stage] = self._done.get(stage, 0) + amount
            self._callback(ProgressEvent(stage, done, self._total.get(stage), unit))

    def expect(self, stage: str, amount: int, unit: str) -> None:
        with self._lock:
            total = self._total[stage] = self._total.get(stage, 0) + amount
            self._callback(ProgressEvent(stage, self._done.get(stage, 0), total, unit))


_current: ContextVar[_Reporter | None] = ContextVar("tether_progress", default=None)


@contextmanager
def reporting(callback: Progress | None) -> Iterator[None]:
    """Send the progress of everything run inside to ``callback``.

    ``None`` leaves whatever an enclosing call installed in place, so a public
    operation calling another one reports to the outer callback."""
    if callback is None:
        yield
        return
    token = _current.set(_Reporter(callback))
    try:
        yield
    finally:
        _current.reset(token)


def advance(stage: str, amount: int, unit: str = "bytes") -> None:
    """``amount`` more of ``stage`` is done."""
    reporter = _current.get()
    if reporter is not None and amount:
        reporter.advance(stage, amount, unit)


def expect(stage: str, amount: int, unit: str = "bytes") -> None:
    """``amount`` more of ``stage`` is to be done (totals add up across sources)."""
    reporter = _current.get()
    if reporter is not None and amount:
        reporter.expect(stage, amount, unit)


def bound(stage: str, unit: str = "bytes") -> Callable[[int], None]:
    """:func:`advance` for ``stage``, bound to the reporter installed now: for
    code whose reads may happen on threads a library starts (an SDK's upload
    pool), which do not inherit the context."""
    reporter = _current.get()
    if reporter is None:
        return _ignore

    def report(amount: int) -> None:
        if amount:
            reporter.advance(stage, amount, unit)

    return report


def _ignore(amount: int) -> None:
    pass


def active() -> bool:
    """Whether anything listens (to skip computing totals nobody reads)."""
    return _current.get() is not None
