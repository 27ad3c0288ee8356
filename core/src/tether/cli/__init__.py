"""The ``tether`` command line.

:mod:`.main` holds the click group, the shared output helpers and the core
commands (log, download, show, list, verify, status, alias, tag, plugins);
each further topic is a module of its own that adds its commands to the same
group when imported below.
"""

from __future__ import annotations

from . import lifecycle as _lifecycle  # noqa: F401  (rm, retain, policy, gc, check, protect)
from .main import cli, main

__all__ = ["cli", "main"]
