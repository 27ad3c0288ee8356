"""What ``tether log NAME SOURCE...`` does with each source.

* **Local paths are uploaded.** A local disk keeps no old versions of a file,
  so a version that only pointed at ``./ds`` could not be downloaded once a
  file in it changed. ``log`` therefore stores a content-addressed copy
  (``Artifact.add``: identical files are stored once, a re-log of unchanged
  files uploads nothing). ``--in-place`` records them where they are instead
  (``Artifact.add_remote``), and says what that means.
* **Remote sources are recorded where they are** (``Artifact.add_remote``):
  the store's object versions keep old bytes fetchable.
* **Link-only is opt-in.** A source tether cannot fetch (no driver for its
  scheme, or a store refusing access for lack of credentials) would become a
  reference with no bytes behind it; ``log`` refuses it unless
  ``--allow-links``, so a missing credential cannot pass for a logged dataset.
* **Prefixes.** ``PREFIX=SOURCE`` places a source under ``PREFIX``, as Python's
  ``logical_path`` does (for a single file, ``PREFIX`` is its name). The rule,
  since URIs may hold ``=`` themselves (``https://h/x?a=b``): the token is
  split at its first ``=`` only when the part before is a valid logical path
  with no scheme and the part after is an existing local path, a glob, or a
  URI with a scheme. Anything else is one source; ``./a=b`` names a local
  file called ``a=b``. ``--as PREFIX SOURCE`` says the same without the rule.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import attrs
import click

from ..artifact import Artifact
from ..errors import AccessDeniedError, NoDriverError, TetherError
from ..paths import check_logical_path
from ..progress import Progress
from ..resolver import driver_for_uri
from ..uris import split_scheme


@attrs.frozen
class Source:
    uri: str
    prefix: str | None = None


def split_source(token: str) -> Source:
    """``PREFIX=SOURCE`` by the rule in the module docstring, else the token as one source."""
    prefix, sep, rest = token.partition("=")
    if not sep or not prefix or not rest or split_scheme(prefix)[0] is not None:
        return Source(token)
    try:
        check_logical_path(prefix.rstrip("/") or prefix)
    except TetherError:
        return Source(token)
    if split_scheme(rest)[0] is not None or "*" in rest or os.path.lexists(os.path.expanduser(rest)):
        return Source(rest, prefix)
    return Source(token)


def is_local(uri: str) -> bool:
    return split_scheme(uri)[0] in (None, "file")


@attrs.frozen
class SourceOptions:
    in_place: bool = False
    allow_links: bool = False
    strict: bool = False
    exclude: tuple[str, ...] = ()
    default_excludes: bool = True
    hash: bool = False  # --hash: read remote objects once and record sha256


def add_sources(art: Artifact, sources: Sequence[Source], opts: SourceOptions,
                progress: Progress | None) -> list[str]:
    """Add each source to ``art``; returns the local sources tracked in place."""
    in_place: list[str] = []
    for src in sources:
        if is_local(src.uri) and not opts.in_place:
            path = driver_for_uri(src.uri).path_of(src.uri) if split_scheme(src.uri)[0] else src.uri
            art.add(path, logical_path=src.prefix, exclude=opts.exclude, default_excludes=opts.default_excludes,
                    progress=progress)
            continue
        if is_local(src.uri):
            in_place.append(src.uri)
        try:
            art.add_remote(src.uri, logical_path=src.prefix, strict=opts.strict or not opts.allow_links,
                           exclude=opts.exclude, default_excludes=opts.default_excludes, progress=progress,
                           hash=opts.hash)
        except (AccessDeniedError, NoDriverError) as exc:
            # NoDriverError itself (not its install-hint or load-error kinds) and an
            # access refusal are what add_remote would have kept as a link only.
            if opts.strict or opts.allow_links or not (type(exc) is NoDriverError
                                                       or isinstance(exc, AccessDeniedError)):
                raise
            text = str(exc).replace(" (strict=True)", "")
            raise type(exc)(f"{text}; nothing was logged. To record it anyway as a link only (a reference "
                            "tether cannot fetch or verify), add --allow-links") from None
    return in_place


def in_place_note(path: str) -> str:
    return (f"{path} is tracked in place, not copied: once its files change, this version cannot be "
            "downloaded (log without --in-place to keep a copy)")


def check_flags(opts: SourceOptions) -> None:
    if opts.strict and opts.allow_links:
        raise click.UsageError("--strict and --allow-links contradict each other: give one")
