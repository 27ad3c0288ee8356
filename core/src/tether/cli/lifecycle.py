"""Lifecycle commands: ``rm``, ``retain``, ``policy``, ``gc``, ``check``, and
``alias protect|unprotect|protected``, ``tag protect|unprotect`` (see
:mod:`tether.catalog.lifecycle`). Each prints a short report, or ``--json``."""

from __future__ import annotations

from typing import Any

import attrs
import click

from ..catalog.lifecycle import parse_duration
from ..catalog.refs import parse_ref
from ..catalog.retention import RetentionPolicy, RetentionResult
from ..errors import TetherError
from .main import EXIT_ERROR, _catalog, _emit_json, alias, cli, tag


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class _Duration(click.ParamType):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            return parse_duration(value)
        except TetherError as exc:
            self.fail(str(exc), param, ctx)


DURATION = _Duration()


# ---------------------------------------------------------------------- rm
@cli.command(name="rm")
@click.argument("refs", nargs=-1, required=True, metavar="NAME:VERSION...")
@click.option("--all", "all_", is_flag=True, help="Delete every version of each NAME given.")
@click.option("--reason", default=None, help="Why, recorded in the tombstone.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def rm(ctx: click.Context, refs: tuple[str, ...], all_: bool, reason: str | None, as_json: bool) -> None:
    """Delete versions: gone from list/get/latest, numbers never reused, bytes left for `tether gc`."""
    cat = _catalog(ctx)
    plan: dict[str, list[str] | None] = {}
    for ref in refs:
        name, version, al = parse_ref(ref)
        if al is not None:
            raise click.UsageError(f"{ref!r}: give NAME:VERSION (an aliased version cannot be deleted)")
        if version is None and not all_:
            raise click.UsageError(f"{ref!r}: give NAME:VERSION, or NAME --all to delete every version")
        if version is not None and all_:
            raise click.UsageError(f"{ref!r}: --all takes a NAME without a version")
        if all_:
            plan[name] = None
        else:
            versions = plan.setdefault(name, [])
            assert versions is not None
            versions.append(str(version))
    gone = [t for name, versions in plan.items() for t in cat.delete(name, versions, reason=reason)]
    if as_json:
        _emit_json([t.to_dict() for t in gone])
        return
    for t in gone:
        click.echo(f"deleted {t.ref}" + (f" ({t.reason})" if t.reason else ""))


# ------------------------------------------------------------------ retain
def _rules(f: Any) -> Any:
    for opt in reversed([
        click.option("--keep-last", type=click.IntRange(min=0), default=None, help="Keep the N newest versions."),
        click.option("--keep-aliased/--no-keep-aliased", default=True, show_default=True,
                     help="Keep versions an alias points at (they cannot be deleted anyway)."),
        click.option("--keep-tagged/--no-keep-tagged", default=True, show_default=True,
                     help="Keep tagged versions."),
        click.option("--keep-younger-than", type=DURATION, default=None, metavar="DURATION",
                     help="Keep versions created less than this ago (30d, 24h ...)."),
        click.option("--keep-used-by-runs-younger-than", type=DURATION, default=None, metavar="DURATION",
                     help="Keep versions used or produced by runs active less than this ago."),
    ]):
        f = opt(f)
    return f


def _policy(keep_last: int | None, keep_aliased: bool, keep_tagged: bool, keep_younger_than: float | None,
            keep_used_by_runs_younger_than: float | None) -> RetentionPolicy | None:
    if keep_last is None and keep_younger_than is None and keep_used_by_runs_younger_than is None:
        return None
    return RetentionPolicy.build(keep_last, keep_aliased, keep_tagged, keep_younger_than,
                                 keep_used_by_runs_younger_than)


def _show_retention(r: RetentionResult) -> None:
    verb = "would delete" if r.dry_run else "deleted"
    click.echo(f"{r.name} ({r.policy.describe()}): {verb} {len(r.deleted)}, keep "
               f"{len(r.with_action('keep'))}" + (f", blocked {len(r.with_action('blocked'))}"
                                                   if r.with_action("blocked") else ""))
    for d in r.decisions:
        why = "; ".join(d.reasons)
        label = {"delete": verb, "keep": "keep", "blocked": "blocked"}[d.action]
        click.echo(f"  v{d.version:<6} {label:12} {d.created_at}" + (f"  {why}" if why else ""))


@cli.command()
@click.argument("name", required=False)
@click.option("--all", "all_", is_flag=True, help="Apply the stored policies to every artifact.")
@_rules
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def retain(ctx: click.Context, name: str | None, all_: bool, dry_run: bool, as_json: bool, **rules: Any) -> None:
    """Delete the versions of NAME no keep rule keeps (the stored policy if no rule is given)."""
    cat = _catalog(ctx)
    policy = _policy(**rules)
    if all_:
        if name is not None or policy is not None:
            raise click.UsageError("--all applies the stored policies: give no NAME and no rule")
        results = cat.retain_all(dry_run=dry_run)
    elif name is None:
        raise click.UsageError("give NAME, or --all")
    else:
        results = [cat.retain(name, policy=policy, dry_run=dry_run)]
    if as_json:
        _emit_json([r.to_dict() for r in results] if all_ else results[0].to_dict())
        return
    for r in results:
        _show_retention(r)
    if all_ and not results:
        click.echo("no retention policy stored (see `tether policy set`)")


@cli.group()
def policy() -> None:
    """Stored retention policies (applied by `tether retain NAME` and `tether retain --all`)."""


def _policy_json(name: str | None, p: RetentionPolicy | None) -> dict[str, Any]:
    return {"name": name, "policy": None if p is None else {**attrs.asdict(p), "describe": p.describe()}}


@policy.command(name="set")
@click.argument("name", required=False)
@click.option("--default", "default", is_flag=True, help="The catalog's default, for artifacts without one.")
@_rules
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def policy_set(ctx: click.Context, name: str | None, default: bool, as_json: bool, **rules: Any) -> None:
    """Store a retention policy for NAME (or --default)."""
    if (name is None) == (not default):
        raise click.UsageError("give NAME or --default")
    p = _policy(**rules)
    if p is None:
        raise click.UsageError("give --keep-last, --keep-younger-than or --keep-used-by-runs-younger-than")
    _catalog(ctx).set_retention_policy(name, p)
    if as_json:
        _emit_json(_policy_json(name, p))
    else:
        click.echo(f"{name or 'catalog default'}: {p.describe()}")


@policy.command(name="show")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def policy_show(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """Show NAME's stored policy (or the catalog default)."""
    p = _catalog(ctx).retention_policy(name)
    if as_json:
        _emit_json(_policy_json(name, p))
    else:
        click.echo(f"{name or 'catalog default'}: {p.describe() if p else 'no policy'}")


@policy.command(name="rm")
@click.argument("name", required=False)
@click.option("--default", "default", is_flag=True, help="The catalog's default policy, not one artifact's.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def policy_rm(ctx: click.Context, name: str | None, default: bool, as_json: bool) -> None:
    """Remove NAME's stored policy (or the catalog default)."""
    if (name is None) == (not default):
        raise click.UsageError("give NAME or --default")
    cat = _catalog(ctx)
    old = cat.retention_policy(name)
    cat.remove_retention_policy(name)
    if as_json:
        _emit_json(_policy_json(name, old))
    else:
        click.echo(f"removed the retention policy of {name or 'the catalog'}")


# ---------------------------------------------------------------------- gc
@cli.command()
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
@click.option("--grace", type=DURATION, default="24h", show_default=True, metavar="DURATION",
              help="Keep anything younger than this (and versions deleted less than this ago).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def gc(ctx: click.Context, dry_run: bool, grace: float, as_json: bool) -> None:
    """Remove uploads, staged copies and manifests no version needs; report bytes reclaimed."""
    r = _catalog(ctx).gc(grace, dry_run=dry_run)
    if as_json:
        _emit_json(r.to_dict())
    else:
        verb = "would remove" if dry_run else "removed"
        click.echo(f"{verb} {len(r.objects)} upload(s), {len(r.staged)} staged copy(ies), "
                   f"{len(r.manifests)} manifest(s): {_size(r.bytes_reclaimed)} "
                   f"{'reclaimable' if dry_run else 'reclaimed'}")
        kept = [(r.kept_young, "younger than the grace period"), (r.kept_announced, "in use by a running log"),
                (r.kept_claimed, "referenced by a version logged meanwhile")]
        for n, why in kept:
            if n:
                click.echo(f"  kept {n}: {why}")
        for line in r.failed:
            click.echo(f"  could not remove {line}", err=True)
        if r.stopped:
            click.echo(f"  stopped: {r.stopped}", err=True)
    if r.failed or r.stopped:
        ctx.exit(EXIT_ERROR)


# ------------------------------------------------------------------- check
@cli.command()
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel metadata requests.")
@click.option("--strict", is_flag=True, help="Also fail when a bucket's settings put the version at risk.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def check(ctx: click.Context, ref: str, workers: int | None, strict: bool, as_json: bool) -> None:
    """Check that every pinned object version still exists, unchanged (metadata only, no download)."""
    result = _catalog(ctx).check(ref, workers=workers)
    risky = [r for r in result.risks if r.status == "at-risk" or (r.status == "unchecked" and r.inspectable)]
    if as_json:
        _emit_json(result.to_dict())
    else:
        for o in result.outcomes:
            if o.status not in ("ok", "skipped"):
                click.echo(f"  {o.status:9} {o.logical_path}" + (f"  ({o.detail})" if o.detail else ""))
        for r in risky:
            for m in r.messages:
                click.echo(f"  risk: {m}")
        counts = ", ".join(f"{n} {s}" for s, n in sorted(result.counts().items()))
        click.echo(f"{result.ref}: {counts}")
    if not result.ok or (strict and risky):
        ctx.exit(EXIT_ERROR)


# ------------------------------------------------------ protection commands
@alias.command(name="protect")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.option("--hold", is_flag=True, help="Also hold the pinned object versions in the store (S3 Object Lock, GCS).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def alias_protect(ctx: click.Context, name: str, alias_name: str, hold: bool, as_json: bool) -> None:
    """Protect ALIAS of NAME: moving or removing it then needs --force."""
    p = _catalog(ctx).protect_alias(name, alias_name, hold=hold)
    if as_json:
        _emit_json(p.to_dict())
    else:
        click.echo(f"{name}@{alias_name} (v{p.version}) protected"
                   + (f", {len(p.held)} object version(s) held" if hold else ""))


@alias.command(name="unprotect")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def alias_unprotect(ctx: click.Context, name: str, alias_name: str, as_json: bool) -> None:
    """Remove the protection of ALIAS (releasing its holds)."""
    p = _catalog(ctx).unprotect_alias(name, alias_name)
    if as_json:
        _emit_json(p.to_dict())
    else:
        click.echo(f"{name}@{alias_name} unprotected" + (", holds released" if p.hold else ""))


@alias.command(name="protected")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def alias_protected(ctx: click.Context, name: str, as_json: bool) -> None:
    """List the protected aliases of NAME."""
    found = _catalog(ctx).protected_aliases(name)
    if as_json:
        _emit_json([p.to_dict() for p in found])
        return
    for p in found:
        click.echo(f"{name}@{p.alias}  v{p.version}  by {p.protected_by} at {p.protected_at}"
                   + (f"  holding {len(p.held)}" if p.hold else ""))


@tag.command(name="protect")
@click.argument("name")
@click.argument("pattern")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def tag_protect(ctx: click.Context, name: str, pattern: str, as_json: bool) -> None:
    """Make tags of NAME matching PATTERN (v*, release-1.0) immutable."""
    existing = _catalog(ctx).protect_tags(name, pattern)
    if as_json:
        _emit_json({"name": name, "pattern": pattern, "tags": existing})
    else:
        click.echo(f"{name}: tags {pattern!r} are immutable" + (f" ({', '.join(existing)})" if existing else ""))


@tag.command(name="unprotect")
@click.argument("name")
@click.argument("pattern")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def tag_unprotect(ctx: click.Context, name: str, pattern: str, as_json: bool) -> None:
    """Make tags of NAME matching PATTERN mutable again."""
    cat = _catalog(ctx)
    cat.unprotect_tags(name, pattern)
    if as_json:
        _emit_json({"name": name, "pattern": pattern, "immutable": cat.immutable_tag_patterns(name)})
    else:
        click.echo(f"{name}: tags {pattern!r} are no longer immutable")
