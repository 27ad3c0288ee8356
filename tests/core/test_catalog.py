"""The embedded catalog on real folders: versions, refs, aliases, tags, dedup, corruption."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

import tether
from tether import errors


def _log_folder(folder: Path, name: str = "ds", **kw) -> tether.ArtifactVersion:
    art = tether.Artifact(name)
    art.add_remote(str(folder))
    return tether.Catalog().log(art, **kw)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    f = tmp_path / "data"
    f.mkdir()
    (f / "x.txt").write_text("x")
    return f


def test_versions_refs_and_errors(folder: Path) -> None:
    v1 = _log_folder(folder, aliases=["prod"], tags=["baseline"])
    (folder / "y.txt").write_text("y")
    v2 = _log_folder(folder)
    cat = tether.Catalog()
    assert (v1.version, v2.version) == (1, 2)
    assert cat.get("ds").version == 2
    for ref in ("ds:1", "ds:v1", "ds@prod"):
        assert cat.get(ref).version == 1
    assert cat.get("ds:latest").version == 2
    assert cat.get("ds:1").tags == ("baseline",) and cat.get("ds:1").aliases == ("prod",)
    with pytest.raises(errors.UnknownArtifactError):
        cat.get("nope")
    with pytest.raises(errors.UnknownVersionError) as exc:
        cat.get("ds", version=7)
    assert isinstance(exc.value, KeyError) and "7" in str(exc.value)
    with pytest.raises(errors.UnknownAliasError, match="prod"):
        cat.get("ds@staging")
    with pytest.raises(errors.UnknownVersionError):
        cat.get("ds:abc")
    with pytest.raises(errors.InvalidNameError):
        tether.Artifact("../evil")


def test_alias_move_remove_and_tags(folder: Path) -> None:
    _log_folder(folder, aliases=["prod"])
    (folder / "x.txt").write_text("changed")
    _log_folder(folder)
    cat = tether.Catalog()
    cat.set_alias("ds", "prod", 2)
    assert cat.aliases("ds") == {"prod": 2}
    cat.remove_alias("ds", "prod")
    assert cat.aliases("ds") == {}
    with pytest.raises(errors.UnknownAliasError):
        cat.remove_alias("ds", "prod")
    with pytest.raises(errors.UnknownVersionError):
        cat.set_alias("ds", "prod", 9)
    with pytest.raises(errors.InvalidNameError):
        cat.set_alias("ds", "latest", 1)
    cat.add_tags("ds", 2, "good", "reviewed")
    cat.remove_tags("ds", 2, "good")
    assert cat.tags("ds", 2) == ["reviewed"]


def test_identical_content_returns_existing_version(folder: Path) -> None:
    _log_folder(folder)
    v1b = _log_folder(folder, aliases=["again"])
    assert v1b.version == 1 and v1b.aliases == ("again",)
    assert [v.version for v in tether.Catalog().versions("ds")] == [1]


def test_manifest_is_plain_json_readable_without_tether(folder: Path, _isolated_home: Path) -> None:
    v = _log_folder(folder, aliases=["prod"])
    claim = json.loads((_isolated_home / "artifacts/ds/versions/0000000001.json").read_text())
    assert claim["schema"] == "tether.version/1" and claim["version"] == 1
    manifest = json.loads((_isolated_home / "artifacts/ds" / claim["manifest"]).read_bytes())
    assert manifest["schema"] == "tether.manifest/1"
    (row,) = manifest["assets"]
    assert row["path"] == "x.txt" and row["size"] == 1
    assert row["checksums"]["sha256"] == v.assets[0].checksums["sha256"]


def test_large_manifests_are_gzip_json(tmp_path: Path, _isolated_home: Path) -> None:
    f = tmp_path / "many"
    f.mkdir()
    for i in range(1200):
        (f / f"{i:05d}").write_bytes(b"")
    v = _log_folder(f, "many")
    claim = json.loads((_isolated_home / "artifacts/many/versions/0000000001.json").read_text())
    assert claim["manifest"].endswith(".json.gz")
    doc = json.loads(gzip.decompress((_isolated_home / "artifacts/many" / claim["manifest"]).read_bytes()))
    assert len(doc["assets"]) == 1200 == len(v.assets)


def test_corrupted_or_foreign_manifests_are_rejected(folder: Path, _isolated_home: Path) -> None:
    _log_folder(folder)
    claim_path = _isolated_home / "artifacts/ds/versions/0000000001.json"
    claim = json.loads(claim_path.read_text())
    manifest_path = _isolated_home / "artifacts/ds" / claim["manifest"]
    manifest_path.write_bytes(manifest_path.read_bytes().replace(b'"x.txt"', b'"../x.txt"'))
    with pytest.raises(errors.ManifestError, match="does not match its checksum"):
        tether.Catalog().get("ds:1")
    claim_path.write_text("{not json")
    with pytest.raises(errors.ManifestError, match="not valid JSON"):
        tether.Catalog().get("ds:1")


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.update(schema="tether.manifest/99"), "unsupported schema"),
    (lambda d: d["assets"][0].update(size=-1), "invalid size"),
    (lambda d: d["assets"][0].update(path="../../etc/passwd"), "'..'"),
    # a kind nobody registers is kept (tests/core/test_checksum_kinds.py), but only under a kind's name
    # and with printable text; a registered kind's value must be in its text form
    (lambda d: d["assets"][0]["checksums"].update({"Who\x1b[2J": "00"}), "invalid checksum kind name"),
    (lambda d: d["assets"][0]["checksums"].update(whirlpool="\x1b[2J"), "not short printable text"),
    (lambda d: d["assets"][0]["checksums"].update(sha256="../../etc"), "is not a sha256 checksum"),
])
def test_manifest_validation(mutate, message) -> None:
    from tether.models import Manifest

    doc = {"schema": "tether.manifest/1", "name": "n", "type": "t", "assets": [
        {"path": "a", "uri": "file:///a", "size": 1, "checksums": {"sha256": "0" * 64}}]}
    mutate(doc)
    with pytest.raises(errors.ManifestError, match=message):
        Manifest.from_dict(doc, where="test")


def test_unchanged_files_are_not_rehashed(folder: Path, monkeypatch) -> None:
    old = time.time() - 60
    os.utime(folder / "x.txt", (old, old))
    _log_folder(folder)
    import tether_local

    calls: list[str] = []
    real = tether_local.hash_file
    monkeypatch.setattr(tether_local, "hash_file", lambda p, *a, **k: calls.append(p) or real(p, *a, **k))
    (folder / "new.txt").write_text("new")
    _log_folder(folder)
    assert calls == [str(folder / "new.txt")]


def test_uploaded_files_are_content_addressed_and_deduplicated(tmp_path: Path, _isolated_home: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(b"same")
    (src / "b").write_bytes(b"same")
    art = tether.Artifact("up")
    art.add(src, "inputs")
    v = tether.Catalog().log(art)
    assert {a.logical_path for a in v.assets} == {"inputs/a", "inputs/b"}
    assert len({a.uri for a in v.assets}) == 1
    stored = list((_isolated_home / "objects").rglob("*"))
    assert len([p for p in stored if p.is_file()]) == 1
    (src / "a").write_bytes(b"edited after logging")
    v.download(tmp_path / "out")
    assert (tmp_path / "out/inputs/a").read_bytes() == b"same"


def _log_in_process(args: tuple[str, str, int]) -> int:
    home, folder, i = args
    os.environ["TETHER_HOME"] = home
    src = Path(folder) / f"f{i}"
    src.write_text(str(i))
    art = tether.Artifact("racing")
    art.add_remote(str(src))
    return tether.Catalog().log(art).version


def test_sixteen_processes_get_sixteen_versions(tmp_path: Path, _isolated_home: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(16) as pool:
        got = pool.map(_log_in_process, [(str(_isolated_home), str(tmp_path), i) for i in range(16)])
    assert sorted(got) == list(range(1, 17))
    cat = tether.Catalog()
    uris = {cat.get("racing", version=n).assets[0].uri for n in range(1, 17)}
    assert len(uris) == 16


def test_content_digest_bytes_are_stable_across_releases() -> None:
    """Catalogs compare this digest with ones written by earlier tether releases
    to recognise an identical re-log; its input bytes must never drift."""
    import datetime

    from tether.models import Asset, content_digest

    assets = (
        Asset(logical_path="b/ü.bin", link="s3://b/k/ü.bin", uri="s3://b/k/ü.bin", size=3,
              checksums={"md5": "00ff", "etag": "00ff"}, version_id="v1", last_modified="2026-01-01T00:00:00Z",
              metadata={"z": 1, "a": [1, 2], "when": datetime.date(2026, 1, 2)}, source="s3://b/k/"),
        Asset(logical_path="a.txt", link="file:///x/a.txt", uri="file:///x/a.txt", size=0,
              checksums={"sha256": "e3b0"}),
        Asset(logical_path="link", link="https://example.com/x", synced=False),
    )
    # Recorded from the first release's implementation.
    assert content_digest("dataset", assets) == \
        "sha256:3ee7320a0d84224fc7939605bebfe2647a1d57da1593464062488e4a599f7997"
    assert content_digest("model", assets) != content_digest("dataset", assets)


def test_identical_relog_returns_what_was_recorded(folder: Path) -> None:
    """An identical re-log answers with the stored version: its recorded
    metadata and timestamps, not the new call's."""
    old = time.time() - 600
    os.utime(folder / "x.txt", (old, old))
    art = tether.Artifact("ds", metadata={"run": 1})
    art.add_remote(str(folder))
    v1 = tether.Catalog().log(art)
    os.utime(folder / "x.txt", (old + 5, old + 5))  # a touch: same bytes, new mtime
    again = tether.Artifact("ds", metadata={"run": 2})
    again.add_remote(str(folder))
    same = tether.Catalog().log(again, tags=["rerun"])
    assert same.version == 1 and same.digest == v1.digest
    assert same.metadata == {"run": 1}
    assert same.assets == v1.assets
    assert same.assets[0].last_modified == v1.assets[0].last_modified != again.assets[0].last_modified
    assert same.tags == ("rerun",) and same.created_at == v1.created_at

