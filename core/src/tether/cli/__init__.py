"""The ``tether`` command line.

:mod:`.main` holds the click group, the shared output helpers and the core
commands (log, download, show, list, verify, status, and the ``alias`` and
``tag`` groups); each further topic is a module of its own that adds its commands to the same
group when imported below:

* :mod:`.info`   – ``tether info``: the catalog, config file and drivers in use
* :mod:`.refs`   – ``tether alias list|set|rm``, ``tether tag list|add|rm``
* :mod:`.plugins` – ``tether plugins``: discovered plugins, conflicts, missing drivers

Helpers: :mod:`.style` (help output), :mod:`.errors` (errors in the CLI's
words, JSON errors), :mod:`.sources` (what ``log`` does with each source),
:mod:`.progress` (progress bars), :mod:`.outcomes` (download / verify
summaries), :mod:`.listing` (``list``), :mod:`.completion` (shell completion),
:mod:`.human` (sizes and times).
"""

from __future__ import annotations

from . import diff as _diff  # noqa: F401  (tether diff)
from . import info, plugins, refs  # noqa: F401 - registering their commands is the import's purpose
from . import lifecycle as _lifecycle  # noqa: F401  (rm, retain, policy, gc, check, protect)
from . import ui as _ui  # noqa: F401  (tether ui)
from .main import cli, main
from .runs import register as _register_runs

_register_runs(cli)  # run, runs, lineage

__all__ = ["cli", "main"]
