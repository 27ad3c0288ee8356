"""Uploads into the local content-addressed store: verified before they appear,
verified before they are reused, healed when wrong, swept when abandoned."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
import tether
from tether import errors
from tether.atomic import TMP_MARK
from tether_local import LocalDriver

from ..uploadhooks import rewrite_before_upload, rewrite_during_read


def _address(home: Path, data: bytes) -> Path:
    sha = hashlib.sha256(data).hexdigest()
    return home / "objects" / "sha256" / sha[:2] / sha


def _log(path: Path, name: str = "up") -> tether.ArtifactVersion:
    art = tether.Artifact(name)
    art.add(path)
    return tether.Catalog().log(art)


def _staged(home: Path) -> list[Path]:
    return [p for p in (home / "objects").rglob("*") if TMP_MARK in p.name]


def _assert_nothing_recorded(home: Path, *contents: bytes) -> None:
    for data in contents:
        assert not _address(home, data).exists()
    assert _staged(home) == []
    with pytest.raises(errors.UnknownArtifactError):
        tether.Catalog().get("up")


def test_a_file_rewritten_between_hashing_and_upload_is_refused(tmp_path: Path, _isolated_home: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "ckpt.bin"
    f.write_bytes(b"A" * 1000)
    rewrite_before_upload(monkeypatch, LocalDriver, f, b"B" * 1000)  # same size, other bytes
    with pytest.raises(errors.SourceChangedError, match=str(f)):
        _log(f)
    _assert_nothing_recorded(_isolated_home, b"A" * 1000, b"B" * 1000)


def test_a_file_rewritten_while_it_is_read_for_upload_is_refused(tmp_path: Path, _isolated_home: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "ckpt.bin"
    original = os.urandom(10 * 2**20)  # several reads
    f.write_bytes(original)
    reads = rewrite_during_read(monkeypatch, f, os.urandom(len(original)), after_reads=1)
    with pytest.raises(errors.SourceChangedError, match="changed while it was being logged"):
        _log(f)
    assert reads[0] > 1
    _assert_nothing_recorded(_isolated_home, original)


def test_a_file_removed_before_upload_is_a_clear_error(tmp_path: Path, _isolated_home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "gone.bin"
    f.write_bytes(b"x" * 10)
    real = LocalDriver.upload

    def upload(self, local_path: str, uri: str, **kw):
        os.unlink(local_path)
        return real(self, local_path, uri, **kw)

    monkeypatch.setattr(LocalDriver, "upload", upload)
    with pytest.raises(errors.SourceChangedError, match=f"{f} was removed"):
        _log(f)
    _assert_nothing_recorded(_isolated_home, b"x" * 10)


def test_a_wrong_file_at_the_address_heals_and_the_right_one_is_then_reused(tmp_path: Path,
                                                                            _isolated_home: Path) -> None:
    data = os.urandom(5000)
    f = tmp_path / "weights.bin"
    f.write_bytes(data)
    at = _address(_isolated_home, data)
    at.parent.mkdir(parents=True)
    at.write_bytes(os.urandom(len(data)))  # what a failed upload used to leave: same size, wrong bytes
    v = _log(f)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "weights.bin").read_bytes() == data
    assert at.read_bytes() == data
    healed = at.stat()
    time.sleep(0.01)  # so that a rewrite would show in the mtime
    v2 = _log(f, "again")  # the right bytes are there now: reused, not rewritten
    assert v2.assets[0].uri == v.assets[0].uri
    assert (at.stat().st_ino, at.stat().st_mtime_ns) == (healed.st_ino, healed.st_mtime_ns)


def test_abandoned_staged_copies_are_swept_by_age_and_never_taken_for_content(tmp_path: Path,
                                                                             _isolated_home: Path) -> None:
    data = b"payload" * 100
    f = tmp_path / "f.bin"
    f.write_bytes(data)
    at = _address(_isolated_home, data)
    at.parent.mkdir(parents=True)
    # What kill -9 during an upload leaves: full copies under staging names.
    old = at.parent / f".{at.name}{TMP_MARK}{int(time.time()) - 3 * 86400}-0123456789ab"
    legacy = at.parent / f".{at.name}{TMP_MARK}0123456789ab"  # named by an older tether
    fresh = at.parent / f".{at.name}{TMP_MARK}{int(time.time())}-ba9876543210"  # still being written
    for p in (old, legacy, fresh):
        p.write_bytes(os.urandom(len(data)))
    two_days_ago = time.time() - 2 * 86400
    for p in (old, legacy):
        os.utime(p, (two_days_ago, two_days_ago))
    v = _log(f)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "f.bin").read_bytes() == data
    assert at.read_bytes() == data
    assert not old.exists() and not legacy.exists()
    assert fresh.exists()


def test_a_driver_on_fsspec_defaults_heals_the_address_and_sweeps_by_the_time_in_the_name(
        memory_uri: str, tmp_path: Path) -> None:
    drv = tether.get_driver("memory")  # the example plugin: tether.Driver's generic upload and sweep
    data = b"generic" * 10
    f = tmp_path / "f.bin"
    f.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    folder = f"{memory_uri}/store/sha256/{sha[:2]}"
    drv.write_bytes(f"{folder}/{sha}", os.urandom(len(data)))  # no checksum to verify it by
    old = f".{sha}{TMP_MARK}{int(time.time()) - 3 * 86400}-0123456789ab"
    fresh = f".{sha}{TMP_MARK}{int(time.time())}-ba9876543210"
    for name in (old, fresh):
        drv.write_bytes(f"{folder}/{name}", b"left by a killed upload")
    art = tether.Artifact("up", artifacts_uri=f"{memory_uri}/store")
    art.add(f)
    v = tether.Catalog(tmp_path / "cat").log(art)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "f.bin").read_bytes() == data
    assert drv.read_bytes(f"{folder}/{sha}") == data
    assert drv.list_names(folder) == sorted([sha, fresh])
