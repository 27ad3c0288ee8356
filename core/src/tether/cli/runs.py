"""The run commands of the CLI: ``tether run``, ``tether runs``, ``tether lineage``.

:func:`register` adds them to the ``tether`` group (cli.py calls it). This
module does not import cli.py: ``python -m tether.cli`` runs that file as
``__main__``, and the commands must land on that group, not on a second copy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import click

from ..catalog import Catalog
from ..catalog.lineage_render import age
from ..catalog.runs import STATUSES, RunInfo
from ..run import Run
from ..uris import redact

_SECRET_ARG_RE = re.compile(r"(secret|token|password|passwd|key|credential|auth)", re.IGNORECASE)
_INTERPRETERS = re.compile(r"^(python[\d.]*|pypy[\d.]*|sh|bash|zsh|node|Rscript|julia|uv|poetry)$")


def masked_command(argv: list[str]) -> list[str]:
    """The command line as recorded: values of secret-looking options
    (``--token X``, ``--api-key=X``, ``PASSWORD=X``) masked, URIs redacted."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        key, eq, _ = arg.partition("=")
        if eq and _SECRET_ARG_RE.search(key):
            out.append(key + "=***")
        elif arg.startswith("-") and _SECRET_ARG_RE.search(arg):
            out.append(arg)
            hide_next = True
        else:
            out.append(redact(arg))
    return out


def _default_name(argv: list[str]) -> str:
    """``python train.py`` -> ``train.py``; ``make all`` -> ``make``."""
    words = [os.path.basename(a) for a in argv]
    if _INTERPRETERS.match(words[0]) and len(words) > 1 and not argv[1].startswith("-"):
        words = words[1:]
    name = re.sub(r"[^A-Za-z0-9._-]", "-", words[0]).strip(".-_")[:100]
    return name or "run"


def _pairs(pairs: tuple[str, ...], option: str) -> dict[str, Any]:
    """``k=v`` options; a value that parses as JSON is kept as such (``lr=0.1`` is a number)."""
    out: dict[str, Any] = {}
    for p in pairs:
        k, eq, v = p.partition("=")
        if not eq or not k:
            raise click.BadParameter(f"{p!r} is not KEY=VALUE", param_hint=option)
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


def _catalog(ctx: click.Context) -> Catalog:
    return Catalog((ctx.find_root().obj or {}).get("catalog"))


def _emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


@click.command(name="run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--name", default=None, help="Run name (default: the script or command name).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A run parameter (repeatable).")
@click.option("--external", multiple=True, metavar="TRACKER=ID",
              help="The id of this run in another tracker, e.g. mlflow=abc123 (repeatable).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- COMMAND...")
@click.pass_context
def run_command(ctx: click.Context, name: str | None, params: tuple[str, ...], external: tuple[str, ...],
                command: tuple[str, ...]) -> None:
    """Run COMMAND as a tether run: versions it logs or downloads with tether
    (TETHER_RUN_ID is exported) become the run's outputs and inputs. Passes
    COMMAND's exit code on."""
    argv = list(command)
    run = Run(name or _default_name(argv), params=_pairs(params, "--param"), catalog=_catalog(ctx),
              external=_pairs(external, "--external"))
    run.command = masked_command(argv)
    run.start()
    click.echo(f"tether: run {run.id} ({run.name}) started", err=True)
    # The child's `tether` commands use this catalog unless told otherwise.
    env = {**os.environ, "TETHER_CATALOG": run.catalog.root}
    try:
        proc = subprocess.Popen(argv, env=env)
    except OSError as exc:
        # As a shell says it: 127 for a command not found, 126 for one that cannot run.
        code = 127 if isinstance(exc, FileNotFoundError) else 126
        run.end("failed", error=type(exc).__name__, exit_code=code)
        click.echo(f"tether: error: cannot run {argv[0]!r}: {exc.strerror or exc} (run {run.id} failed)", err=True)
        ctx.exit(code)
    try:
        rc = proc.wait()
    except KeyboardInterrupt:
        # The child got the same Ctrl-C (one process group): let it stop as it chooses.
        try:
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.kill()
            rc = proc.wait()
    code = rc if rc >= 0 else 128 - rc  # killed by signal N: 128 + N, as a shell says
    status = "finished" if code == 0 else "failed"
    run.end(status, error=None if code == 0 else f"exit code {code}", exit_code=code)
    click.echo(f"tether: run {run.id} {status} (exit code {code})", err=True)
    ctx.exit(code)


@click.group(name="runs", invoke_without_command=True)
@click.option("--name", default=None, help="Only runs of this name.")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only runs with this status.")
@click.option("--limit", type=int, default=50, show_default=True, help="How many (newest first).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def runs_group(ctx: click.Context, name: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List runs, newest first (`tether runs show RUN_ID` for one)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _catalog(ctx).runs(name=name, status=status, limit=limit)
    if as_json:
        _emit_json([r.to_dict() for r in rows])
        return
    for r in rows:
        ext = "".join(f"  {k}={v}" for k, v in r.external.items())
        click.echo(f"{r.id}  {r.name:20}  {_state(r)}{ext}")


def _state(r: RunInfo) -> str:
    if r.status == "running":
        return f"running (last wrote {age(r.seconds_since_write())} ago)"
    return r.status + (f" (exit code {r.exit_code})" if r.exit_code not in (None, 0) else "")


@runs_group.command(name="show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (errors too).")
@click.pass_context
def runs_show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """One run: its record, inputs and outputs."""
    r = _catalog(ctx).run(run_id)
    if as_json:
        _emit_json(r.to_dict())
        return
    click.echo(f"run {r.id}  {r.name}  {_state(r)}")
    click.echo(f"  started {r.started_at}" + (f", ended {r.ended_at}" if r.ended_at else ""))
    who = "  ".join(f"{k} {v}" for k, v in (("host", r.host), ("user", r.user), ("pid", r.pid)) if v is not None)
    if who:
        click.echo(f"  {who}")
    if r.code:
        click.echo(f"  code git {r.code.get('git_commit')}" + (" (dirty)" if r.code.get("git_dirty") else ""))
    for title, mapping in (("external", r.external), ("param", r.params), ("metadata", r.metadata),
                           ("summary", r.summary)):
        for k, v in mapping.items():
            click.echo(f"  {title} {k} = {_json(v)}")
    if r.command:
        click.echo(f"  command {' '.join(r.command)}")
    if r.artifacts_uri:
        click.echo(f"  artifacts {r.artifacts_uri}/{r.id}/")
    if r.error:
        click.echo(f"  error {r.error}")
    from ..catalog.lineage import edge_label

    for e in r.inputs or ():
        label = edge_label(e)
        click.echo(f"  input  {e.version_ref}" + (f"  (asked {e.name}{label})" if label else ""))
    for e in r.outputs or ():
        click.echo(f"  output {e.version_ref}" + ("  (unchanged: existing version)" if e.created is False else ""))


def _json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


@click.command(name="lineage")
@click.argument("ref", metavar="NAME[:VERSION|@ALIAS]")
@click.option("--upstream", type=click.IntRange(0), default=1, show_default=True,
              help="Levels of producers of inputs to follow back.")
@click.option("--downstream", type=click.IntRange(0), default=1, show_default=True,
              help="Levels of consumers of outputs to follow on.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "mermaid", "dot", "openlineage"]),
              default="text", show_default=True, help="text: a tree; json; mermaid and dot: a graph; "
              "openlineage: RunEvents, one JSON a line.")
@click.pass_context
def lineage_command(ctx: click.Context, ref: str, upstream: int, downstream: int, fmt: str) -> None:
    """The runs that produced a version (and their inputs) and the runs that used it."""
    lin = _catalog(ctx).lineage(ref, upstream=upstream, downstream=downstream)
    if fmt == "json":
        _emit_json(lin.to_dict())
    elif fmt == "mermaid":
        click.echo(lin.to_mermaid(), nl=False)
    elif fmt == "dot":
        click.echo(lin.to_dot(), nl=False)
    elif fmt == "openlineage":
        from ..openlineage import lineage_events

        for line in lineage_events(lin):  # JSON lines: one RunEvent each
            click.echo(line)
    else:
        click.echo(lin.to_text(), nl=False)


def register(group: click.Group) -> None:
    """Add ``run``, ``runs`` and ``lineage`` to the ``tether`` group."""
    from .style import first_sentence

    for command in (run_command, runs_group, lineage_command):
        command.short_help = command.short_help or first_sentence(command.help)  # summaries never cut
        group.add_command(command)
