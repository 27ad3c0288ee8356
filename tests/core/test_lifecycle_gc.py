"""``tether gc`` on the local catalog (issue 16): what it removes, what it never touches,
the grace period, and the intent/pending handshake with logs running at the same time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tether
from tether.catalog.gc import collect
from tether.catalog.intents import announce, intents_uri, release_intents, write_pending

from ..lifecycle_workers import (
    SHARED,
    digest,
    race_logs_and_gc,
)


def tether_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True, text=True, timeout=120)


def upload_version(cat: tether.Catalog, folder: Path, name: str, files: dict[str, bytes]) -> tether.ArtifactVersion:
    folder.mkdir(parents=True, exist_ok=True)
    for k, v in files.items():
        (folder / k).write_bytes(v)
    art = tether.Artifact(name)
    art.add(str(folder))
    return cat.log(art)


def stored(cat: tether.Catalog, data: bytes) -> Path:
    d = digest(data)
    return Path(cat._driver.path_of(f"{cat.storage_uri}/sha256/{d[:2]}/{d}"))


def test_gc_removes_only_what_no_live_version_needs(tmp_path: Path, _isolated_home: Path) -> None:
    cat = tether.Catalog()
    keep = upload_version(cat, tmp_path / "keep", "keep", {"a": b"kept bytes", "s": b"shared"})
    upload_version(cat, tmp_path / "drop", "drop", {"b": b"dropped bytes", "s": b"shared"})
    users = tmp_path / "users-own"  # a reference: tether never uploaded these
    users.mkdir()
    (users / "data.csv").write_text("1,2,3")
    ref = tether.Artifact("ref")
    ref.add_remote(str(users))
    cat.log(ref)
    stray = _isolated_home / "objects" / "sha256" / "README"
    stray.write_text("not tether's")
    cat.delete("drop")
    cat.delete("ref")
    assert cat.gc().bytes_reclaimed == 0  # default grace: 24h after deletion
    dry = cat.gc(0, dry_run=True)
    assert dry.object_bytes == len(b"dropped bytes") and len(dry.manifests) == 2
    assert stored(cat, b"dropped bytes").exists()
    report = cat.gc(0)
    assert report.objects == (f"file://{stored(cat, b'dropped bytes')}",)
    assert report.object_bytes == len(b"dropped bytes") and len(report.manifests) == 2
    assert report.bytes_reclaimed == report.object_bytes + report.manifest_bytes
    assert not stored(cat, b"dropped bytes").exists()
    assert stored(cat, b"shared").exists() and stored(cat, b"kept bytes").exists()
    assert (users / "data.csv").read_text() == "1,2,3" and stray.exists()
    assert keep.download(tmp_path / "out").ok
    assert cat.gc(0).bytes_reclaimed == 0  # nothing left to do
    # The deleted versions still say who deleted them, with their manifests gone.
    assert cat.tombstone("drop", 1) is not None


def test_grace_period_keeps_recent_objects_and_recently_deleted_versions(tmp_path: Path) -> None:
    cat = tether.Catalog()
    upload_version(cat, tmp_path / "d", "d", {"x": b"x bytes"})
    cat.delete("d", 1)
    r = cat.gc("1h")
    assert r.bytes_reclaimed == 0 and r.kept_young == 0  # deleted version is still a root
    cat.tombstone("d", 1)  # readable
    # An unreferenced upload younger than the grace period stays.
    young = stored(cat, b"young")
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"young")
    r = cat.gc("1h")
    assert young.exists() and r.kept_young == 1
    old = time.time() - 7200
    os.utime(young, (old, old))
    assert cat.gc("1h").objects == (f"file://{young}",)


def test_staged_copies_and_orphan_manifests(tmp_path: Path, _isolated_home: Path) -> None:
    cat = tether.Catalog()
    upload_version(cat, tmp_path / "d", "d", {"x": b"x"})
    d = digest(b"never finished")
    folder = _isolated_home / "objects" / "sha256" / d[:2]
    folder.mkdir(parents=True, exist_ok=True)
    old_tmp = folder / f".{d}.tether-tmp-{int(time.time()) - 90000}-abcdef"
    old_tmp.write_bytes(b"half")
    os.utime(old_tmp, (time.time() - 90000,) * 2)
    new_tmp = folder / f".{d}.tether-tmp-{int(time.time())}-123456"
    new_tmp.write_bytes(b"in progress")
    orphan = _isolated_home / "artifacts" / "d" / "manifests" / ("0" * 64 + ".json")
    orphan.write_text("{}")
    fresh_orphan = _isolated_home / "artifacts" / "d" / "manifests" / ("1" * 64 + ".json")
    fresh_orphan.write_text("{}")
    os.utime(orphan, (time.time() - 7200,) * 2)
    r = cat.gc("30m")
    assert r.staged == (f"file://{old_tmp}",) and r.staged_bytes == 4
    assert r.manifests == (f"file://{orphan}",)
    assert new_tmp.exists() and fresh_orphan.exists() and not old_tmp.exists() and not orphan.exists()
    assert cat.get("d:1").download(tmp_path / "out").ok


def test_an_announced_digest_is_never_collected(tmp_path: Path) -> None:
    """A log writes its intent before looking at any address: gc keeps what it names,
    whatever its age (a log may be reusing an old upload nothing references)."""
    cat = tether.Catalog()
    upload_version(cat, tmp_path / "d", "d", {"x": b"reused later"})
    cat.delete("d")
    announce(cat._driver, cat.storage_uri, [digest(b"reused later")])
    try:
        r = cat.gc(0)
        assert r.kept_announced == 1 and r.object_bytes == 0 and stored(cat, b"reused later").exists()
    finally:
        release_intents()
    assert cat._driver.list_names(intents_uri(cat.storage_uri)) == []
    assert cat.gc(0).object_bytes == len(b"reused later")


def test_a_version_claimed_while_gc_marks_keeps_its_objects(tmp_path: Path, _isolated_home: Path) -> None:
    """The re-check of the claims after marking: a log that reused a marked
    upload and finished (its intent already gone) before the sweep."""
    cat = tether.Catalog()
    upload_version(cat, tmp_path / "d", "d", {"x": b"old bytes, logged again"})
    cat.delete("d")
    again = tmp_path / "again"
    again.mkdir()
    (again / "x").write_bytes(b"old bytes, logged again")

    def log_meanwhile() -> None:
        r = subprocess.run([sys.executable, "-m", "tether.cli", "log", "again", "--upload", str(again)],
                           check=False, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    report = collect(cat, 0.0, after_mark=log_meanwhile)
    assert report.kept_claimed >= 1 and report.object_bytes == 0
    assert cat.get("again").download(tmp_path / "out").ok


def test_a_log_waits_for_a_gc_deleting_what_it_needs(tmp_path: Path) -> None:
    """The other half of the handshake: a log that finds a gc's pending list naming
    its bytes waits until that gc is done, then uploads what the gc removed."""
    cat = tether.Catalog()
    data = b"bytes a gc is deleting right now"
    upload_version(cat, tmp_path / "d", "d", {"x": data})
    cat.delete("d")
    pending = write_pending(cat._driver, cat.storage_uri, [digest(data)])
    src = tmp_path / "src"
    src.mkdir()
    (src / "x").write_bytes(data)
    proc = subprocess.Popen([sys.executable, "-m", "tether.cli", "log", "waits", "--upload", str(src)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not cat._driver.list_names(intents_uri(cat.storage_uri)):  # the log announced itself
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        stored(cat, data).unlink()  # the gc's sweep
        cat._driver.delete(pending)  # the gc is done
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert cat.get("waits").download(tmp_path / "out").ok
    assert (tmp_path / "out" / "x").read_bytes() == data


def test_gc_cli(tmp_path: Path) -> None:
    cat = tether.Catalog()
    upload_version(cat, tmp_path / "d", "d", {"x": b"x" * 1000})
    cat.delete("d")
    r = tether_cli("gc", "--dry-run", "--grace", "0")
    assert r.returncode == 0 and "would remove 1 upload(s)" in r.stdout and "reclaimable" in r.stdout
    r = tether_cli("gc", "--grace", "0s", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["object_bytes"] == 1000 and doc["bytes_reclaimed"] > 1000
    r = tether_cli("gc", "--grace", "a while")
    assert r.returncode == 2 and r.stderr.startswith("tether: error:")


@pytest.mark.slow
def test_concurrent_logs_and_gc_never_lose_a_finished_version(tmp_path: Path) -> None:
    """Separate processes: 3 loggers (new, reused-garbage and shared bytes), a churner and a
    gc with no grace at all, looping until they are done. Every version a log
    returned then downloads, verified; the garbage nobody reused is gone."""
    root = str(tmp_path / "catalog")
    cat, unused = race_logs_and_gc(root, tmp_path, loggers=3, rounds=6, reused=4, unused=3, pause=0.2)
    for data in unused:
        assert not stored(cat, data).exists()
    assert stored(cat, SHARED).exists()

