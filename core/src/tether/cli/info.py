"""``tether info``: which catalog, config file and drivers this command line uses, and why."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from click.core import ParameterSource

from .. import __version__, config
from ..driver import Driver
from ..errors import ConfigError, TetherError
from ..installhints import LINK_ONLY_WITHOUT_DRIVER, install_hint
from ..options import in_effect
from ..plugins import get_registry
from ..uris import redact
from .errors import cli_message
from .main import _catalog, _emit_json, cli


def _catalog_source(ctx: click.Context) -> str:
    source = ctx.find_root().get_parameter_source("catalog")
    if source is ParameterSource.COMMANDLINE:
        return "--catalog"
    if source is ParameterSource.ENVIRONMENT:
        return "TETHER_CATALOG"
    if os.environ.get("TETHER_HOME"):
        return "default: TETHER_HOME"
    return "default: the per-user data folder"


def _drivers() -> list[dict[str, Any]]:
    reg = get_registry()
    rows: list[dict[str, Any]] = []
    for p in reg.plugins:
        rows.append({"plugin": p.name, "distribution": p.distribution, "version": p.version,
                     "schemes": list(p.schemes), "installed": p.error is None, "error": p.error, "hint": None,
                     "options": _options(reg.driver_classes(p.name)) if p.error is None else []})
    for dist, schemes in reg.missing():
        rows.append({"plugin": None, "distribution": dist, "version": None, "schemes": list(schemes),
                     "installed": False, "error": None, "hint": install_hint(schemes[0]),
                     "link_only": set(schemes) <= LINK_ONLY_WITHOUT_DRIVER})
    return rows


def _options(classes: list[type[Driver]]) -> list[dict[str, Any]]:
    """Each driver's options with the value in effect for the scheme (no bucket) and
    where it was set; a secret's value is never in a row (:func:`tether.options.in_effect`).
    A config file that cannot be read is one row saying so: info still shows the rest."""
    rows: list[dict[str, Any]] = []
    for cls in classes:
        scheme = cls.schemes[0]
        try:
            rows.extend({"scheme": scheme, **row} for row in in_effect(scheme, cls.declared_options))
        except ConfigError as exc:
            rows.append({"scheme": scheme, "name": "*", "type": None, "secret": None, "set": None,
                         "source": "config file", "help": "", "error": cli_message(str(exc))})
    return rows


def _option_line(o: dict[str, Any]) -> str:
    name = f"{o['scheme']}.{o['name']}"
    where = f"  [{o['source']}]" if o["set"] else ""
    secret = "(secret) " if o["secret"] else ""
    if o["error"]:
        return f"    {name:26} {secret}INVALID{where}: {o['error']}"
    if o["secret"]:
        return f"    {name:26} {secret}{'set' if o['set'] else 'not set'}{where}"
    return f"    {name:26} {'not set' if o['value'] is None else '= ' + str(o['value'])}{where}"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the same facts as JSON.")
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> None:
    """Show the catalog in use and where that choice came from, the config file and the drivers."""
    cat = _catalog(ctx)
    try:
        exists: bool | None = cat.exists()
        problem = None
    except (TetherError, OSError) as exc:  # a store that cannot be asked: say why, still show the rest
        exists, problem = None, cli_message(str(exc))
    cfg = config.config_file()
    doc: dict[str, Any] = {
        "tether": __version__, "python": sys.version.split()[0],
        "catalog": {"root": redact(cat.root), "source": _catalog_source(ctx), "exists": exists, "error": problem},
        "config_file": {"path": str(cfg), "exists": cfg.is_file(),
                        "source": "TETHER_CONFIG" if os.environ.get("TETHER_CONFIG") else "default"},
        "drivers": _drivers(),
    }
    if as_json:
        _emit_json(doc)
        return
    c = doc["catalog"]
    state = ("exists" if exists else "does not exist yet (log creates it)" if cat.is_default
             else "DOES NOT EXIST") if problem is None else f"cannot tell: {problem}"
    click.echo(f"tether {__version__} (Python {doc['python']})")
    click.echo(f"catalog:  {c['root']}  [{c['source']}]  {state}")
    f = doc["config_file"]
    click.echo(f"config:   {f['path']}  [{f['source']}]  {'exists' if f['exists'] else 'not found (optional)'}")
    click.echo("drivers:")
    for d in doc["drivers"]:
        schemes = ", ".join(s + "://" for s in d["schemes"])
        if d["installed"]:
            click.echo(f"  {d['distribution'] or d['plugin']:14} {d['version'] or '':10} {schemes}")
            for o in d["options"]:
                click.echo(_option_line(o))
        elif d["error"]:
            click.echo(f"  {d['distribution'] or d['plugin']:14} {d['version'] or '':10} FAILED: {d['error']}")
        else:
            links = "; until then these URIs are recorded as link-only" if d.get("link_only") else ""
            click.echo(f"  {d['distribution']:14} {'-':10} not installed ({d['hint']}{links})")
