"""Issue 11, part 2: nothing written outside DEST, and concurrent downloads into
one DEST converge on verified files. Links, swapped folders, hostile part
files, colliding part names, file/folder and Unicode name clashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import tether
from tether import errors, transfer
from tether.models import Asset

from .slow_local import slow_local_driver


def _version(tmp_path: Path, name: str, files: dict[str, bytes]) -> tether.ArtifactVersion:
    """A version whose files are uploaded into the catalog (content-addressed)."""
    src = tmp_path / f"src-{name}"
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    art = tether.Artifact(name)
    art.add(src)
    return tether.Catalog().log(art)


# ------------------------------------------------------------ links and swaps
@pytest.mark.parametrize("victim_exists", [True, False], ids=["existing-file", "new-file"])
def test_a_link_planted_at_the_part_name_never_writes_outside_dest(tmp_path: Path, victim_exists: bool) -> None:
    v = _version(tmp_path, "planted", {"model.bin": os.urandom(50_000)})
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    victim = outside / "victim.txt"
    if victim_exists:
        victim.write_bytes(b"precious")
    part = transfer._part_path(dest / "model.bin", v.asset("model.bin"))  # predictable from the manifest
    part.symlink_to(victim)
    with pytest.raises(errors.DownloadError) as exc:
        v.download(dest)
    assert "symbolic link" in str(exc.value) and part.name in str(exc.value)
    if victim_exists:
        assert victim.read_bytes() == b"precious"
    else:
        assert not victim.exists()
    assert sorted(p.name for p in outside.iterdir()) == (["victim.txt"] if victim_exists else [])
    assert not (dest / "model.bin").exists()


def test_a_subfolder_swapped_for_a_link_after_the_checks_is_refused(tmp_path: Path, monkeypatch) -> None:
    v = _version(tmp_path, "swap", {"nested/b.bin": os.urandom(20_000)})
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    checked = transfer.plan_targets

    def then_swap(assets, folder):
        targets = checked(assets, folder)
        Path(folder, "nested").symlink_to(outside)  # the attacker's move, after every path was checked
        return targets

    monkeypatch.setattr(transfer, "plan_targets", then_swap)
    with pytest.raises(errors.DownloadError) as exc:
        v.download(dest)
    assert "symbolic link" in str(exc.value)
    assert list(outside.iterdir()) == []


def test_a_link_to_a_folder_inside_dest_is_refused_too(tmp_path: Path) -> None:
    v = _version(tmp_path, "inner", {"nested/b.bin": b"b"})
    dest = tmp_path / "dest"
    (dest / "other").mkdir(parents=True)
    (dest / "nested").symlink_to(dest / "other")  # git does not check out "beyond a symbolic link" either
    with pytest.raises(errors.UnsafePathError, match="symbolic link inside"):
        v.download(dest)
    assert list((dest / "other").iterdir()) == []


def test_a_folder_swapped_mid_download_keeps_writes_in_the_folder_that_was_checked(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    data = os.urandom(300_000)
    v = _version(tmp_path, "midswap", {"nested/b.bin": data})
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    outside.mkdir()
    drv = tether.get_driver("file")
    original = type(drv).read_range
    swapped = threading.Event()

    def swap_then_read(self, a, s, e):
        if not swapped.is_set():
            swapped.set()
            (dest / "nested").rename(dest / "moved")
            (dest / "nested").symlink_to(outside)
        return original(self, a, s, e)

    monkeypatch.setattr(type(drv), "read_range", swap_then_read)
    v.download(dest)
    assert swapped.is_set()
    assert list(outside.iterdir()) == []  # the link was never followed
    assert (dest / "moved" / "b.bin").read_bytes() == data  # written where the open folder is


def _plant(kind: str, part: Path, outside: Path) -> Path:
    """Something other than this user's own regular file at a part file's name."""
    victim = outside / "victim.bin"
    victim.write_bytes(b"v" * 100_000)  # longer than the asset: a resume would truncate it
    if kind == "folder":
        part.mkdir()
    elif kind == "fifo":
        os.mkfifo(part)
    elif kind == "hard link":
        os.link(victim, part)
    elif kind == "foreign owner":
        part.write_bytes(b"x" * 10)
        os.chown(part, 65534, 65534)
    return victim


HOSTILE = ["folder", "fifo", "hard link", *(["foreign owner"] if os.geteuid() == 0 else [])]


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_part_file_that_is_not_our_own_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    v = _version(tmp_path, "hostile", {"w.bin": os.urandom(30_000)})
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    part = transfer._part_path(dest / "w.bin", v.asset("w.bin"))
    victim = _plant(kind, part, outside)
    with pytest.raises(errors.DownloadError) as exc:
        v.download(dest)
    outcome = exc.value.result.with_status("failed")[0]
    assert part.name in outcome.error and "tether will not write through it" in outcome.error
    assert victim.read_bytes() == b"v" * 100_000
    assert not (dest / "w.bin").exists()


# ------------------------------------------------------------ part names
def test_deduplicated_files_with_a_long_common_prefix_do_not_share_a_part_file(tmp_path: Path,
                                                                               monkeypatch) -> None:
    data = os.urandom(40_000)
    stem = "checkpoint-" + "x" * 80
    v = _version(tmp_path, "twins", {f"{stem}-a.bin": data, f"{stem}-b.bin": data})
    a, b = v.asset(f"{stem}-a.bin"), v.asset(f"{stem}-b.bin")
    assert a.uri == b.uri  # stored once
    dest = tmp_path / "dest"
    # Both files in flight at once: each must have its own part file.
    both = threading.Barrier(2, timeout=30)
    drv = tether.get_driver("file")
    original = type(drv).read_range

    def together(self, asset, s, e):
        both.wait()
        return original(self, asset, s, e)

    monkeypatch.setattr(type(drv), "read_range", together)
    result = v.download(dest, workers=2)
    assert result.counts() == {"downloaded": 2}
    assert (dest / a.logical_path).read_bytes() == data and (dest / b.logical_path).read_bytes() == data
    assert list(dest.glob(".*tether-part*")) == []
    assert transfer._part_path(dest / a.logical_path, a) != transfer._part_path(dest / b.logical_path, b)


@pytest.mark.parametrize("name", ["漢" * 80 + ".bin", "😀" * 63], ids=["80-cjk", "63-emoji"])
def test_long_non_ascii_names_download(tmp_path: Path, name: str) -> None:
    assert len(name.encode()) <= 255  # a legal file name ...
    data = os.urandom(5000)
    v = _version(tmp_path, "wide", {name: data})
    dest = tmp_path / "dest"
    assert v.download(dest).counts() == {"downloaded": 1}
    assert (dest / name).read_bytes() == data
    assert len(os.fsencode(transfer._part_path(dest / name, v.asset(name)).name)) <= 255  # ... and so its part


def test_a_2000_level_path_is_refused_clearly(tmp_path: Path) -> None:
    deep = "a/" * 1999 + "f.bin"
    assert len(deep) < 4096  # short enough to pass the length bound alone
    with pytest.raises(errors.UnsafePathError, match="folders deep"):
        Asset(logical_path=deep, link="file:///x", uri="file:///x", size=1)


def test_a_path_500_folders_deep_downloads(tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"deep")
    art = tether.Artifact("deep")
    logical = "d/" * 499 + "f.bin"
    art.add_remote(str(src), logical)
    v = tether.Catalog().log(art)
    assert v.download(tmp_path / "dest").counts() == {"downloaded": 1}
    assert v.verify(tmp_path / "dest").ok


# ------------------------------------------------------------ file/folder and Unicode clashes
def _assets(*paths: str) -> tuple[Asset, ...]:
    return tuple(Asset(logical_path=p, link="file:///x", uri="file:///x", size=1) for p in paths)


def test_a_file_and_a_folder_of_one_name_are_refused_at_log_time(tmp_path: Path) -> None:
    (tmp_path / "one").write_bytes(b"1")
    (tmp_path / "two").write_bytes(b"2")
    art = tether.Artifact("tree")
    art.add_remote(str(tmp_path / "one"), "a")
    art.add(tmp_path / "two", "a/b")  # a pending upload: refused before anything is stored
    with pytest.raises(errors.InvalidArtifactError, match=r"'a' and 'a/b'"):
        tether.Catalog().log(art)
    assert tether.Catalog().latest_version("tree") is None
    assert not [p for p in Path(os.environ["TETHER_HOME"]).rglob("*") if p.is_file() and p.read_bytes() == b"2"]


@pytest.mark.parametrize("paths", [("a", "a/b"), ("a/b/c", "a/b"), ("a", "a-b", "a/b", "a.c/d")])
def test_a_file_and_a_folder_of_one_name_are_refused_before_a_download(tmp_path: Path, paths) -> None:
    # As a manifest written before log refused such versions would hold them.
    art = tether.Artifact("old")
    for i, p in enumerate(paths):
        (tmp_path / f"src{i}").write_bytes(b"%d" % i)
        art.add_remote(str(tmp_path / f"src{i}"), p)
    dest = tmp_path / "dest"
    with pytest.raises(errors.UnsafePathError) as exc:
        transfer.download(art.assets, dest, driver_for=lambda a: tether.get_driver("file"))
    assert "'a/b'" in str(exc.value) and ("'a'" in str(exc.value) or "'a/b/c'" in str(exc.value))
    assert not dest.exists() or list(dest.iterdir()) == []


def test_names_differing_only_by_unicode_normalisation_are_refused_where_the_disk_merges_them(
        tmp_path: Path, monkeypatch) -> None:
    assets = _assets("caf\u00e9/x.txt", "cafe\u0301/x.txt")
    assert len(transfer.plan_targets(assets, tmp_path / "d1")) == 2  # this disk tells them apart
    monkeypatch.setattr(transfer, "_unicode_insensitive", lambda folder: True)  # as APFS does
    with pytest.raises(errors.UnsafePathError, match="Unicode normalisation"):
        transfer.plan_targets(assets, tmp_path / "d2")


def test_sharp_s_and_ss_are_not_a_case_clash(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(transfer, "_case_insensitive", lambda folder: True)
    monkeypatch.setattr(transfer, "_unicode_insensitive", lambda folder: True, raising=False)
    assert len(transfer.plan_targets(_assets("straße.txt", "strasse.txt"), tmp_path / "d")) == 2
    with pytest.raises(errors.UnsafePathError, match="case"):
        transfer.plan_targets(_assets("STRASSE.txt", "strasse.txt"), tmp_path / "d")
    with pytest.raises(errors.UnsafePathError, match="file and a folder"):
        transfer.plan_targets(_assets("Data", "data/x"), tmp_path / "d")  # one folder on this disk


def test_the_disk_probe_never_follows_a_planted_link(tmp_path: Path) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / f".tether-case-probe-{os.getpid()}").symlink_to(outside / "planted")  # the old, predictable name
    transfer.plan_targets(_assets("Read.me", "read.ME"), dest)
    assert list(outside.iterdir()) == []
    assert not [p for p in dest.iterdir() if p.name.startswith(".tether-probe")]


# ------------------------------------------------------------ concurrent downloads
CONCURRENT = slow_local_driver(0.003) + """
import pathlib
from tether.cli import main
go = pathlib.Path(sys.argv[1])
pathlib.Path(sys.argv[4]).touch()  # ready
while not go.exists():
    time.sleep(0.005)
main(["download", sys.argv[2], sys.argv[3], "--json", "--workers", "4"])
"""


def test_processes_downloading_into_one_dest_converge_on_verified_files(tmp_path: Path) -> None:
    shared = {f"shard-{i}.bin": os.urandom(640 * 1024 + i) for i in range(3)}
    v1 = _version(tmp_path, "ranks", shared)
    v2 = _version(tmp_path, "ranks", {**shared, "extra.bin": os.urandom(500_000)})  # overlaps v1
    dest, go = tmp_path / "cache", tmp_path / "go"
    refs = ["ranks:v1", "ranks:v2"] * 3
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(go), ref, str(dest), str(tmp_path / f"ready{i}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, ref in enumerate(refs)]
    while not all((tmp_path / f"ready{i}").exists() for i in range(len(refs))):  # all at the start line
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
        time.sleep(0.01)
    go.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    fetched: dict[str, int] = {}
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, (out, err)
        doc = json.loads(out)
        assert doc["ok"] and set(doc["counts"]) <= {"downloaded", "present"}, doc
        for o in doc["outcomes"]:
            fetched[o["logical_path"]] = fetched.get(o["logical_path"], 0) + (o["status"] == "downloaded")
    # Whoever lost the race for a file waited for the winner and found it complete.
    assert fetched == dict.fromkeys([*shared, "extra.bin"], 1)
    assert v1.verify(dest).ok and v2.verify(dest).ok
    for name, data in {**shared}.items():
        assert (dest / name).read_bytes() == data
    assert sorted(p.name for p in dest.iterdir()) == sorted([*shared, "extra.bin"])  # no part files left


def test_a_disk_without_file_locks_still_downloads_with_a_warning(tmp_path: Path, monkeypatch) -> None:
    import errno

    from tether import localfs

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")  # NFS mounted without lockd

    v = _version(tmp_path, "nolock", {"f.bin": os.urandom(1000)})
    monkeypatch.setattr(localfs.fcntl, "flock", no_locks)
    with pytest.warns(RuntimeWarning, match="does not support file locks"):
        assert v.download(tmp_path / "dest").counts() == {"downloaded": 1}
    assert v.verify(tmp_path / "dest").ok
