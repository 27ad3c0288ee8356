"""The data tether records: remote objects, assets and manifests (attrs, frozen).

A *manifest* is the immutable JSON document describing one artifact version's
content. Its format (``tether.manifest/1``) is plain JSON (gzip-compressed for
large artifacts), readable with the standard library alone::

    {"schema": "tether.manifest/1", "name": "imagenet", "type": "dataset",
     "created_at": "2026-11-25T10:00:00Z", "metadata": {...},
     "digest": "sha256:...", "sources": ["s3://bucket/train/"],
     "assets": [{"path": "a.jpg", "uri": "s3://bucket/train/a.jpg", "size": 12,
                 "checksums": {"etag": "...", "md5": "..."}, "version_id": "...",
                 "last_modified": "...", "source": 0}, ...]}
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .checksums import KNOWN_KINDS
from .errors import ManifestError, UnsafePathError
from .paths import check_logical_path

MANIFEST_SCHEMA = "tether.manifest/1"
VERSION_SCHEMA = "tether.version/1"


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class RemoteObject:
    """One object as a driver sees it right now (a listing row or a HEAD)."""

    uri: str
    path: str
    size: int
    checksums: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    version_id: str | None = None
    last_modified: str | None = None


@attrs.frozen
class Asset:
    """One file of an artifact version.

    ``synced`` assets were resolved by a driver: ``uri`` names the object,
    ``size``/``checksums``/``version_id`` pin its bytes. Link-only assets
    (``synced=False``) keep just ``link``, a redacted reference string that
    tether cannot fetch.
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

    @logical_path.validator
    def _check_path(self, _attr: object, value: str) -> None:
        check_logical_path(value)

    @classmethod
    def from_object(cls, logical_path: str, obj: RemoteObject, *, source: str | None = None,
                    metadata: Mapping[str, Any] | None = None) -> Asset:
        return cls(logical_path=logical_path, link=obj.uri, uri=obj.uri, size=obj.size,
                   checksums=obj.checksums, version_id=obj.version_id,
                   last_modified=obj.last_modified, synced=True, metadata=metadata or {},
                   source=source)

    def identity(self) -> tuple[Any, ...]:
        """What makes two assets the same content (last_modified excluded)."""
        return (self.logical_path, self.uri, self.link, self.size,
                tuple(sorted(self.checksums.items())), self.version_id, self.synced,
                json.dumps(dict(self.metadata), sort_keys=True, default=str))


def content_digest(type_: str, assets: tuple[Asset, ...]) -> str:
    """A digest of the artifact's content, used to skip logging an identical version."""
    h = hashlib.sha256(type_.encode())
    for ident in sorted(a.identity() for a in assets):
        h.update(json.dumps(ident, default=str, separators=(",", ":")).encode())
        h.update(b"\n")
    return "sha256:" + h.hexdigest()


@attrs.frozen
class Manifest:
    name: str
    type: str
    assets: tuple[Asset, ...]
    created_at: str
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    digest: str = ""

    @property
    def total_size(self) -> int:
        return sum(a.size or 0 for a in self.assets)

    # --- JSON ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        sources: dict[str, int] = {}
        rows = []
        for a in self.assets:
            row: dict[str, Any] = {"path": a.logical_path}
            if a.synced:
                row["uri"] = a.uri
                row["size"] = a.size
                if a.checksums:
                    row["checksums"] = dict(a.checksums)
                if a.version_id is not None:
                    row["version_id"] = a.version_id
                if a.last_modified is not None:
                    row["last_modified"] = a.last_modified
            else:
                row["link"] = a.link
                row["synced"] = False
            if a.metadata:
                row["metadata"] = dict(a.metadata)
            if a.source is not None:
                row["source"] = sources.setdefault(a.source, len(sources))
            rows.append(row)
        return {
            "schema": MANIFEST_SCHEMA,
            "name": self.name,
            "type": self.type,
            "created_at": self.created_at,
            "metadata": dict(self.metadata),
            "digest": self.digest,
            "asset_count": len(self.assets),
            "total_size": self.total_size,
            "sources": list(sources),
            "assets": rows,
        }

    def to_bytes(self, *, compress: bool) -> bytes:
        raw = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"),
                         sort_keys=False).encode("utf-8")
        # mtime=0 keeps compressed bytes (and so their content address) reproducible.
        return gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str) -> Manifest:
        try:
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            doc = json.loads(data.decode("utf-8"))
        except (OSError, EOFError, ValueError) as exc:
            raise ManifestError(f"manifest {where} is not valid JSON: {exc}") from None
        return cls.from_dict(doc, where=where)

    @classmethod
    def from_dict(cls, doc: Any, *, where: str) -> Manifest:
        def bad(msg: str) -> ManifestError:
            return ManifestError(f"manifest {where}: {msg}")

        if not isinstance(doc, dict):
            raise bad("top level is not an object")
        if doc.get("schema") != MANIFEST_SCHEMA:
            raise bad(f"unsupported schema {doc.get('schema')!r} (this tether reads {MANIFEST_SCHEMA})")
        sources = doc.get("sources", [])
        rows = doc.get("assets")
        if not isinstance(rows, list) or not isinstance(sources, list):
            raise bad("'assets' and 'sources' must be lists")
        assets = []
        seen: set[str] = set()
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not isinstance(row.get("path"), str):
                raise bad(f"asset #{i} has no 'path'")
            path = row["path"]
            try:
                check_logical_path(path)
            except UnsafePathError as exc:
                raise bad(f"asset #{i}: {exc}") from None
            if path in seen:
                raise bad(f"asset path {path!r} appears twice")
            seen.add(path)
            src = row.get("source")
            if src is not None and (not isinstance(src, int) or not 0 <= src < len(sources)):
                raise bad(f"asset {path!r} has an invalid source index")
            source = sources[src] if src is not None else None
            meta = row.get("metadata", {})
            if not isinstance(meta, dict):
                raise bad(f"asset {path!r} metadata is not an object")
            if row.get("synced", True) is False:
                if not isinstance(row.get("link"), str):
                    raise bad(f"link-only asset {path!r} has no 'link'")
                assets.append(Asset(logical_path=path, link=row["link"], synced=False,
                                    metadata=meta, source=source))
                continue
            uri, size, sums = row.get("uri"), row.get("size"), row.get("checksums", {})
            if not isinstance(uri, str) or not uri:
                raise bad(f"asset {path!r} has no 'uri'")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise bad(f"asset {path!r} has an invalid size {size!r}")
            if not isinstance(sums, dict) or not all(isinstance(v, str) for v in sums.values()):
                raise bad(f"asset {path!r} checksums must map kinds to strings")
            unknown = set(sums) - KNOWN_KINDS
            if unknown:
                raise bad(f"asset {path!r} has unknown checksum kinds {sorted(unknown)}")
            vid = row.get("version_id")
            if vid is not None and not isinstance(vid, str):
                raise bad(f"asset {path!r} version_id must be a string")
            assets.append(Asset(logical_path=path, link=uri, uri=uri, size=size, checksums=sums,
                                version_id=vid, last_modified=row.get("last_modified"),
                                synced=True, metadata=meta, source=source))
        name, type_ = doc.get("name"), doc.get("type")
        if not isinstance(name, str) or not isinstance(type_, str):
            raise bad("'name' and 'type' must be strings")
        meta = doc.get("metadata", {})
        if not isinstance(meta, dict):
            raise bad("'metadata' is not an object")
        return cls(name=name, type=type_, assets=tuple(assets),
                   created_at=str(doc.get("created_at", "")), metadata=meta,
                   digest=str(doc.get("digest", "")))
