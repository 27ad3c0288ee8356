"""``tether alias list`` and ``tether tag list``: reading what ``alias set`` and ``tag add`` wrote."""

from __future__ import annotations

import click

from ..catalog.refs import parse_ref
from .completion import complete_name, complete_ref
from .main import _catalog, _emit_json, alias, tag


@alias.command(name="list")
@click.argument("name", shell_complete=complete_name)
@click.option("--json", "as_json", is_flag=True, help="Print {alias: version} as JSON.")
@click.pass_context
def alias_list(ctx: click.Context, name: str, as_json: bool) -> None:
    """List the aliases of NAME and the versions they point at."""
    cat = _catalog(ctx)
    cat.versions(name)  # an unknown name is an error (with suggestions), not an empty list
    aliases = dict(sorted(cat.aliases(name).items()))
    if as_json:
        _emit_json(aliases)
        return
    if not aliases:
        click.echo(f"{name} has no aliases", err=True)
    for a, v in aliases.items():
        click.echo(f"{name}@{a} -> v{v}")


@tag.command(name="list")
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]", shell_complete=complete_ref)
@click.option("--json", "as_json", is_flag=True, help="Print {version: [tags]} as JSON.")
@click.pass_context
def tag_list(ctx: click.Context, ref: str, as_json: bool) -> None:
    """List the tags of one version, or of every version of NAME."""
    cat = _catalog(ctx)
    name, version, alias_name = parse_ref(ref)
    if version is None and alias_name is None:
        numbers = [v.version for v in cat.versions(name)]
    else:
        numbers = [cat.get(ref).version]
    tags = {n: sorted(cat.tags(name, n)) for n in numbers}
    if as_json:
        _emit_json({str(n): t for n, t in tags.items()})
        return
    if not any(tags.values()):
        click.echo(f"{ref} has no tags", err=True)
    for n, t in tags.items():
        if t:
            click.echo(f"{name}:v{n}  {', '.join(t)}")
