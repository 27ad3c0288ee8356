"""Uploads into content-addressed storage on S3 (moto): checked before they
appear, verified before they are reused, healed when wrong."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
import tether
from tether import errors
from tether_s3 import S3Driver

from ..uploadhooks import rewrite_before_upload, rewrite_during_read

BIG = 9 * 2**20  # over the 8 MiB single-request limit: a multipart upload


def _key(data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    return f"store/sha256/{sha[:2]}/{sha}"


def _log(bucket: str, path: Path, name: str = "up") -> tether.ArtifactVersion:
    art = tether.Artifact(name, artifacts_uri=f"s3://{bucket}/store")
    art.add(path)
    return tether.Catalog().log(art)


def _puts(moto_server, bucket: str) -> int:
    """PutObject and UploadPart requests into the bucket's store, as moto saw them."""
    return len(re.findall(rf'"PUT /{bucket}/store/sha256/', moto_server.log_text()))


def _assert_nothing_stored(s3_client, bucket: str, *contents: bytes) -> None:
    for data in contents:
        with pytest.raises(s3_client.exceptions.ClientError, match="404"):
            s3_client.head_object(Bucket=bucket, Key=_key(data))
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(errors.UnknownArtifactError):
        tether.Catalog().get("up")


@pytest.mark.parametrize("size", [1000, BIG], ids=["single", "multipart"])
def test_a_file_rewritten_between_hashing_and_upload_is_refused(s3_client, bucket, tmp_path: Path, size: int,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "ckpt.bin"
    original, other = os.urandom(size), os.urandom(size)
    f.write_bytes(original)
    rewrite_before_upload(monkeypatch, S3Driver, f, other)
    with pytest.raises(errors.SourceChangedError, match=str(f)):
        _log(bucket, f)
    _assert_nothing_stored(s3_client, bucket, original, other)


def test_a_file_rewritten_during_a_multipart_upload_is_aborted(moto_server, s3_client, bucket, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "ckpt.bin"
    original = os.urandom(BIG)
    f.write_bytes(original)
    rewrite_during_read(monkeypatch, f, os.urandom(BIG), after_reads=1)  # after part 1 was read
    with pytest.raises(errors.SourceChangedError, match=str(f)):
        _log(bucket, f)
    assert _puts(moto_server, bucket) >= 1  # part 1 went up; the upload was then aborted
    _assert_nothing_stored(s3_client, bucket, original)


@pytest.mark.parametrize("size", [5000, BIG], ids=["single", "multipart"])
def test_a_wrong_object_at_the_address_heals_and_the_right_one_is_reused(moto_server, s3_client, bucket,
                                                                         tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    f = tmp_path / "weights.bin"
    f.write_bytes(data)
    # What the old upload path could leave: the address holding other bytes of the same size.
    s3_client.put_object(Bucket=bucket, Key=_key(data), Body=os.urandom(size))
    v = _log(bucket, f)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "weights.bin").read_bytes() == data
    assert s3_client.get_object(Bucket=bucket, Key=_key(data))["Body"].read() == data
    before = _puts(moto_server, bucket)
    v2 = _log(bucket, f, "again")  # verified (sha256, or the multipart ETag), not re-sent
    assert _puts(moto_server, bucket) == before
    assert v2.assets[0].checksums["etag"] == v.assets[0].checksums["etag"]
    v2.download(tmp_path / "out2")
    assert (tmp_path / "out2" / "weights.bin").read_bytes() == data


def test_multipart_objects_written_by_another_tool_are_judged_by_their_etag(moto_server, s3_client, bucket,
                                                                            tmp_path: Path) -> None:
    from boto3.s3.transfer import TransferConfig

    sdk = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20)  # not tether's layout
    data = os.urandom(11 * 2**20)
    f = tmp_path / "sdk.bin"
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(os.urandom(len(data)))
    s3_client.upload_file(str(wrong), bucket, _key(data), Config=sdk)  # the address holds other bytes
    f.write_bytes(data)
    before = _puts(moto_server, bucket)
    v = _log(bucket, f)
    assert _puts(moto_server, bucket) > before  # the ETag did not match: uploaded over
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "sdk.bin").read_bytes() == data
    # The right bytes in the other tool's layout: its ETag proves them, nothing is sent.
    s3_client.upload_file(str(f), bucket, _key(data), Config=sdk)
    before = _puts(moto_server, bucket)
    v2 = _log(bucket, f, "again")
    assert _puts(moto_server, bucket) == before
    assert v2.assets[0].checksums["etag"].endswith("-3")
    v2.download(tmp_path / "out2")
    assert (tmp_path / "out2" / "sdk.bin").read_bytes() == data


def test_abandoned_multipart_uploads_in_a_folder_written_to_are_aborted(s3_client, bucket, tmp_path: Path) -> None:
    data = b"payload" * 100
    f = tmp_path / "f.bin"
    f.write_bytes(data)
    # What kill -9 during a multipart upload leaves (moto dates every upload 2010: long abandoned).
    left = s3_client.create_multipart_upload(Bucket=bucket, Key=_key(data))
    s3_client.upload_part(Bucket=bucket, Key=_key(data), UploadId=left["UploadId"], PartNumber=1,
                          Body=os.urandom(len(data)))
    v = _log(bucket, f)
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "f.bin").read_bytes() == data
