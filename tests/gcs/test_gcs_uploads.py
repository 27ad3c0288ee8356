"""Uploads into content-addressed storage on GCS (fake-gcs-server): checked
before they appear, verified before they are reused, healed when wrong."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
import tether
from tether import errors
from tether_gcs import GCSDriver

from ..uploadhooks import rewrite_before_upload, rewrite_during_read

BIG = 9 * 2**20  # over the 8 MiB single-request limit: a resumable session


def _name(data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    return f"store/sha256/{sha[:2]}/{sha}"


def _meta(server, bucket: str, name: str) -> dict | None:
    try:
        with urllib.request.urlopen(f"{server.url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}") as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def _log(bucket: str, path: Path, name: str = "up") -> tether.ArtifactVersion:
    art = tether.Artifact(name, artifacts_uri=f"gs://{bucket}/store")
    art.add(path)
    return tether.Catalog().log(art)


def _assert_nothing_stored(server, bucket: str, *contents: bytes) -> None:
    for data in contents:
        assert _meta(server, bucket, _name(data)) is None
    with pytest.raises(errors.UnknownArtifactError):
        tether.Catalog().get("up")


@pytest.mark.parametrize("size", [1000, BIG], ids=["single", "resumable"])
def test_a_file_rewritten_between_hashing_and_upload_is_refused(gcs_server, gcs_bucket, tmp_path: Path, size: int,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "ckpt.bin"
    original, other = os.urandom(size), os.urandom(size)
    f.write_bytes(original)
    rewrite_before_upload(monkeypatch, GCSDriver, f, other)
    with pytest.raises(errors.SourceChangedError, match=str(f)):
        _log(gcs_bucket, f)
    _assert_nothing_stored(gcs_server, gcs_bucket, original, other)


def test_a_file_rewritten_during_a_resumable_upload_is_cancelled(gcs_server, gcs_bucket, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "ckpt.bin"
    original = os.urandom(BIG)
    f.write_bytes(original)
    reads = rewrite_during_read(monkeypatch, f, os.urandom(BIG), after_reads=1)  # after chunk 1 was sent
    with pytest.raises(errors.SourceChangedError, match=str(f)):
        _log(gcs_bucket, f)
    assert reads[0] >= 2
    _assert_nothing_stored(gcs_server, gcs_bucket, original)


@pytest.mark.parametrize("size", [5000, BIG], ids=["single", "resumable"])
def test_a_wrong_object_at_the_address_heals_and_the_right_one_is_reused(gcs_server, gcs_admin, gcs_bucket,
                                                                         tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    f = tmp_path / "weights.bin"
    f.write_bytes(data)
    gcs_admin.put(gcs_bucket, _name(data), os.urandom(size))  # same size, wrong bytes
    v = _log(gcs_bucket, f)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "weights.bin").read_bytes() == data
    healed = _meta(gcs_server, gcs_bucket, _name(data))
    assert healed is not None and v.assets[0].version_id == healed["generation"]
    v2 = _log(gcs_bucket, f, "again")  # verified by md5 and crc32c, not re-sent
    assert _meta(gcs_server, gcs_bucket, _name(data))["generation"] == healed["generation"]
    assert v2.assets[0].version_id == healed["generation"]
    v.download(tmp_path / "out2")  # the first version's generation is still the live one
    assert (tmp_path / "out2" / "weights.bin").read_bytes() == data


def test_two_identical_files_in_one_log_are_uploaded_once(gcs_server, gcs_bucket, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(BIG)
    for n in ("a", "b", "c"):
        (src / n).write_bytes(data)
    art = tether.Artifact("up", artifacts_uri=f"gs://{gcs_bucket}/store")
    art.add(src)
    v = tether.Catalog().log(art)
    gen = _meta(gcs_server, gcs_bucket, _name(data))["generation"]
    assert {a.version_id for a in v.assets} == {gen}
    v.download(tmp_path / "out")
    assert all((tmp_path / "out" / n).read_bytes() == data for n in ("a", "b", "c"))
