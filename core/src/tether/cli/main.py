"""The ``tether`` command line: a thin layer over the Python API.

Exit codes (the table in the README and docs/reference.md): 0 success; 1 an
error (one line, ``tether: error: ...``, in the CLI's words: see
:mod:`.errors`), problems found by ``verify``, drift found by ``status``, a
download with failed files; 2 a usage error (a bad option value, a missing
argument), also one line; 130 interrupted (Ctrl-C), after the download
cleaned its temp files. With ``--json``, errors are JSON on stdout.
"""

from __future__ import annotations

import importlib
import json
import sys
import warnings
from collections.abc import Callable
from typing import Any

import attrs
import click

from .. import __version__
from ..artifact import Artifact, InPlaceWarning
from ..catalog import ArtifactVersion, Catalog
from ..checksums import kinds as checksum_kinds
from ..errors import TetherError
from ..uris import redact
from . import progress as shown_progress
from .completion import complete_name, complete_ref
from .errors import cli_message, report, wants_json
from .human import human_size
from .listing import artifact_rows, artifact_table, version_lines, version_rows
from .outcomes import LABELS, count_text, download_problem, log_line, verify_summary
from .progress import byte_bar as _progress
from .sources import Source, SourceOptions, add_sources, check_flags, in_place_note, split_source
from .style import TetherGroup

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _catalog(ctx: click.Context) -> Catalog:
    return Catalog(ctx.obj.get("catalog"))


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    if issubclass(category, InPlaceWarning):
        return  # `log --in-place` says it in the CLI's words
    click.echo(f"tether: warning: {cli_message(str(message))}", err=True)


def _json_option(what: str) -> Callable[[Any], Any]:
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON on stdout (errors too).")


@click.group(cls=TetherGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tether", help="Show the version and exit.")
@click.option("--catalog", envvar="TETHER_CATALOG", metavar="URI",
              help="Catalog to use: a folder, s3://bucket/prefix, gs://... (env: TETHER_CATALOG; default: the "
                   "embedded catalog in TETHER_HOME or the per-user data folder; see 'tether info').")
@click.pass_context
def cli(ctx: click.Context, catalog: str | None) -> None:
    """Versioned remote artifacts: record where bytes live, fetch exactly them back.

    Exit codes: 0 ok; 1 error, or problems found (verify, status, download);
    2 usage error; 130 interrupted."""
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
            "part_size": a.part_size, "verification": a.verification,
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


@cli.command(usage_lines=["[OPTIONS] NAME [PREFIX=]SOURCE...", "[OPTIONS] NAME --upload PATH..."])
@click.argument("name", shell_complete=complete_name)
@click.argument("uris", nargs=-1, metavar="[PREFIX=]SOURCE...")
@click.option("--upload", "uploads", multiple=True, metavar="PATH",
              help="Local file or folder to upload (repeatable; local SOURCEs are uploaded anyway).")
@click.option("--as", "placed", multiple=True, nargs=2, metavar="PREFIX SOURCE",
              help="Log SOURCE under PREFIX in the artifact (repeatable), like PREFIX=SOURCE.")
@click.option("--in-place", is_flag=True,
              help="Track local files where they are instead of uploading a copy (an older version "
                   "cannot be downloaded once they change).")
@click.option("--allow-links", is_flag=True,
              help="Record a source tether cannot fetch (no driver, no access) as a link-only reference "
                   "instead of failing.")
@click.option("--exclude", "excludes", multiple=True, metavar="GLOB",
              help="Leave out files or folders matching GLOB ('*.tmp', 'logs/'; repeatable).")
@click.option("--no-default-excludes", is_flag=True,
              help="Keep .git/, .DS_Store, Thumbs.db, desktop.ini and __MACOSX/ in local folders.")
@click.option("--type", "type_", default="dataset", show_default=True, help="Artifact type (dataset, model ...).")
@click.option("--alias", "aliases", multiple=True, help="Alias to point at the new version (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Tag for the new version (repeatable).")
@click.option("--meta", "meta", multiple=True, metavar="KEY=VALUE", help="Artifact metadata (repeatable).")
@click.option("--strict", is_flag=True, help="Fail instead of recording link-only assets (the default "
              "unless --allow-links), or references a bucket may not keep (versioning off, expiring versions, "
              "settings that cannot be read).")
@click.option("--max-objects", type=click.IntRange(min=1), default=None,
              help="Cap on objects per prefix (default 10000).")
@click.option("--artifacts-uri", default=None, metavar="URI",
              help="Where uploaded files go (default: the catalog's storage).")
@_json_option("the logged version")
@click.option("--hash", "hash_", is_flag=True,
              help="Read each remote object once and record its sha256 (for stores with no verifiable checksum).")
@shown_progress.progress_option
@click.pass_context
def log(ctx: click.Context, name: str, uris: tuple[str, ...], uploads: tuple[str, ...],
        placed: tuple[tuple[str, str], ...], in_place: bool, allow_links: bool, excludes: tuple[str, ...],
        no_default_excludes: bool, type_: str, aliases: tuple[str, ...], tags: tuple[str, ...],
        meta: tuple[str, ...], strict: bool, max_objects: int | None, artifacts_uri: str | None,
        as_json: bool, hash_: bool, progress: bool | None) -> None:
    """Log SOURCEs as the next version of NAME.

    A SOURCE is a local file, folder or glob (uploaded: the version keeps its
    own copy), or an object, prefix or glob on a store (s3://, gs:// ...),
    recorded where it is, pinned to its object version. PREFIX=SOURCE places
    a source under PREFIX. Logging content identical to the latest version
    creates no new version and says so."""
    sources = [split_source(u) for u in uris] + [Source(src, prefix) for prefix, src in placed]
    if not sources and not uploads:
        raise click.UsageError("give at least one SOURCE or --upload PATH")
    opts = SourceOptions(in_place=in_place, allow_links=allow_links, strict=strict, exclude=excludes,
                         default_excludes=not no_default_excludes, hash=hash_)
    check_flags(opts)
    art = Artifact(name, type=type_, metadata=_parse_meta(meta), strict=strict,
                   max_objects=max_objects, artifacts_uri=artifacts_uri)
    cat = _catalog(ctx)
    with shown_progress.display(shown_progress.wanted(progress)) as cb:
        tracked = add_sources(art, sources, opts, cb)
        add_sources(art, [Source(p) for p in uploads], attrs.evolve(opts, in_place=False), cb)
        v = cat.log(art, aliases=aliases, tags=tags, progress=cb)
    for path in tracked:
        click.echo(f"tether: note: {in_place_note(path)}", err=True)
    if as_json:
        _emit_json({**_version_json(v, with_assets=False), "new": v.is_new})
    else:
        click.echo(log_line(v, cat, aliases, tags))


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
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]", shell_complete=complete_ref)
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--overwrite", type=click.Choice(["fail", "preserve", "overwrite"]), default="fail",
              show_default=True, help="What to do with differing files already in DEST.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel transfers.")
@click.option("--strict", is_flag=True, help="Fail if the version has link-only assets.")
@_json_option("every file's outcome")
@shown_progress.progress_option
@click.option("--require-verified", is_flag=True,
              help="Refuse a version with assets only checkable by size (no checksum recorded).")
@_selection_options
@click.pass_context
def download(ctx: click.Context, ref: str, dest: str, overwrite: str, workers: int | None,
             strict: bool, as_json: bool, progress: bool | None, require_verified: bool,
             include: tuple[str, ...], exclude: tuple[str, ...], shard: str | None) -> None:
    """Download exactly the recorded bytes of a version into DEST, verified."""
    v = _catalog(ctx).get(ref)
    chosen = _selection(include, exclude, shard)
    show = sys.stderr.isatty() if progress is None else progress
    with _progress(sum(a.size or 0 for a in v.select(**chosen)), show) as cb:
        result = v.download(dest, overwrite=overwrite, workers=workers, progress=cb,  # type: ignore[arg-type]
                            strict=strict, raise_on_error=False, require_verified=require_verified,
                            **chosen)
    problem = download_problem(result, v.ref)
    if as_json:
        _emit_json({"ref": v.ref, "dest": str(result.dest), "ok": result.ok, "counts": result.counts(),
                    "outcomes": [{"logical_path": o.logical_path, "status": o.status, "path": o.path,
                                  "error": o.error} for o in result.outcomes],
                    **({"error": {"type": "DownloadError", "message": problem}} if problem else {})})
    else:
        click.echo(f"{v.ref} -> {result.dest}: {count_text(result.counts())}")
        for o in result.with_status("skipped"):
            click.echo(f"  link-only {o.logical_path}: {(o.error or '').removeprefix('link-only: ')}")
        for o in result.with_status("failed"):
            click.echo(f"  failed {o.logical_path}: {cli_message(o.error or '')}", err=True)
        if problem:
            click.echo(f"tether: error: {problem}", err=True)
    if problem:
        ctx.exit(EXIT_ERROR)


@cli.command()
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]", shell_complete=complete_ref)
@_json_option("the version and its assets (sizes in bytes)")
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one version and its assets."""
    v = _catalog(ctx).get(ref)
    if as_json:
        _emit_json({**_version_json(v), "created_by_run": v.created_by_run})
        return
    click.echo(f"{v.ref}  type={v.type}  created={v.created_at}"
               + (f"  by run {v.created_by_run}" if v.created_by_run else ""))
    click.echo(f"  {len(v.assets)} asset(s), {human_size(v.total_size)} ({v.total_size:,} bytes), digest {v.digest}")
    if v.aliases:
        click.echo(f"  aliases: {', '.join(v.aliases)}")
    if v.tags:
        click.echo(f"  tags: {', '.join(v.tags)}")
    for k, val in v.metadata.items():
        click.echo(f"  meta {k} = {json.dumps(val, default=str)}")
    known = checksum_kinds().kinds
    for a in v.assets:
        if a.synced:
            ver = f" @{a.version_id}" if a.version_id else ""
            # kinds no installed plugin registers: kept, shown, never trusted (names are checked on read)
            unknown = sorted(k for k in a.checksums if k not in known)
            extra = f"  (not verifiable here: {', '.join(unknown)})" if unknown else ""
            click.echo(f"  {a.logical_path}  {human_size(a.size)}  {a.verification}  {a.uri}{ver}{extra}")
        else:
            click.echo(f"  {a.logical_path}  (link only) {a.link}")


@cli.command(name="list")
@click.argument("name", required=False, shell_complete=complete_name)
@_json_option("the list (sizes in bytes, times in ISO 8601)")
@click.pass_context
def list_(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """List artifacts (latest version, size, aliases, when logged), or the versions of NAME."""
    cat = _catalog(ctx)
    if name is None:
        rows = artifact_rows(cat)
        if as_json:
            _emit_json(rows)
            return
        if not rows:
            click.echo(f"no artifacts in {redact(cat.root)}", err=True)
        for line in artifact_table(rows):
            click.echo(line)
        return
    rows = version_rows(cat, name)
    if as_json:
        _emit_json(rows)
        return
    for line in version_lines(rows):
        click.echo(line)


@cli.command()
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]", shell_complete=complete_ref)
@click.argument("dest", type=click.Path(file_okay=False, exists=True))
@_json_option("every file's outcome")
@shown_progress.progress_option
@_selection_options
@click.pass_context
def verify(ctx: click.Context, ref: str, dest: str, as_json: bool, progress: bool | None,
           include: tuple[str, ...], exclude: tuple[str, ...], shard: str | None) -> None:
    """Check a local copy in DEST against the version's sizes and checksums."""
    v = _catalog(ctx).get(ref)
    with shown_progress.display(shown_progress.wanted(progress)) as cb:
        result = v.verify(dest, progress=cb, **_selection(include, exclude, shard))
    checked, nothing = verify_summary(result)
    ok = result.ok and nothing is None
    if as_json:
        _emit_json({"ref": v.ref, "ok": ok, "outcomes": [
            {"logical_path": o.logical_path, "status": o.status, "detail": o.detail} for o in result.outcomes],
            **({"error": {"type": "NothingVerified", "message": nothing}} if nothing else {})})
    else:
        bad = [o for o in result.outcomes if o.status not in ("ok", "skipped")]
        for o in bad:
            click.echo(f"  {o.status} {o.logical_path}" + (f": {o.detail}" if o.detail else ""))
        verdict = "nothing verified" if nothing else "verified" if result.ok else f"{len(bad)} problem(s)"
        click.echo(f"{v.ref} in {dest}: {checked}: {verdict}")
        if nothing:
            click.echo(f"tether: error: {nothing}", err=True)
    if not ok:
        ctx.exit(EXIT_ERROR)


@cli.command()
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]", shell_complete=complete_ref)
@_json_option("every asset's status")
@shown_progress.progress_option
@_selection_options
@click.pass_context
def status(ctx: click.Context, ref: str, as_json: bool, progress: bool | None,
           include: tuple[str, ...], exclude: tuple[str, ...], shard: str | None) -> None:
    """Compare a version with the store now: unchanged / modified / deleted / new.

    Exits 1 when anything drifted (modified, deleted or new), like verify on
    problems, so a script can test it; 0 when everything is unchanged."""
    v = _catalog(ctx).get(ref)
    with shown_progress.display(shown_progress.wanted(progress)) as cb:
        result = v.status(progress=cb, **_selection(include, exclude, shard))
    if as_json:
        _emit_json({"ref": v.ref, "drifted": result.drifted, "outcomes": [
            {"logical_path": o.logical_path, "status": o.status, "uri": o.uri, "detail": o.detail}
            for o in result.outcomes]})
    else:
        for o in result.outcomes:
            if o.status != "unchanged":
                click.echo(f"  {LABELS.get(o.status, o.status):9} {o.logical_path or o.uri}"
                           + (f"  ({o.detail})" if o.detail else ""))
        counts: dict[str, int] = {}
        for o in result.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        click.echo(f"{v.ref}: {count_text(counts)}" + ("  (drifted)" if result.drifted else ""))
    if result.drifted:
        ctx.exit(EXIT_ERROR)

@cli.group()
def alias() -> None:
    """List, move or remove aliases (names like prod that point at one version)."""

@cli.group()
def tag() -> None:
    """List, add or remove the tags of a version."""

# Commands that moved to topic modules stay importable from here, looked up on
# first use (importing those modules here would be a cycle: they import this one).
_MOVED = dict.fromkeys(["alias_set", "alias_rm", "tag_add", "tag_rm", "_say"], "refs") | {"plugins": "plugins"}


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__package__}.{_MOVED[name]}"), name)


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
    as_json = wants_json(args)
    if any("\x00" in a for a in args):  # no path or URI can hold one; click would trip over it
        report("UsageError", "arguments cannot contain NUL bytes", as_json)
        sys.exit(EXIT_USAGE)
    try:
        rc = cli.main(args=argv, prog_name="tether", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:  # a bare `tether`: the help is the answer
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        report("UsageError" if isinstance(exc, click.UsageError) else type(exc).__name__, _one_line(exc), as_json)
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        if as_json:
            click.echo(json.dumps({"error": {"type": "Interrupted", "message": "interrupted"}}))
        click.echo("tether: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (TetherError, OSError) as exc:  # OSError: disk full, permission denied on DEST ...
        report(type(exc).__name__, cli_message(str(exc)), as_json)
        sys.exit(EXIT_ERROR)
    sys.exit(rc if isinstance(rc, int) else 0)

