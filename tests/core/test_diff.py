"""Diff between two versions: the API, ``catalog.diff`` and ``tether diff``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from click.testing import CliRunner
from tether.cli import cli
from tether.diff import diff_assets, page
from tether.models import Asset


def files(folder: Path, content: dict[str, bytes]) -> Path:
    for rel, data in content.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return folder


def log(cat: tether.Catalog, name: str, folder: Path, **meta: object) -> tether.ArtifactVersion:
    art = tether.Artifact(name, metadata=meta)
    art.add_remote(str(folder))
    return cat.log(art)


@pytest.fixture
def two_versions(tmp_path: Path) -> tether.Catalog:
    cat = tether.Catalog()
    src = files(tmp_path / "src", {"a/keep.txt": b"keep", "a/change.txt": b"old", "a/gone.txt": b"bye",
                                   "b/move-me.bin": b"moving bytes", "top.txt": b"top"})
    log(cat, "ds", src, lr=0.1, seed=1, owner="me")
    (src / "a/change.txt").write_bytes(b"new and longer")
    (src / "a/gone.txt").unlink()
    (src / "c").mkdir()
    os.rename(src / "b/move-me.bin", src / "c/moved.bin")
    files(src, {"a/new.txt": b"fresh"})
    log(cat, "ds", src, lr=0.2, seed=1, epochs=3)
    cat.set_alias("ds", "prod", 2)
    return cat


def test_diff_lists_added_removed_modified_renamed_and_metadata(two_versions: tether.Catalog) -> None:
    d = two_versions.diff("ds:1", "ds@prod")
    assert (d.a, d.b) == ("ds:v1", "ds:v2")
    assert [a.logical_path for a in d.added] == ["a/new.txt"]
    assert [a.logical_path for a in d.removed] == ["a/gone.txt"]
    assert [(m.path, m.fields[:2]) for m in d.modified] == [("a/change.txt", ("size", "checksums"))]
    assert [(r.old_path, r.new_path, r.by) for r in d.renamed] == [("b/move-me.bin", "c/moved.bin", "sha256")]
    assert d.unchanged == 2 and not d.equal
    assert dict(d.metadata_added) == {"epochs": 3}
    assert dict(d.metadata_removed) == {"owner": "me"}
    assert dict(d.metadata_changed) == {"lr": (0.1, 0.2)}
    assert d.bytes_added == len(b"fresh") + len(b"new and longer") - len(b"old")
    assert d.bytes_removed == len(b"bye")
    # the same through the version object, and a version against itself
    v1 = two_versions.get("ds:1")
    assert v1.diff(two_versions.get("ds:2")).counts() == d.counts()
    assert v1.diff(v1).equal


def test_diff_per_folder_summary_at_a_chosen_depth(two_versions: tether.Catalog) -> None:
    d = two_versions.diff("ds:1", "ds:2")
    rows = {f.prefix: f for f in d.folders(1)}
    assert set(rows) == {"", "a/", "c/"}
    assert (rows["a/"].added, rows["a/"].removed, rows["a/"].modified, rows["a/"].unchanged) == (1, 1, 1, 1)
    assert rows["c/"].renamed == 1 and rows[""].unchanged == 1
    assert rows["a/"].bytes_removed == len(b"bye")


def test_diff_prefix_keeps_only_paths_under_it(two_versions: tether.Catalog) -> None:
    d = two_versions.diff("ds:1", "ds:2", prefix="a/")
    assert d.counts() == {"added": 1, "removed": 1, "modified": 1, "renamed": 0, "unchanged": 1}


def _asset(path: str, **kw: object) -> Asset:
    uri = kw.pop("uri", f"s3://b/{path}")
    return Asset(logical_path=path, link=uri, uri=uri, **kw)  # type: ignore[arg-type]


def test_renames_by_uri_and_version_by_link_and_ambiguous_content_prefers_the_same_name() -> None:
    old = [_asset("x/1", uri="s3://b/k", version_id="v9", size=5),
           _asset("dup/a.bin", size=3, checksums={"md5": "m"}), _asset("dup/b.bin", size=3, checksums={"md5": "m"}),
           Asset(logical_path="l/old", link="https://h/x", synced=False),
           _asset("crc/only", size=4, checksums={"crc32c": "abcd"})]
    new = [_asset("y/1", uri="s3://b/k", version_id="v9", size=5),
           _asset("moved/b.bin", size=3, checksums={"md5": "m"}),
           Asset(logical_path="l/new", link="https://h/x", synced=False),
           _asset("crc/other", size=4, checksums={"crc32c": "abcd"})]
    added, removed, _, renamed, _, _ = diff_assets(old, new)
    assert {(r.old_path, r.new_path, r.by) for r in renamed} == {
        ("x/1", "y/1", "uri"), ("dup/b.bin", "moved/b.bin", "md5"), ("l/old", "l/new", "link")}
    # a 32-bit CRC alone is not proof of the same content
    assert [a.logical_path for a in added] == ["crc/other"]
    assert sorted(a.logical_path for a in removed) == ["crc/only", "dup/a.bin"]


def test_unsorted_input_is_sorted_and_version_id_or_metadata_changes_are_modifications() -> None:
    old = [_asset("b", size=1, version_id="1"), _asset("a", size=1, metadata={"k": 1})]
    new = [_asset("a", size=1, metadata={"k": 2}), _asset("b", size=1, version_id="2")]
    _, _, modified, _, unchanged, _ = diff_assets(old, new)
    assert [(m.path, m.fields) for m in modified] == [("a", ("metadata",)), ("b", ("version_id",))]
    assert unchanged == 0


def test_keyset_page_continues_after_the_last_path() -> None:
    items = [_asset(f"p/{i:03d}") for i in range(25)]
    first, nxt = page(items, None, 10)
    assert first[0].logical_path == "p/000" and nxt == "p/009"
    second, nxt = page(items, nxt, 10)
    assert second[0].logical_path == "p/010"
    last, nxt = page(items, "p/019", 10)
    assert len(last) == 5 and nxt is None


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120, check=False)


def test_cli_diff_summary_first_then_lists_and_exit_codes(two_versions: tether.Catalog) -> None:
    r = run("diff", "ds:1", "ds@prod")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    summary = next(i for i, ln in enumerate(lines) if ln.startswith("ds:v1 -> ds:v2:"))
    assert "1 added, 1 removed, 1 modified, 1 renamed, 2 unchanged" in lines[summary]
    assert lines[0].strip().startswith(("./", "a/"))  # the per-folder stat comes first
    body = lines[summary + 1:]
    assert "A  a/new.txt  (5 B)" in body and "D  a/gone.txt  (3 B)" in body
    assert any(ln.startswith("M  a/change.txt  size, checksums") for ln in body)
    assert "R  b/move-me.bin -> c/moved.bin  (same sha256)" in body
    assert "~meta lr: 0.1 -> 0.2" in body
    same = run("diff", "ds:2", "ds@prod")
    assert same.returncode == 0 and "0 added, 0 removed, 0 modified, 0 renamed, 5 unchanged" in same.stdout
    trouble = run("diff", "ds:1", "ds:9")
    assert trouble.returncode == 2
    assert trouble.stderr.strip() == "tether: error: artifact 'ds' has no version 9 (it has versions 1-2)"


def test_cli_diff_stat_name_only_prefix_and_json(two_versions: tether.Catalog) -> None:
    stat = run("diff", "ds:1", "ds:2", "--stat")
    assert stat.returncode == 1 and not any(ln.startswith(("A  ", "D  ")) for ln in stat.stdout.splitlines())
    names = run("diff", "ds:1", "ds:2", "--name-only")
    assert names.stdout.splitlines() == ["a/change.txt", "a/gone.txt", "a/new.txt", "c/moved.bin"]
    under = run("diff", "ds:1", "ds:2", "--name-only", "--prefix", "c/")
    assert under.stdout.splitlines() == ["c/moved.bin"] and under.returncode == 1
    doc = json.loads(run("diff", "ds:1", "ds:2", "--json").stdout)
    assert doc["counts"] == {"added": 1, "removed": 1, "modified": 1, "renamed": 1, "unchanged": 2}
    assert doc["renamed"] == [{"old_path": "b/move-me.bin", "new_path": "c/moved.bin", "by": "sha256", "size": 12}]
    assert doc["metadata"]["changed"] == {"lr": {"old": 0.1, "new": 0.2}}


def test_cli_diff_shows_control_characters_in_paths_escaped(tmp_path: Path) -> None:
    cat = tether.Catalog()
    src = files(tmp_path / "s", {"a.txt": b"1"})
    log(cat, "odd", src)
    files(src, {"evil\x1b[31mred\nline.txt": b"2"})
    log(cat, "odd", src)
    r = CliRunner().invoke(cli, ["diff", "odd:1", "odd:2", "--name-only"])
    assert r.output == "evil\\x1b[31mred\\x0aline.txt\n"
