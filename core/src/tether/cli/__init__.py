"""The ``tether`` command line.

:mod:`.main` holds the click group, the shared output helpers and the core
commands (log, download, show, list, verify, status, alias, tag, plugins);
each further topic is a module of its own that adds its commands to the same
group when imported below:

* :mod:`.info`   – ``tether info``: the catalog, config file and drivers in use
* :mod:`.refs`   – ``tether alias list``, ``tether tag list``

Helpers: :mod:`.style` (help output), :mod:`.errors` (errors in the CLI's
words, JSON errors), :mod:`.sources` (what ``log`` does with each source),
:mod:`.progress` (progress bars), :mod:`.outcomes` (download / verify
summaries), :mod:`.listing` (``list``), :mod:`.completion` (shell completion),
:mod:`.human` (sizes and times).
"""

from __future__ import annotations

from . import info, refs  # noqa: F401 - registering their commands is the import's purpose
from .main import cli, main

__all__ = ["cli", "main"]
