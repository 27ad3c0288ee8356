"""GCS-specific behaviour on fake-gcs-server: generations, crc32c, names, credentials, catalog."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import urllib.request
from pathlib import Path

import attrs
import google_crc32c
import pytest

import tether
from tether import errors


def test_listing_records_generation_md5_and_crc32c(gcs_admin, gcs_bucket) -> None:
    item = gcs_admin.put(gcs_bucket, "p/a#1 ?%.bin", b"payload")
    gcs_admin.put(gcs_bucket, "p2/other", b"x")
    (a,) = tether.Artifact("g").add_remote(f"gcs://{gcs_bucket}/p")
    assert a.uri == f"gs://{gcs_bucket}/p/a#1 ?%.bin" and a.logical_path == "a#1 ?%.bin"
    assert a.version_id == str(item["generation"])
    assert a.checksums["crc32c"] == google_crc32c.Checksum(b"payload").digest().hex()
    assert a.checksums["md5"] == base64.b64decode(item["md5Hash"]).hex()


def test_generation_pin_and_deleted_generation(gcs_admin, gcs_versioned_bucket, tmp_path: Path) -> None:
    b = gcs_versioned_bucket
    first = gcs_admin.put(b, "w.bin", b"one")
    gcs_admin.put(b, "w.bin", b"two!")
    (pinned,) = tether.Artifact("pin").add_remote(f"gs://{b}/w.bin#{first['generation']}")
    assert pinned.version_id == str(first["generation"]) and pinned.size == 3
    art = tether.Artifact("pin")
    art.add_remote(f"gs://{b}/w.bin#{first['generation']}")
    v = tether.Catalog().log(art)
    v.download(tmp_path / "a")
    assert (tmp_path / "a" / "w.bin").read_bytes() == b"one"
    # fake-gcs-server ignores `generation` on DELETE (it removes the live object),
    # so a recorded generation that no longer exists is modelled by one that never did.
    gone = attrs.evolve(v.assets[0], version_id="1234567")
    lost = attrs.evolve(v, assets=(gone,))
    with pytest.raises(errors.DownloadError) as exc:
        lost.download(tmp_path / "b")
    assert "w.bin" in str(exc.value) and "1234567" in str(exc.value) and "no longer exists" in str(exc.value)
    assert not (tmp_path / "b" / "w.bin").exists()


def test_overwrite_in_unversioned_bucket_is_drift(gcs_admin, gcs_bucket, tmp_path: Path) -> None:
    gcs_admin.put(gcs_bucket, "d/f", b"abc")
    art = tether.Artifact("drift")
    art.add_remote(f"gs://{gcs_bucket}/d/")
    v = tether.Catalog().log(art)
    gcs_admin.put(gcs_bucket, "d/f", b"xyz")
    result = v.download(tmp_path / "out", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert "changed or was deleted since it was logged" in failed.error
    assert {o.logical_path: o.status for o in v.status().outcomes} == {"f": "modified"}


def test_composite_object_is_verified_by_crc32c(gcs_server, gcs_admin, gcs_bucket, tmp_path: Path) -> None:
    gcs_admin.put(gcs_bucket, "parts/1", b"a" * 1000)
    gcs_admin.put(gcs_bucket, "parts/2", b"b" * 1000)
    body = json.dumps({"sourceObjects": [{"name": "parts/1"}, {"name": "parts/2"}],
                       "destination": {"contentType": "application/octet-stream"}}).encode()
    req = urllib.request.Request(f"{gcs_server.url}/storage/v1/b/{gcs_bucket}/o/whole/compose",
                                 data=body, method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()
    art = tether.Artifact("composite")
    (a,) = art.add_remote(f"gs://{gcs_bucket}/whole")
    assert a.checksums["crc32c"] == google_crc32c.Checksum(b"a" * 1000 + b"b" * 1000).digest().hex()
    v = tether.Catalog().log(art)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "whole").read_bytes() == b"a" * 1000 + b"b" * 1000


def test_corrupted_body_is_caught_by_crc32c(gcs_admin, gcs_bucket, tmp_path: Path, monkeypatch) -> None:
    gcs_admin.put(gcs_bucket, "c/f", b"good bytes")
    art = tether.Artifact("corrupt")
    art.add_remote(f"gs://{gcs_bucket}/c/f")
    v = tether.Catalog().log(art)

    drv = tether.get_driver("gs")
    real = type(drv).read_range
    monkeypatch.setattr(type(drv), "read_range",
                        lambda self, asset, s, e: bytes(reversed(real(self, asset, s, e))))
    with pytest.raises(errors.DownloadError, match="md5|crc32c"):
        v.download(tmp_path / "out")
    assert not (tmp_path / "out" / "f").exists()


def test_max_objects(gcs_admin, gcs_bucket) -> None:
    for i in range(6):
        gcs_admin.put(gcs_bucket, f"cap/{i}", b"x")
    with pytest.raises(errors.TooManyObjectsError, match="6 objects"):
        tether.Artifact("cap").add_remote(f"gs://{gcs_bucket}/cap", max_objects=5)


def test_missing_credentials_fall_back_to_link_only(gcs_bucket, tmp_path: Path) -> None:
    tether.configure("gs", token=str(tmp_path / "no-such-service-account.json"))
    with pytest.warns(tether.LinkOnlyWarning, match="credentials"):
        (a,) = tether.Artifact("nocreds").add_remote(f"gs://{gcs_bucket}/x")
    assert a.synced is False
    with pytest.raises(errors.AccessDeniedError):
        tether.Artifact("nocreds", strict=True).add_remote(f"gs://{gcs_bucket}/x")


def test_upload_records_generation_md5_crc32c_and_sha256(gcs_bucket, tmp_path: Path) -> None:
    f = tmp_path / "w.bin"
    f.write_bytes(os.urandom(100_000))
    art = tether.Artifact("up", artifacts_uri=f"gs://{gcs_bucket}/store")
    art.add(f)
    (a,) = tether.Catalog().log(art).assets
    assert a.version_id and {"md5", "crc32c", "sha256"} <= set(a.checksums)


def _log_to_gcs_catalog(args: tuple[str, str, str, int]) -> int:
    url, root, bucket, i = args
    os.environ["STORAGE_EMULATOR_HOST"] = url
    os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
    drv = tether.get_driver("gs")
    drv.write_bytes(f"gs://{bucket}/src/{i}", str(i).encode())
    art = tether.Artifact("team")
    art.add_remote(f"gs://{bucket}/src/{i}")
    return tether.Catalog(root).log(art).version


def test_concurrent_processes_on_a_gcs_catalog(gcs_server, gcs_bucket) -> None:
    root = f"gs://{gcs_bucket}/catalog"
    with multiprocessing.get_context("spawn").Pool(16) as pool:
        got = pool.map(_log_to_gcs_catalog, [(gcs_server.url, root, gcs_bucket, i) for i in range(16)])
    assert sorted(got) == list(range(1, 17))
    cat = tether.Catalog(root)
    assert len({cat.get("team", version=n).assets[0].uri for n in range(1, 17)}) == 16
