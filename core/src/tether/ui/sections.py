"""Extra sections of the version page: where runs and lineage plug in.

The version page renders, after its own content, each registered
:class:`Section` whose ``load`` returns data for that version (None: nothing
to show), with the section's template. The JSON answer carries the same data
under ``sections.<key>``. A feature adds a section by registering it at
import, in the module that also adds its routes (see :mod:`.app`)::

    from tether.ui.sections import Section, register

    register(Section(key="lineage", title="Produced by / used by",
                     template="sections/lineage.html",
                     load=lambda catalog, version: lineage_data(catalog, version)))

A section that fails to load is shown as its error alone; the page stays up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ..catalog import ArtifactVersion, Catalog


@attrs.frozen
class Section:
    key: str
    title: str
    template: str
    load: Callable[[Catalog, ArtifactVersion], Any]


SECTIONS: list[Section] = []


def register(section: Section) -> None:
    """Add ``section`` (replacing one with the same key)."""
    SECTIONS[:] = [s for s in SECTIONS if s.key != section.key] + [section]


def load_all(catalog: Catalog, version: ArtifactVersion) -> list[dict[str, Any]]:
    out = []
    for s in SECTIONS:
        try:
            data = s.load(catalog, version)
        except Exception as exc:  # noqa: BLE001 - one section's failure must not take the page down
            out.append({"key": s.key, "title": s.title, "template": s.template, "error": str(exc)})
            continue
        if data is not None:
            out.append({"key": s.key, "title": s.title, "template": s.template, "data": data})
    return out
