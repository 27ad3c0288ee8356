"""Faults on the wire between tether and moto: every file verified, or a clear error."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tether
from tether import errors

from ..faults import FaultProxy

N_OBJECTS = 1000


@pytest.fixture
def fault_proxy(moto_server):
    proxies = []

    def make(**rates: float) -> FaultProxy:
        p = FaultProxy(moto_server.port, rates, stall_seconds=2.5)
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.stop()


@pytest.fixture
def logged(s3_client, bucket) -> tuple[tether.ArtifactVersion, dict[str, bytes]]:
    files = {f"obj/{i:04d}.bin": os.urandom(512 + i % 3000) for i in range(N_OBJECTS)}
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda kv: s3_client.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]), files.items()))
    art = tether.Artifact("faulty")
    art.add_remote(f"s3://{bucket}/obj/")
    return tether.Catalog().log(art), {k[len("obj/"):]: v for k, v in files.items()}


def _assert_nothing_wrong_on_disk(dest: Path, files: dict[str, bytes], result) -> None:
    for rel, data in files.items():
        p = dest / rel
        if p.exists():
            assert p.read_bytes() == data, f"{rel} has wrong content"
    assert [p.name for p in dest.rglob("*") if ".tether-" in p.name] == []
    if result is not None:
        for o in result.with_status("failed"):
            assert not (dest / o.logical_path).exists()


def test_download_through_a_faulty_network_is_complete_and_verified(logged, fault_proxy, monkeypatch,
                                                                   tmp_path: Path) -> None:
    version, files = logged
    proxy = fault_proxy(reset=0.03, error=0.03, stall=0.005, truncate=0.03, flip=0.03)
    tether.configure("s3", endpoint_url=proxy.url, read_timeout=1, connect_timeout=2, max_attempts=3)
    monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0.05")
    dest = tmp_path / "out"
    result = version.download(dest, workers=16, raise_on_error=False)
    assert set(proxy.injected) == set(("reset", "error", "stall", "truncate", "flip")), proxy.injected
    _assert_nothing_wrong_on_disk(dest, files, result)
    assert result.ok, [o.error for o in result.with_status("failed")][:3]
    assert len(result.with_status("downloaded")) == N_OBJECTS
    assert version.verify(dest).ok


def test_a_store_that_keeps_failing_gives_a_clear_error_listing_what_is_missing(
        logged, fault_proxy, monkeypatch, tmp_path: Path) -> None:
    version, files = logged
    proxy = fault_proxy(flip=0.5, error=0.3)
    tether.configure("s3", endpoint_url=proxy.url, max_attempts=2)
    monkeypatch.setenv("TETHER_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0.01")
    dest = tmp_path / "out"
    with pytest.raises(errors.DownloadError) as exc:
        version.download(dest, workers=16)
    result = exc.value.result
    failed = result.with_status("failed")
    assert failed and "failed" in str(exc.value)
    assert all(o.error and ("md5" in o.error or "S3 request failed" in o.error) for o in failed)
    assert len(failed) + len(result.with_status("downloaded")) == N_OBJECTS
    _assert_nothing_wrong_on_disk(dest, files, result)
    # the network heals: the same call completes, fetching only what is missing
    tether.configure("s3", endpoint_url=None)
    again = version.download(dest)
    assert len(again.with_status("downloaded")) == len(failed) and again.ok


def test_multipart_uploads_through_a_flipping_network_are_verified_or_a_clear_error(
        s3_client, bucket, fault_proxy, monkeypatch, tmp_path: Path) -> None:
    """Issue 11, done-when: objects uploaded by boto3 ``upload_file`` in 8 MiB parts carry only a
    multipart ETag. Downloaded in 16 MiB ranges (straddling the upload's parts) through a proxy
    that flips bytes, every file ends verified by its recomputed ETag, or fails clearly; none wrong."""
    from boto3.s3.transfer import TransferConfig

    mib = 1024 * 1024
    files = {f"ckpt/{i}.pt": os.urandom(20 * mib + i * 4096) for i in range(4)}
    for key, body in files.items():
        src = tmp_path / "src.bin"
        src.write_bytes(body)
        s3_client.upload_file(str(src), bucket, key,
                              Config=TransferConfig(multipart_threshold=8 * mib, multipart_chunksize=8 * mib))
    art = tether.Artifact("mp-faulty", type="model")
    assets = art.add_remote(f"s3://{bucket}/ckpt/")
    assert {a.verification for a in assets} == {"multipart-etag"}
    version = tether.Catalog().log(art)
    expected = {k.removeprefix("ckpt/"): v for k, v in files.items()}

    proxy = fault_proxy(flip=0.35)
    tether.configure("s3", endpoint_url=proxy.url)
    monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0.01")
    dest = tmp_path / "out"
    result = version.download(dest, workers=4, raise_on_error=False)
    assert proxy.injected["flip"] >= 2, proxy.injected
    _assert_nothing_wrong_on_disk(dest, expected, result)
    assert all("multipart-etag" in (o.error or "") for o in result.with_status("failed"))
    assert len(result.with_status("downloaded")) + len(result.with_status("failed")) == len(files)
    assert len(result.with_status("downloaded")) >= 1

    # every flip is caught: with every read flipped, nothing lands and each error says why
    tether.configure("s3", endpoint_url=fault_proxy(flip=1.0).url)
    monkeypatch.setenv("TETHER_RETRY_ATTEMPTS", "2")
    again = version.download(tmp_path / "all-flipped", workers=4, raise_on_error=False)
    assert [o.status for o in again.outcomes] == ["failed"] * len(files)
    assert all("multipart-etag of the fetched bytes" in (o.error or "") for o in again.outcomes)
    _assert_nothing_wrong_on_disk(tmp_path / "all-flipped", expected, again)


def test_hashing_at_log_time_through_a_flipping_network_never_records_a_wrong_sha256(
        s3_client, bucket, fault_proxy, monkeypatch, tmp_path: Path) -> None:
    """``hash=True`` checks the bytes it hashes against the store's own checksum (an MD5 or a
    multipart ETag) on the same pass: a flipped byte is read again, never recorded as the
    content's sha256 (which would make the version undownloadable)."""
    import hashlib

    from boto3.s3.transfer import TransferConfig

    mib = 1024 * 1024
    files = {f"h/{i}.bin": os.urandom(2048 + i) for i in range(6)}
    for key, body in files.items():
        s3_client.put_object(Bucket=bucket, Key=key, Body=body)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(18 * mib))
    s3_client.upload_file(str(src), bucket, "h/big.bin",
                          Config=TransferConfig(multipart_threshold=8 * mib, multipart_chunksize=8 * mib))
    files["h/big.bin"] = src.read_bytes()
    proxy = fault_proxy(flip=0.3)
    tether.configure("s3", endpoint_url=proxy.url)
    monkeypatch.setenv("TETHER_RETRY_ATTEMPTS", "8")
    monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0.01")
    assets = tether.Artifact("hashed").add_remote(f"s3://{bucket}/h/", hash=True)
    assert proxy.injected["flip"] >= 1, proxy.injected
    assert {a.logical_path: a.checksums["sha256"] for a in assets} == {
        k.removeprefix("h/"): hashlib.sha256(v).hexdigest() for k, v in files.items()}
