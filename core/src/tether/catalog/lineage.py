"""``catalog.lineage(ref)``: the runs around one version, read from the edges.

From a version, the walk follows its *producers* (the runs that logged it)
to their inputs, and the inputs' producers, ``upstream`` levels back; and its
*consumers* (the runs that used it) to their outputs, ``downstream`` levels
on. Each step lists one folder of the version's reverse index and reads the
records and edges of the runs it names, so the cost grows with the graph
returned, never with the number of runs in the catalog: a version made by one
run and used by two costs the same on a catalog of ten runs or of 10,000.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import UnknownRunError
from .runs import Edge, RunInfo, RunStore

if TYPE_CHECKING:
    from .core import Catalog


@attrs.frozen
class Lineage:
    """The graph around ``root`` (``"name:vN"``).

    ``runs`` maps run ids to their records, each with all its input and
    output edges; ``versions`` lists every version any of them touches.
    ``expanded`` holds the versions whose producers / consumers were looked
    up (the others are the graph's edge, not the end of their history)."""

    catalog_root: str
    root: str
    upstream: int
    downstream: int
    runs: dict[str, RunInfo] = attrs.field(eq=False)
    versions: tuple[str, ...]
    producers: dict[str, tuple[str, ...]] = attrs.field(eq=False)
    consumers: dict[str, tuple[str, ...]] = attrs.field(eq=False)

    def producers_of(self, ref: str) -> list[RunInfo]:
        return [self.runs[r] for r in self.producers.get(ref, ()) if r in self.runs]

    def consumers_of(self, ref: str) -> list[RunInfo]:
        return [self.runs[r] for r in self.consumers.get(ref, ()) if r in self.runs]

    def to_dict(self) -> dict[str, Any]:
        return {"catalog": self.catalog_root, "root": self.root, "upstream": self.upstream,
                "downstream": self.downstream, "versions": list(self.versions),
                "producers": {k: list(v) for k, v in self.producers.items()},
                "consumers": {k: list(v) for k, v in self.consumers.items()},
                "runs": [r.to_dict() for r in self.runs.values()]}

    def to_text(self) -> str:
        from .lineage_render import text

        return text(self)

    def to_mermaid(self) -> str:
        from .lineage_render import mermaid

        return mermaid(self)

    def to_dot(self) -> str:
        from .lineage_render import dot

        return dot(self)


def lineage_of(catalog: Catalog, ref: str, *, upstream: int = 1, downstream: int = 1) -> Lineage:
    if upstream < 0 or downstream < 0:
        raise ValueError("upstream and downstream are numbers of levels, 0 or more")
    name, number = catalog._resolve(ref)
    root_claim = catalog._read_claim(name, number)  # raises UnknownVersionError for a missing version
    walk = _Walk(catalog)
    root = f"{name}:v{number}"
    walk.touch(root)
    walk.claims[root] = root_claim
    frontier = [root]
    for _ in range(upstream):
        frontier = walk.step(frontier, "producers", "input")
    frontier = [root]
    for _ in range(downstream):
        frontier = walk.step(frontier, "consumers", "output")
    return Lineage(catalog_root=catalog.root, root=root, upstream=upstream, downstream=downstream,
                   runs=walk.runs, versions=tuple(walk.versions), producers=walk.found["producers"],
                   consumers=walk.found["consumers"])


class _Walk:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.store = RunStore(catalog)
        self.runs: dict[str, RunInfo] = {}
        self.versions: list[str] = []
        self.claims: dict[str, dict[str, Any]] = {}
        self.found: dict[str, dict[str, tuple[str, ...]]] = {"producers": {}, "consumers": {}}

    def touch(self, ref: str) -> None:
        if ref not in self.versions:
            self.versions.append(ref)

    def step(self, frontier: Iterable[str], side: str, follow: str) -> list[str]:
        """Look up ``side`` (producers / consumers) of each version of the
        frontier; return the versions their runs ``follow`` (inputs / outputs)."""
        nxt: list[str] = []
        for ref in frontier:
            if ref in self.found[side]:
                continue  # reached twice (a diamond): looked up once
            name, _, v = ref.rpartition(":v")
            ids = set(self.store.version_runs(name, int(v), side))
            if side == "producers":
                # The claim names its creator even if that run died between
                # the claim and its edges.
                claim = self.claims.get(ref)
                if claim is None:
                    try:
                        claim = self.claims[ref] = self.catalog._read_claim(name, int(v))
                    except KeyError:  # UnknownVersionError: an edge to a deleted version
                        claim = {}
                if isinstance(claim.get("created_by_run"), str):
                    ids.add(claim["created_by_run"])
            self.found[side][ref] = tuple(sorted(ids))
            for run_id in sorted(ids):
                run = self.run(run_id)
                for e in run.inputs or ():
                    self.touch(e.version_ref)
                for e in run.outputs or ():
                    self.touch(e.version_ref)
                for e in (run.inputs if follow == "input" else run.outputs) or ():
                    nxt.append(e.version_ref)
        return list(dict.fromkeys(nxt))

    def run(self, run_id: str) -> RunInfo:
        run = self.runs.get(run_id)
        if run is None:
            try:
                run = self.store.info(run_id, with_edges=True)
            except UnknownRunError:
                # An edge naming a run whose record is gone: shown, not hidden.
                run = RunInfo(id=run_id, name="?", status="unknown", started_at="",
                              inputs=self.store.edges(run_id, "input"), outputs=self.store.edges(run_id, "output"))
            self.runs[run_id] = run
        return run


def edge_label(edge: Edge) -> str | None:
    """How an input was asked for (``@prod``, ``:latest``), when that says more than its version."""
    ref = edge.ref
    if not ref:
        return None
    if ref == edge.name:
        return ":latest"  # asked by name alone
    rest = ref.removeprefix(edge.name)
    return None if rest in (f":{edge.version}", f":v{edge.version}") else rest
