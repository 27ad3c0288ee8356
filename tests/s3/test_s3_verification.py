"""Objects with no plain MD5 are still verified, or shown and treated as size-only (issue 11).

Multipart uploads (boto3 ``upload_file`` over its threshold) carry only a multipart ETag: the
driver records their part size at log time and downloads recompute the ETag. Objects in an
SSE-KMS bucket carry an ETag that is not an MD5: they are ``size-only`` until logged with
``hash=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig

import tether

MiB = 1024 * 1024
PARTS_8MIB = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], capture_output=True, text=True,
                          check=False, timeout=300)


def upload_multipart(s3_client, bucket: str, key: str, data: bytes, tmp_path: Path) -> dict:
    src = tmp_path / f"upload-{os.urandom(4).hex()}"
    src.write_bytes(data)
    s3_client.upload_file(str(src), bucket, key, Config=PARTS_8MIB)
    src.unlink()
    return s3_client.head_object(Bucket=bucket, Key=key)


def test_multipart_uploads_are_recorded_with_their_part_size_and_verified(moto_server, s3_client, bucket,
                                                                        tmp_path: Path) -> None:
    data = {f"ckpt/{n}.pt": os.urandom(size) for n, size in (("a", 20 * MiB), ("b", 24 * MiB))}
    for key, body in data.items():
        head = upload_multipart(s3_client, bucket, key, body, tmp_path)
        assert head["ETag"].strip('"').endswith("-3")
    s3_client.put_object(Bucket=bucket, Key="ckpt/small.json", Body=b"{}")
    heads = rf"HEAD /{bucket}/ckpt/[^ ]*"
    before = len(re.findall(heads, moto_server.log_text()))
    art = tether.Artifact("ckpt", type="model")
    assets = {a.logical_path: a for a in art.add_remote(f"s3://{bucket}/ckpt/")}  # from the listing
    assert {p: (a.part_size, a.verification) for p, a in assets.items()} == {
        "a.pt": (8 * MiB, "multipart-etag"), "b.pt": (8 * MiB, "multipart-etag"), "small.json": (None, "md5")}
    # one HEAD (PartNumber=1) per multipart object; the single-part object costs nothing
    new_heads = re.findall(heads, moto_server.log_text())[before:]
    assert len(new_heads) == 2 and all("partNumber=1" in h for h in new_heads), new_heads
    (one,) = tether.Artifact("one").add_remote(f"s3://{bucket}/ckpt/a.pt")  # one object: its HEAD
    assert one.part_size == 8 * MiB and one.verification == "multipart-etag"
    v = tether.Catalog().log(art)
    dest = tmp_path / "out"
    assert v.download(dest).counts() == {"downloaded": 3}
    for key, body in data.items():
        assert (dest / key.removeprefix("ckpt/")).read_bytes() == body
    assert v.verify(dest).ok
    # a byte changed on disk is found by the recomputed multipart ETag
    with open(dest / "a.pt", "r+b") as f:
        f.seek(12 * MiB)
        f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")
    bad = {o.logical_path: o for o in v.verify(dest).outcomes}["a.pt"]
    assert bad.status == "modified" and "multipart-etag" in (bad.detail or "")
    shown = json.loads(cli("show", "ckpt", "--json").stdout)
    assert {a["logical_path"]: a["verification"] for a in shown["assets"]} == {
        "a.pt": "multipart-etag", "b.pt": "multipart-etag", "small.json": "md5"}
    assert "multipart-etag" in cli("show", "ckpt").stdout


def test_model_v2_over_v1_of_the_same_size_is_not_present(s3_client, versioned_bucket,
                                                          tmp_path: Path) -> None:
    """The issue's scenario: `tether download model:v2 DEST` over v1 of the same size kept v1,
    printed `1 present` and exited 0."""
    b = versioned_bucket
    v1, v2 = os.urandom(20 * MiB), os.urandom(20 * MiB)
    for body in (v1, v2):
        upload_multipart(s3_client, b, "models/model.pt", body, tmp_path)
        assert cli("log", "model", f"s3://{b}/models/model.pt", "--type", "model").returncode == 0
    dest = tmp_path / "dest"
    r = cli("download", "model:v1", str(dest))
    assert r.returncode == 0, r.stderr
    assert (dest / "model.pt").read_bytes() == v1
    r = cli("download", "model:v2", str(dest))
    assert r.returncode == 1 and "present" not in r.stdout
    assert r.stderr.startswith("tether: error: 1 file(s)") and "differ from model:v2" in r.stderr
    assert (dest / "model.pt").read_bytes() == v1
    r = cli("download", "model:v2", str(dest), "--overwrite", "overwrite")
    assert r.returncode == 0 and "1 downloaded" in r.stdout, r.stdout + r.stderr
    assert (dest / "model.pt").read_bytes() == v2
    assert cli("verify", "model:v2", str(dest)).returncode == 0
    assert cli("verify", "model:v1", str(dest)).returncode == 1


def test_parts_of_unequal_sizes_record_no_part_size(s3_client, bucket, tmp_path: Path) -> None:
    """A multipart ETag can only be recomputed when every part but the last has the first
    part's size; otherwise the asset is size-only, and says so."""
    up = s3_client.create_multipart_upload(Bucket=bucket, Key="odd/blob")
    bodies = [os.urandom(5 * MiB), os.urandom(6 * MiB)]
    etags = [s3_client.upload_part(Bucket=bucket, Key="odd/blob", UploadId=up["UploadId"], PartNumber=n,
                                   Body=body)["ETag"] for n, body in enumerate(bodies, 1)]
    s3_client.complete_multipart_upload(
        Bucket=bucket, Key="odd/blob", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(etags, 1)]})
    (a,) = tether.Artifact("odd").add_remote(f"s3://{bucket}/odd/")
    assert a.checksums["etag"].endswith("-2")
    assert a.part_size is None and a.verification == "size-only"


@pytest.fixture
def kms_bucket(s3_client, bucket) -> str:
    """A bucket whose default encryption is SSE-KMS: its ETags are not MD5s."""
    s3_client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    return bucket


def test_sse_kms_objects_are_size_only_and_never_trusted_on_size(s3_client, kms_bucket,
                                                                 tmp_path: Path) -> None:
    s3_client.put_object(Bucket=kms_bucket, Key="enc/weights.bin", Body=b"version two!")
    r = cli("log", "enc", f"s3://{kms_bucket}/enc/")
    assert r.returncode == 0, r.stderr
    shown = json.loads(cli("show", "enc", "--json").stdout)
    assert [a["verification"] for a in shown["assets"]] == ["size-only"]
    assert "size-only" in cli("show", "enc").stdout
    dest = tmp_path / "dest"
    r = cli("download", "enc", str(dest), "--require-verified")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "weights.bin" in r.stderr, r.stderr
    assert not dest.exists()
    dest.mkdir()
    (dest / "weights.bin").write_bytes(b"version one!")  # same size, other bytes
    r = cli("download", "enc", str(dest))
    assert r.returncode == 1 and "cannot be verified" in r.stderr and "present" not in r.stdout
    assert (dest / "weights.bin").read_bytes() == b"version one!"
    r = cli("download", "enc", str(dest), "--overwrite", "overwrite")
    assert r.returncode == 0 and (dest / "weights.bin").read_bytes() == b"version two!"
    r = cli("verify", "enc", str(dest))
    assert r.returncode == 1 and "unverifiable weights.bin" in r.stdout
    # hashing at log time makes it verifiable
    r = cli("log", "enc", f"s3://{kms_bucket}/enc/", "--hash")
    assert r.returncode == 0 and r.stdout.startswith("enc:v2"), r.stdout + r.stderr
    (a,) = tether.Catalog().get("enc:v2").assets
    assert a.checksums["sha256"] == hashlib.sha256(b"version two!").hexdigest()
    assert a.verification == "sha256"
    assert cli("verify", "enc:v2", str(dest)).returncode == 0
    r = cli("download", "enc:v2", str(dest), "--require-verified", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["counts"] == {"present": 1}


def test_hashing_reads_the_version_being_recorded(s3_client, versioned_bucket) -> None:
    b = versioned_bucket
    old = s3_client.put_object(Bucket=b, Key="h/f.bin", Body=b"old bytes")["VersionId"]
    s3_client.put_object(Bucket=b, Key="h/f.bin", Body=b"new bytes!")
    (a,) = tether.Artifact("pinned").add_remote(f"s3://{b}/h/f.bin?versionId={old}", hash=True)
    assert a.version_id == old and a.checksums["sha256"] == hashlib.sha256(b"old bytes").hexdigest()


def test_hash_true_adds_sha256_to_multipart_objects_too(s3_client, bucket, tmp_path: Path) -> None:
    body = os.urandom(17 * MiB)
    upload_multipart(s3_client, bucket, "mp/x.bin", body, tmp_path)
    (a,) = tether.Artifact("hashed").add_remote(f"s3://{bucket}/mp/", hash=True)
    assert a.checksums["sha256"] == hashlib.sha256(body).hexdigest() and a.verification == "sha256"
    assert a.part_size == 8 * MiB


def test_require_verified_passes_versions_with_checksums(s3_client, bucket, tmp_path: Path) -> None:
    upload_multipart(s3_client, bucket, "ok/x.bin", os.urandom(9 * MiB), tmp_path)
    art = tether.Artifact("ok")
    art.add_remote(f"s3://{bucket}/ok/")
    v = tether.Catalog().log(art)
    assert v.download(tmp_path / "out", require_verified=True).counts() == {"downloaded": 1}
