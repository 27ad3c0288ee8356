"""The ``alias`` and ``tag`` subcommands: ``alias list|set|rm`` and ``tag list|add|rm``.

The ``alias`` and ``tag`` groups themselves stay in :mod:`.main` (other topic
modules add to them too); this module adds the commands that read and change
the references.
"""

from __future__ import annotations

from typing import Any

import click

from ..catalog.refs import parse_ref
from .completion import complete_alias, complete_name, complete_ref, complete_version
from .main import _catalog, _emit_json, _json_option, alias, tag


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


def _say(as_json: bool, doc: dict[str, Any], text: str) -> None:
    if as_json:
        _emit_json(doc)
    else:
        click.echo(text)

@alias.command(name="set")
@click.argument("name", shell_complete=complete_name)
@click.argument("alias_name", metavar="ALIAS", shell_complete=complete_alias)
@click.argument("version", shell_complete=complete_version)
@click.option("--force", is_flag=True, help="Move a protected alias.")
@_json_option("the alias set")
@click.pass_context
def alias_set(ctx: click.Context, name: str, alias_name: str, version: str, force: bool, as_json: bool) -> None:
    """Point ALIAS of NAME at VERSION."""
    _catalog(ctx).set_alias(name, alias_name, version, force=force)
    number = int(version.lstrip("v"))
    _say(as_json, {"name": name, "alias": alias_name, "version": number}, f"{name}@{alias_name} -> v{number}")


@alias.command(name="rm")
@click.argument("name", shell_complete=complete_name)
@click.argument("alias_name", metavar="ALIAS", shell_complete=complete_alias)
@click.option("--force", is_flag=True, help="Remove a protected alias (and its protection).")
@_json_option("the alias removed")
@click.pass_context
def alias_rm(ctx: click.Context, name: str, alias_name: str, force: bool, as_json: bool) -> None:
    """Remove ALIAS from NAME."""
    _catalog(ctx).remove_alias(name, alias_name, force=force)
    _say(as_json, {"name": name, "removed": alias_name}, f"removed {name}@{alias_name}")


@tag.command(name="add")
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]", shell_complete=complete_ref)
@click.argument("tags", nargs=-1, required=True, metavar="TAG...")
@click.option("--force", is_flag=True, help="Move or reuse an immutable tag.")
@_json_option("the tags added")
@click.pass_context
def tag_add(ctx: click.Context, ref: str, tags: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Add TAGs to a version (the latest when no version is given)."""
    cat = _catalog(ctx)
    v = cat.get(ref)
    cat.add_tags(v.name, v.version, *tags, force=force)
    _say(as_json, {"name": v.name, "version": v.version, "added": list(tags)}, f"{v.ref}: tagged {', '.join(tags)}")


@tag.command(name="rm")
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]", shell_complete=complete_ref)
@click.argument("tags", nargs=-1, required=True, metavar="TAG...")
@click.option("--force", is_flag=True, help="Remove an immutable tag (its name stays reserved).")
@_json_option("the tags removed")
@click.pass_context
def tag_rm(ctx: click.Context, ref: str, tags: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Remove TAGs from a version; a tag it does not have is an error."""
    cat = _catalog(ctx)
    v = cat.get(ref)
    cat.remove_tags(v.name, v.version, *tags, force=force)
    _say(as_json, {"name": v.name, "version": v.version, "removed": list(tags)},
         f"{v.ref}: untagged {', '.join(tags)}")
