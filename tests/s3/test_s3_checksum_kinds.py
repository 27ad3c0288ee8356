"""tether-s3's checksum kind on moto: S3's full-object CRC64NVME, recorded from HEAD and verified.

S3 reports ``ChecksumCRC64NVME`` (base64 of the CRC's 8 bytes big-endian) for an
object uploaded with that algorithm; tether-s3 records it as ``crc64nvme`` and,
when it is the strongest checksum an asset has (an SSE-KMS object, whose ETag
is no MD5), downloads verify it like any built-in kind.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import attrs
import pytest
import tether
from tether import errors, transfer


def test_crc64nvme_is_recorded_from_head_and_alone_verifies_a_download(bucket: str, s3_client,
                                                                         tmp_path: Path) -> None:
    data = os.urandom(200_000)
    resp = s3_client.put_object(Bucket=bucket, Key="m/model.bin", Body=data, ChecksumAlgorithm="CRC64NVME")
    sent = base64.b64decode(resp["ChecksumCRC64NVME"]).hex()
    (a,) = tether.Artifact("crc").add_remote(f"s3://{bucket}/m/model.bin")
    assert a.checksums["crc64nvme"] == sent
    # what an SSE-KMS object records: no MD5, no usable ETag; the CRC is all there is
    only = attrs.evolve(a, checksums={"crc64nvme": sent}, version_id=None)
    assert only.verification == "crc64nvme"
    def download(dest: Path, **kw: object) -> transfer.DownloadResult:
        return transfer.download((only,), dest, driver_for=lambda _: tether.get_driver("s3"), label="crc:v1", **kw)

    assert download(tmp_path / "ok", require_verified=True).counts() == {"downloaded": 1}
    assert (tmp_path / "ok" / "model.bin").read_bytes() == data
    (outcome,) = transfer.verify((only,), tmp_path / "ok").outcomes
    assert outcome.status == "ok"

    flipped = bytearray(data)
    flipped[99_999] ^= 0x80
    s3_client.put_object(Bucket=bucket, Key="m/model.bin", Body=bytes(flipped))  # same size, other bytes
    with pytest.raises(errors.DownloadError, match=r"asset 'model.bin': crc64nvme of the fetched bytes"):
        download(tmp_path / "bad")
    assert not (tmp_path / "bad" / "model.bin").exists()
