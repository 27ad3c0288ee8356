"""``tether plugins``: the discovered driver plugins, their schemes, hooks,
checksum kinds and load errors, conflicts between them, and the in-tree
drivers that are not installed."""

from __future__ import annotations

import click

from .main import _emit_json, _json_option, cli


@cli.command()
@_json_option("the plugins and conflicts")
@click.option("--options", "with_options", is_flag=True, help="Also print each driver's declared options.")
def plugins(as_json: bool, with_options: bool) -> None:
    """List discovered plugins: package, version, schemes, hooks implemented, checksum kinds, load errors,
    and the in-tree drivers that are not installed."""
    from ..checksum_kinds import choice_env
    from ..installhints import LINK_ONLY_WITHOUT_DRIVER, install_hint
    from ..plugins import BUILTIN_CHECKSUMS, get_registry

    reg = get_registry()
    reg.load()
    conflicts = reg.conflicts()
    table = reg.checksum_kinds()
    rows = [{"name": p.name, "module": p.module, "distribution": p.distribution, "version": p.version,
             "schemes": list(p.schemes), "drivers": list(p.drivers), "hooks": list(p.hooks),
             "checksums": list(p.checksums), "error": p.error}
            for p in reg.plugins]
    if with_options:
        for r in rows:
            r["options"] = reg.declared_options(r["name"])
    missing = [{"distribution": d, "schemes": list(s), "hint": install_hint(s[0]),
                "link_only": set(s) <= LINK_ONLY_WITHOUT_DRIVER} for d, s in reg.missing()]
    if as_json:
        kinds = [{**k.describe(), "plugin": table.plugin_of[n]} for n, k in table.kinds.items()]
        _emit_json({"plugins": rows, "conflicts": conflicts, "checksum_kinds": kinds,
                    "checksum_conflicts": table.conflicts, "not_installed": missing})
        return
    builtin = [n for n, p in table.plugin_of.items() if p == BUILTIN_CHECKSUMS]
    click.echo(f"{'(core)':10} {BUILTIN_CHECKSUMS:24} checksums: {', '.join(builtin)}")
    for r in rows:
        dist = f"{r['distribution']} {r['version']}" if r["distribution"] else r["module"]
        if r["error"]:
            click.echo(f"{r['name']:10} {dist:24} FAILED: {r['error']}")
            continue
        click.echo(f"{r['name']:10} {dist:24} {', '.join(s + '://' for s in r['schemes'])}")
        if r["hooks"]:
            click.echo(f"{'':10} hooks: {', '.join(r['hooks'])}")
        if r["checksums"]:
            click.echo(f"{'':10} checksums: {', '.join(r['checksums'])}")
        for o in r.get("options") or []:
            default = "" if o["default"] is None else f" (default {o['default']})"
            click.echo(f"{'':10} option {o['scheme']}.{o['name']}: {o['type']}{default}"
                       f"{' [secret]' if o['secret'] else ''}  {o['help']}")
    for scheme, names in conflicts.items():
        click.echo(f"conflict: {scheme}:// is claimed by {', '.join(names)} "
                   f"(set TETHER_DRIVER_{scheme.upper()}=<plugin>)")
    for kind, names in table.conflicts.items():
        click.echo(f"conflict: checksum kind {kind} is registered by {', '.join(names)} "
                   f"(set {choice_env(kind)}=<plugin>)")
    for m in missing:
        links = "; until then these URIs are recorded as link-only" if m["link_only"] else ""
        click.echo(f"not installed: {m['distribution']} ({m['hint']}{links})")
