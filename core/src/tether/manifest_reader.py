"""Reading a manifest's JSON (``tether.manifest/1``) into a :class:`~tether.models.Manifest`.

A catalog on a shared store is input: every failure here is a ManifestError,
and the bounds below keep the memory and work of reading a hostile manifest
(a gzip bomb, one endless line, a claimed size of 2**51) bounded.
:mod:`tether.manifest_writer` checks the same bounds when writing.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Mapping
from typing import Any

from .checksum_kinds import KIND_NAME_RE, unknown_value_ok
from .checksums import kinds, multipart_parts
from .errors import ManifestError, UnsafePathError
from .models import MANIFEST_SCHEMA, Asset, Manifest
from .paths import check_logical_path

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


def read_manifest(data: bytes, *, where: str, asset_count: object = None) -> Manifest:
    """Parse a manifest (gzip or not); see :meth:`Manifest.from_bytes`."""
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
    return manifest_from_dict(doc, where=where)


def manifest_from_dict(doc: Any, *, where: str) -> Manifest:
    """A manifest from its parsed JSON document; see :meth:`Manifest.from_dict`."""
    header = _check_header(doc, where)
    rows = doc.get("assets")
    if not isinstance(rows, list):
        raise ManifestError(f"manifest {where}: 'assets' must be a list")
    reader = _RowReader(header["sources"], where)
    assets = tuple(reader.asset(row, i) for i, row in enumerate(rows))
    return Manifest(name=header["name"], type=header["type"], assets=assets, created_at=header["created_at"],
                    metadata=header["metadata"], digest=header["digest"], created_by_run=header["created_by_run"])


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
