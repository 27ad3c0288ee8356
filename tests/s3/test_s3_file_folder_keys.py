"""Keys ``a`` and ``a/b`` in one prefix (legal on S3, never two files on a disk), on moto's server."""

from __future__ import annotations

from pathlib import Path

import pytest
import tether
from tether import errors, transfer
from tether.resolver import driver_for_uri


def test_a_key_that_is_also_a_folder_is_refused_at_log_and_before_a_download(s3_client, bucket,
                                                                             tmp_path: Path) -> None:
    s3_client.put_object(Bucket=bucket, Key="ckpt/model", Body=b"weights")
    s3_client.put_object(Bucket=bucket, Key="ckpt/model/optimizer", Body=b"state")
    s3_client.put_object(Bucket=bucket, Key="ckpt/readme", Body=b"hi")
    art = tether.Artifact("ckpt")
    assert len(art.add_remote(f"s3://{bucket}/ckpt/")) == 3
    with pytest.raises(errors.InvalidArtifactError) as exc:
        tether.Catalog().log(art)
    assert "'model'" in str(exc.value) and "'model/optimizer'" in str(exc.value)
    assert tether.Catalog().latest_version("ckpt") is None
    # A manifest recorded before log refused this (or written by hand) is refused up front.
    dest = tmp_path / "dest"
    with pytest.raises(errors.UnsafePathError) as exc2:
        transfer.download(art.assets, dest, driver_for=lambda a: driver_for_uri(a.uri))
    assert "'model'" in str(exc2.value) and "'model/optimizer'" in str(exc2.value)
    assert not dest.exists() or list(dest.iterdir()) == []
