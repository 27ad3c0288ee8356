"""The pages: each is one function from a request's parameters to its data.

Every page is served twice by :mod:`.app`: as HTML (its template) at its path
and as JSON at ``/api`` + its path, from the same data. A module adds pages
with :func:`page`; :data:`.app.PAGE_MODULES` lists the modules to import
(runs and lineage add theirs there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..catalog import ArtifactVersion
from ..diff import CHANGE_KINDS, Modified, Renamed, VersionDiff, folder_of
from ..diff import page as keyset_page
from ..errors import InvalidArgumentError
from ..models import Asset
from . import present, sections
from .reader import Reader

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
#: Status rows shown on the "check remote now" page (counts cover them all).
MAX_STATUS_ROWS = 2000


@attrs.frozen
class Page:
    path: str
    template: str
    build: Callable[[Reader, Mapping[str, str], Mapping[str, str]], dict[str, Any]]
    name: str


PAGES: list[Page] = []


def page(path: str, template: str, name: str) -> Callable[[Any], Any]:
    """Register a page: ``build(reader, path_params, query)`` returns its data."""
    def add(fn: Callable[[Reader, Mapping[str, str], Mapping[str, str]], dict[str, Any]]) -> Any:
        PAGES.append(Page(path, template, fn, name))
        return fn
    return add


def _int(query: Mapping[str, str], key: str, default: int, lo: int = 1, hi: int = MAX_PAGE_SIZE) -> int:
    raw = query.get(key)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgumentError(f"{key} must be a number, not {raw[:40]!r}") from None
    if not lo <= value <= hi:
        raise InvalidArgumentError(f"{key} must be between {lo} and {hi}")
    return value


@page("/", "artifacts.html", "artifacts")
def artifacts(reader: Reader, params: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    return reader.artifacts(q=query.get("q", ""), type_=query.get("type", ""), tag=query.get("tag", ""),
                            after=query.get("after", ""), limit=_int(query, "limit", PAGE_SIZE))


@page("/a/{name}", "artifact.html", "artifact")
def artifact(reader: Reader, params: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    before = query.get("before")
    return reader.artifact(params["name"], before=_int(query, "before", 0, 1, 10**12) if before else None,
                           limit=_int(query, "limit", 50))


def _version(reader: Reader, params: Mapping[str, str]) -> ArtifactVersion:
    name = params["name"]
    return reader.version(name, reader.number(name, params["ref"]))


def _version_head(reader: Reader, v: ArtifactVersion, asset_count: int | None = None,
                  total_size: int | None = None) -> dict[str, Any]:
    given = reader.root_given
    return {"version": v, "name": v.name, "number": v.version, "ref": v.ref, "type": v.type,
            "created_at": v.created_at, "digest": v.digest, "aliases": list(v.aliases), "tags": list(v.tags),
            "metadata": present.redact_deep(dict(v.metadata)),
            "asset_count": len(v.assets) if asset_count is None else asset_count,
            "total_size": v.total_size if total_size is None else total_size,
            "download_command": present.command(given and reader.root, v.ref)}


@page("/a/{name}/v/{ref}", "version.html", "version")
def version(reader: Reader, params: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    name = params["name"]
    number = reader.number(name, params["ref"])
    prefix, after = query.get("prefix", ""), query.get("after", "")
    got = reader.version_page(name, number, after=after, prefix=prefix, limit=_int(query, "limit", PAGE_SIZE))
    v = got["version"]
    return {**_version_head(reader, v, got["asset_count"], got["total_size"]), "prefix": prefix, "after": after,
            "assets": got["assets"], "matching": got["matching"], "next": got["next"],
            "sections": sections.load_all(reader.catalog, v)}


@page("/a/{name}/v/{ref}/folders", "folders.html", "folders")
def folders(reader: Reader, params: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    v = _version(reader, params)
    prefix = query.get("prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    files, nxt = reader.files_in(v, prefix, after=query.get("after", ""), limit=_int(query, "limit", PAGE_SIZE))
    parts = prefix.rstrip("/").split("/") if prefix else []
    crumbs = [{"name": p, "prefix": "/".join(parts[:i + 1]) + "/"} for i, p in enumerate(parts)]
    return {**_version_head(reader, v), "prefix": prefix, "crumbs": crumbs, "folders": reader.folder(v, prefix),
            "assets": files, "next": nxt}


@page("/a/{name}/v/{ref}/status", "status.html", "status")
def status(reader: Reader, params: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    """"Check remote now": the store compared with the manifest (reads only; never cached)."""
    v = _version(reader, params)
    result = v.status()
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    drift = [o for o in result.outcomes if o.status != "unchanged"]
    return {**_version_head(reader, v), "drifted": result.drifted, "counts": dict(sorted(counts.items())),
            "outcomes": [{"path": o.logical_path, "status": o.status, "uri": present.redact(o.uri),
                          "detail": o.detail} for o in drift[:MAX_STATUS_ROWS]],
            "cut": max(0, len(drift) - MAX_STATUS_ROWS)}


@page("/diff", "diff.html", "diff")
def diff(reader: Reader, params: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    a, b = query.get("a", ""), query.get("b", "")
    if not a or not b:
        raise InvalidArgumentError("give two versions to compare: /diff?a=NAME:VERSION&b=NAME:VERSION")
    prefix, kind = query.get("prefix", ""), query.get("kind", "")
    if kind and kind not in CHANGE_KINDS:
        raise InvalidArgumentError(f"kind must be one of {', '.join(CHANGE_KINDS)}")
    d = reader.diff(a, b, prefix)
    limit = _int(query, "limit", PAGE_SIZE)
    lists = {}
    for k in ([kind] if kind else CHANGE_KINDS):
        rows, nxt = keyset_page(d.changes(k), query.get("after") if kind else None, limit)
        lists[k] = {"rows": rows, "next": nxt, "total": len(d.changes(k))}
    return {"diff": d, "a": a, "b": b, "a_ref": d.a, "b_ref": d.b, "prefix": prefix, "kind": kind,
            "depth": _int(query, "depth", 1, 1, 64), "lists": lists}


# ------------------------------------------------------------------- JSON
def jsonable(value: Any) -> Any:
    """Page data as JSON: assets and changes as dicts, links redacted."""
    if isinstance(value, Asset):
        return present.asset_json(value)
    if isinstance(value, Modified):
        return {"path": value.path, "fields": list(value.fields), "old": present.asset_json(value.old),
                "new": present.asset_json(value.new)}
    if isinstance(value, Renamed):
        return {"old_path": value.old_path, "new_path": value.new_path, "by": value.by,
                "asset": present.asset_json(value.new)}
    if isinstance(value, VersionDiff):
        doc = value.to_dict(assets=False)
        doc["metadata"] = present.redact_deep(doc["metadata"])
        return doc
    if isinstance(value, ArtifactVersion):
        return None  # its fields are in the page data already
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "version" or not isinstance(v, ArtifactVersion)}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def group_by_folder(rows: list[Any]) -> list[tuple[str, list[Any]]]:
    """Consecutive rows (sorted by path) grouped under their folder, for the diff lists."""
    groups: list[tuple[str, list[Any]]] = []
    for r in rows:
        folder = folder_of(r.logical_path if isinstance(r, Asset) else r.path)
        if not groups or groups[-1][0] != folder:
            groups.append((folder, []))
        groups[-1][1].append(r)
    return groups
