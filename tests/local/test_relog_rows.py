"""Re-logging an unchanged folder carries listing rows, not objects: no per-file
``RemoteObject`` or ``Asset`` is built unless something reads it, and what a
reader gets is exactly what it got before (same assets, same digest, same version)."""

from __future__ import annotations

import os
import pickle
import time
import warnings
from pathlib import Path

import pytest
import tether
from tether.driver import iso_time_ns
from tether.models import Asset, RemoteObject, content_digest
from tether.rows import materialise

OLD = time.time() - 3600  # outside the state cache's racy window


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for i in range(300):
        p = root / f"part-{i // 100}" / f"f{i:03d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f"row {i}\n".encode())
        os.utime(p, (OLD, OLD))
    return root


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many RemoteObject and Asset instances are built (through their __init__)."""
    counts = {"RemoteObject": 0, "Asset": 0}
    for cls in (RemoteObject, Asset):
        real = cls.__init__

        def counting(self, *args, _real=real, _name=cls.__name__, **kwargs):
            counts[_name] += 1
            _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting)
    return counts


def log(folder: Path, **kw: object) -> tether.ArtifactVersion:
    art = tether.Artifact("rows", metadata={"run": 1})
    art.add_remote(str(folder), "train/", metadata={"split": "train"}, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tether.Catalog().log(art)


def test_an_unchanged_relog_builds_no_per_file_object(folder: Path, built: dict[str, int]) -> None:
    first = log(folder)
    assert first.is_new and len(first.assets) == 300
    for k in built:
        built[k] = 0
    again = log(folder)
    assert (again.version, again.is_new, again.digest) == (first.version, False, first.digest)
    assert built == {"RemoteObject": 0, "Asset": 0}  # 300 of each before rows were carried


def test_rows_read_as_exactly_the_assets_they_stand_for(folder: Path) -> None:
    art = tether.Artifact("rows")
    returned = art.add_remote(str(folder), "train/", metadata={"split": "train"})
    assert len(returned) == 300 and returned  # answered without building anything
    held = art._recorded()
    assets = art.assets  # built now, once
    assert art.assets == assets and art.assets[0] is assets[0]
    assert list(returned) == list(assets) and returned[5] == assets[5] and returned == list(assets)
    assert pickle.loads(pickle.dumps(returned)) == list(assets)
    a = assets[0]
    assert a.logical_path == "train/part-0/f000.bin" and a.uri == a.link == f"file://{folder}/part-0/f000.bin"
    assert a.size == 6 and set(a.checksums) == {"sha256"} and a.metadata == {"split": "train"}
    assert a.source == str(folder) and a.synced and a.version_id is None and a.part_size is None
    assert a.last_modified == iso_time_ns((folder / "part-0" / "f000.bin").stat().st_mtime_ns)
    # The digest a re-log compares is the one the built assets give.
    assert content_digest("dataset", held) == content_digest("dataset", materialise(held))
    assert [r.identity() for r in held] == [x.identity() for x in assets]


def test_a_version_logged_from_rows_is_the_one_logged_from_assets(folder: Path) -> None:
    first = log(folder)
    art = tether.Artifact("rows", metadata={"run": 1})
    art.add_remote(str(folder), "train/", metadata={"split": "train"})
    art.assets  # noqa: B018 - read: the assets are built, then logged
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = tether.Catalog().log(art)
    assert (same.version, same.is_new) == (first.version, False)
    (folder / "part-1" / "f150.bin").write_bytes(b"changed\n")
    changed = log(folder)
    assert changed.version == first.version + 1 and changed.is_new
    before = {a.logical_path: a for a in first.assets}
    after = {a.logical_path: a for a in tether.Catalog().get("rows", version=changed.version).assets}
    assert [p for p in before if before[p] != after[p]] == ["train/part-1/f150.bin"]
