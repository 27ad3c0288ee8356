"""Hostile or broken catalog files: typed one-line errors, bounded memory, never a crash.

A catalog on a shared store is written by everyone who can write to the bucket;
these files are planted the way such a writer would, straight into the folders.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import tether
from tether import errors
from tether.models import MANIFEST_SCHEMA, VERSION_SCHEMA, Manifest

GiB = 1 << 30
LINE = 32 * 1024**2  # the longest manifest line tether reads (tether.models.MAX_LINE)
DEEP = 100_000  # far past the parser's recursion limit


def _plant(home: Path, name: str, manifest: bytes, *, gz: bool = False, **claim: object) -> Path:
    """Write ``manifest`` and a claim naming it as version 1 of ``name``, as a
    writer to the store could; returns the claim's path."""
    sha = hashlib.sha256(manifest).hexdigest()
    rel = f"manifests/{sha}.json" + (".gz" if gz else "")
    art = home / "artifacts" / name
    (art / "manifests").mkdir(parents=True, exist_ok=True)
    (art / rel).write_bytes(manifest)
    doc = {"schema": VERSION_SCHEMA, "name": name, "version": 1, "manifest": rel,
           "created_at": "2026-01-01T00:00:00Z", "digest": "sha256:00", "asset_count": 1, "total_size": 1}
    doc.update(claim)
    (art / "versions").mkdir(exist_ok=True)
    path = art / "versions" / "0000000001.json"
    path.write_text(json.dumps(doc))
    return path


def _cli(*args: str, limit_memory: int | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process, optionally with its address space capped."""
    pre = (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit_memory}, {limit_memory}));"
           if limit_memory else "")
    code = pre + "import sys; from tether.cli import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], check=False, capture_output=True, text=True, timeout=300)


def _one_line_error(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert r.stderr.startswith("tether: error: ") and r.stderr.count("\n") == 1, r.stderr[-2000:]
    for n in needles:
        assert n in r.stderr, r.stderr


# ------------------------------------------------------------------ gzip bombs
def _gzip_bomb(head: bytes, filler: bytes, tail: bytes) -> bytes:
    """``head`` + 1 GiB of ``filler`` + ``tail``, gzip: about 1 MB on disk."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [z.compress(head)]
    block = filler * ((1 << 20) // len(filler))
    out.extend(z.compress(block) for _ in range(GiB // len(block)))
    out += [z.compress(tail), z.flush()]
    return b"".join(out)


_HEADER = json.dumps({"schema": MANIFEST_SCHEMA, "name": "bomb", "type": "dataset", "created_at": "x",
                      "metadata": {}, "digest": "", "asset_count": 1, "total_size": 1, "sources": []},
                     separators=(",", ":")).encode()[:-1]
BOMBS = {
    # tether's own layout, with one row line a gigabyte long
    "one endless row": (_HEADER + b',"assets":[\n', b" ", b'{"path":"a","uri":"s3://b/a","size":1}\n]}\n'),
    # another layout, read as a whole document: a gigabyte of blank lines
    "whole document": (b'{"schema":"tether.manifest/1",\n', b"\n", b'"assets":[]}'),
}


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_gzip_bomb_manifest_is_refused_within_bounded_memory(kind: str, _isolated_home: Path) -> None:
    bomb = _gzip_bomb(*BOMBS[kind])
    assert len(bomb) < 2 * 1024 * 1024
    _plant(_isolated_home, "bomb", bomb, gz=True)
    # Under a 1 GiB address space the gigabyte must never be inflated, let alone parsed.
    r = _cli("show", "bomb", limit_memory=GiB)
    _one_line_error(r, "bomb:v1")


def test_the_writer_never_records_a_manifest_the_reader_would_refuse() -> None:
    from tether.models import Asset

    big = {"blob": "x" * (LINE + 1)}
    m = Manifest(name="n", type="t", created_at="x",
                 assets=(Asset(logical_path="a", link="s3://b/a", uri="s3://b/a", size=1, metadata=big),))
    with pytest.raises(errors.ManifestError, match="too large to read back"):
        m.to_bytes(compress=False)


# ---------------------------------------------------------------- sizes
@pytest.mark.parametrize("size", [2**51, 5 * 1024**4 + 1])
def test_sizes_beyond_what_any_store_holds_are_refused(size: int, _isolated_home: Path) -> None:
    doc = {"schema": MANIFEST_SCHEMA, "name": "huge", "type": "t", "assets": [
        {"path": "a", "uri": "s3://b/a", "size": size}]}
    with pytest.raises(errors.ManifestError, match="over 5 TiB"):
        Manifest.from_dict(doc, where="test")
    _plant(_isolated_home, "huge", json.dumps(doc).encode())
    _one_line_error(_cli("show", "huge"), "huge:v1", "5 TiB")


def test_five_tib_itself_is_a_valid_size() -> None:
    doc = {"schema": MANIFEST_SCHEMA, "name": "n", "type": "t", "assets": [
        {"path": "a", "uri": "s3://b/a", "size": 5 * 1024**4}]}
    assert Manifest.from_dict(doc, where="test").assets[0].size == 5 * 1024**4


# ---------------------------------------------------------------- deep nesting
@pytest.fixture
def logged(tmp_path: Path, _isolated_home: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "f.txt").write_text("x")
    art = tether.Artifact("ds")
    art.add_remote(str(data))
    tether.Catalog().log(art, aliases=["prod"])
    return _isolated_home / "artifacts" / "ds"


@pytest.mark.parametrize("content", [b'{"version": ' + b"[" * DEEP + b"]" * DEEP + b"}",
                                     b"[" * DEEP, b'{"version": Infinity}', b'{"version": 1.5}',
                                     b'{"version": true}', b"\xff\xfe"],
                         ids=["nested", "nested-unclosed", "infinity", "float", "bool", "not-utf8"])
def test_a_broken_alias_file_is_skipped(logged: Path, content: bytes) -> None:
    (logged / "aliases" / "evil.json").write_bytes(content)
    cat = tether.Catalog()
    assert cat.aliases("ds") == {"prod": 1}
    assert cat.get("ds@prod").version == 1
    assert cat.get("ds:1").aliases == ("prod",)
    r = _cli("list", "ds")
    assert r.returncode == 0 and "[prod]" in r.stdout, r.stderr


def test_a_deeply_nested_claim_is_a_manifest_error_naming_it(logged: Path) -> None:
    (logged / "versions" / "0000000001.json").write_bytes(b"[" * DEEP + b"]" * DEEP)
    with pytest.raises(errors.ManifestError, match="0000000001.json is nested too deeply"):
        tether.Catalog().get("ds:1")
    _one_line_error(_cli("list", "ds"), "0000000001.json", "nested too deeply")


def test_a_deeply_nested_manifest_is_a_manifest_error(_isolated_home: Path) -> None:
    head = _HEADER.replace(b'"metadata":{}', b'"metadata":{"x":' + b"[" * DEEP + b"]" * DEEP + b"}")
    _plant(_isolated_home, "deep", head + b',"assets":[\n{"path":"a","uri":"s3://b/a","size":1}\n]}\n')
    with pytest.raises(errors.ManifestError, match="nested too deeply"):
        tether.Catalog().get("deep")
    pretty = b'{"schema": "tether.manifest/1", "assets": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    with pytest.raises(errors.ManifestError, match="nested too deeply"):
        Manifest.from_bytes(pretty, where="pretty")


# ---------------------------------------------------------------- claim fields
@pytest.mark.parametrize("field,value", [("asset_count", "x"), ("total_size", []), ("created_at", 5),
                                         ("asset_count", -1), ("digest", {}), ("asset_count", True)])
def test_a_claim_with_wrong_field_types_is_a_typed_error_naming_it(logged: Path, field: str, value) -> None:
    claim = logged / "versions" / "0000000001.json"
    doc = json.loads(claim.read_text())
    doc[field] = value
    claim.write_text(json.dumps(doc))
    with pytest.raises(errors.ManifestError, match=f"0000000001.json: '{field}' must be"):
        tether.Catalog().versions("ds")
    _one_line_error(_cli("list", "ds"), "0000000001.json", field)
    _one_line_error(_cli("list", "ds", "--json"), "0000000001.json", field)


def test_a_damaged_latest_claim_does_not_block_logging_the_next_version(logged: Path, tmp_path: Path) -> None:
    (logged / "versions" / "0000000001.json").write_text('{"schema": "tether.version/1", "asset_count": "x"}')
    art = tether.Artifact("ds")
    art.add_remote(str(tmp_path / "data"))
    assert tether.Catalog().log(art).version == 2


def test_rows_past_what_the_claimed_asset_count_allows_are_refused() -> None:
    # Each row is fine on its own; together they are far more than one asset's worth.
    rows = b"".join(b'{"path":"a%05d","uri":"s3://b/a","size":1,"metadata":{"pad":"%s"}},\n'
                    % (i, b"x" * 60_000) for i in range(600))
    doc = _HEADER + b',"assets":[\n' + rows + b'{"path":"z","uri":"s3://b/z","size":1}\n]}\n'
    with pytest.raises(errors.ManifestError, match="bytes an asset"):
        Manifest.from_bytes(doc, where="padded")


def test_a_claimed_asset_count_buys_no_room_the_rows_do_not_use() -> None:
    # Claims a billion assets, then pads each of its few rows to the line limit.
    head = _HEADER.replace(b'"asset_count":1', b'"asset_count":1000000000')
    pad = b" " * (LINE - 100)
    rows = b"".join(b'{"path":"a%03d",%s"uri":"s3://b/a","size":1},\n' % (i, pad) for i in range(3))
    doc = head + b',"assets":[\n' + rows + b'{"path":"z","uri":"s3://b/z","size":1}\n]}\n'
    with pytest.raises(errors.ManifestError, match="bytes an asset"):
        Manifest.from_bytes(doc, where="padded")
