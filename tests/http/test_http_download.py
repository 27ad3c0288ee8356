"""Downloading http(s) assets: pinned ranged reads, drift, careless servers, failures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tether import Artifact, Catalog, get_driver
from tether.errors import AccessDeniedError, DownloadError, DriftError

from .server import Behaviour, LoopbackServer

pytestmark = pytest.mark.http


def _logged(server: LoopbackServer, base: str, tmp_path: Path, name: str, data: bytes):  # type: ignore[no-untyped-def]
    server.put(f"{base}/{name}", data)
    art = Artifact("dl")
    art.add_remote(f"{base}/{name}")
    return Catalog(tmp_path / "cat").log(art)


SHAPES = {
    "strong ETag (If-Match -> 412)": {},
    "no ETag (If-Unmodified-Since -> 412)": {"etag": "none"},
    "preconditions ignored (response ETag differs)": {"preconditions": False},
    "Range and preconditions ignored": {"ranges": False, "preconditions": False},
    "weak ETag, preconditions ignored": {"etag": "weak", "preconditions": False},
    "only Last-Modified, preconditions ignored": {"etag": "none", "preconditions": False},
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_changed_file_is_a_drift_error_before_any_retry(http_server: LoopbackServer, base: str,
                                                          tmp_path: Path, shape: str) -> None:
    http_server.behaviour = Behaviour(**SHAPES[shape])
    v = _logged(http_server, base, tmp_path, "model.bin", b"weights v1")
    http_server.put(f"{base}/model.bin", b"weights v2")  # same size
    (asset,) = v.assets
    with pytest.raises(DriftError, match="'model.bin'.*changed since it was logged"):
        get_driver("http").read_range(asset, 0, asset.size)
    http_server.requests.clear()
    with pytest.raises(DownloadError, match="changed since it was logged"):
        v.download(tmp_path / "out")
    assert http_server.count("GET") == 1, "drift is an answer, not a transient failure"
    assert list((tmp_path / "out").iterdir()) == []


def test_a_shorter_file_is_drift_even_when_the_server_checks_nothing(http_server: LoopbackServer, base: str,
                                                                     tmp_path: Path) -> None:
    http_server.behaviour = Behaviour(etag="none", last_modified=False, preconditions=False)
    v = _logged(http_server, base, tmp_path, "t.bin", os.urandom(1000))
    http_server.put(f"{base}/t.bin", os.urandom(10))
    with pytest.raises(DownloadError, match="'t.bin'.*changed since it was logged"):
        v.download(tmp_path / "out")
    http_server.put(f"{base}/t.bin", os.urandom(2000))
    with pytest.raises(DownloadError, match="'t.bin'.*changed since it was logged"):
        v.download(tmp_path / "out")


def test_without_validators_a_same_size_change_is_caught_by_the_hash(http_server: LoopbackServer, base: str,
                                                                     tmp_path: Path) -> None:
    import tether

    http_server.behaviour = Behaviour(etag="none", last_modified=False, preconditions=False)
    tether.configure("http", hash=True)
    v = _logged(http_server, base, tmp_path, "s.bin", b"aaaa")
    http_server.put(f"{base}/s.bin", b"bbbb")
    with pytest.raises(DownloadError, match="sha256 of the fetched bytes"):
        v.download(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_wrong_server_digest_fails_the_download(http_server: LoopbackServer, base: str, tmp_path: Path) -> None:
    import base64
    import hashlib

    folder = base.rsplit("/", 1)[1]
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    http_server.behaviour = Behaviour(extra_headers={f"/{folder}/d.bin": {"Repr-Digest": f"sha-256=:{wrong}:"}})
    v = _logged(http_server, base, tmp_path, "d.bin", b"the real bytes")
    assert v.assets[0].checksums["sha256"] == hashlib.sha256(b"other bytes").hexdigest()
    with pytest.raises(DownloadError, match="sha256 of the fetched bytes"):
        v.download(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    http_server.behaviour = Behaviour(digests=("repr-digest",))
    good = _logged(http_server, base, tmp_path, "e.bin", b"digest matches")
    good.download(tmp_path / "ok")
    assert good.verify(tmp_path / "ok").ok


def test_a_server_ignoring_range_still_yields_each_part(http_server: LoopbackServer, base: str,
                                                        tmp_path: Path) -> None:
    http_server.behaviour = Behaviour(ranges=False)
    data = os.urandom(300_000)
    v = _logged(http_server, base, tmp_path, "r.bin", data)
    (asset,) = v.assets
    driver = get_driver("http")
    for start, end in ((0, 1), (0, 1000), (150_000, 150_001), (299_990, 300_000), (0, 300_000)):
        assert driver.read_range(asset, start, end) == data[start:end]
    assert all(r.headers.get("Range") for r in http_server.requests if r.method == "GET")
    # each of those answers was a whole 200 body; the connection of a body not read
    # to its end is closed, not reused
    assert http_server.count("GET") == 5


def test_transient_errors_are_retried_by_the_downloader(http_server: LoopbackServer, base: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0")
    v = _logged(http_server, base, tmp_path, "f.txt", b"eventually")
    path = f"/{base.rsplit('/', 1)[1]}/f.txt"
    http_server.behaviour = Behaviour(fail={path: [503, 429]})
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "f.txt").read_bytes() == b"eventually"
    assert http_server.count("GET") == 3
    monkeypatch.setenv("TETHER_RETRY_ATTEMPTS", "2")
    http_server.behaviour = Behaviour(fail={path: [503] * 5})
    with pytest.raises(DownloadError, match="'f.txt'.*HTTP 503"):
        v.download(tmp_path / "out2")


def test_access_denied_at_download_names_the_asset_and_is_not_retried(http_server: LoopbackServer, base: str,
                                                                      tmp_path: Path) -> None:
    v = _logged(http_server, base, tmp_path, "a.txt", b"was public")
    path = f"/{base.rsplit('/', 1)[1]}/a.txt"
    http_server.behaviour = Behaviour(fail={path: [403]})
    http_server.requests.clear()
    result = v.download(tmp_path / "out", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert "'a.txt'" in (failed.error or "") and "access denied (HTTP 403)" in (failed.error or "")
    assert http_server.count("GET") == 1
    with pytest.raises(AccessDeniedError):
        http_server.behaviour = Behaviour(fail={path: [401]})
        get_driver("http").read_range(v.assets[0], 0, 1)


def test_large_file_in_parallel_parts_each_pinned(http_server: LoopbackServer, base: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(3 * 1024 * 1024 + 11)
    v = _logged(http_server, base, tmp_path, "big.bin", data)
    monkeypatch.setattr(type(get_driver("http")), "part_size", 512 * 1024)
    http_server.requests.clear()
    v.download(tmp_path / "out", workers=4)
    assert (tmp_path / "out" / "big.bin").read_bytes() == data
    gets = [r for r in http_server.requests if r.method == "GET"]
    assert len(gets) > 1
    etag = f'"{v.assets[0].checksums["etag"]}"'
    assert all(r.headers.get("If-Match") == etag and r.headers["Range"].startswith("bytes=") for r in gets)
    assert all(r.headers.get("Accept-Encoding") == "identity" for r in gets)
