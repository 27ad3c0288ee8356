"""Runs and lineage pages: ``/runs``, ``/runs/<id>`` and the version page's
"Produced by / used by" section, with a lineage graph drawn as inline SVG.

The graph is laid out here (no JavaScript, no external tool): one column per
layer, versions and runs alternating left to right (inputs, producing run,
the version, consuming run, outputs), boxes stacked in each column, straight
edges between them. Every label goes through Jinja2's autoescape in the
template; nothing here builds markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..catalog import ArtifactVersion, Catalog
from ..catalog.lineage import Lineage, edge_label
from ..catalog.runs import STATUSES, Edge, RunInfo
from ..errors import InvalidArgumentError
from . import present
from .reader import Reader
from .sections import Section, register
from .views import _int, page

RUN_PAGE_SIZE = 50
BOX_W, BOX_H, COL_GAP, ROW_GAP, PAD = 170, 34, 60, 14, 8


def ago(seconds: float | None) -> str | None:
    """``"42s"``, ``"5 min"``, ``"3 h"``, ``"2 d"``: how long since a run last wrote."""
    if seconds is None:
        return None
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h"
    return f"{s // 86400} d"


def _version_link(catalog: Catalog, name: str, number: int) -> dict[str, Any]:
    """A version as a link target, or marked deleted (its page would be a 404)."""
    try:
        deleted = catalog.is_deleted(name, number)
    except Exception:  # noqa: BLE001 - cannot tell: link it; its page says what is wrong
        deleted = False
    return {"name": name, "version": number, "ref": f"{name}:v{number}", "deleted": deleted,
            "url": None if deleted else f"/a/{name}/v/{number}"}


def _edge(catalog: Catalog, e: Edge) -> dict[str, Any]:
    return {**_version_link(catalog, e.name, e.version), "asked": e.ref, "label": edge_label(e),
            "alias": e.alias, "created": e.created, "at": e.at}


def _run_row(r: RunInfo) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "status": r.status, "started_at": r.started_at, "ended_at": r.ended_at,
            "last_write": r.last_write, "ago": ago(r.seconds_since_write()), "error": r.error,
            "url": f"/runs/{r.id}" if r.status != "unknown" else None}


@page("/runs", "runs.html", "runs")
def runs(reader: Reader, params: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    name, status = query.get("name", ""), query.get("status", "")
    if status and status not in STATUSES:
        raise InvalidArgumentError(f"status must be one of {', '.join(STATUSES)}")
    limit = _int(query, "limit", RUN_PAGE_SIZE)
    found = reader.catalog.runs(name=name or None, status=status or None, limit=limit)
    return {"runs": [_run_row(r) for r in found], "name": name, "status": status, "limit": limit,
            "statuses": list(STATUSES)}


@page("/runs/{run_id}", "run.html", "run")
def run(reader: Reader, params: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
    cat = reader.catalog
    r = cat.run(params["run_id"])  # UnknownRunError (a KeyError): 404
    return {**_run_row(r), "params": present.redact_deep(dict(r.params)),
            "metadata": present.redact_deep(dict(r.metadata)), "summary": present.redact_deep(dict(r.summary)),
            "external": present.redact_deep(dict(r.external)), "host": r.host, "user": r.user,
            "exit_code": r.exit_code, "command": list(r.command or ()), "python": r.python,
            "inputs": [_edge(cat, e) for e in r.inputs or ()], "outputs": [_edge(cat, e) for e in r.outputs or ()]}


def graph(lin: Lineage, catalog: Catalog) -> dict[str, Any]:
    """A layered layout of ``lin``: boxes with positions and edges, for the SVG template."""
    root = lin.root
    producers = lin.producers_of(root)
    consumers = lin.consumers_of(root)
    inputs = list(dict.fromkeys(e.version_ref for r in producers for e in r.inputs or ()))
    outputs = list(dict.fromkeys(e.version_ref for r in consumers for e in r.outputs or () if e.version_ref != root))
    columns: list[list[tuple[str, str]]] = [
        [("v", v) for v in inputs if v != root], [("r", r.id) for r in producers], [("v", root)],
        [("r", r.id) for r in consumers], [("v", v) for v in outputs]]
    columns = [c for c in columns if c]
    height = max(len(c) for c in columns) * (BOX_H + ROW_GAP) + 2 * PAD
    nodes: dict[tuple[str, str], dict[str, Any]] = {}
    for ci, col in enumerate(columns):
        top = (height - len(col) * (BOX_H + ROW_GAP) + ROW_GAP) // 2
        for ri, (kind, key) in enumerate(col):
            x, y = PAD + ci * (BOX_W + COL_GAP), top + ri * (BOX_H + ROW_GAP)
            if kind == "r":
                run_ = lin.runs[key]
                node = {"kind": "run", "label": run_.name, "sub": run_.status, "x": x, "y": y,
                        "url": f"/runs/{key}" if run_.status != "unknown" else None, "title": key}
            else:
                name, _, v = key.rpartition(":v")
                link = _version_link(catalog, name, int(v))
                node = {"kind": "version", "label": key, "sub": "deleted version" if link["deleted"] else "",
                        "x": x, "y": y, "url": link["url"], "title": key, "root": key == root}
            nodes.setdefault((kind, key), node)
    edges = []

    def add(a: tuple[str, str], b: tuple[str, str]) -> None:
        if a in nodes and b in nodes:
            na, nb = nodes[a], nodes[b]
            edges.append({"x1": na["x"] + BOX_W, "y1": na["y"] + BOX_H // 2, "x2": nb["x"], "y2": nb["y"] + BOX_H // 2})

    for r in producers:
        for e in r.inputs or ():
            add(("v", e.version_ref), ("r", r.id))
        add(("r", r.id), ("v", root))
    for r in consumers:
        add(("v", root), ("r", r.id))
        for e in r.outputs or ():
            if e.version_ref != root:
                add(("r", r.id), ("v", e.version_ref))
    return {"width": len(columns) * (BOX_W + COL_GAP) - COL_GAP + 2 * PAD, "height": height,
            "box_w": BOX_W, "box_h": BOX_H, "nodes": list(nodes.values()), "edges": edges}


def lineage_section(catalog: Catalog, version: ArtifactVersion) -> dict[str, Any] | None:
    lin = catalog.lineage(f"{version.name}:{version.version}", upstream=1, downstream=1)
    root = lin.root
    producers, consumers = lin.producers_of(root), lin.consumers_of(root)
    if not producers and not consumers:
        return None

    def row(r: RunInfo, side: str) -> dict[str, Any]:
        edges = [e for e in (r.inputs if side == "in" else r.outputs) or () if e.version_ref != root]
        return {**_run_row(r), "versions": [_edge(catalog, e) for e in edges]}

    return {"root": root, "produced_by": [row(r, "in") for r in producers],
            "used_by": [row(r, "out") for r in consumers], "graph": graph(lin, catalog)}


register(Section(key="lineage", title="Produced by / used by", template="sections/lineage.html",
                 load=lineage_section))
