"""Choosing part of a version: ``include`` / ``exclude`` patterns and shards.

One place decides which assets a partial download, ``verify``, ``status``,
:func:`shard_paths` and the ``tether://`` filesystem work on; they then hand
the chosen assets to the same transfer functions a whole version uses.

Patterns are matched against the *manifest's* logical paths, never against
files on the local disk, with the rules of ``.gitignore`` and rsync:

* ``*`` matches within one path segment, ``**`` across segments
  (``train/**``, ``**/labels.csv``); other characters match themselves;
* a pattern with no ``/`` matches a file or folder name at any depth
  (``*.tmp`` drops ``a/b/c.tmp``); a pattern with a ``/`` is anchored at the
  version's root (a leading ``/`` is allowed and ignored);
* a pattern naming a folder without wildcards selects everything below it
  (``train/cats`` is ``train/cats/**``); a trailing ``/`` matches folders only
  (``train/c*/`` is everything in the folders of ``train`` starting with
  ``c``); otherwise a pattern matches whole file paths, so ``train/*`` is the
  files directly in ``train``.

An asset is selected when it matches some ``include`` pattern (or none are
given) and no ``exclude`` pattern. An include pattern that matches nothing is
an error, as git refuses a pathspec that matches no file: a typo must not turn
into an empty download that looks like success.

Shards split the selected assets into ``n`` disjoint parts whose union is the
selection, balanced by bytes: assets sorted by (size descending, path) go one
by one to the shard holding the fewest bytes so far (then the fewest files,
then the lowest index): the longest-processing-time rule of scheduling. It
depends on nothing but the manifest (sizes and paths), so every machine
computes the same split with no coordination, and no shard holds more than
``total / n`` plus the largest asset's size.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .driver import glob_regex
from .errors import InvalidArgumentError
from .models import Asset

if TYPE_CHECKING:
    from .catalog import ArtifactVersion, Catalog, StatusResult

Shard = tuple[int, int]
#: What ``include`` / ``exclude`` accept: one pattern, several, or None for no filter.
Filter = Iterable[str] | str | None


def _one_pattern(pattern: str) -> str:
    if not isinstance(pattern, str) or not pattern.strip("/"):
        raise InvalidArgumentError(f"invalid pattern {pattern!r}: give a path pattern such as 'train/**' or '*.tmp'")
    folders_only = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = "/" in body or pattern.startswith("/")
    rx = glob_regex(body).pattern
    head = "" if anchored else "(?:.*/)?"
    if folders_only:
        tail = "/.*"
    elif "*" in body.rsplit("/", 1)[-1]:
        tail = ""  # `*` never reaches past its own segment
    else:
        tail = "(?:/.*)?"  # a folder named literally: all below it
    return head + rx + tail


def compile_patterns(patterns: Filter) -> re.Pattern[str] | None:
    """One regex matching any of ``patterns`` (see the module docstring); None for none."""
    if patterns is None:
        return None
    if isinstance(patterns, str):
        patterns = [patterns]
    parts = [_one_pattern(p) for p in patterns]
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in parts), re.DOTALL)


def parse_shard(value: str | Sequence[int] | None) -> Shard | None:
    """``"i/n"`` or ``(i, n)`` as a checked ``(i, n)``, shards numbered from 0."""
    if value is None:
        return None
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
        if not m:
            raise InvalidArgumentError(f"invalid shard {value!r}: use I/N, e.g. 0/4 (shards are numbered 0 to N-1)")
        i, n = int(m.group(1)), int(m.group(2))
    else:
        try:
            i, n = value  # type: ignore[misc]
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"invalid shard {value!r}: give (i, n)") from None
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (i, n)):
            raise InvalidArgumentError(f"invalid shard {value!r}: i and n must be whole numbers")
    if n < 1 or not 0 <= i < n:
        raise InvalidArgumentError(f"invalid shard {i}/{n}: need 0 <= i < n (shards are numbered 0 to N-1)")
    return i, n


def split_shards(assets: Sequence[Asset], n: int) -> list[list[Asset]]:
    """All ``n`` shards of ``assets``, each sorted by logical path (see the module docstring)."""
    if n < 1:
        raise InvalidArgumentError(f"invalid shard count {n}: need n >= 1")
    shards: list[list[Asset]] = [[] for _ in range(n)]
    heap = [(0, 0, k) for k in range(n)]  # (bytes, files, index): the lightest shard first
    for a in sorted(assets, key=lambda a: (-(a.size or 0), a.logical_path)):
        weight, files, k = heapq.heappop(heap)
        shards[k].append(a)
        heapq.heappush(heap, (weight + (a.size or 0), files + 1, k))
    for s in shards:
        s.sort(key=lambda a: a.logical_path)
    return shards


def select(assets: Sequence[Asset], *, include: Filter = None, exclude: Filter = None, shard: str | Sequence[int] | None = None,
           label: str = "version") -> tuple[Asset, ...]:
    """The assets chosen by ``include`` / ``exclude`` and then ``shard``, in their order.

    With no filter at all, ``assets`` itself (the whole version)."""
    inc, exc, sh = compile_patterns(include), compile_patterns(exclude), parse_shard(shard)
    if inc is None and exc is None and sh is None:
        return tuple(assets)
    chosen = list(assets)
    if inc is not None:
        chosen = [a for a in chosen if inc.fullmatch(a.logical_path)]
        _check_includes(assets, include, label)  # type: ignore[arg-type]
    if exc is not None:
        chosen = [a for a in chosen if not exc.fullmatch(a.logical_path)]
    if sh is not None:
        keep = {a.logical_path for a in split_shards(chosen, sh[1])[sh[0]]}
        chosen = [a for a in chosen if a.logical_path in keep]
    return tuple(chosen)


def _check_includes(assets: Sequence[Asset], include: Iterable[str] | str, label: str) -> None:
    for p in [include] if isinstance(include, str) else include:
        rx = re.compile(_one_pattern(p), re.DOTALL)
        if not any(rx.fullmatch(a.logical_path) for a in assets):
            raise InvalidArgumentError(f"{label}: include pattern {p!r} matches no asset (patterns match the "
                                       "version's logical paths, e.g. 'train/**' or '*.jpg')")


def filter_new(result: StatusResult, all_assets: Sequence[Asset], *, include: Filter, exclude: Filter,
               shard: str | Sequence[int] | None) -> StatusResult:
    """``result`` (a status of selected assets) without the ``new`` objects the
    filters do not choose: a new object gets the logical path its source's
    other objects got (the same prefix), and is kept when that path matches
    ``include`` / ``exclude``. It belongs to no shard of the recorded version,
    so with ``shard`` none is kept; one whose path cannot be told is kept."""
    import attrs

    inc, exc = compile_patterns(include), compile_patterns(exclude)
    recorded = {a.uri for a in all_assets}  # objects of assets left out are not new
    bases: dict[str, str] = {}  # where a source's objects live -> the logical prefix they get
    canonical: dict[str, str] = {}
    for a in all_assets:
        if a.source is None or a.uri is None:
            continue
        src = canonical.get(a.source)
        if src is None:  # a source as logged (a plain path) -> the URIs its objects have
            from .errors import TetherError
            from .resolver import driver_for_uri

            try:
                driver = driver_for_uri(a.source)
                src = driver.uri_of(driver.path_of(a.source))
            except TetherError:
                src = a.source  # no driver to say: compared as written
            canonical[a.source] = src
        base = src.split("*", 1)[0].rsplit("/", 1)[0] + "/" if "*" in src else src.rstrip("/") + "/"
        if base not in bases and a.uri.startswith(base) and a.logical_path.endswith(a.uri[len(base):]):
            bases[base] = a.logical_path[: len(a.logical_path) - len(a.uri) + len(base)]

    def keep(uri: str | None) -> bool:
        if shard is not None or uri in recorded:
            return False
        base = max((b for b in bases if uri and uri.startswith(b)), key=len, default=None)
        if base is None or uri is None:
            return True
        path = bases[base] + uri[len(base):]
        return (inc is None or inc.fullmatch(path) is not None) and (exc is None or not exc.fullmatch(path))

    return attrs.evolve(result, outcomes=tuple(o for o in result.outcomes if o.status != "new" or keep(o.uri)))


def shard_paths(ref: str | ArtifactVersion, i: int, n: int, *, catalog: str | Catalog | None = None,
                include: Filter = None, exclude: Filter = None) -> list[str]:
    """The ``tether://`` URLs of shard ``i`` of ``n`` of a version, for a data loader.

    ``ref`` is ``"name@alias"``, ``"name:v3"`` or a loaded version; the URLs
    name the resolved version number (``tether://name:v3/...``), so every
    read is of that version even if the alias moves. Each rank computing its
    own shard from the same version gets a disjoint part, the union is the
    version. Read them with ``fsspec.open(url)`` (pass
    ``storage_options={"catalog": ...}`` for a catalog other than the default)."""
    from .catalog import ArtifactVersion, Catalog

    if isinstance(ref, ArtifactVersion):
        version = ref
    else:
        cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
        version = cat.get(ref)
    chosen = select(version.assets, include=include, exclude=exclude, shard=(i, n), label=version.ref)
    return [f"tether://{version.ref}/{a.logical_path}" for a in chosen if a.synced]
