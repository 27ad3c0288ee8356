"""The local checksum cache: an unchanged file is never hashed twice, a changed
one always is, and a damaged or unusable cache only makes a log slower."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import pytest

import tether
import tether_local
from tether.config import cache_dir

OLD = time.time() - 3600  # outside the cache's racy window


def write(path: Path, data: bytes, *, mtime: float | None = OLD) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def digests(folder: Path) -> dict[str, str]:
    return {a.logical_path: a.checksums["sha256"] for a in tether.Artifact("x").add_remote(str(folder))}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the local driver actually reads to hash, in order."""
    seen: list[str] = []
    real = tether_local.hash_file

    def counting(path: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.append(os.path.basename(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(tether_local, "hash_file", counting)
    return seen


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for i in range(30):
        write(root / f"part-{i // 10}" / f"f{i:02d}.bin", f"row {i}\n".encode())
    return root


def test_unchanged_folder_is_hashed_once(folder: Path, hashed: list[str]) -> None:
    first = digests(folder)
    assert len(hashed) == 30
    hashed.clear()
    assert digests(folder) == first
    assert hashed == []  # served from the folder snapshot
    assert first["part-0/f03.bin"] == sha256(b"row 3\n")


def test_only_changed_and_new_files_are_hashed(folder: Path, hashed: list[str]) -> None:
    digests(folder)
    hashed.clear()
    write(folder / "part-1" / "f12.bin", b"a longer row 12\n")         # size changes
    write(folder / "part-2" / "f25.bin", b"ROW 25\n", mtime=OLD + 5)   # same size, new mtime
    write(folder / "part-3" / "new.bin", b"brand new\n")
    (folder / "part-0" / "f07.bin").unlink()
    again = digests(folder)
    assert sorted(hashed) == ["f12.bin", "f25.bin", "new.bin"]
    assert again["part-1/f12.bin"] == sha256(b"a longer row 12\n")
    assert again["part-2/f25.bin"] == sha256(b"ROW 25\n")
    assert again["part-3/new.bin"] == sha256(b"brand new\n")
    assert "part-0/f07.bin" not in again and len(again) == 30
    hashed.clear()
    assert digests(folder) == again and hashed == []  # the new snapshot holds


def test_replaced_file_with_same_size_and_mtime_is_rehashed(folder: Path, hashed: list[str]) -> None:
    """A new inode (write-to-temp-then-rename, as most tools save) is a change
    even when size and mtime are identical."""
    digests(folder)
    hashed.clear()
    target = folder / "part-0" / "f01.bin"
    tmp = folder / "part-0" / "f01.tmp"
    keep = tmp.parent / "holder"  # keeps the old inode alive so it cannot be reused
    os.link(target, keep)
    write(tmp, b"ROW 1\n", mtime=OLD)
    os.replace(tmp, target)
    keep.unlink()
    new = digests(folder)
    assert hashed == ["f01.bin"]
    assert new["part-0/f01.bin"] == sha256(b"ROW 1\n")


def test_racily_clean_files_are_not_trusted(tmp_path: Path, hashed: list[str]) -> None:
    """A file written within the last two seconds could change again inside the
    same timestamp tick: it is hashed again rather than cached."""
    root = tmp_path / "fresh"
    now = time.time()
    write(root / "a.bin", b"version 1", mtime=now)
    assert digests(root)["a.bin"] == sha256(b"version 1")
    st = os.stat(root / "a.bin")
    (root / "a.bin").write_bytes(b"version 2")  # same size, same inode...
    os.utime(root / "a.bin", ns=(st.st_atime_ns, st.st_mtime_ns))  # ...same mtime
    assert digests(root)["a.bin"] == sha256(b"version 2")
    assert hashed == ["a.bin", "a.bin"]


def test_parent_folder_reuses_what_a_sub_folder_cached(folder: Path, hashed: list[str]) -> None:
    digests(folder / "part-1")
    assert len(hashed) == 10
    hashed.clear()
    whole = digests(folder)
    assert len(whole) == 30 and len(hashed) == 20  # part-1's ten came from the cache
    hashed.clear()
    single = tether.Artifact("one").add_remote(str(folder / "part-2" / "f20.bin"))
    assert hashed == [] and single[0].checksums["sha256"] == sha256(b"row 20\n")


def test_damaged_snapshot_is_ignored_and_rewritten(folder: Path, hashed: list[str]) -> None:
    first = digests(folder)
    db = sqlite3.connect(cache_dir() / "hashes.sqlite")
    with db:
        db.execute("update folders set snapshot = ?", (b"\x00not marshal",))
        db.execute("delete from hashes")  # so nothing else can vouch for the files
    db.close()
    hashed.clear()
    assert digests(folder) == first
    assert len(hashed) == 30
    hashed.clear()
    assert digests(folder) == first and hashed == []


def test_unusable_cache_folder_only_costs_time(folder: Path, tmp_path: Path, hashed: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("TETHER_CACHE_DIR", str(blocker / "cache"))
    first = digests(folder)
    assert digests(folder) == first
    assert len(hashed) == 60  # hashed both times, and no error


def test_garbage_collector_is_back_on_after_a_log_even_a_failed_one(folder: Path) -> None:
    """Listing pauses the cycle collector while it builds objects; the caller's
    process must never be left without it."""
    import gc

    assert gc.isenabled()
    digests(folder)
    assert gc.isenabled()
    with pytest.raises(tether.errors.TooManyObjectsError):
        tether.Artifact("x").add_remote(str(folder), max_objects=5)
    assert gc.isenabled()
    gc.disable()
    try:
        digests(folder)
        assert not gc.isenabled()  # a caller's choice is kept too
    finally:
        gc.enable()


def test_snapshots_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashed: list[str]) -> None:
    """A new output folder per run must not grow the cache without bound; the
    oldest snapshots go first, and their files are still not hashed again."""
    import tether.statecache

    monkeypatch.setattr(tether.statecache, "MAX_SNAPSHOTS", 3)
    for i in range(5):
        write(tmp_path / f"run-{i}" / "out.bin", f"run {i}".encode())
        digests(tmp_path / f"run-{i}")
    db = sqlite3.connect(cache_dir() / "hashes.sqlite")
    roots = sorted(os.path.basename(r) for (r,) in db.execute("select root from folders"))
    db.close()
    assert roots == ["run-2", "run-3", "run-4"]
    hashed.clear()
    assert digests(tmp_path / "run-0") == {"out.bin": sha256(b"run 0")}
    assert hashed == []
