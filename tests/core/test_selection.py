"""Partial and sharded downloads: include / exclude patterns on the manifest's
logical paths, byte-balanced shards, and the same filters on verify and status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from hypothesis import given, settings
from hypothesis import strategies as st
from tether.errors import InvalidArgumentError
from tether.models import Asset
from tether.selection import parse_shard, select, split_shards

PATHS = ["train/a.jpg", "train/cats/1.jpg", "train/cats/2.tmp", "train/b.tmp", "val/x.jpg", "c.tmp", "README"]


def assets(paths=PATHS, sizes=None) -> list[Asset]:
    sizes = sizes or [10 * (i + 1) for i in range(len(paths))]
    return [Asset(p, f"file:///src/{p}", f"file:///src/{p}", s) for p, s in zip(paths, sizes, strict=True)]


def chosen(**kw) -> list[str]:
    return [a.logical_path for a in select(assets(), **kw)]


@pytest.mark.parametrize("kw, want", [
    ({"include": ["train/**"]}, ["train/a.jpg", "train/cats/1.jpg", "train/cats/2.tmp", "train/b.tmp"]),
    ({"include": "train/*"}, ["train/a.jpg", "train/b.tmp"]),  # * stays in one folder ...
    ({"include": "train/cats"}, ["train/cats/1.jpg", "train/cats/2.tmp"]),  # ... a folder is all below it
    ({"exclude": ["*.tmp"]}, ["train/a.jpg", "train/cats/1.jpg", "val/x.jpg", "README"]),  # no /: any depth
    ({"exclude": "/*.tmp"}, [p for p in PATHS if p != "c.tmp"]),  # a leading / anchors at the root
    ({"include": ["train/**"], "exclude": ["*.tmp"]}, ["train/a.jpg", "train/cats/1.jpg"]),
    ({"include": ["**/*.jpg"]}, ["train/a.jpg", "train/cats/1.jpg", "val/x.jpg"]),
    ({"exclude": ["train/"]}, ["val/x.jpg", "c.tmp", "README"]),
    ({"include": ["README", "val/**"]}, ["val/x.jpg", "README"]),
])
def test_patterns_match_logical_paths_like_gitignore(kw, want) -> None:
    assert chosen(**kw) == want


def test_an_include_pattern_matching_nothing_is_an_error_naming_it() -> None:
    with pytest.raises(InvalidArgumentError, match="'trian/\\*\\*' matches no asset"):
        select(assets(), include=["train/**", "trian/**"], label="data:v1")


@pytest.mark.parametrize("bad", ["4/4", "-1/4", "1", "a/b", "0/0", (1,), (True, 2), (0, 2.0)])
def test_invalid_shards_are_refused(bad) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_shard(bad)


path_st = st.lists(st.text("abc/", min_size=1, max_size=8).filter(
    lambda p: "//" not in p and not p.startswith("/") and not p.endswith("/")), unique=True, max_size=60)


@settings(max_examples=150, deadline=None)
@given(paths=path_st, n=st.integers(1, 9), seed=st.randoms(use_true_random=False), data=st.data())
def test_shards_are_disjoint_cover_the_version_and_are_balanced_by_bytes(paths, n, seed, data) -> None:
    # A file and a folder of one name cannot both be in a version.
    paths = [p for p in paths if not any(q.startswith(p + "/") for q in paths)]
    sizes = data.draw(st.lists(st.integers(0, 10**9), min_size=len(paths), max_size=len(paths)))
    items = assets(paths, sizes)
    shards = split_shards(items, n)
    names = [a.logical_path for s in shards for a in s]
    assert sorted(names) == sorted(paths)  # union is the version, nothing twice
    assert len(set(names)) == len(names)
    loads = [sum(a.size for a in s) for s in shards]
    biggest = max(sizes, default=0)
    assert max(loads) - min(loads) <= biggest  # so each is within total/n +- the largest file
    # Stable: the same version in any order on any machine gives the same split.
    shuffled = list(items)
    seed.shuffle(shuffled)
    assert [[a.logical_path for a in s] for s in split_shards(shuffled, n)] == \
        [[a.logical_path for a in s] for s in shards]
    # select() with shard=(i, n) is the same split, after the filters.
    for i in range(n):
        assert [a.logical_path for a in select(items, shard=(i, n))] == \
            [a.logical_path for a in items if a.logical_path in {b.logical_path for b in shards[i]}]


def test_shards_balance_bytes_not_counts() -> None:
    items = assets(["big", *(f"s{i}" for i in range(9))], [900, *([100] * 9)])
    shards = split_shards(items, 2)
    assert [sum(a.size for a in s) for s in shards] == [900, 900]
    assert sorted(len(s) for s in shards) == [1, 9]


@pytest.fixture
def version(tmp_path: Path) -> tether.ArtifactVersion:
    src = tmp_path / "src"
    for p in PATHS:
        (src / p).parent.mkdir(parents=True, exist_ok=True)
        (src / p).write_bytes(p.encode() * 100)
    art = tether.Artifact("data")
    art.add_remote(str(src))
    return tether.Catalog().log(art, aliases=["prod"])


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_partial_download_verify_and_status_use_the_manifest_paths(version, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    result = version.download(dest, include=["train/**"], exclude=["*.tmp"])
    assert result.ok and files_under(dest) == ["train/a.jpg", "train/cats/1.jpg"]
    assert version.verify(dest, include=["train/**"], exclude=["*.tmp"]).ok
    assert not version.verify(dest).ok  # the rest was never fetched
    (dest / "val").mkdir()
    (dest / "val" / "x.jpg").write_bytes(b"not these bytes")  # local files never widen the selection
    assert files_under(dest / "train") == ["a.jpg", "cats/1.jpg"]
    assert [o.logical_path for o in version.status(include="val/**").outcomes] == ["val/x.jpg"]


def test_status_with_filters_reports_only_new_objects_they_choose(version, tmp_path: Path) -> None:
    (tmp_path / "src" / "train" / "new.jpg").write_bytes(b"new")
    (tmp_path / "src" / "val" / "new.jpg").write_bytes(b"new")
    news = [o.uri.rsplit("/src/", 1)[1] for o in version.status(include="train/**").with_status("new")]
    assert news == ["train/new.jpg"]
    assert {o.uri.rsplit("/src/", 1)[1] for o in version.status().with_status("new")} == \
        {"train/new.jpg", "val/new.jpg"}
    assert version.status(shard=(0, 2)).with_status("new") == []


def test_sharded_downloads_on_n_machines_make_the_whole_version(version, tmp_path: Path) -> None:
    got: list[str] = []
    for i in range(3):
        dest = tmp_path / f"node{i}"
        assert version.download(dest, shard=(i, 3)).ok
        got += files_under(dest)
    assert sorted(got) == sorted(PATHS)
    assert sorted(u.split("data:v1/", 1)[1] for i in range(3) for u in tether.shard_paths("data@prod", i, 3)) \
        == sorted(PATHS)


def tether_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], capture_output=True, text=True, check=False)


def test_cli_include_exclude_shard(version, tmp_path: Path) -> None:
    dest = tmp_path / "cli"
    r = tether_cli("download", "data@prod", str(dest), "--include", "train/**", "--exclude", "*.tmp", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"] == {"downloaded": 2}
    assert files_under(dest) == ["train/a.jpg", "train/cats/1.jpg"]
    r = tether_cli("verify", "data@prod", str(dest), "--include", "train/**", "--exclude", "*.tmp")
    assert r.returncode == 0, r.stdout + r.stderr
    r = tether_cli("status", "data@prod", "--shard", "1/2", "--json")
    assert r.returncode == 0 and 0 < len(json.loads(r.stdout)["outcomes"]) < len(PATHS)
    r = tether_cli("download", "data@prod", str(tmp_path / "x"), "--shard", "2/2")
    assert r.returncode == 2 and r.stderr.startswith("tether: error:") and "0 <= i < n" in r.stderr
    r = tether_cli("download", "data@prod", str(tmp_path / "y"), "--include", "nothing/**")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "matches no asset" in r.stderr
    assert not (tmp_path / "y").exists()
