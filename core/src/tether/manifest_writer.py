"""Writing a :class:`~tether.models.Manifest` as JSON (``tether.manifest/1``).

A manifest is one JSON document laid out with one asset per line::

    {"schema": ..., "sources": [...], "assets":[
    {asset},
    {asset}
    ]}

so it stays readable by any JSON parser, while tether writes and reads it one
asset at a time (memory stays flat for 100,000-asset versions). The writer
holds itself to :mod:`tether.manifest_reader`'s bounds, so it never writes a
manifest tether would refuse to read. This is the hot path of logging a large
version (benchmarked in ``bench/``): rows go through one C JSON encoder made
once, and into zlib in large batches.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .checksums import verification_strength
from .errors import InvalidArtifactError, ManifestError
from .manifest_reader import BYTES_PER_ASSET, MAX_LINE, manifest_budget
from .models import MANIFEST_SCHEMA
from .paths import shown_name

if TYPE_CHECKING:
    from .models import Asset, Manifest


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


def _header(manifest: Manifest, sources: list[str]) -> dict[str, Any]:
    header = {
        "schema": MANIFEST_SCHEMA,
        "name": manifest.name,
        "type": manifest.type,
        "created_at": manifest.created_at,
        "metadata": dict(manifest.metadata),
        "digest": manifest.digest,
        "asset_count": len(manifest.assets),
        "total_size": manifest.total_size,
        "sources": sources,
    }
    if manifest.created_by_run is not None:
        header["created_by_run"] = manifest.created_by_run
    return header


def _sources(manifest: Manifest) -> dict[str, int]:
    sources: dict[str, int] = {}
    for a in manifest.assets:
        if a.source is not None:
            sources.setdefault(a.source, len(sources))
    return sources


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


def to_dict(manifest: Manifest) -> dict[str, Any]:
    sources = _sources(manifest)
    doc = _header(manifest, list(sources))
    doc["assets"] = [_row(a, sources) for a in manifest.assets]
    return doc


def iter_chunks(manifest: Manifest) -> Iterator[bytes]:
    """The manifest's JSON text, in pieces: header, then one line per asset."""
    sources = _sources(manifest)
    header = json.dumps(_header(manifest, list(sources)), ensure_ascii=False, separators=(",", ":"))
    yield _utf8(manifest, header[:-1] + ',"assets":[\n', None)
    last = len(manifest.assets) - 1
    encode, row = _encode_row, _row
    for i, a in enumerate(manifest.assets):
        yield _utf8(manifest, encode(row(a, sources)) + (",\n" if i < last else "\n"), a)
    yield b"]}\n"


def _utf8(manifest: Manifest, text: str, asset: Asset | None) -> bytes:
    # A local path that is not valid UTF-8 reaches here as lone surrogates
    # (in a URI, a source or metadata): refused, and nothing is recorded.
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        row = json.loads(text.rstrip(",\n") + ("" if asset else "]}"))
        bad = next(_non_utf8(row), text)
        where = f"asset {asset.logical_path!r}" if asset else "the artifact"
        raise InvalidArtifactError(
            f"artifact {manifest.name!r}: {where} holds '{shown_name(bad)[:300]}', which is not valid "
            "UTF-8 (a name in another encoding?); manifests are UTF-8") from None


def _checked_chunks(manifest: Manifest) -> Iterator[bytes]:
    # The reader's bounds, applied when writing: never record what cannot be read back.
    total, n = 0, len(manifest.assets)
    for k, chunk in enumerate(iter_chunks(manifest)):  # header, n rows, closing line
        total += len(chunk)
        if len(chunk) > MAX_LINE or total > manifest_budget(min(k, n)):
            raise ManifestError(f"manifest of {manifest.name!r} would be too large to read back (a line over "
                                f"{MAX_LINE} bytes, or over {BYTES_PER_ASSET} bytes an asset): "
                                "store less metadata")
        yield chunk


def to_bytes(manifest: Manifest, *, compress: bool) -> bytes:
    if not compress:
        return b"".join(_checked_chunks(manifest))
    # gzip (wbits=31) written incrementally; zlib leaves the gzip mtime at 0,
    # so the same manifest always compresses to the same bytes.
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = []
    batch: list[bytes] = []
    size = 0
    for chunk in _checked_chunks(manifest):
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

