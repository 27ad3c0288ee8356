"""One page of a version's assets, straight from its manifest text.

Parsing every row of a 100,000-asset manifest into assets takes seconds; a
page needs a hundred. tether writes one asset per line, sorted by path, with
the path first (``{"path":"a/b.bin",...}``), so a page is found by reading
only each line's path (the C string scanner, no row parsing) while checking
that the paths strictly increase, counting the paths under the prefix, and
parsing only the rows of the page, with the catalog's own row validation.

The manifest is verified first (its sha256 against its name, as
:meth:`Catalog._read_manifest` does) and inflated within the same bounds as
the full reader. A manifest in another layout, or with rows out of order, is
``None`` here: the caller parses it whole (which sorts it).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

import attrs

from ..errors import ManifestError, ObjectNotFoundError
from ..manifest_reader import MAX_LINE, _check_header, _RowReader, manifest_budget
from ..models import Asset
from ..uris import redact

_FIRST_END = ',"assets":['
_ROW_START = '{"path":"'


@attrs.frozen
class StreamPage:
    header: dict[str, Any]
    rows: tuple[Asset, ...]
    next: str | None
    matching: int
    asset_count: int


def verified_bytes(catalog: Any, name: str, number: int, claim: dict[str, Any]) -> bytes:
    """The manifest a claim names, checked against its content address."""
    rel = str(claim.get("manifest"))
    uri = catalog._uri("artifacts", name, rel)
    try:
        data: bytes = catalog._driver.read_bytes(uri)
    except ObjectNotFoundError:
        raise ManifestError(f"{name}:v{number}: manifest {redact(uri)} is missing") from None
    if hashlib.sha256(data).hexdigest() != rel.split("/")[-1].split(".")[0]:
        raise ManifestError(f"{name}:v{number}: manifest {redact(uri)} does not match its checksum")
    return data


def _inflate(data: bytes, budget: int, where: str) -> str:
    if data[:2] == b"\x1f\x8b":
        z = zlib.decompressobj(31)
        try:
            data = z.decompress(data, budget + 1)
        except zlib.error as exc:
            raise ManifestError(f"manifest {where} is not valid gzip: {exc}") from None
    if len(data) > budget:
        raise ManifestError(f"manifest {where} inflates past {budget} bytes; refusing to read further")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"manifest {where} is not UTF-8: {exc}") from None


def page_of(data: bytes, *, where: str, asset_count: object, after: str | None, prefix: str | None,
            limit: int) -> StreamPage | None:
    """Assets after the path ``after`` under ``prefix``, ``limit`` of them; None: parse it whole."""
    text = _inflate(data, manifest_budget(asset_count), where)
    first, sep, rest = text.partition("\n")
    if not sep or not first.endswith(_FIRST_END) or len(first) > MAX_LINE:
        return None
    try:
        doc = json.loads(first[:-len(_FIRST_END)] + "}")
    except (ValueError, RecursionError):
        return None
    header = _check_header(doc, where)
    if len(text) > manifest_budget(doc.get("asset_count")):
        raise ManifestError(f"manifest {where} is larger than its asset count allows")
    lines = rest.split("\n")
    if len(lines) < 2 or lines[-1] != "" or lines[-2] != "]}":
        return None  # not the ending tether writes
    reader = _RowReader(header["sources"], where)
    prefix = prefix or ""
    rows: list[Asset] = []
    matching = 0
    last = ""
    more = False
    for i, line in enumerate(lines[:-2]):
        if not line.startswith(_ROW_START) or len(line) > MAX_LINE:
            return None
        path, _ = scanstring(line, len(_ROW_START))  # the index just after the opening quote
        if path <= last and i:
            return None  # out of order (hand-written): the whole parse sorts it
        last = path
        if not path.startswith(prefix):
            continue
        matching += 1
        if after is not None and path <= after:
            continue
        if len(rows) < limit:
            try:
                row = json.loads(line.removesuffix(","))
            except (ValueError, RecursionError):
                return None
            rows.append(reader.asset(row, i))
        else:
            more = True
    return StreamPage(header=header, rows=tuple(rows), next=rows[-1].logical_path if more and rows else None,
                      matching=matching, asset_count=len(lines) - 2)
