"""The data tether records: remote objects, assets and manifests (attrs, frozen).

A *manifest* is the immutable JSON document describing one artifact version's
content. Its format (``tether.manifest/1``) is plain JSON (gzip-compressed for
large artifacts), readable with the standard library alone::

    {"schema": "tether.manifest/1", "name": "imagenet", "type": "dataset",
     "created_at": "2026-11-25T10:00:00Z", "metadata": {...},
     "digest": "sha256:...", "sources": ["s3://bucket/train/"],
     "created_by_run": "20261127T103000.000Z-3f9a1c2b7d4e",   # only when logged in a run
     "assets": [{"path": "a.jpg", "uri": "s3://bucket/train/a.jpg", "size": 12,
                 "checksums": {"etag": "...", "md5": "..."}, "version_id": "...",
                 "last_modified": "...", "source": 0, "verification": "md5"}, ...]}

``part_size`` (an S3 object uploaded in parts: the size of every part but the
last) appears only when recorded. ``verification`` is derived, written for
readers of the JSON (see :mod:`tether.checksums` for its values); tether
ignores it when reading and recomputes it from ``checksums`` and
``part_size``, so an edited value can never make an asset look more verified
than its checksums allow.

The JSON is written by :mod:`tether.manifest_writer` and read by
:mod:`tether.manifest_reader` (with the bounds that keep reading a hostile
manifest cheap); :class:`Manifest`'s methods are their entry points.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .checksums import verification_strength
from .paths import check_logical_path

MANIFEST_SCHEMA = "tether.manifest/1"
VERSION_SCHEMA = "tether.version/1"

class FrozenMap(dict):  # type: ignore[type-arg]
    """A read-only dict: what models expose for checksums and metadata.

    A dict subclass rather than a ``MappingProxyType`` over a dict: one object
    per mapping instead of two, which matters at 100,000 assets a version."""

    __slots__ = ()

    def _readonly(self, *args: object, **kwargs: object) -> None:
        raise TypeError("tether model mappings are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (dict(self),))


_EMPTY: Mapping[str, Any] = FrozenMap()


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # One shared empty mapping: most assets carry no metadata, and a 100,000-asset
    # version should not hold 100,000 empty dicts.
    if not value:
        return _EMPTY
    if isinstance(value, FrozenMap):
        return value
    return FrozenMap(value)


@attrs.frozen
class RemoteObject:
    """One object as a driver sees it right now (a listing row or a HEAD)."""

    uri: str
    path: str
    size: int
    checksums: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    version_id: str | None = None
    last_modified: str | None = None
    #: S3 objects uploaded in parts of one size: that size (the last part may be
    #: shorter), what recomputing the multipart ETag needs. None otherwise.
    part_size: int | None = None


@attrs.frozen
class Asset:
    """One file of an artifact version.

    ``synced`` assets were resolved by a driver: ``uri`` names the object,
    ``size``/``checksums``/``version_id`` pin its bytes. Link-only assets
    (``synced=False``) keep just ``link``, a redacted reference string that
    tether cannot fetch. ``part_size``: see :class:`RemoteObject`.
    """

    logical_path: str = attrs.field()
    link: str
    uri: str | None = None
    size: int | None = None
    checksums: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    version_id: str | None = None
    last_modified: str | None = None
    synced: bool = True
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    source: str | None = None
    part_size: int | None = None

    @logical_path.validator
    def _check_path(self, _attr: object, value: str) -> None:
        check_logical_path(value)

    @classmethod
    def from_object(cls, logical_path: str, obj: RemoteObject, *, source: str | None = None,
                    metadata: Mapping[str, Any] | None = None) -> Asset:
        # Positional: called once per object of every listing.
        return cls(logical_path, obj.uri, obj.uri, obj.size, obj.checksums, obj.version_id,
                   obj.last_modified, True, metadata or _EMPTY, source, obj.part_size)

    @property
    def verification(self) -> str | None:
        """How strongly the bytes are verified (``sha256`` ... ``size-only``,
        see :mod:`tether.checksums`); None for a link-only asset."""
        return verification_strength(self.checksums, self.part_size) if self.synced else None

    def identity(self) -> tuple[Any, ...]:
        """What makes two assets the same content (last_modified excluded).

        ``part_size`` is appended only when recorded, so the digests of assets
        logged before it existed do not change."""
        ident = (self.logical_path, self.uri, self.link, self.size,
                 tuple(sorted(self.checksums.items())), self.version_id, self.synced,
                 _metadata_json(self.metadata))
        return ident if self.part_size is None else (*ident, self.part_size)


def _make_identity_encoder() -> Any:
    """Compact JSON of one identity row, with one C encoder made once.

    ``json.dumps`` and ``JSONEncoder.encode`` build a new C encoder on every
    call, most of the digest's cost per asset; the rows are flat tuples of
    strings, numbers and None, so circular-reference checks are not needed."""
    encoder = json.JSONEncoder(default=str, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return encoder.encode
    c_encode = make(None, encoder.default, json.encoder.encode_basestring_ascii, None, ":", ",",
                    False, False, True)
    return lambda row: "".join(c_encode(row, 0))


_encode_identity = _make_identity_encoder()




def _metadata_json(metadata: Mapping[str, Any]) -> str:
    return json.dumps(dict(metadata), sort_keys=True, default=str) if metadata else "{}"


def content_digest(type_: str, assets: tuple[Asset, ...]) -> str:
    """A digest of the artifact's content, used to skip logging an identical version.

    The bytes hashed are fixed (catalogs compare digests across tether
    releases): per asset, in logical-path order, the compact JSON of
    :meth:`Asset.identity` and a newline."""
    h = hashlib.sha256(type_.encode())
    encode = _encode_identity
    # Logical paths are unique in an artifact, so ordering by them orders the
    # identities without materialising them all. Rows are hashed in batches.
    batch: list[str] = []
    for a in sorted(assets, key=lambda a: a.logical_path):
        batch.append(encode(a.identity()))
        if len(batch) == 4096:
            h.update(("\n".join(batch) + "\n").encode())
            batch.clear()
    if batch:
        h.update(("\n".join(batch) + "\n").encode())
    return "sha256:" + h.hexdigest()


@attrs.frozen
class Manifest:
    name: str
    type: str
    assets: tuple[Asset, ...]
    created_at: str
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    digest: str = ""
    #: The run that logged this version (``tether.Run``), absent outside runs:
    #: manifests written outside any run keep exactly their former bytes.
    created_by_run: str | None = None

    @property
    def total_size(self) -> int:
        return sum(a.size or 0 for a in self.assets)

    # JSON: see tether.manifest_writer and tether.manifest_reader.
    def to_dict(self) -> dict[str, Any]:
        from .manifest_writer import to_dict

        return to_dict(self)

    def iter_chunks(self) -> Iterator[bytes]:
        """The manifest's JSON text, in pieces: header, then one line per asset."""
        from .manifest_writer import iter_chunks

        return iter_chunks(self)

    def to_bytes(self, *, compress: bool) -> bytes:
        """The manifest's JSON (gzip-compressed with ``compress``), the same bytes
        for the same manifest. A manifest tether would refuse to read back is a
        ManifestError, a name that is not valid UTF-8 an InvalidArtifactError."""
        from .manifest_writer import to_bytes

        return to_bytes(self, compress=compress)

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str, asset_count: object = None) -> Manifest:
        """Parse a manifest (gzip or not). ``asset_count``, the number of assets
        the caller was told to expect (the version claim's), bounds the bytes
        inflated together with the count the manifest itself claims; see
        :func:`~tether.manifest_reader.manifest_budget`. Every failure is a ManifestError."""
        from .manifest_reader import read_manifest

        return read_manifest(data, where=where, asset_count=asset_count)

    @classmethod
    def from_dict(cls, doc: Any, *, where: str) -> Manifest:
        from .manifest_reader import manifest_from_dict

        return manifest_from_dict(doc, where=where)


# Names that lived here before the JSON code moved out, still importable from
# tether.models. Resolved on first use: the codec modules import this one.
_MOVED = {
    "manifest_reader": ("MAX_ASSET_SIZE", "MAX_LINE", "BYTES_PER_ASSET", "MAX_MANIFEST_BYTES",
                        "MAX_WHOLE_DOCUMENT_BYTES", "manifest_budget", "_check_header", "_RowReader",
                        "_check_checksums", "_part_size", "_read_line_per_asset"),
    "manifest_writer": ("_make_row_encoder", "_encode_row", "_non_utf8"),
}
_HOME = {name: module for module, moved in _MOVED.items() for name in moved}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __package__), name)
