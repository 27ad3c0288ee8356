"""``tether list``: one row per artifact (or per version), from version claims alone.

Each row needs the latest version's size and time, which its claim carries
(``asset_count``, ``total_size``, ``created_at``), and the artifact's aliases:
no manifest is read, however large the versions are.
"""

from __future__ import annotations

from typing import Any

from ..catalog import Catalog
from ..errors import ManifestError, UnknownArtifactError
from .human import ago, human_size


def artifact_rows(cat: Catalog) -> list[dict[str, Any]]:
    """Per artifact: its latest version's summary and every alias (raw numbers, for ``--json``)."""
    rows = []
    for name in cat.artifacts():
        latest = cat.latest_version(name)
        if latest is None:
            continue  # a folder with no versions (all removed): nothing to list
        try:
            info = cat.version_info(name, latest)
        except (ManifestError, UnknownArtifactError, KeyError):
            rows.append({"name": name, "latest": latest, "asset_count": None, "total_size": None,
                         "created_at": None, "aliases": cat.aliases(name), "error": "unreadable version claim"})
            continue
        rows.append({"name": name, "latest": latest, "asset_count": info.asset_count,
                     "total_size": info.total_size, "created_at": info.created_at,
                     "aliases": dict(sorted(cat.aliases(name).items()))})
    return rows


def artifact_table(rows: list[dict[str, Any]]) -> list[str]:
    """The rows as an aligned table; an alias on an older version shows which (``stable=v2``)."""
    if not rows:
        return []
    cells = [("NAME", "LATEST", "SIZE", "ALIASES", "LOGGED")]
    for r in rows:
        aliases = ", ".join(a if v == r["latest"] else f"{a}=v{v}" for a, v in r["aliases"].items())
        cells.append((r["name"], f"v{r['latest']}", human_size(r["total_size"]), aliases or "-",
                      ago(r["created_at"]) if r["created_at"] else "?"))
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]) - 1)]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in cells]


def version_rows(cat: Catalog, name: str) -> list[dict[str, Any]]:
    """Every version of ``name`` from its claim, with the aliases pointing at it."""
    by_version: dict[int, list[str]] = {}
    for a, n in cat.aliases(name).items():
        by_version.setdefault(n, []).append(a)
    return [{"version": v.version, "created_at": v.created_at, "asset_count": v.asset_count,
             "total_size": v.total_size, "digest": v.digest, "aliases": sorted(by_version.get(v.version, []))}
            for v in cat.versions(name)]


def version_lines(rows: list[dict[str, Any]]) -> list[str]:
    return [f"v{r['version']}  {ago(r['created_at'])}  {r['asset_count']} asset(s)  {human_size(r['total_size'])}"
            + (f"  [{', '.join(r['aliases'])}]" if r["aliases"] else "") for r in rows]
