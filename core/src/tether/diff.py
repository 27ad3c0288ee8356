"""What changed between two artifact versions: assets, renames, metadata, per folder.

Both manifests list their assets sorted by logical path, so the diff is one
merge pass over the two sorted sequences (as ``comm`` or git's tree diff walk
two sorted listings) instead of two path-keyed dicts: memory beyond the
versions themselves is the changes, not the assets. A path present on both
sides is *unchanged* when its identity is the one the catalog's content digest
covers (:meth:`tether.models.Asset.identity`: uri, link, size, checksums,
version id, link-only flag and asset metadata; ``last_modified`` is not
content), else *modified*, naming the fields that differ.

Renames, as git detects them, are pairings of a removed path with an added
one holding the same content: the same size and an equal checksum of a kind
that identifies content (sha256, sha1, md5, sha512, crc64nvme, an ETag), or
the same URI pinned to the same object version, or the same link. Only the
added and removed sides are indexed. When several removed paths hold the
same content, the one with the same file name is preferred, then the first.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import attrs

from .models import Asset
from .nogc import gc_paused

if TYPE_CHECKING:
    from .catalog.version import ArtifactVersion

#: Checksum kinds that identify content well enough to call two paths a rename
#: (CRC32 and CRC32C are 32 bits: among 100,000 files of one size, collisions happen).
RENAME_KINDS = ("sha256", "sha512", "sha1", "md5", "crc64nvme", "etag")
#: How many same-content candidates are searched for one with the same file name.
_NAME_SCAN = 64

_path = attrgetter("logical_path")


@attrs.frozen
class Modified:
    """A path on both sides whose content differs; ``fields`` says how."""

    path: str
    old: Asset
    new: Asset
    fields: tuple[str, ...]

    @property
    def size_delta(self) -> int:
        return (self.new.size or 0) - (self.old.size or 0)


@attrs.frozen
class Renamed:
    """The same content at a new path. ``by`` is what matched: a checksum kind, ``uri`` or ``link``."""

    old_path: str
    new_path: str
    old: Asset
    new: Asset
    by: str

    @property
    def path(self) -> str:
        return self.new_path


@attrs.frozen
class FolderSummary:
    """Changes under one folder prefix (``""`` is the top level). Bytes are the
    sizes of added and removed assets plus the growth or shrinking of modified ones."""

    prefix: str
    added: int = 0
    removed: int = 0
    modified: int = 0
    renamed: int = 0
    unchanged: int = 0
    bytes_added: int = 0
    bytes_removed: int = 0

    @property
    def changed(self) -> int:
        return self.added + self.removed + self.modified + self.renamed


@attrs.frozen
class VersionDiff:
    """The difference from version ``a`` to version ``b`` (``a`` is the old side)."""

    a: str
    b: str
    added: tuple[Asset, ...]
    removed: tuple[Asset, ...]
    modified: tuple[Modified, ...]
    renamed: tuple[Renamed, ...]
    unchanged: int
    metadata_added: Mapping[str, Any]
    metadata_removed: Mapping[str, Any]
    metadata_changed: Mapping[str, tuple[Any, Any]]
    type_change: tuple[str, str] | None = None
    prefix: str | None = None
    #: Unchanged assets per folder (full folder of each path): count and bytes.
    unchanged_by_folder: Mapping[str, tuple[int, int]] = attrs.field(factory=dict, repr=False)

    @property
    def equal(self) -> bool:
        return not (self.added or self.removed or self.modified or self.renamed or self.metadata_added
                    or self.metadata_removed or self.metadata_changed or self.type_change)

    @property
    def bytes_added(self) -> int:
        return (sum(a.size or 0 for a in self.added)
                + sum(max(m.size_delta, 0) for m in self.modified))

    @property
    def bytes_removed(self) -> int:
        return (sum(a.size or 0 for a in self.removed)
                + sum(max(-m.size_delta, 0) for m in self.modified))

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "modified": len(self.modified),
                "renamed": len(self.renamed), "unchanged": self.unchanged}

    def folders(self, depth: int = 1) -> list[FolderSummary]:
        """Counts and bytes by folder prefix of ``depth`` segments (``data/train/``
        at depth 2), sorted by prefix; a rename counts in its new folder."""
        rows: dict[str, dict[str, int]] = {}

        def row(folder: str) -> dict[str, int]:
            return rows.setdefault(cut_folder(folder, depth), dict.fromkeys(
                ("added", "removed", "modified", "renamed", "unchanged", "bytes_added", "bytes_removed"), 0))

        for a in self.added:
            r = row(a.logical_path.rpartition("/")[0])
            r["added"] += 1
            r["bytes_added"] += a.size or 0
        for a in self.removed:
            r = row(a.logical_path.rpartition("/")[0])
            r["removed"] += 1
            r["bytes_removed"] += a.size or 0
        for m in self.modified:
            r = row(m.path.rpartition("/")[0])
            r["modified"] += 1
            r["bytes_added"] += max(m.size_delta, 0)
            r["bytes_removed"] += max(-m.size_delta, 0)
        for rn in self.renamed:
            row(rn.new_path.rpartition("/")[0])["renamed"] += 1
        for folder, (count, _size) in self.unchanged_by_folder.items():
            row(folder)["unchanged"] += count
        return [FolderSummary(prefix=k, **v) for k, v in sorted(rows.items())]

    def changes(self, kind: str) -> Sequence[Asset | Modified | Renamed]:
        """One list by name: ``added``, ``removed``, ``modified`` or ``renamed`` (sorted by path)."""
        if kind not in CHANGE_KINDS:
            raise ValueError(f"unknown change kind {kind!r}: one of {', '.join(CHANGE_KINDS)}")
        return getattr(self, kind)  # type: ignore[no-any-return]

    def to_dict(self, *, assets: bool = True, depth: int = 1) -> dict[str, Any]:
        """JSON-ready: the summary first, then (with ``assets``) every change."""
        doc: dict[str, Any] = {
            "a": self.a, "b": self.b, "equal": self.equal, "prefix": self.prefix, "counts": self.counts(),
            "bytes_added": self.bytes_added, "bytes_removed": self.bytes_removed,
            "type": list(self.type_change) if self.type_change else None,
            "metadata": {"added": dict(self.metadata_added), "removed": dict(self.metadata_removed),
                         "changed": {k: {"old": o, "new": n} for k, (o, n) in self.metadata_changed.items()}},
            "folders": [attrs.asdict(f) for f in self.folders(depth)],
        }
        if assets:
            doc["added"] = [asset_row(a) for a in self.added]
            doc["removed"] = [asset_row(a) for a in self.removed]
            doc["modified"] = [{"path": m.path, "fields": list(m.fields), "old": asset_row(m.old),
                                "new": asset_row(m.new)} for m in self.modified]
            doc["renamed"] = [{"old_path": r.old_path, "new_path": r.new_path, "by": r.by,
                               "size": r.new.size} for r in self.renamed]
        return doc


CHANGE_KINDS = ("added", "removed", "modified", "renamed")


def asset_row(a: Asset) -> dict[str, Any]:
    return {"path": a.logical_path, "size": a.size, "uri": a.uri, "link": None if a.synced else a.link,
            "checksums": dict(a.checksums), "version_id": a.version_id}


def folder_of(path: str, depth: int | None = None) -> str:
    """The folder of ``path`` (``""`` at the top), cut to ``depth`` segments, with a trailing slash."""
    return cut_folder(path.rpartition("/")[0], depth)


def cut_folder(folder: str, depth: int | None) -> str:
    """``a/b/c`` at depth 2 is ``a/b/``; ``""`` (the top level) stays ``""``."""
    if not folder:
        return ""
    if depth is not None:
        folder = "/".join(folder.split("/")[:max(depth, 1)])
    return folder + "/"


def changed_fields(old: Asset, new: Asset) -> tuple[str, ...]:
    """The identity fields in which two assets at the same path differ (empty: unchanged)."""
    if (old.size == new.size and old.version_id == new.version_id and old.uri == new.uri
            and old.checksums == new.checksums and old.link == new.link and old.synced == new.synced
            and old.metadata == new.metadata):
        return ()
    out = []
    for name in ("size", "checksums", "version_id", "uri", "link", "synced", "metadata"):
        if getattr(old, name) != getattr(new, name):
            out.append(name)
    return tuple(out)


def sorted_under(assets: Sequence[Asset], prefix: str | None) -> Sequence[Asset]:
    """``assets`` in path order, cut to ``prefix``. tether writes manifests
    sorted, so this is a linear check; a hand-written manifest is sorted here."""
    paths = list(map(_path, assets))
    if paths != sorted(paths):  # C-speed on sorted input: one comparison per neighbour
        assets = sorted(assets, key=_path)
    if not prefix:
        return assets
    view = _PathView(assets)
    lo = bisect.bisect_left(view, prefix)
    hi = bisect.bisect_left(view, prefix + "\U0010ffff", lo)
    return assets[lo:hi]


class _PathView(Sequence[str]):
    """The paths of a sorted sequence, for :mod:`bisect`, without copying them."""

    def __init__(self, items: Sequence[Any], key: Any = _path) -> None:
        self.items, self.key = items, key

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        return self.key(self.items[i])


def _content_keys(a: Asset) -> list[tuple[str, Any]]:
    """What identifies an asset's content, strongest first (see the module docstring)."""
    if not a.synced:
        return [("link", a.link)]
    sums, size = a.checksums, a.size
    keys: list[tuple[str, Any]] = [(k, (sums[k], size)) for k in RENAME_KINDS if k in sums]
    if a.version_id:
        keys.append(("uri", (a.uri, a.version_id)))
    return keys


def _pair_renames(removed: list[Asset], added: list[Asset]) -> tuple[list[Renamed], list[Asset], list[Asset]]:
    if not removed or not added:
        return [], removed, added
    index: dict[tuple[str, Any], list[int]] = {}
    for i, a in enumerate(removed):
        for key in _content_keys(a):
            index.setdefault(key, []).append(i)
    heads: dict[tuple[str, Any], int] = {}  # per key, the first candidate not yet paired
    used = [False] * len(removed)
    renames: list[Renamed] = []
    still_added: list[Asset] = []
    for new in added:
        match = None
        for key in _content_keys(new):
            candidates = index.get(key, ())
            start = heads.get(key, 0)
            while start < len(candidates) and used[candidates[start]]:
                start += 1
            heads[key] = start
            if start == len(candidates):
                continue
            name = new.logical_path.rpartition("/")[2]
            pick = next((i for i in candidates[start:start + _NAME_SCAN]
                         if not used[i] and removed[i].logical_path.rpartition("/")[2] == name),
                        candidates[start])
            match = (pick, key[0])
            break
        if match is None:
            still_added.append(new)
            continue
        i, by = match
        used[i] = True
        renames.append(Renamed(removed[i].logical_path, new.logical_path, removed[i], new, by))
    renames.sort(key=attrgetter("new_path"))
    return renames, [a for i, a in enumerate(removed) if not used[i]], still_added


def diff_assets(old: Sequence[Asset], new: Sequence[Asset], *, prefix: str | None = None,
                ) -> tuple[list[Asset], list[Asset], list[Modified], list[Renamed], int, dict[str, tuple[int, int]]]:
    """The merge pass: (added, removed, modified, renamed, unchanged count, unchanged by folder)."""
    left, right = sorted_under(old, prefix), sorted_under(new, prefix)
    added: list[Asset] = []
    removed: list[Asset] = []
    modified: list[Modified] = []
    unchanged = 0
    by_folder: dict[str, list[int]] = {}
    i = j = 0
    n, m = len(left), len(right)
    while i < n and j < m:
        a, b = left[i], right[j]
        pa, pb = a.logical_path, b.logical_path
        if pa == pb:
            fields = changed_fields(a, b)
            if fields:
                modified.append(Modified(pb, a, b, fields))
            else:
                unchanged += 1
                folder = pb.rpartition("/")[0]
                slot = by_folder.get(folder)
                if slot is None:
                    slot = by_folder[folder] = [0, 0]
                slot[0] += 1
                slot[1] += b.size or 0
            i += 1
            j += 1
        elif pa < pb:
            removed.append(a)
            i += 1
        else:
            added.append(b)
            j += 1
    removed.extend(left[i:])
    added.extend(right[j:])
    renamed, removed, added = _pair_renames(removed, added)
    return added, removed, modified, renamed, unchanged, {k: (c, s) for k, (c, s) in by_folder.items()}


def _metadata_diff(old: Mapping[str, Any], new: Mapping[str, Any],
                   ) -> tuple[dict[str, Any], dict[str, Any], dict[str, tuple[Any, Any]]]:
    added = {k: v for k, v in new.items() if k not in old}
    removed = {k: v for k, v in old.items() if k not in new}
    changed = {k: (old[k], v) for k, v in new.items() if k in old and old[k] != v}
    return added, removed, changed


def diff_versions(a: ArtifactVersion, b: ArtifactVersion, *, prefix: str | None = None) -> VersionDiff:
    """``b`` compared with ``a``: what a user moving from ``a`` to ``b`` gets."""
    old, new = a.assets, b.assets  # read (parsed) first: the pause below covers only the diff
    with gc_paused():  # tens of thousands of acyclic objects (see tether.nogc)
        added, removed, modified, renamed, unchanged, by_folder = diff_assets(old, new, prefix=prefix)
    m_added, m_removed, m_changed = _metadata_diff(a.metadata, b.metadata)
    return VersionDiff(
        a=a.ref, b=b.ref, added=tuple(added), removed=tuple(removed), modified=tuple(modified),
        renamed=tuple(renamed), unchanged=unchanged, metadata_added=m_added, metadata_removed=m_removed,
        metadata_changed=m_changed, type_change=(a.type, b.type) if a.type != b.type else None,
        prefix=prefix or None, unchanged_by_folder=by_folder)


def path_of(item: Asset | Modified | Renamed) -> str:
    """The path a change is listed (and paged) by: a rename's new path."""
    return item.logical_path if isinstance(item, Asset) else item.path


def page(items: Sequence[Any], after: str | None, limit: int) -> tuple[list[Any], str | None]:
    """Keyset pagination over ``items`` sorted by path (:func:`path_of`): the
    ``limit`` items after the path ``after``, and the path to ask for next
    (None at the end). A key, unlike an offset, stays right when the list
    under it is recomputed, and costs a binary search, not a skip."""
    keys = _PathView(items, path_of)
    start = bisect.bisect_right(keys, after) if after else 0
    chunk = list(items[start:start + limit])
    more = start + limit < len(items)
    return chunk, (path_of(chunk[-1]) if more and chunk else None)


def human_size(n: int | None) -> str:
    """``1536`` as ``1.5 KiB``; bytes below 1 KiB as they are."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
