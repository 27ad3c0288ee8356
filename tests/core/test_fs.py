"""``tether://``: versions read in place through fsspec, pinned and verified (local driver)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import fsspec
import pytest
import tether
from tether.errors import (
    ChecksumMismatchError,
    DriftError,
    InvalidArgumentError,
    NoDriverError,
    ObjectNotFoundError,
    ReadOnlyError,
)
from tether.fs import TetherFileSystem

BIG = 3 * 1024 * 1024 + 17  # larger than the block size the tests use: streamed, not fetched whole


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    (root / "train" / "cats").mkdir(parents=True)
    (root / "val").mkdir()
    (root / "train" / "a.bin").write_bytes(b"a" * 1000)
    (root / "train" / "cats" / "1.bin").write_bytes(os.urandom(BIG))
    (root / "val" / "x.csv").write_bytes(b"x,y\n1,2\n")
    return root


@pytest.fixture
def version(src: Path) -> tether.ArtifactVersion:
    art = tether.Artifact("data")
    art.add_remote(str(src))
    with pytest.warns(tether.LinkOnlyWarning):
        art.add_remote("ftp://example.com/readme.txt", "docs/readme.txt")  # a link only
    return tether.Catalog().log(art, aliases=["prod"])


def new_fs(**kw) -> TetherFileSystem:
    return TetherFileSystem(skip_instance_cache=True, **kw)


def tamper(path: Path) -> None:
    """Change bytes in place, keeping the size (and so passing the size pin)."""
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def test_fsspec_finds_tether_through_its_entry_point_with_no_tether_import(version, src: Path) -> None:
    code = ("import sys, fsspec\n"
            "assert 'tether' not in sys.modules\n"
            "with fsspec.open('tether://data@prod/train/cats/1.bin') as f:\n"
            "    sys.stdout.buffer.write(f.read())\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == (src / "train" / "cats" / "1.bin").read_bytes()


def test_listings_come_from_the_manifest_without_touching_the_store(version, src: Path) -> None:
    fs = new_fs()
    for p in src.rglob("*"):  # the store is gone: only the manifest can answer
        if p.is_file():
            p.unlink()
    # (a link-only asset is no file here: tether cannot read it)
    assert fs.ls("data@prod", detail=False) == ["data@prod/train", "data@prod/val"]
    assert fs.find("data:v1/train") == ["data:v1/train/a.bin", "data:v1/train/cats/1.bin"]
    assert fs.glob("data@prod/**/*.bin") == ["data@prod/train/a.bin", "data@prod/train/cats/1.bin"]
    assert fs.glob("data@prod/train/*") == ["data@prod/train/a.bin", "data@prod/train/cats"]
    info = fs.info("data@prod/train/cats/1.bin")
    assert (info["type"], info["size"], info["version"]) == ("file", BIG, "data:v1")
    assert "sha256" in info["checksums"]
    assert fs.isdir("data@prod/train/cats") and not fs.exists("data@prod/train/nope")
    with pytest.raises(ObjectNotFoundError, match="nope"):
        fs.info("data@prod/nope")
    with pytest.raises(NoDriverError, match="link-only"):
        fs.open("data@prod/docs/readme.txt")


def test_whole_file_reads_are_the_recorded_bytes(version, src: Path) -> None:
    fs = new_fs(block_size=1024 * 1024)
    want = (src / "train" / "cats" / "1.bin").read_bytes()
    with fs.open("data@prod/train/cats/1.bin") as f:
        got = b"".join(iter(lambda: f.read(300_000), b""))
    assert got == want
    assert fs.cat("data:1/val/x.csv") == b"x,y\n1,2\n"
    assert fs.cat_file("data:1/train/cats/1.bin", start=-10) == want[-10:]


def test_tampered_small_file_fails_before_any_byte_is_returned(version, src: Path) -> None:
    tamper(src / "train" / "a.bin")
    fs = new_fs()
    with fs.open("data@prod/train/a.bin") as f:
        f.seek(500)  # any offset: a small file is fetched and verified whole first
        with pytest.raises(ChecksumMismatchError, match="train/a.bin"):
            f.read(1)


def test_tampered_large_file_streams_but_never_returns_its_last_block(version, src: Path) -> None:
    tamper(src / "train" / "cats" / "1.bin")  # the last byte changed
    fs = new_fs(block_size=1024 * 1024)
    got = b""
    with fs.open("data@prod/train/cats/1.bin") as f:
        with pytest.raises(ChecksumMismatchError, match="sha256"):
            while chunk := f.read(256 * 1024):
                got += chunk
        assert len(got) < BIG  # the block holding the changed byte was held back ...
        with pytest.raises(ChecksumMismatchError):
            f.read()  # ... and asking again does not hand it out
    assert got == (src / "train" / "cats" / "1.bin").read_bytes()[: len(got)]


def test_a_changed_size_is_drift_on_any_read(version, src: Path) -> None:
    (src / "val" / "x.csv").write_bytes(b"x,y\n1,2\n3,4\n")
    with pytest.raises(DriftError, match="changed since it was logged"):
        new_fs().cat("data@prod/val/x.csv")


def test_writes_are_refused_as_read_only(version) -> None:
    fs = new_fs()
    for call in (lambda: fs.open("data@prod/new.bin", "wb"), lambda: fs.rm("data@prod/train/a.bin"),
                 lambda: fs.pipe("data@prod/x", b"x"), lambda: fs.mkdir("data@prod/d"),
                 lambda: fs.mv("data@prod/train/a.bin", "data@prod/b.bin"),
                 lambda: fsspec.open("tether://data@prod/x.txt", "w").open()):
        with pytest.raises(ReadOnlyError, match="read-only") as info:
            call()
        assert isinstance(info.value, PermissionError)


def test_an_alias_is_resolved_once_per_instance_and_travels_with_it(version, src: Path) -> None:
    fs = new_fs()
    assert fs.cat("data@prod/val/x.csv") == b"x,y\n1,2\n"
    (src / "val" / "x.csv").write_bytes(b"changed")
    art = tether.Artifact("data")
    art.add_remote(str(src))
    tether.Catalog().log(art, aliases=["prod"])  # prod -> v2
    assert fs.version("data@prod").ref == "data:v1"  # one job, one version
    worker = pickle.loads(pickle.dumps(fs))  # what a Dask worker gets
    assert worker.version("data@prod").ref == "data:v1"
    assert worker.info("data@prod/val/x.csv")["size"] == len(b"x,y\n1,2\n")
    fs.invalidate_cache()
    assert fs.version("data@prod").ref == "data:v2"
    assert fs.cat("data@prod/val/x.csv") == b"changed"


def test_cache_is_keyed_by_content_shared_by_versions_and_verified_on_fill(version, src: Path,
                                                                          tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (src / "val" / "x.csv").write_bytes(b"another\n")  # v2 shares every file but this one
    art = tether.Artifact("data")
    art.add_remote(str(src))
    tether.Catalog().log(art)
    fs = new_fs(cache_dir=str(cache))
    want = (src / "train" / "cats" / "1.bin").read_bytes()
    assert fs.cat("data:v2/train/cats/1.bin") == want
    entries = sorted(p for p in cache.rglob("*") if p.is_file())
    assert len(entries) == 1 and entries[0].name.endswith(f"-{BIG}") and entries[0].parent.parent.name == "sha256"
    (src / "train" / "cats" / "1.bin").unlink()  # v1 is read from the entry v2 filled
    assert fs.cat("data:v1/train/cats/1.bin") == want
    assert sorted(p for p in cache.rglob("*") if p.is_file()) == entries
    tamper(src / "train" / "a.bin")
    with pytest.raises(ChecksumMismatchError, match="train/a.bin"):
        fs.cat("data:v1/train/a.bin")
    assert sorted(p for p in cache.rglob("*") if p.is_file()) == entries  # nothing bad was kept


def test_glob_paths_read_as_a_folder_by_readers_that_take_one_path(version) -> None:
    fs = new_fs()
    assert fs.isdir("data@prod/train/**/*.bin")
    names = fs.find("data@prod/train/**/*.bin")
    assert names == ["data@prod/train/**/*.bin/a.bin", "data@prod/train/**/*.bin/cats/1.bin"]
    with fs.open(names[0]) as f:  # what pyarrow does with each file of the folder
        assert f.read() == b"a" * 1000


def test_unknown_options_are_refused_not_ignored() -> None:
    with pytest.raises(InvalidArgumentError, match="storage_options"):
        new_fs(storage_options={"catalog": "/elsewhere"})


def test_shard_paths_split_the_version_for_data_loaders(version) -> None:
    fs = new_fs()
    parts = [fs.shard_paths("data@prod", i, 2) for i in range(2)]
    assert sorted(parts[0] + parts[1]) == ["data:v1/train/a.bin", "data:v1/train/cats/1.bin", "data:v1/val/x.csv"]
    assert ["tether://" + p for p in parts[1]] == tether.shard_paths("data@prod", 1, 2)
