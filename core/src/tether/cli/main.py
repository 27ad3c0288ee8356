"""The ``tether`` command line: a thin layer over the Python API.

User mistakes print one line (``tether: error: ...``) and exit 1; usage errors
(a bad option value, a missing argument) print one such line too and exit 2;
Ctrl-C exits 130 after the download cleaned its temp files.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from .. import __version__
from ..artifact import Artifact
from ..catalog import ArtifactVersion, Catalog
from ..errors import TetherError
from ..paths import shown_name

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def _emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _catalog(ctx: click.Context) -> Catalog:
    return Catalog(ctx.obj.get("catalog"))


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    if not enabled or total <= 0:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False)
    try:
        yield bar.update
    finally:
        bar.close()


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    click.echo(f"tether: warning: {shown_name(str(message))}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tether")
@click.option("--catalog", envvar="TETHER_CATALOG", metavar="URI",
              help="Catalog root (folder, s3://..., gs://...). Default: the embedded catalog.")
@click.pass_context
def cli(ctx: click.Context, catalog: str | None) -> None:
    """Versioned remote artifacts: record where bytes live, fetch exactly them back."""
    ctx.ensure_object(dict)
    ctx.obj["catalog"] = catalog


def _version_json(v: ArtifactVersion, with_assets: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": v.name, "version": v.version, "type": v.type, "created_at": v.created_at,
        "digest": v.digest, "aliases": list(v.aliases), "tags": list(v.tags),
        "metadata": dict(v.metadata), "asset_count": len(v.assets), "total_size": v.total_size,
    }
    if with_assets:
        doc["assets"] = [{
            "logical_path": a.logical_path, "uri": a.uri, "link": a.link, "size": a.size,
            "checksums": dict(a.checksums), "version_id": a.version_id,
            "last_modified": a.last_modified, "synced": a.synced, "metadata": dict(a.metadata),
        } for a in v.assets]
    return doc


def _parse_meta(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in pairs:
        if "=" not in p:
            raise click.BadParameter(f"{p!r} is not KEY=VALUE", param_hint="--meta")
        k, _, v = p.partition("=")
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


@cli.command()
@click.argument("name")
@click.argument("uris", nargs=-1, metavar="URI...")
@click.option("--upload", "uploads", multiple=True, metavar="PATH",
              help="Local file or folder to upload into artifact storage (repeatable).")
@click.option("--type", "type_", default="dataset", show_default=True)
@click.option("--alias", "aliases", multiple=True, help="Alias to point at the new version (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Tag for the new version (repeatable).")
@click.option("--meta", "meta", multiple=True, metavar="KEY=VALUE", help="Artifact metadata (repeatable).")
@click.option("--strict", is_flag=True, help="Fail instead of recording link-only assets.")
@click.option("--max-objects", type=click.IntRange(min=1), default=None,
              help="Cap on objects per prefix (default 10000).")
@click.option("--artifacts-uri", default=None, help="Where --upload files go (default: the catalog's storage).")
@click.option("--json", "as_json", is_flag=True, help="Print the logged version as JSON.")
@click.pass_context
def log(ctx: click.Context, name: str, uris: tuple[str, ...], uploads: tuple[str, ...], type_: str,
        aliases: tuple[str, ...], tags: tuple[str, ...], meta: tuple[str, ...], strict: bool,
        max_objects: int | None, artifacts_uri: str | None, as_json: bool) -> None:
    """Log URI... (objects, prefixes, globs, local paths) as the next version of NAME."""
    if not uris and not uploads:
        raise click.UsageError("give at least one URI or --upload PATH")
    art = Artifact(name, type=type_, metadata=_parse_meta(meta), strict=strict,
                   max_objects=max_objects, artifacts_uri=artifacts_uri)
    for uri in uris:
        art.add_remote(uri)
    for path in uploads:
        art.add(path)
    v = _catalog(ctx).log(art, aliases=aliases, tags=tags)
    if as_json:
        _emit_json(_version_json(v, with_assets=False))
    else:
        click.echo(f"{v.ref}: {len(v.assets)} asset(s), {v.total_size} bytes"
                   + (f", aliases {', '.join(v.aliases)}" if v.aliases else ""))


def _check_shard(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from ..selection import parse_shard

    try:
        parse_shard(value)
    except TetherError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def _selection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--include / --exclude / --shard: the assets a command works on (see tether.selection)."""
    fn = click.option("--shard", default=None, metavar="I/N", callback=_check_shard,
                      help="Only shard I of N (0-based), balanced by bytes; the same on every machine.")(fn)
    fn = click.option("--exclude", "exclude", multiple=True, metavar="PATTERN",
                      help="Skip logical paths matching PATTERN (repeatable).")(fn)
    fn = click.option("--include", "include", multiple=True, metavar="PATTERN",
                      help="Only logical paths matching PATTERN, e.g. 'train/**' (repeatable).")(fn)
    return fn


def _selection(include: tuple[str, ...], exclude: tuple[str, ...], shard: str | None) -> dict[str, Any]:
    return {"include": list(include) or None, "exclude": list(exclude) or None, "shard": shard}



@cli.command()
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--overwrite", type=click.Choice(["fail", "preserve", "overwrite"]), default="fail",
              show_default=True, help="What to do with differing files already in DEST.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel transfers.")
@click.option("--strict", is_flag=True, help="Fail if the version has link-only assets.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@_selection_options
@click.pass_context
def download(ctx: click.Context, ref: str, dest: str, overwrite: str, workers: int | None,
             strict: bool, as_json: bool, progress: bool | None, include: tuple[str, ...],
             exclude: tuple[str, ...], shard: str | None) -> None:
    """Download exactly the recorded bytes of a version into DEST, verified."""
    v = _catalog(ctx).get(ref)
    chosen = _selection(include, exclude, shard)
    show = sys.stderr.isatty() if progress is None else progress
    with _progress(sum(a.size or 0 for a in v.select(**chosen)), show) as cb:
        result = v.download(dest, overwrite=overwrite, workers=workers, progress=cb,  # type: ignore[arg-type]
                            strict=strict, raise_on_error=False, **chosen)
    if as_json:
        _emit_json({"ref": v.ref, "dest": str(result.dest), "ok": result.ok, "counts": result.counts(),
                    "outcomes": [{"logical_path": o.logical_path, "status": o.status, "path": o.path,
                                  "error": o.error} for o in result.outcomes]})
    else:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(result.counts().items()))
        click.echo(f"{v.ref} -> {result.dest}: {counts}")
        for o in result.with_status("skipped"):
            click.echo(f"  skipped {o.logical_path}: {o.error}")
        for o in result.with_status("failed"):
            click.echo(f"  failed {o.logical_path}: {o.error}", err=True)
    if not result.ok:
        ctx.exit(EXIT_ERROR)


@cli.command()
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one version and its assets."""
    v = _catalog(ctx).get(ref)
    if as_json:
        _emit_json(_version_json(v))
        return
    click.echo(f"{v.ref}  type={v.type}  created={v.created_at}")
    click.echo(f"  {len(v.assets)} asset(s), {v.total_size} bytes, digest {v.digest}")
    if v.aliases:
        click.echo(f"  aliases: {', '.join(v.aliases)}")
    if v.tags:
        click.echo(f"  tags: {', '.join(v.tags)}")
    for k, val in v.metadata.items():
        click.echo(f"  meta {k} = {json.dumps(val, default=str)}")
    for a in v.assets:
        if a.synced:
            ver = f" @{a.version_id}" if a.version_id else ""
            click.echo(f"  {a.logical_path}  {a.size}  {a.uri}{ver}")
        else:
            click.echo(f"  {a.logical_path}  (link only) {a.link}")


@cli.command(name="list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """List artifacts, or the versions of NAME."""
    cat = _catalog(ctx)
    if name is None:
        names = cat.artifacts()
        if as_json:
            _emit_json(names)
        else:
            for n in names:
                click.echo(n)
        return
    versions = cat.versions(name)
    aliases = cat.aliases(name)
    by_version: dict[int, list[str]] = {}
    for a, n in aliases.items():
        by_version.setdefault(n, []).append(a)
    if as_json:
        _emit_json([{"version": v.version, "created_at": v.created_at, "asset_count": v.asset_count,
                     "total_size": v.total_size, "digest": v.digest,
                     "aliases": sorted(by_version.get(v.version, []))} for v in versions])
        return
    for v in versions:
        al = by_version.get(v.version)
        click.echo(f"v{v.version}  {v.created_at}  {v.asset_count} asset(s)  {v.total_size} bytes"
                   + (f"  [{', '.join(sorted(al))}]" if al else ""))


@cli.command()
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]")
@click.argument("dest", type=click.Path(file_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True)
@_selection_options
@click.pass_context
def verify(ctx: click.Context, ref: str, dest: str, as_json: bool, include: tuple[str, ...],
           exclude: tuple[str, ...], shard: str | None) -> None:
    """Check a local copy in DEST against the version's sizes and checksums."""
    v = _catalog(ctx).get(ref)
    result = v.verify(dest, **_selection(include, exclude, shard))
    if as_json:
        _emit_json({"ref": v.ref, "ok": result.ok, "outcomes": [
            {"logical_path": o.logical_path, "status": o.status, "detail": o.detail} for o in result.outcomes]})
    else:
        bad = [o for o in result.outcomes if o.status not in ("ok", "skipped")]
        for o in bad:
            click.echo(f"  {o.status} {o.logical_path}" + (f": {o.detail}" if o.detail else ""))
        click.echo(f"{v.ref} in {dest}: " + ("verified" if result.ok else f"{len(bad)} problem(s)"))
    if not result.ok:
        ctx.exit(EXIT_ERROR)


@cli.command()
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]")
@click.option("--json", "as_json", is_flag=True)
@_selection_options
@click.pass_context
def status(ctx: click.Context, ref: str, as_json: bool, include: tuple[str, ...], exclude: tuple[str, ...],
           shard: str | None) -> None:
    """Compare a version with the store now: unchanged / modified / deleted / new."""
    v = _catalog(ctx).get(ref)
    result = v.status(**_selection(include, exclude, shard))
    if as_json:
        _emit_json({"ref": v.ref, "drifted": result.drifted, "outcomes": [
            {"logical_path": o.logical_path, "status": o.status, "uri": o.uri, "detail": o.detail}
            for o in result.outcomes]})
        return
    for o in result.outcomes:
        if o.status != "unchanged":
            click.echo(f"  {o.status:9} {o.logical_path or o.uri}" + (f"  ({o.detail})" if o.detail else ""))
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    click.echo(f"{v.ref}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json: bool) -> None:
    """List discovered driver plugins: package, version, schemes, load errors."""
    from ..plugins import get_registry

    reg = get_registry()
    reg.load()
    conflicts = reg.conflicts()
    rows = [{"name": p.name, "module": p.module, "distribution": p.distribution, "version": p.version,
             "schemes": list(p.schemes), "drivers": list(p.drivers), "error": p.error} for p in reg.plugins]
    if as_json:
        _emit_json({"plugins": rows, "conflicts": conflicts})
        return
    for r in rows:
        dist = f"{r['distribution']} {r['version']}" if r["distribution"] else r["module"]
        if r["error"]:
            click.echo(f"{r['name']:10} {dist:24} FAILED: {r['error']}")
        else:
            click.echo(f"{r['name']:10} {dist:24} {', '.join(s + '://' for s in r['schemes'])}")
    for scheme, names in conflicts.items():
        click.echo(f"conflict: {scheme}:// is claimed by {', '.join(names)} "
                   f"(set TETHER_DRIVER_{scheme.upper()}=<plugin>)")


@cli.group()
def alias() -> None:
    """Move or remove aliases."""


@alias.command(name="set")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version")
@click.pass_context
def alias_set(ctx: click.Context, name: str, alias_name: str, version: str) -> None:
    """Point ALIAS of NAME at VERSION."""
    _catalog(ctx).set_alias(name, alias_name, version)
    click.echo(f"{name}@{alias_name} -> v{version.lstrip('v')}")


@alias.command(name="rm")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.pass_context
def alias_rm(ctx: click.Context, name: str, alias_name: str) -> None:
    """Remove ALIAS from NAME."""
    _catalog(ctx).remove_alias(name, alias_name)
    click.echo(f"removed {name}@{alias_name}")


@cli.group()
def tag() -> None:
    """Add or remove tags of a version."""


@tag.command(name="add")
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]")
@click.argument("tags", nargs=-1, required=True)
@click.pass_context
def tag_add(ctx: click.Context, ref: str, tags: tuple[str, ...]) -> None:
    cat = _catalog(ctx)
    v = cat.get(ref)
    cat.add_tags(v.name, v.version, *tags)
    click.echo(f"{v.ref}: tagged {', '.join(tags)}")


@tag.command(name="rm")
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]")
@click.argument("tags", nargs=-1, required=True)
@click.pass_context
def tag_rm(ctx: click.Context, ref: str, tags: tuple[str, ...]) -> None:
    cat = _catalog(ctx)
    v = cat.get(ref)
    cat.remove_tags(v.name, v.version, *tags)
    click.echo(f"{v.ref}: untagged {', '.join(tags)}")


def _one_line(exc: click.ClickException) -> str:
    """Click's message as one line; usage errors point at the command's help."""
    text = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        text += f" (see '{ctx.command_path} --help')"
    return text


def main(argv: list[str] | None = None) -> None:
    warnings.showwarning = _show_warning  # one line per warning, no source dump
    args = sys.argv[1:] if argv is None else argv
    if any("\x00" in a for a in args):  # no path or URI can hold one; click would trip over it
        click.echo("tether: error: arguments cannot contain NUL bytes", err=True)
        sys.exit(2)
    try:
        rc = cli.main(args=argv, prog_name="tether", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:  # a bare `tether`: the help is the answer
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"tether: error: {_one_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("tether: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("tether: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (TetherError, OSError) as exc:  # OSError: disk full, permission denied on DEST ...
        click.echo(f"tether: error: {shown_name(str(exc))}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(rc if isinstance(rc, int) else 0)

