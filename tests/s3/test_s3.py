"""S3-specific behaviour on moto's server: listings, versions, ETags, drift, credentials."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tether
from tether import errors


def _put_many(s3_client, bucket: str, keys: list[str], body: bytes = b"x") -> None:
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3_client.put_object(Bucket=bucket, Key=k, Body=body), keys))


def _requests(server, pattern: str) -> int:
    return len(re.findall(pattern, server.log_text()))


@pytest.mark.parametrize("versioned", [False, True])
def test_resolving_a_prefix_costs_one_listing_per_1000_objects(moto_server, s3_client, bucket,
                                                               versioned_bucket, versioned) -> None:
    b = versioned_bucket if versioned else bucket
    _put_many(s3_client, b, [f"data/{i:05d}.bin" for i in range(2100)])
    _put_many(s3_client, b, [f"data2/{i}" for i in range(3)])  # must not be picked up
    before_list = _requests(moto_server, rf"GET /{b}/?\?[^ ]*(list-type=2|versions)")
    before_head = _requests(moto_server, rf"HEAD /{b}/")
    before_get = _requests(moto_server, rf"GET /{b}/data/")
    art = tether.Artifact("big-prefix")
    assets = art.add_remote(f"s3://{b}/data")
    assert len(assets) == 2100
    lists = _requests(moto_server, rf"GET /{b}/?\?[^ ]*(list-type=2|versions)") - before_list
    heads = _requests(moto_server, rf"HEAD /{b}/") - before_head
    gets = _requests(moto_server, rf"GET /{b}/data/") - before_get
    # Three pages, plus the delimiter page sent alongside the first to look for sub-folders.
    assert lists == 4, f"{lists} list requests for 2,100 objects"
    assert heads <= 1 and gets == 0  # one HEAD to see whether 'data' is an object
    if versioned:
        assert all(a.version_id for a in assets)
    else:
        assert all(a.version_id is None for a in assets)
    assert all(a.checksums["md5"] == hashlib.md5(b"x").hexdigest() for a in assets)


def test_versioned_bucket_pins_versions(s3_client, versioned_bucket, tmp_path: Path) -> None:
    b = versioned_bucket
    s3_client.put_object(Bucket=b, Key="m/w.bin", Body=b"v1")
    art = tether.Artifact("pinned")
    (a,) = art.add_remote(f"s3://{b}/m/w.bin")
    v = tether.Catalog().log(art)
    s3_client.put_object(Bucket=b, Key="m/w.bin", Body=b"v2 bytes")
    s3_client.delete_object(Bucket=b, Key="m/w.bin")  # delete marker on top
    v.download(tmp_path / "a")
    assert (tmp_path / "a" / "w.bin").read_bytes() == b"v1"
    # explicit pin through the URI
    (pinned,) = tether.Artifact("explicit").add_remote(f"s3://{b}/m/w.bin?versionId={a.version_id}")
    assert pinned.version_id == a.version_id and pinned.uri == f"s3://{b}/m/w.bin"
    # the recorded version itself destroyed: a clear error naming asset and version
    s3_client.delete_object(Bucket=b, Key="m/w.bin", VersionId=a.version_id)
    with pytest.raises(errors.DownloadError) as exc:
        v.download(tmp_path / "b")
    msg = str(exc.value)
    assert "w.bin" in msg and a.version_id in msg and "no longer exists" in msg
    assert not (tmp_path / "b" / "w.bin").exists()


def test_overwritten_object_without_versions_is_drift(s3_client, bucket, tmp_path: Path) -> None:
    s3_client.put_object(Bucket=bucket, Key="d/f.csv", Body=b"a,b\n")
    art = tether.Artifact("drifty")
    art.add_remote(f"s3://{bucket}/d/")
    v = tether.Catalog().log(art)
    s3_client.put_object(Bucket=bucket, Key="d/f.csv", Body=b"c,d\n")  # same size, new bytes
    result = v.download(tmp_path / "out", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert "changed since it was logged" in failed.error and "f.csv" in failed.error
    assert not (tmp_path / "out" / "f.csv").exists()
    st = {o.logical_path: o.status for o in v.status().outcomes}
    assert st == {"f.csv": "modified"}


def test_multipart_etag_is_never_an_md5(s3_client, bucket, tmp_path: Path) -> None:
    part = os.urandom(5 * 1024 * 1024)
    up = s3_client.create_multipart_upload(Bucket=bucket, Key="mp/blob")
    etags = [s3_client.upload_part(Bucket=bucket, Key="mp/blob", UploadId=up["UploadId"], PartNumber=n,
                                   Body=part)["ETag"] for n in (1, 2)]
    s3_client.complete_multipart_upload(
        Bucket=bucket, Key="mp/blob", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in zip((1, 2), etags)]})
    art = tether.Artifact("multipart")
    (a,) = art.add_remote(f"s3://{bucket}/mp/")
    assert a.checksums["etag"].endswith("-2") and "md5" not in a.checksums
    # resolved alone (one HEAD): a composite checksum of parts is not taken for a whole-object one
    (single,) = tether.Artifact("multipart-single").add_remote(f"s3://{bucket}/mp/blob")
    assert set(single.checksums) == {"etag"}
    v = tether.Catalog().log(art)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "blob").read_bytes() == part + part


def test_composite_checksums_of_sdk_multipart_uploads_are_not_recorded(s3_client, bucket, tmp_path: Path) -> None:
    from boto3.s3.transfer import TransferConfig

    src = tmp_path / "sdk.bin"
    src.write_bytes(os.urandom(11 * 1024 * 1024))
    s3_client.upload_file(str(src), bucket, "sdk/blob", Config=TransferConfig(multipart_threshold=5 * 2**20,
                                                                            multipart_chunksize=5 * 2**20))
    head = s3_client.head_object(Bucket=bucket, Key="sdk/blob", ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3")
    (a,) = tether.Artifact("sdk").add_remote(f"s3://{bucket}/sdk/blob")  # one HEAD
    assert "crc32" not in a.checksums and "md5" not in a.checksums
    art = tether.Artifact("sdk2")
    art.add_remote(f"s3://{bucket}/sdk/blob")
    tether.Catalog().log(art).download(tmp_path / "out")
    assert (tmp_path / "out" / "blob").read_bytes() == src.read_bytes()


def test_additional_sha256_checksum_is_recorded_and_verified(s3_client, bucket, tmp_path: Path) -> None:
    body = b"checked by S3 too"
    s3_client.put_object(Bucket=bucket, Key="ck/f", Body=body, ChecksumAlgorithm="SHA256")
    (a,) = tether.Artifact("ck").add_remote(f"s3://{bucket}/ck/f")  # single object: one HEAD
    assert a.checksums["sha256"] == hashlib.sha256(body).hexdigest()
    # From a listing, additional checksums cost a HEAD each: only when asked for.
    (b,) = tether.Artifact("ck2").add_remote(f"s3://{bucket}/ck/")
    assert "sha256" not in b.checksums
    tether.configure("s3", additional_checksums=True)
    (c,) = tether.Artifact("ck3").add_remote(f"s3://{bucket}/ck/")
    assert c.checksums["sha256"] == hashlib.sha256(body).hexdigest()


def test_folder_markers_are_not_assets_but_empty_objects_are(s3_client, bucket) -> None:
    s3_client.put_object(Bucket=bucket, Key="fm/", Body=b"")
    s3_client.put_object(Bucket=bucket, Key="fm/sub/", Body=b"")
    s3_client.put_object(Bucket=bucket, Key="fm/sub/empty", Body=b"")
    assets = tether.Artifact("markers").add_remote(f"s3://{bucket}/fm")
    assert [(a.logical_path, a.size) for a in assets] == [("sub/empty", 0)]


def test_keys_that_try_to_escape_are_refused_naming_the_key(s3_client, bucket) -> None:
    s3_client.put_object(Bucket=bucket, Key="evil/../../outside", Body=b"x")
    with pytest.raises(errors.UnsafePathError, match=r"\.\./\.\./outside"):
        tether.Artifact("evil").add_remote(f"s3://{bucket}/evil/")


def test_no_credentials_falls_back_to_link_only(bucket, monkeypatch) -> None:
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask 169.254.169.254
    tether.config.reset()  # new clients without credentials
    with pytest.warns(tether.LinkOnlyWarning, match="no AWS credentials"):
        (a,) = tether.Artifact("nocreds").add_remote(f"s3://{bucket}/some/key.bin")
    assert a.synced is False and a.link == f"s3://{bucket}/some/key.bin"
    with pytest.raises(errors.AccessDeniedError):
        tether.Artifact("nocreds2", strict=True).add_remote(f"s3://{bucket}/some/key.bin")


def test_endpoint_and_secrets_from_configure_never_leak(moto_server, s3_client, bucket, monkeypatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    tether.configure("s3", endpoint_url=moto_server.url, key="AKIAEXAMPLEKEY", secret="sEcReT-VaLuE-123")
    s3_client.put_object(Bucket=bucket, Key="cfg/a", Body=b"a")
    art = tether.Artifact("configured")
    art.add_remote(f"s3://{bucket}/cfg/")
    v = tether.Catalog(tmp_path / "cat").log(art)
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "cat").rglob("*") if p.is_file())
    assert b"sEcReT" not in blobs and b"AKIAEXAMPLEKEY" not in blobs and moto_server.url.encode() not in blobs
    with pytest.raises(errors.ObjectNotFoundError) as exc:
        tether.Artifact("missing").add_remote(f"s3://{bucket}/nope/")
    assert "sEcReT" not in str(exc.value)
    assert v.download(tmp_path / "out").ok


def test_unknown_option_is_a_config_error(bucket) -> None:
    tether.configure("s3", endpoint="http://typo")
    with pytest.raises(errors.ConfigError, match="endpoint"):
        tether.Artifact("typo").add_remote(f"s3://{bucket}/x")


def test_max_objects_error_says_how_many(s3_client, bucket) -> None:
    _put_many(s3_client, bucket, [f"cap/{i}" for i in range(12)])
    with pytest.raises(errors.TooManyObjectsError, match="12 objects, more than max_objects=10"):
        tether.Artifact("cap").add_remote(f"s3://{bucket}/cap", max_objects=10)


def test_upload_records_etag_version_and_sha256(versioned_bucket, tmp_path: Path) -> None:
    f = tmp_path / "model.bin"
    f.write_bytes(os.urandom(300_000))
    art = tether.Artifact("uploaded", artifacts_uri=f"s3://{versioned_bucket}/artifacts")
    art.add(f)
    v = tether.Catalog().log(art)
    (a,) = v.assets
    assert a.uri.startswith(f"s3://{versioned_bucket}/artifacts/sha256/")
    assert a.version_id and a.checksums["etag"] and a.checksums["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "model.bin").read_bytes() == f.read_bytes()


def _log_to_s3_catalog(args: tuple[str, str, int]) -> int:
    root, bucket, i = args
    import boto3

    boto3.client("s3").put_object(Bucket=bucket, Key=f"src/{i}", Body=str(i).encode())
    art = tether.Artifact("team-data")
    art.add_remote(f"s3://{bucket}/src/{i}")
    return tether.Catalog(root).log(art, aliases=["newest"]).version


def test_concurrent_processes_on_an_s3_catalog(bucket) -> None:
    root = f"s3://{bucket}/catalog"
    with multiprocessing.get_context("spawn").Pool(16) as pool:
        got = pool.map(_log_to_s3_catalog, [(root, bucket, i) for i in range(16)])
    assert sorted(got) == list(range(1, 17))
    cat = tether.Catalog(root)
    assert [v.version for v in cat.versions("team-data")] == list(range(1, 17))
    assert len({cat.get("team-data", version=n).assets[0].uri for n in range(1, 17)}) == 16
    assert cat.aliases("team-data")["newest"] in range(1, 17)
    claims = [json.loads(cat._driver.read_bytes(f"{root}/artifacts/team-data/versions/{n:010d}.json"))
              for n in range(1, 17)]
    assert [c["version"] for c in claims] == list(range(1, 17))
