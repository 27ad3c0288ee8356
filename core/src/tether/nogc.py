"""Pause the cyclic garbage collector while building many acyclic objects.

Listing a 20,000-file folder or reading a 100,000-asset manifest allocates a
few hundred thousand small frozen objects that never form cycles. Each
allocation burst triggers collections that re-scan everything already alive,
a cost that grows with the caller's own heap (a training script holding a
large model pays it many times over). Reference counting still frees
everything as usual; only the cycle detector waits until the block ends (the
same trick Mercurial's ``util.nogc`` uses for its large containers).

The pause is global to the process, so tether holds it only around pure
object building (milliseconds), never across hashing or network listings,
which can last minutes while the caller's other threads keep allocating.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around building many acyclic objects
    (the rows of a listing page). Nestable and thread-safe: the collector comes
    back (if it was on) when the outermost block in any thread ends. Never hold
    it across network or disk I/O (see the module docstring)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
