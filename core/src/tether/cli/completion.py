"""Shell completion of artifact names, versions and aliases from the catalog in use.

Enable it once per shell (see docs/guide.md)::

    eval "$(_TETHER_COMPLETE=bash_source tether)"     # ~/.bashrc
    eval "$(_TETHER_COMPLETE=zsh_source tether)"      # ~/.zshrc
    _TETHER_COMPLETE=fish_source tether | source      # ~/.config/fish/completions/tether.fish

``NAME`` completes artifact names; ``NAME:`` the versions of NAME (and
``latest``); ``NAME@`` its aliases. The catalog is the one the command line
names (``--catalog``, else ``TETHER_CATALOG``, else the default). Completion
never fails: a catalog that cannot be read completes nothing.
"""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem

from ..catalog import Catalog


def _catalog(ctx: click.Context) -> Catalog:
    root = ctx.find_root().params.get("catalog")
    return Catalog(root)


def _names(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(n) for n in _catalog(ctx).artifacts() if n.startswith(incomplete)]


def _refs(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    cat = _catalog(ctx)
    if "@" in incomplete:
        name, _, start = incomplete.partition("@")
        return [CompletionItem(f"{name}@{a}", help=f"v{v}") for a, v in sorted(cat.aliases(name).items())
                if a.startswith(start)]
    if ":" in incomplete:
        name, _, start = incomplete.partition(":")
        versions = [str(v.version) for v in cat.versions(name)]
        return [CompletionItem(f"{name}:{v}") for v in [*reversed(versions), "latest"] if v.startswith(start)]
    return _names(ctx, incomplete)


def _aliases(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    """The aliases of the NAME given before (``alias rm NAME <TAB>``)."""
    name = ctx.params.get("name") or ""
    return [CompletionItem(a, help=f"v{v}") for a, v in sorted(_catalog(ctx).aliases(name).items())
            if a.startswith(incomplete)]


def _versions(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    """The versions of the NAME given before (``alias set NAME ALIAS <TAB>``)."""
    name = ctx.params.get("name") or ""
    numbers = [str(v.version) for v in reversed(_catalog(ctx).versions(name))]
    return [CompletionItem(n) for n in numbers if n.startswith(incomplete)]


def _quiet(fn: Any) -> Any:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        try:
            return fn(ctx, incomplete)  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - a completion must never print a traceback into the prompt
            return []

    return complete


#: ``shell_complete=`` for an argument taking an artifact name.
complete_name = _quiet(_names)
#: ``shell_complete=`` for an argument taking ``NAME[:VERSION|@ALIAS]``.
complete_ref = _quiet(_refs)
#: ``shell_complete=`` for an alias of the ``name`` argument given before it.
complete_alias = _quiet(_aliases)
#: ``shell_complete=`` for a version number of the ``name`` argument given before it.
complete_version = _quiet(_versions)
