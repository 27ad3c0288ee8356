"""How strongly each asset is verified, and never on size alone (issue 11, section 1).

Store-independent parts: the multipart-ETag hasher, the manifest's ``part_size`` and
``verification``, and the size-only rules of ``download``/``verify`` on the local driver
(assets whose checksums are stripped stand in for a store that reports none). The same
rules against moto are in tests/s3/test_s3_verification.py.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tracemalloc
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tether
from tether import checksums, errors, transfer
from tether.models import Asset, Manifest, content_digest

MiB = 1024 * 1024


def s3_multipart_etag(data: bytes, part_size: int) -> str:
    """What S3 computes: md5 of the concatenated md5s of each part, then -<parts>."""
    digests = [hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size)] \
        or [hashlib.md5(b"").digest()]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=0, max_size=3000), part=st.integers(1, 700),
       cuts=st.lists(st.integers(0, 3000), max_size=12))
def test_multipart_etag_is_the_same_however_the_bytes_arrive(data: bytes, part: int, cuts: list[int]) -> None:
    """Ranged downloads and resumed part files feed pieces that straddle the upload's
    parts; the hasher splits on its own boundaries."""
    h = checksums.MultipartEtag(part)
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    for a, b in itertools.pairwise(bounds):
        h.update(memoryview(data)[a:b])
    assert h.hexdigest() == s3_multipart_etag(data, part)
    assert h.hexdigest() == s3_multipart_etag(data, part)  # reading it does not change it


def test_verification_strength_ranks_every_kind() -> None:
    etag = "0" * 32 + "-3"
    vs = checksums.verification_strength
    assert vs({"sha256": "a", "md5": "b", "etag": etag}, 8) == "sha256"
    assert vs({"etag": etag}, 8 * MiB) == "multipart-etag"
    assert vs({"etag": etag}) == "size-only"  # no part size: the ETag cannot be recomputed
    assert vs({"etag": etag, "crc32c": "00"}, 8) == "multipart-etag"
    assert vs({"etag": "0" * 32, "crc32": "00"}) == "crc32"  # a single-part ETag alone is not an md5
    assert vs({}) == "size-only"
    kinds = [k for k, _, _ in checksums.verifiers({"etag": etag, "crc32c": "00"}, 8)]
    assert kinds == ["multipart-etag", "crc32c"]
    assert checksums.verifiers({"etag": "abc"}, None) == []


def test_part_size_is_recorded_only_when_set_and_old_digests_do_not_change(tmp_path: Path) -> None:
    etag = s3_multipart_etag(b"x" * 20, 8)
    a = Asset(logical_path="m.bin", link="s3://b/m.bin", uri="s3://b/m.bin", size=20,
              checksums={"etag": etag})
    b = attrs.evolve(a, part_size=8)
    assert content_digest("model", (a,)) != content_digest("model", (b,))
    assert a.identity() == b.identity()[:-1]  # appended, only when recorded
    m = Manifest(name="m", type="model", assets=(a, attrs.evolve(b, logical_path="n.bin")),
                 created_at="2026-01-01T00:00:00Z")
    rows = [json.loads(line.rstrip(b",\n")) for line in m.to_bytes(compress=False).splitlines()[1:-1]]
    assert "part_size" not in rows[0] and rows[0]["verification"] == "size-only"
    assert rows[1]["part_size"] == 8 and rows[1]["verification"] == "multipart-etag"
    back = Manifest.from_bytes(m.to_bytes(compress=True), where="test")
    assert [x.part_size for x in back.assets] == [None, 8]
    assert [x.verification for x in back.assets] == ["size-only", "multipart-etag"]


def _manifest_with_row(**row: object) -> bytes:
    header = {"schema": "tether.manifest/1", "name": "m", "type": "model", "created_at": "", "sources": []}
    base = {"path": "m.bin", "uri": "s3://b/m.bin", "size": 20, "checksums": {"etag": "0" * 32 + "-3"}}
    return json.dumps({**header, "assets": [{**base, **row}]}).encode()


def test_manifest_verification_key_is_derived_never_trusted() -> None:
    """An edited "verification" cannot make an asset look more verified than it is."""
    (a,) = Manifest.from_bytes(_manifest_with_row(verification="sha256"), where="test").assets
    assert a.verification == "size-only"


@pytest.mark.parametrize("bad", [0, -8, True, "8", 1, 6, 11, 2**40])
def test_manifest_part_size_must_fit_the_etag_and_size(bad: object) -> None:
    """1-byte parts of a large object would cost an MD5 object per byte: a
    part size that does not make the recorded object is refused."""
    with pytest.raises(errors.ManifestError, match="part_size"):
        Manifest.from_bytes(_manifest_with_row(part_size=bad), where="test")
    (ok,) = Manifest.from_bytes(_manifest_with_row(part_size=7), where="test").assets  # 7+7+6
    assert ok.part_size == 7


# ------------------------------------------------------------------- size-only on disk
def _size_only_version(tmp_path: Path, data: bytes) -> tuple[tuple[Asset, ...], Path]:
    """An asset as a store with no checksums records it (SSE-KMS ETag): size only."""
    src = tmp_path / "store" / "model.bin"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    (a,) = tether.Artifact("m").add_remote(str(src))
    a = attrs.evolve(a, checksums={})
    assert a.verification == "size-only"
    return (a,), tmp_path / "dest"


def _download(assets: tuple[Asset, ...], dest: Path, **kw: object) -> transfer.DownloadResult:
    return transfer.download(assets, dest, driver_for=lambda a: tether.get_driver("file"), label="m:v2", **kw)


def test_a_same_size_file_is_never_present_on_size_alone(tmp_path: Path) -> None:
    assets, dest = _size_only_version(tmp_path, b"version two!")
    dest.mkdir()
    (dest / "model.bin").write_bytes(b"version one!")  # same size, other bytes
    with pytest.raises(errors.DestinationConflictError, match="cannot be verified") as exc:
        _download(assets, dest)
    assert "model.bin" in str(exc.value)
    assert (dest / "model.bin").read_bytes() == b"version one!"
    assert _download(assets, dest, overwrite="preserve").counts() == {"preserved": 1}
    assert (dest / "model.bin").read_bytes() == b"version one!"
    assert _download(assets, dest, overwrite="overwrite").counts() == {"downloaded": 1}
    assert (dest / "model.bin").read_bytes() == b"version two!"
    # even the right bytes are not "verified" by their size
    (v,) = transfer.verify(assets, dest).outcomes
    assert v.status == "unverifiable" and "size-only" in (v.detail or "")
    assert not transfer.verify(assets, dest).ok


def test_require_verified_refuses_size_only_assets_before_writing(tmp_path: Path) -> None:
    assets, dest = _size_only_version(tmp_path, b"abc")
    with pytest.raises(errors.UnverifiedAssetError, match="model.bin") as exc:
        _download(assets, dest, require_verified=True)
    assert isinstance(exc.value, errors.IntegrityError) and "m:v2" in str(exc.value)
    assert not dest.exists()
    full = attrs.evolve(assets[0], checksums={"sha256": hashlib.sha256(b"abc").hexdigest()})
    assert _download((full,), dest, require_verified=True).counts() == {"downloaded": 1}


def test_a_hostile_claimed_size_allocates_nothing_up_front(tmp_path: Path) -> None:
    """Part offsets are generated lazily: a manifest claiming 2**51 bytes used to
    build a list of 33 million offsets (1.3 GB) before the first byte was read."""
    src = tmp_path / "small.bin"
    src.write_bytes(os.urandom(100))
    (a,) = tether.Artifact("huge").add_remote(str(src))
    a = attrs.evolve(a, size=2**51)
    tracemalloc.start()
    try:
        result = _download((a,), tmp_path / "dest", raise_on_error=False, workers=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [o.status for o in result.outcomes] == ["failed"]
    assert peak < 64 * MiB, f"peak {peak / MiB:.0f} MiB"
