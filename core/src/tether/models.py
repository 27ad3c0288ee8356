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
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .checksum_kinds import KIND_NAME_RE, unknown_value_ok
from .checksums import kinds, multipart_parts, verification_strength
from .errors import InvalidArtifactError, ManifestError, UnsafePathError
from .paths import check_logical_path, shown_name

MANIFEST_SCHEMA = "tether.manifest/1"
VERSION_SCHEMA = "tether.version/1"

# Bounds on reading a manifest: a catalog on a shared store is input, and a
# hostile one (a gzip bomb, one endless line, a claimed size of 2**51) must
# cost bounded memory and end in a ManifestError. tether's writer checks the
# same bounds, so it never writes a manifest it would refuse to read.
#: The largest object S3 or GCS stores (5 TiB): no recorded size is larger.
MAX_ASSET_SIZE = 5 * 1024**4
#: The longest line of the line-per-asset layout (one row, or the header with the artifact's metadata).
MAX_LINE = 32 * 1024**2
#: Inflated bytes allowed per asset, on top of one header line, counted both
#: against the assets the manifest (or its claim) says it has and, as rows are
#: read, against the rows so far: a tether row is a few hundred bytes.
BYTES_PER_ASSET = 64 * 1024
#: Inflated bytes of any manifest, whatever it claims.
MAX_MANIFEST_BYTES = 2 * 1024**3
#: Layouts other than tether's (hand-edited, pretty-printed) are parsed as one
#: document, which costs several times its size in memory: these stay smaller.
MAX_WHOLE_DOCUMENT_BYTES = 256 * 1024**2


def manifest_budget(asset_count: object) -> int:
    """How many inflated bytes a manifest of ``asset_count`` assets may take."""
    if isinstance(asset_count, int) and not isinstance(asset_count, bool) and asset_count >= 0:
        return min(MAX_MANIFEST_BYTES, MAX_LINE + asset_count * BYTES_PER_ASSET)
    return MAX_MANIFEST_BYTES


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


def _make_row_encoder() -> Any:
    """``json.dumps(row, ensure_ascii=False, separators=(",", ":"))`` of one manifest row,
    with one C encoder made once (``json.dumps`` makes a new one per call: most of
    writing a 1,000,000-row manifest). The same text, byte for byte."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return encoder.encode
    c_encode = make({}, encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda row: "".join(c_encode(row, 0))


_encode_row = _make_row_encoder()


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

    # --- JSON ---------------------------------------------------------------------
    # A manifest is one JSON document laid out with one asset per line:
    #   {"schema": ..., "sources": [...], "assets":[
    #   {asset},
    #   {asset}
    #   ]}
    # so it stays readable by any JSON parser, while tether writes and reads it
    # one asset at a time (memory stays flat for 100,000-asset versions).

    def _header(self, sources: list[str]) -> dict[str, Any]:
        header = {
            "schema": MANIFEST_SCHEMA,
            "name": self.name,
            "type": self.type,
            "created_at": self.created_at,
            "metadata": dict(self.metadata),
            "digest": self.digest,
            "asset_count": len(self.assets),
            "total_size": self.total_size,
            "sources": sources,
        }
        if self.created_by_run is not None:
            header["created_by_run"] = self.created_by_run
        return header

    def _sources(self) -> dict[str, int]:
        sources: dict[str, int] = {}
        for a in self.assets:
            if a.source is not None:
                sources.setdefault(a.source, len(sources))
        return sources

    @staticmethod
    def _row(a: Asset, sources: dict[str, int]) -> dict[str, Any]:
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
            if a.part_size is not None:
                row["part_size"] = a.part_size
            row["verification"] = verification_strength(a.checksums, a.part_size)
        else:
            row["link"] = a.link
            row["synced"] = False
        if a.metadata:
            row["metadata"] = dict(a.metadata)
        if a.source is not None:
            row["source"] = sources[a.source]
        return row

    def to_dict(self) -> dict[str, Any]:
        sources = self._sources()
        doc = self._header(list(sources))
        doc["assets"] = [self._row(a, sources) for a in self.assets]
        return doc

    def iter_chunks(self) -> Iterator[bytes]:
        """The manifest's JSON text, in pieces: header, then one line per asset."""
        sources = self._sources()
        header = json.dumps(self._header(list(sources)), ensure_ascii=False, separators=(",", ":"))
        yield self._utf8(header[:-1] + ',"assets":[\n', None)
        last = len(self.assets) - 1
        encode, row = _encode_row, self._row
        for i, a in enumerate(self.assets):
            yield self._utf8(encode(row(a, sources)) + (",\n" if i < last else "\n"), a)
        yield b"]}\n"

    def _utf8(self, text: str, asset: Asset | None) -> bytes:
        # A local path that is not valid UTF-8 reaches here as lone surrogates
        # (in a URI, a source or metadata): refused, and nothing is recorded.
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            row = json.loads(text.rstrip(",\n") + ("" if asset else "]}"))
            bad = next(_non_utf8(row), text)
            where = f"asset {asset.logical_path!r}" if asset else "the artifact"
            raise InvalidArtifactError(
                f"artifact {self.name!r}: {where} holds '{shown_name(bad)[:300]}', which is not valid "
                "UTF-8 (a name in another encoding?); manifests are UTF-8") from None

    def _checked_chunks(self) -> Iterator[bytes]:
        # The reader's bounds, applied when writing: never record what cannot be read back.
        total, n = 0, len(self.assets)
        for k, chunk in enumerate(self.iter_chunks()):  # header, n rows, closing line
            total += len(chunk)
            if len(chunk) > MAX_LINE or total > manifest_budget(min(k, n)):
                raise ManifestError(f"manifest of {self.name!r} would be too large to read back (a line over "
                                    f"{MAX_LINE} bytes, or over {BYTES_PER_ASSET} bytes an asset): "
                                    "store less metadata")
            yield chunk

    def to_bytes(self, *, compress: bool) -> bytes:
        if not compress:
            return b"".join(self._checked_chunks())
        # gzip (wbits=31) written incrementally; zlib leaves the gzip mtime at 0,
        # so the same manifest always compresses to the same bytes.
        z = zlib.compressobj(6, zlib.DEFLATED, 31)
        out = []
        batch: list[bytes] = []
        size = 0
        for chunk in self._checked_chunks():
            # Rows handed to zlib 256 KiB at a time: one call per row cost as much as the
            # compressing. Without a flush, deflate's output does not depend on how its
            # input is split, so the bytes (and the manifest's name) are the same.
            batch.append(chunk)
            size += len(chunk)
            if size >= 256 * 1024:
                out.append(z.compress(b"".join(batch)))
                batch.clear()
                size = 0
        out.append(z.compress(b"".join(batch)))
        out.append(z.flush())
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str, asset_count: object = None) -> Manifest:
        """Parse a manifest (gzip or not). ``asset_count``, the number of assets
        the caller was told to expect (the version claim's), bounds the bytes
        inflated together with the count the manifest itself claims; see
        :func:`manifest_budget`. Every failure is a ManifestError."""
        gz = data[:2] == b"\x1f\x8b"
        budget = manifest_budget(asset_count)
        try:
            stream: io.BufferedIOBase = (gzip.GzipFile(fileobj=io.BytesIO(data)) if gz
                                         else io.BytesIO(data))  # type: ignore[assignment]
            fast = _read_line_per_asset(stream, where, budget)
            if fast is not None:
                return fast
            cap = min(budget, MAX_WHOLE_DOCUMENT_BYTES)
            if gz:  # never inflate more than the cap, whatever the compressed size
                data = gzip.GzipFile(fileobj=io.BytesIO(data)).read(cap + 1)
            if len(data) > cap:
                raise ManifestError(f"manifest {where} is larger than the {cap} bytes tether reads "
                                    "in this layout")
            doc = json.loads(data.decode("utf-8"))
        except (OSError, EOFError, ValueError, zlib.error, RecursionError) as exc:
            if isinstance(exc, ManifestError):
                raise
            why = "is nested too deeply" if isinstance(exc, RecursionError) else f"is not valid JSON: {exc}"
            raise ManifestError(f"manifest {where} {why}") from None
        return cls.from_dict(doc, where=where)

    @classmethod
    def from_dict(cls, doc: Any, *, where: str) -> Manifest:
        header = _check_header(doc, where)
        rows = doc.get("assets")
        if not isinstance(rows, list):
            raise ManifestError(f"manifest {where}: 'assets' must be a list")
        reader = _RowReader(header["sources"], where)
        assets = tuple(reader.asset(row, i) for i, row in enumerate(rows))
        return cls(name=header["name"], type=header["type"], assets=assets, created_at=header["created_at"],
                   metadata=header["metadata"], digest=header["digest"], created_by_run=header["created_by_run"])


def _non_utf8(value: Any) -> Iterator[str]:
    """Strings (keys included) in a JSON-shaped value that UTF-8 cannot encode."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _non_utf8(k)
            yield from _non_utf8(v)
    elif isinstance(value, list):
        for v in value:
            yield from _non_utf8(v)


def _check_header(doc: Any, where: str) -> dict[str, Any]:
    def bad(msg: str) -> ManifestError:
        return ManifestError(f"manifest {where}: {msg}")

    if not isinstance(doc, dict):
        raise bad("top level is not an object")
    if doc.get("schema") != MANIFEST_SCHEMA:
        raise bad(f"unsupported schema {doc.get('schema')!r} (this tether reads {MANIFEST_SCHEMA})")
    sources = doc.get("sources", [])
    if not isinstance(sources, list):
        raise bad("'sources' must be a list")
    name, type_ = doc.get("name"), doc.get("type")
    if not isinstance(name, str) or not isinstance(type_, str):
        raise bad("'name' and 'type' must be strings")
    meta = doc.get("metadata", {})
    if not isinstance(meta, dict):
        raise bad("'metadata' is not an object")
    run = doc.get("created_by_run")
    if run is not None and not isinstance(run, str):
        raise bad("'created_by_run' must be a string")
    return {"name": name, "type": type_, "sources": sources, "metadata": meta,
            "created_at": str(doc.get("created_at", "")), "digest": str(doc.get("digest", "")),
            "created_by_run": run}


class _RowReader:
    """Turns manifest rows into validated assets, one at a time.

    Duplicate paths: tether writes rows sorted by path, so a path greater than
    the previous one is new without remembering every path; the first row out
    of order (a hand-written manifest) switches to a set of all paths. Values
    equal to the previous row's (timestamps) or to each other (an S3 ETag that
    is also the MD5) are shared rather than copied: a 100,000-asset version
    stays near 1 KB an asset."""

    def __init__(self, sources: list[Any], where: str) -> None:
        self.sources = sources
        self.where = where
        self.paths: list[str] = []
        self.seen: set[str] | None = None
        self.last_modified: str | None = None

    def _unique(self, path: str) -> bool:
        if self.seen is None:
            if not self.paths or path > self.paths[-1]:
                self.paths.append(path)
                return True
            self.seen = set(self.paths)
        if path in self.seen:
            return False
        self.seen.add(path)
        return True

    def asset(self, row: Any, i: int) -> Asset:
        where, sources = self.where, self.sources

        def bad(msg: str) -> ManifestError:
            return ManifestError(f"manifest {where}: {msg}")

        if not isinstance(row, dict) or not isinstance(row.get("path"), str):
            raise bad(f"asset #{i} has no 'path'")
        path = row["path"]
        try:
            check_logical_path(path)
        except UnsafePathError as exc:
            raise bad(f"asset #{i}: {exc}") from None
        if not self._unique(path):
            raise bad(f"asset path {path!r} appears twice")
        src = row.get("source")
        if src is not None and (not isinstance(src, int) or isinstance(src, bool) or not 0 <= src < len(sources)):
            raise bad(f"asset {path!r} has an invalid source index")
        source = sources[src] if src is not None else None
        if source is not None and not isinstance(source, str):
            raise bad(f"asset {path!r} has an invalid source")
        meta = row.get("metadata", {})
        if not isinstance(meta, dict):
            raise bad(f"asset {path!r} metadata is not an object")
        if row.get("synced", True) is False:
            if not isinstance(row.get("link"), str):
                raise bad(f"link-only asset {path!r} has no 'link'")
            return Asset(logical_path=path, link=row["link"], synced=False, metadata=meta, source=source)
        uri, size, sums = row.get("uri"), row.get("size"), row.get("checksums", {})
        if not isinstance(uri, str) or not uri:
            raise bad(f"asset {path!r} has no 'uri'")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_ASSET_SIZE:
            raise bad(f"asset {path!r} has an invalid size {size!r}"
                      + (" (over 5 TiB, the most any store holds)" if isinstance(size, int) else ""))
        if not isinstance(sums, dict) or not all(isinstance(v, str) for v in sums.values()):
            raise bad(f"asset {path!r} checksums must map kinds to strings")
        _check_checksums(sums, bad, path)
        vid = row.get("version_id")
        if vid is not None and not isinstance(vid, str):
            raise bad(f"asset {path!r} version_id must be a string")
        modified = row.get("last_modified")
        modified = modified if isinstance(modified, str) else None
        if modified is not None and modified == self.last_modified:
            modified = self.last_modified
        self.last_modified = modified
        if "md5" in sums and sums.get("etag") == sums["md5"]:
            sums = {**sums, "md5": sums["etag"]}
        part_size = _part_size(row.get("part_size"), sums, size, bad, path)
        # "verification" is derived: recomputed by Asset.verification, never read.
        return Asset(logical_path=path, link=uri, uri=uri, size=size, checksums=sums, version_id=vid,
                     last_modified=modified, synced=True, metadata=meta, source=source, part_size=part_size)


def _check_checksums(sums: Mapping[str, str], bad: Any, path: str) -> None:
    """Every recorded value in its kind's text form. A kind no installed plugin
    registers is kept (and never trusted, see :mod:`tether.checksum_kinds`)
    when its name looks like a kind's and its value is short printable text:
    a hostile manifest gets no control characters into ``tether show``."""
    table = kinds()
    for name, value in sums.items():
        if not KIND_NAME_RE.fullmatch(name):
            raise bad(f"asset {path!r} has an invalid checksum kind name {name[:40]!r}")
        kind = table.kinds.get(name)
        if kind is None:
            if not unknown_value_ok(value):
                raise bad(f"asset {path!r}: the {name} checksum (a kind no installed plugin registers) "
                          f"is not short printable text")
        elif not kind.valid(value):
            raise bad(f"asset {path!r}: {value[:80]!r} is not a {name} checksum (expected {kind.text})")


def _part_size(value: Any, sums: Mapping[str, str], size: int, bad: Any, path: str) -> int | None:
    """A row's ``part_size``, checked against its multipart ETag and size: a
    hostile value (1 byte parts of a 5 TiB object) would otherwise cost one MD5
    object per byte while verifying."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise bad(f"asset {path!r} has an invalid part_size {value!r}")
    parts = multipart_parts(sums.get("etag"))
    if parts is None or not (parts - 1) * value < size <= parts * value:
        raise bad(f"asset {path!r}: part_size {value} does not fit its size {size} and ETag "
                  f"{sums.get('etag')!r} (parts of that size would not make the object)")
    return value


def _read_line_per_asset(stream: Any, where: str, budget: int) -> Manifest | None:
    """Read the one-asset-per-line layout tether writes, one line at a time.

    Lines are read at most :data:`MAX_LINE` bytes at a time, and the bytes
    read so far are held to ``budget``, to the asset count the header claims
    and to :data:`BYTES_PER_ASSET` for each row read so far (whatever either
    count claims), so memory and work stay bounded whatever the inflated text
    holds. Returns None when the text is laid out differently (hand-edited,
    pretty-printed): the caller then parses it as a whole JSON document."""

    def too_big(what: str) -> ManifestError:
        return ManifestError(f"manifest {where}: {what}; refusing to read further")

    first = stream.readline(MAX_LINE + 1)
    if not first.endswith(b',"assets":[\n'):
        if len(first) > MAX_LINE:
            raise too_big(f"its first line is longer than {MAX_LINE} bytes")
        return None
    doc = json.loads(first[: -len(',"assets":[\n')] + b"}")
    header = _check_header(doc, where)
    budget = min(budget, manifest_budget(doc.get("asset_count")))
    total = len(first)
    assets: list[Asset] = []
    reader = _RowReader(header["sources"], where)
    ended = False
    for i, line in enumerate(iter(lambda: stream.readline(MAX_LINE + 1), b"")):
        total += len(line)
        if len(line) > MAX_LINE:
            raise too_big(f"line {i + 2} is longer than {MAX_LINE} bytes")
        if total > budget or total > MAX_LINE + (i + 1) * BYTES_PER_ASSET:
            raise too_big(f"its first {i + 1} line(s) inflate past "
                          f"{min(budget, MAX_LINE + (i + 1) * BYTES_PER_ASSET)} bytes, more than "
                          f"{BYTES_PER_ASSET} bytes an asset")
        if line == b"]}\n" or line == b"]}":
            ended = True
            break
        text = line[:-2] if line.endswith(b",\n") else line.rstrip(b"\n")
        try:
            row = json.loads(text)
        except json.JSONDecodeError:
            return None  # rows spread over lines: let the whole-document parser judge it
        assets.append(reader.asset(row, i))
    rest = stream.read(MAX_LINE)
    if not ended or rest.strip() or len(rest) == MAX_LINE:
        return None  # not our layout after all: let the whole-document parser judge it
    return Manifest(name=header["name"], type=header["type"], assets=tuple(assets),
                    created_at=header["created_at"], metadata=header["metadata"], digest=header["digest"],
                    created_by_run=header["created_by_run"])
