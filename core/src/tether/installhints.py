"""Which distribution serves a scheme, and the command that installs it.

A scheme whose driver is not installed gets an install hint (:func:`install_hint`)
that can be acted on where tether came from: the distribution name when tether
came from an index, the driver's folder in the same source tree when tether was
installed from one (``pip install ./core``, ``pip install -e core``), because a
checkout's drivers are on no index.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import shlex
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

#: Schemes with a known driver distribution, for the install hint and ``tether info``.
#: A distribution ``tether-<x>`` lives in ``plugins/<x>/`` of tether's source tree.
INSTALL_HINTS: dict[str, str] = {
    "file": "tether-local",
    "s3": "tether-s3",
    "s3a": "tether-s3",
    "gs": "tether-gcs",
    "gcs": "tether-gcs",
    "az": "tether-azure",
    "abfs": "tether-azure",
    "abfss": "tether-azure",
    "http": "tether-http",
    "https": "tether-http",
}

#: Schemes whose URIs stay usable when their distribution is not installed: they
#: are recorded as link-only references (what a bookmark of a web page is)
#: instead of failing with the install hint. The web is full of URLs worth
#: recording even where tether cannot fetch them; an ``s3://`` URI without
#: tether-s3 is a setup mistake to report.
LINK_ONLY_WITHOUT_DRIVER: frozenset[str] = frozenset({"http", "https"})


def install_command(scheme: str) -> str | None:
    """``"pip install tether-s3"``, or None when no known distribution serves ``scheme``
    (the folder form when tether came from a source tree, see :func:`install_hint`)."""
    dist = INSTALL_HINTS.get(scheme)
    if dist is None:
        return None
    target = dist
    tree = _source_tree()
    if tree is not None:
        root, editable = tree
        folder = root / "plugins" / dist.removeprefix("tether-")
        if (folder / "pyproject.toml").is_file():
            target = ("-e " if editable else "") + shlex.quote(str(folder))
    return f"pip install {target}"


def link_only_note(scheme: str) -> str:
    """What to add to a link-only message for a scheme a known distribution
    serves: ``"; tether-http fetches and verifies https:// URIs (pip install tether-http)"``,
    else ``""``."""
    command = install_command(scheme)
    if command is None:
        return ""
    return f"; {INSTALL_HINTS[scheme]} fetches and verifies {scheme}:// URIs ({command})"


def install_hint(scheme: str) -> str | None:
    """``"s3:// needs: pip install tether-s3"``, or None when no known distribution serves ``scheme``.

    When the ``tether`` distribution records that it was installed from a local
    folder (its PEP 610 ``direct_url.json`` has ``dir_info``), the hint names the
    driver's folder in that tree instead, with ``-e`` if tether itself is
    editable: ``pip install /src/tether/plugins/s3``. That is what pip itself
    would need, since a checkout's drivers are on no index. The name is the
    fallback when the folder is gone.
    """
    command = install_command(scheme)
    return None if command is None else f"{scheme}:// needs: {command}"


def _source_tree() -> tuple[Path, bool] | None:
    """(checkout root, editable) when tether was installed from a local folder, else None."""
    try:
        raw = md.distribution("tether").read_text("direct_url.json")
    except md.PackageNotFoundError:
        return None
    if not raw:
        return None  # installed from an index: pip writes direct_url.json only for direct URLs
    try:
        info = json.loads(raw)
        url = urlsplit(info["url"])
        dir_info = info["dir_info"]  # absent for an archive (a wheel or sdist file) or a VCS URL
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if url.scheme != "file" or not isinstance(dir_info, dict):
        return None
    core = Path(url2pathname(url.path))
    if info.get("subdirectory"):
        core = core / info["subdirectory"]
    return core.parent, bool(dir_info.get("editable"))


__all__ = ["INSTALL_HINTS", "LINK_ONLY_WITHOUT_DRIVER", "install_command", "install_hint", "link_only_note"]
