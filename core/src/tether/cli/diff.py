"""``tether diff REF_A REF_B``: what changed between two versions.

Exit status as diff(1) and ``git diff --exit-code`` give it: 0 when the
versions are the same, 1 when they differ, 2 on trouble (an unknown artifact
or version, a catalog that cannot be read: one ``tether: error:`` line).
"""

from __future__ import annotations

import re

import click

from ..diff import CHANGE_KINDS, VersionDiff, human_size, path_of
from ..errors import TetherError
from ..paths import shown_name
from .main import _catalog, _emit_json, cli

EXIT_SAME, EXIT_DIFFERENT, EXIT_TROUBLE = 0, 1, 2
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class DiffTrouble(click.ClickException):
    """A failure of ``tether diff`` itself: exit 2, so scripts can tell it from "they differ"."""

    exit_code = EXIT_TROUBLE


def shown(text: str) -> str:
    """A path for a terminal: control characters (a newline, an escape sequence in
    an object key) as ``\\x1b``, as git quotes unusual paths, so output stays one line each."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", shown_name(text))


def _summary(d: VersionDiff) -> str:
    c = d.counts()
    text = (f"{d.a} -> {d.b}" + (f" (under {shown(d.prefix)})" if d.prefix else "") + ": "
            + ", ".join(f"{c[k]} {k}" for k in (*CHANGE_KINDS, "unchanged"))
            + f" (+{human_size(d.bytes_added)}, -{human_size(d.bytes_removed)})")
    meta = [f"{len(v)} {k}" for k, v in (("added", d.metadata_added), ("removed", d.metadata_removed),
                                         ("changed", d.metadata_changed)) if v]
    if meta:
        text += "; metadata: " + ", ".join(meta)
    if d.type_change:
        text += f"; type: {shown(d.type_change[0])} -> {shown(d.type_change[1])}"
    return text


def _stat(d: VersionDiff, depth: int) -> None:
    rows = [f for f in d.folders(depth) if f.changed]
    width = max([len(shown(f.prefix or "./")) for f in rows] + [4])
    for f in rows:
        marks = "  ".join(f"{sym}{n}" for sym, n in (("+", f.added), ("-", f.removed), ("~", f.modified),
                                                      (">", f.renamed)) if n)
        click.echo(f" {shown(f.prefix or './'):{width}}  {marks:28}  +{human_size(f.bytes_added)} "
                   f"-{human_size(f.bytes_removed)}")
    click.echo(_summary(d))


def _lists(d: VersionDiff) -> None:
    for a in d.added:
        click.echo(f"A  {shown(a.logical_path)}  ({human_size(a.size)})")
    for a in d.removed:
        click.echo(f"D  {shown(a.logical_path)}  ({human_size(a.size)})")
    for m in d.modified:
        sizes = f"  ({human_size(m.old.size)} -> {human_size(m.new.size)})" if "size" in m.fields else ""
        click.echo(f"M  {shown(m.path)}  {', '.join(m.fields)}{sizes}")
    for r in d.renamed:
        click.echo(f"R  {shown(r.old_path)} -> {shown(r.new_path)}  (same {r.by})")
    for k, v in d.metadata_added.items():
        click.echo(f"+meta {shown(k)} = {shown(repr(v))}")
    for k, v in d.metadata_removed.items():
        click.echo(f"-meta {shown(k)} = {shown(repr(v))}")
    for k, (old, new) in d.metadata_changed.items():
        click.echo(f"~meta {shown(k)}: {shown(repr(old))} -> {shown(repr(new))}")


@cli.command()
@click.argument("ref_a", metavar="REF_A")
@click.argument("ref_b", metavar="REF_B")
@click.option("--json", "as_json", is_flag=True, help="The whole diff as JSON.")
@click.option("--stat", is_flag=True, help="Only the per-folder summary and the totals.")
@click.option("--name-only", is_flag=True, help="Only the changed paths (a rename's new path), one a line.")
@click.option("--prefix", default=None, metavar="P", help="Only logical paths starting with P.")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True,
              help="Folder depth of the per-folder summary.")
@click.pass_context
def diff(ctx: click.Context, ref_a: str, ref_b: str, as_json: bool, stat: bool, name_only: bool,
         prefix: str | None, depth: int) -> None:
    """What changed from REF_A to REF_B (NAME:VERSION or NAME@ALIAS).

    Prints a summary per folder and the totals (like git diff --stat), then
    the added (A), removed (D), modified (M) and renamed (R) assets and the
    metadata keys. Exit status: 0 the same, 1 different, 2 trouble."""
    try:
        d = _catalog(ctx).diff(ref_a, ref_b, prefix=prefix)
    except (TetherError, OSError) as exc:
        raise DiffTrouble(shown_name(str(exc))) from None
    if as_json:
        _emit_json(d.to_dict(depth=depth))
    elif name_only:
        for path in sorted({path_of(x) for k in CHANGE_KINDS for x in d.changes(k)}):
            click.echo(shown(path))
    else:
        _stat(d, depth)
        if not stat and not d.equal:
            click.echo()
            _lists(d)
    ctx.exit(EXIT_SAME if d.equal else EXIT_DIFFERENT)
