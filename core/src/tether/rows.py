"""Listing rows carried as plain tuples until something reads them as objects.

Re-logging an unchanged folder of 20,000 files reads, per file, only what the
content digest and the reference check need (logical path, URI, size, one
checksum); the version already exists, so no manifest is written and no
:class:`~tether.models.Asset` is ever read. Building a :class:`RemoteObject`
and then an ``Asset`` (frozen attrs, a converter and a validator each, a
``FrozenMap`` of checksums, an ISO timestamp) for every file was most of that
re-log. So a driver may list into :class:`ObjectRows`, an artifact keeps
:class:`AssetRow` tuples, and both turn into the public models only when read
(``Artifact.assets``, a manifest being written, any iteration of the listing):
what a caller sees is unchanged, only when it is built moves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, overload

from .models import _EMPTY, Asset, FrozenMap, RemoteObject, _frozen_map
from .paths import check_logical_path, join_logical

#: One listing row: ``(uri, path, size, digest, stamp)``; ``stamp`` is whatever the
#: listing's ``format_time`` turns into ``last_modified`` (a local file's st_mtime_ns).
Row = tuple[str, str, int, str, Any]


class DuplicatePath(Exception):
    """Two rows map to one logical path (``args[0]``)."""


class ObjectRows(Sequence[RemoteObject]):
    """A listing whose objects each carry exactly one checksum, of one ``kind``.

    A full ``Sequence[RemoteObject]`` (indexing, iteration, ``len``, equality
    with a list of the same objects): each object is built when it is read.
    Consumers that know the type (:meth:`tether.Artifact.add_remote`) read
    :attr:`rows` directly instead."""

    __slots__ = ("format_time", "kind", "rows")

    def __init__(self, rows: list[Row], kind: str, format_time: Callable[[Any], str | None]) -> None:
        self.rows, self.kind, self.format_time = rows, kind, format_time

    def _object(self, row: Row) -> RemoteObject:
        uri, path, size, digest, stamp = row
        return RemoteObject(uri, path, size, FrozenMap({self.kind: digest}), None, self.format_time(stamp))

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> RemoteObject: ...
    @overload
    def __getitem__(self, i: slice) -> ObjectRows: ...

    def __getitem__(self, i: int | slice) -> RemoteObject | ObjectRows:
        if isinstance(i, slice):
            return ObjectRows(self.rows[i], self.kind, self.format_time)
        return self._object(self.rows[i])

    def __iter__(self) -> Iterator[RemoteObject]:
        return map(self._object, self.rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ObjectRows):
            return list(self) == list(other)
        if isinstance(other, (list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"ObjectRows({len(self.rows)} {self.kind} rows)"


class RowBatch:
    """What every asset of one :meth:`~tether.Artifact.add_remote` call shares."""

    __slots__ = ("format_time", "kind", "metadata", "metadata_json", "source")

    def __init__(self, kind: str, source: str | None, metadata: Mapping[str, Any] | None,
                 format_time: Callable[[Any], str | None]) -> None:
        from .models import _metadata_json

        self.kind, self.source, self.format_time = kind, source, format_time
        self.metadata = _frozen_map(metadata)
        self.metadata_json = _metadata_json(self.metadata)


class AssetRow(tuple):  # type: ignore[type-arg]
    """``(logical_path, uri, size, digest, stamp, batch)``: a synced asset not yet
    built. Reads like an :class:`Asset` for what logging needs (``logical_path``,
    ``uri``, ``synced``, :meth:`identity`); :meth:`asset` builds the real one."""

    __slots__ = ()

    logical_path = property(itemgetter(0))
    uri = property(itemgetter(1))
    synced = True

    def identity(self) -> tuple[Any, ...]:
        """Exactly :meth:`Asset.identity` of :meth:`asset` (the content digest hashes it)."""
        lp, uri, size, digest, _stamp, batch = self
        return (lp, uri, uri, size, ((batch.kind, digest),), None, True, batch.metadata_json)

    def asset(self) -> Asset:
        lp, uri, size, digest, stamp, batch = self
        return Asset(lp, uri, uri, size, FrozenMap({batch.kind: digest}), None, batch.format_time(stamp), True,
                     batch.metadata or _EMPTY, batch.source, None)


def asset_rows(objects: ObjectRows, base: str, logical_path: str | None, source: str | None,
               metadata: Mapping[str, Any] | None) -> dict[str, AssetRow]:
    """The rows of a prefix or glob listing under ``base``, by logical path
    (each checked as :class:`Asset` checks it); two rows with one logical path
    raise :class:`DuplicatePath` naming it (the caller words the error)."""
    batch = RowBatch(objects.kind, source, metadata, objects.format_time)
    cut, new = len(base), tuple.__new__
    out: dict[str, AssetRow] = {}
    for uri, path, size, digest, stamp in objects.rows:
        lp = check_logical_path(join_logical(logical_path, path[cut:].lstrip("/")))
        if lp in out:
            raise DuplicatePath(lp)
        out[lp] = new(AssetRow, (lp, uri, size, digest, stamp, batch))
    return out


def materialise(entries: Sequence[Asset | AssetRow]) -> tuple[Asset, ...]:
    """``entries`` as assets, rows built now."""
    return tuple(a.asset() if isinstance(a, AssetRow) else a for a in entries)


__all__ = ["AssetRow", "DuplicatePath", "ObjectRows", "RowBatch", "asset_rows", "materialise"]
