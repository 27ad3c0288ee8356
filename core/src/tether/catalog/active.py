"""Which run a catalog's ``log`` / ``get`` attach their versions to, right now.

The innermost ``with tether.Run`` (or ``Run.use`` / ``Run.log``) in this
context, when it belongs to that catalog; else ``TETHER_RUN_ID`` from the
environment (a process started by ``tether run``, or by a script in a run).
``TETHER_RUN_CATALOG``, exported beside it by ``tether.Run``, says which
catalog holds the run without a request; an id exported by hand costs one
read, once per process. A run id this catalog does not hold warns once
(:class:`RunNotAttachedWarning`) and attaches nothing: lineage bookkeeping
never stops a job from logging.
"""

from __future__ import annotations

import contextvars
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..uris import redact
from .runs import RUN_ID_RE, Edge, RunStore, now_iso

if TYPE_CHECKING:
    from .core import Catalog


class RunNotAttachedWarning(UserWarning):
    """``TETHER_RUN_ID`` names a run this catalog does not hold: versions are not attached."""


_ACTIVE: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("tether_run", default=None)
_KNOWN: dict[tuple[str, str], bool] = {}
_WARNED: set[tuple[str, str]] = set()


@contextmanager
def activated(catalog_root: str, run_id: str) -> Iterator[None]:
    token = _ACTIVE.set((catalog_root, run_id))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_run_id(catalog: Catalog) -> str | None:
    """The run this catalog's log/get attach to now, or None."""
    active = _ACTIVE.get()
    if active is not None:
        return active[1] if active[0] == catalog.root else None
    run_id = os.environ.get("TETHER_RUN_ID")
    if not run_id:
        return None
    key = (catalog.root, run_id)
    known = _KNOWN.get(key)
    if known is None:
        home = os.environ.get("TETHER_RUN_CATALOG")  # set beside TETHER_RUN_ID by tether.Run
        if not RUN_ID_RE.match(run_id):
            known, why = False, "is not a run id"
        elif home:
            known, why = _normal_root(home) == catalog.root, f"lives in {redact(home)}, not in this catalog"
        else:  # exported by hand: one read tells
            known, why = RunStore(catalog).exists(run_id), "is not a run of this catalog"
        _KNOWN[key] = known
        if not known and key not in _WARNED:
            _WARNED.add(key)
            warnings.warn(f"TETHER_RUN_ID={run_id!r} {why} ({redact(catalog.root)}): versions are not attached "
                          "to it", RunNotAttachedWarning, stacklevel=4)
    return run_id if known else None


def record_edge(catalog: Catalog, run_id: str, kind: str, name: str, version: int, **fields: Any) -> None:
    RunStore(catalog).add_edge(Edge(kind=kind, run_id=run_id, name=name, version=version, at=now_iso(), **fields))


def _normal_root(root: str) -> str:
    from .core import Catalog

    return Catalog(root).root
