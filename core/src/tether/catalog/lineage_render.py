"""Rendering a :class:`~tether.catalog.lineage.Lineage`: a text tree, Mermaid, Graphviz DOT."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lineage import edge_label

if TYPE_CHECKING:
    from .lineage import Lineage
    from .runs import Edge, RunInfo


def age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def describe(run: RunInfo) -> str:
    """``train-resnet 2026...-3f9a [finished, mlflow=abc]``: a run in one line."""
    state = run.status
    if run.status == "running":
        state += f", last wrote {age(run.seconds_since_write())} ago"
    if run.exit_code not in (None, 0):
        state += f", exit code {run.exit_code}"
    extra = "".join(f", {k}={v}" for k, v in run.external.items())
    return f"{run.name} {run.id} [{state}{extra}]"


def _asked(edge: Edge) -> str:
    label = edge_label(edge)
    return f" (asked {edge.name}{label})" if label else ""


# ----------------------------------------------------------------------- text
def text(lin: Lineage) -> str:
    lines = [lin.root]
    shown: set[str] = set()

    def up(ref: str, indent: str) -> None:
        for run in lin.producers_of(ref):
            lines.append(f"{indent}produced by run {describe(run)}")
            if run.id in shown:
                lines.append(f"{indent}  (shown above)")
                continue
            shown.add(run.id)
            for e in run.inputs or ():
                lines.append(f"{indent}  used {e.version_ref}{_asked(e)}")
                if e.version_ref in lin.producers:
                    up(e.version_ref, indent + "    ")
            for e in run.outputs or ():
                if e.version_ref != ref:
                    lines.append(f"{indent}  also produced {e.version_ref}")

    def down(ref: str, indent: str) -> None:
        for run in lin.consumers_of(ref):
            asked = "".join(_asked(e) for e in run.inputs or () if e.version_ref == ref)
            lines.append(f"{indent}used by run {describe(run)}{asked}")
            if run.id in shown:
                lines.append(f"{indent}  (shown above)")
                continue
            shown.add(run.id)
            for e in run.inputs or ():
                if e.version_ref != ref:
                    lines.append(f"{indent}  also used {e.version_ref}{_asked(e)}")
            for e in run.outputs or ():
                lines.append(f"{indent}  produced {e.version_ref}" + ("" if e.created is not False else
                                                                     " (unchanged: existing version)"))
                if e.version_ref in lin.consumers:
                    down(e.version_ref, indent + "    ")

    up(lin.root, "  ")
    down(lin.root, "  ")
    if len(lines) == 1:
        lines.append("  no run produced or used this version" if lin.upstream or lin.downstream
                     else "  (upstream=0, downstream=0)")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------- graphs
def _edges(lin: Lineage) -> list[tuple[str, str, str | None]]:
    """(from, to, label) with version nodes as ``name:vN`` and runs as ``run:<id>``."""
    out: dict[tuple[str, str], list[str]] = {}
    for run in lin.runs.values():
        for e in run.inputs or ():
            labels = out.setdefault((e.version_ref, "run:" + run.id), [])
            label = edge_label(e)
            if label and label not in labels:
                labels.append(label)
        for e in run.outputs or ():
            out.setdefault(("run:" + run.id, e.version_ref), [])
    return [(a, b, ", ".join(labels) or None) for (a, b), labels in out.items()]


def _run_label(run: RunInfo) -> list[str]:
    parts = [run.name, run.id, run.status]
    parts += [f"{k}: {v}" for k, v in run.external.items()]
    return parts


def mermaid(lin: Lineage) -> str:
    ids: dict[str, str] = {}

    def node(key: str) -> str:
        if key not in ids:
            ids[key] = ("r" if key.startswith("run:") else "v") + str(len(ids))
        return ids[key]

    def esc(s: str) -> str:
        return s.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")

    lines = ["flowchart LR"]
    for ref in lin.versions:
        lines.append(f'  {node(ref)}[("{esc(ref)}")]')
    for run in lin.runs.values():
        text_label = "<br/>".join(esc(p) for p in _run_label(run))
        lines.append(f'  {node("run:" + run.id)}["{text_label}"]')
    for a, b, label in _edges(lin):
        arrow = f' -- "{esc(label)}" --> ' if label else " --> "
        lines.append(f"  {node(a)}{arrow}{node(b)}")
    lines.append("  classDef root stroke-width:4px")
    lines.append("  classDef failed fill:#fdd,stroke:#c00")
    lines.append("  classDef running fill:#ffd,stroke:#cc0")
    lines.append(f"  class {node(lin.root)} root")
    for status in ("failed", "running"):
        nodes = [node("run:" + r.id) for r in lin.runs.values() if r.status == status]
        if nodes:
            lines.append(f"  class {','.join(nodes)} {status}")
    return "\n".join(lines) + "\n"


def dot(lin: Lineage) -> str:
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for ref in lin.versions:
        extra = ", penwidth=3" if ref == lin.root else ""
        lines.append(f"  {q(ref)} [shape=cylinder{extra}];")
    colours = {"failed": "#ffdddd", "running": "#ffffdd"}
    for run in lin.runs.values():
        fill = f', style=filled, fillcolor="{colours[run.status]}"' if run.status in colours else ""
        lines.append(f"  {q('run:' + run.id)} [shape=box, label={q(chr(10).join(_run_label(run)))}{fill}];")
    for a, b, label in _edges(lin):
        lines.append(f"  {q(a)} -> {q(b)}" + (f" [label={q(label)}]" if label else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"
