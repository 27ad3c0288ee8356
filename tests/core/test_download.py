"""Download guarantees on real files: overwrite modes, atomicity, resume, hostile paths."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

import tether
from tether import errors, fetcher, transfer
from tether.models import Asset


@pytest.fixture
def version(tmp_path: Path) -> tether.ArtifactVersion:
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "nested" / "b.bin").write_bytes(os.urandom(70_000))
    art = tether.Artifact("dl")
    art.add(src)  # uploaded into the catalog's storage: immune to later edits of src
    return tether.Catalog().log(art)


def _logged_file(tmp_path: Path, name: str, data: bytes) -> tether.ArtifactVersion:
    """A version of one local file, tracked in place (its reads go through the local driver)."""
    src = tmp_path / "f.bin"
    src.write_bytes(data)
    art = tether.Artifact(name)
    art.add_remote(str(src))
    return tether.Catalog().log(art)


def test_existing_different_file_fails_before_anything_is_written(version, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.txt").write_bytes(b"mine")
    with pytest.raises(errors.DestinationConflictError) as exc:
        version.download(dest)
    assert "a.txt" in str(exc.value)
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt"]  # nested/ was not created
    assert (dest / "a.txt").read_bytes() == b"mine"


def test_preserve_keeps_local_file_and_overwrite_replaces_it(version, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.txt").write_bytes(b"mine")
    r = version.download(dest, overwrite="preserve")
    assert r.counts() == {"preserved": 1, "downloaded": 1}
    assert (dest / "a.txt").read_bytes() == b"mine"
    r = version.download(dest, overwrite="overwrite")
    assert r.counts() == {"downloaded": 1, "present": 1}
    assert (dest / "a.txt").read_bytes() == b"alpha"
    with pytest.raises(ValueError):
        version.download(dest, overwrite="clobber")  # type: ignore[arg-type]


def test_resume_fetches_only_missing_bytes(version, tmp_path: Path, monkeypatch) -> None:
    asset = version.asset("nested/b.bin")
    data = Path(asset.uri.removeprefix("file://")).read_bytes()
    dest = tmp_path / "dest"
    final = dest / "nested" / "b.bin"
    final.parent.mkdir(parents=True)
    part = transfer._part_path(final, asset)
    part.write_bytes(data[:50_000])  # what a kill -9 left behind
    requested: list[tuple[int, int]] = []
    drv = tether.get_driver("file")
    original = type(drv).read_range

    def spy(self, a, start, end):
        requested.append((start, end))
        return original(self, a, start, end)

    monkeypatch.setattr(type(drv), "read_range", spy)
    version.download(dest)
    assert final.read_bytes() == data
    assert (50_000, 70_000) in requested and all(s >= 50_000 for s, _ in requested if _ == 70_000)
    assert not part.exists()


def test_corrupt_partial_is_refetched_from_scratch(version, tmp_path: Path) -> None:
    asset = version.asset("nested/b.bin")
    final = tmp_path / "dest" / "nested" / "b.bin"
    final.parent.mkdir(parents=True)
    transfer._part_path(final, asset).write_bytes(b"\xff" * 1000)
    version.download(tmp_path / "dest")
    assert version.verify(tmp_path / "dest").ok


def test_corrupted_bytes_are_detected_and_leave_nothing(tmp_path: Path, monkeypatch) -> None:
    v = _logged_file(tmp_path, "corrupt", b"x" * 1000)
    drv = tether.get_driver("file")
    monkeypatch.setattr(type(drv), "read_range", lambda self, a, s, e: b"y" * (e - s))
    with pytest.raises(errors.DownloadError) as exc:
        v.download(tmp_path / "out")
    assert "sha256" in str(exc.value) and "f.bin" in str(exc.value)
    assert list((tmp_path / "out").iterdir()) == []


def test_transient_errors_are_retried(tmp_path: Path, monkeypatch) -> None:
    v = _logged_file(tmp_path, "flaky", b"z" * 100)
    drv = tether.get_driver("file")
    original = type(drv).read_range
    calls = {"n": 0}

    def flaky(self, a, s, e):
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionResetError("peer reset")
        return original(self, a, s, e)

    monkeypatch.setattr(type(drv), "read_range", flaky)
    monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0.01")
    v.download(tmp_path / "out")
    assert calls["n"] == 3 and (tmp_path / "out" / "f.bin").read_bytes() == b"z" * 100


@pytest.mark.parametrize("bad", ["../escape", "/etc/passwd", "a/../../b", "C:/win", "a\\..\\b", "nul\x00byte", "", "a//b"])
def test_unsafe_logical_paths_are_refused(bad: str) -> None:
    with pytest.raises(errors.UnsafePathError):
        Asset(logical_path=bad, link="file:///x", uri="file:///x", size=1)


def test_symlinked_subfolder_cannot_redirect_writes(version, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    outside = tmp_path / "outside"
    outside.mkdir()
    dest.mkdir()
    (dest / "nested").symlink_to(outside)
    with pytest.raises(errors.UnsafePathError):
        version.download(dest)
    assert list(outside.iterdir()) == []


def test_interrupt_cleans_temp_files(version, tmp_path: Path, monkeypatch) -> None:
    drv = tether.get_driver("file")

    def interrupted(self, a, s, e):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(drv), "read_range", interrupted)
    with pytest.raises(KeyboardInterrupt):
        version.download(tmp_path / "dest", workers=1)
    leftovers = [p for p in (tmp_path / "dest").rglob("*") if p.is_file()]
    assert leftovers == []


def test_very_long_names_are_refused() -> None:
    with pytest.raises(errors.UnsafePathError, match="longer than 255"):
        Asset(logical_path="d/" + "x" * 256, link="file:///x", uri="file:///x", size=1)
    with pytest.raises(errors.UnsafePathError, match="longer than 4096"):
        Asset(logical_path="/".join(["y" * 200] * 25), link="file:///x", uri="file:///x", size=1)


def test_names_differing_only_by_case_are_refused_on_a_case_insensitive_disk(tmp_path: Path, monkeypatch) -> None:
    assets = tuple(Asset(logical_path=p, link="file:///x", uri="file:///x", size=1) for p in ("Data/A.txt", "data/a.TXT"))
    assert len(transfer.plan_targets(assets, tmp_path / "d1")) == 2  # this disk tells the names apart
    monkeypatch.setattr(transfer, "_case_insensitive", lambda folder: True)
    with pytest.raises(errors.UnsafePathError, match="differ only by case"):
        transfer.plan_targets(assets, tmp_path / "d2")


def test_many_large_files_share_a_small_memory_budget_without_deadlock(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    blobs = {f"f{i}.bin": os.urandom(600_000 + i) for i in range(8)}
    for name, data in blobs.items():
        (src / name).write_bytes(data)
    art = tether.Artifact("budget")
    art.add(src)
    v = tether.Catalog().log(art)
    drv = tether.get_driver("file")
    monkeypatch.setattr(type(drv), "part_size", 64 * 1024)
    monkeypatch.setattr(fetcher, "MAX_PART_SIZE", 64 * 1024)
    monkeypatch.setenv("TETHER_DOWNLOAD_MEMORY", "1")  # two parts in memory across all eight files
    in_flight = {"now": 0, "max": 0}
    lock = threading.Lock()
    original = type(drv).read_range

    def counting(self, a, s, e):
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        try:
            time.sleep(0.002)
            return original(self, a, s, e)
        finally:
            with lock:
                in_flight["now"] -= 1

    monkeypatch.setattr(type(drv), "read_range", counting)
    result = v.download(tmp_path / "out", workers=8)
    assert result.ok
    for name, data in blobs.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    assert 2 <= in_flight["max"] <= 2  # parallel, and never more parts held than the budget allows
