"""Combining sources, exclusions and symlinked folders (issue 12), uploaded and in place."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from tether import errors


def tether_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True,
                          text=True, timeout=120)


def paths(ref: str) -> list[str]:
    r = tether_cli("show", ref, "--json")
    assert r.returncode == 0, r.stderr
    return sorted(a["logical_path"] for a in json.loads(r.stdout)["assets"])


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """ds/ (with the litter of git, macOS and Windows) and other/."""
    ds = tmp_path / "ds"
    for rel, text in {"a.txt": "a", "sub/b.txt": "b", "x.tmp": "t", "logs/run.log": "l",
                      ".git/HEAD": "ref", ".git/objects/ab": "o", ".DS_Store": "ds", "sub/Thumbs.db": "th",
                      "desktop.ini": "ini", "__MACOSX/._a.txt": "mac", ".gitignore": "keep me"}.items():
        (ds / rel).parent.mkdir(parents=True, exist_ok=True)
        (ds / rel).write_text(text)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "o.txt").write_text("o")
    (tmp_path / "labels.csv").write_text("l")
    return tmp_path


KEPT = [".gitignore", "a.txt", "logs/run.log", "sub/b.txt", "x.tmp"]


# ----------------------------------------------------------------- prefixes
@pytest.mark.parametrize("mode", [[], ["--in-place"]])
def test_prefix_equals_source_and_as_place_sources_under_a_prefix(tree: Path, mode: list[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    r = tether_cli("log", "combo", *mode, "./ds", "more/other=./other", "--as", "csv", "labels.csv",
                   "--exclude", "logs/", "--exclude", "*.tmp")
    assert r.returncode == 0, r.stderr
    assert paths("combo") == [".gitignore", "a.txt", "csv", "more/other/o.txt", "sub/b.txt"]


def test_a_token_is_split_at_its_first_equals_only_by_the_documented_rule(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    # A URI holding '=' is one source, never a prefix.
    r = tether_cli("log", "web", "ftp://example.com/get?id=7&x=y", "--allow-links")
    assert r.returncode == 0, r.stderr
    (link,) = json.loads(tether_cli("show", "web", "--json").stdout)["assets"]
    assert link["link"] == "ftp://example.com/get?id=7&x=y"
    # The part after '=' is no path or URI: the token is one (missing) local path, named whole.
    r = tether_cli("log", "x", "name=nothing-here")
    assert r.returncode == 1 and "'name=nothing-here'" in r.stderr
    # ./a=b names a file called a=b.
    (tree / "a=b").write_text("eq")
    assert tether_cli("log", "eq", "./a=b").returncode == 0
    assert paths("eq") == ["a=b"]
    # A prefix that is no logical path is not a prefix.
    r = tether_cli("log", "x2", "../x=ds")
    assert r.returncode == 1 and "'../x=ds'" in r.stderr


# ---------------------------------------------------------------- exclusions
@pytest.mark.parametrize("mode", [[], ["--in-place"]])
def test_local_folders_leave_out_git_and_os_litter_unless_told(tree: Path, mode: list[str]) -> None:
    assert tether_cli("log", "d", *mode, str(tree / "ds")).returncode == 0
    assert paths("d") == KEPT
    assert tether_cli("log", "all", *mode, str(tree / "ds"), "--no-default-excludes").returncode == 0
    assert paths("all") == sorted([*KEPT, ".DS_Store", ".git/HEAD", ".git/objects/ab", "__MACOSX/._a.txt",
                                   "desktop.ini", "sub/Thumbs.db"])


def test_an_in_place_folder_with_a_git_folder_is_not_drifted_by_it(tree: Path) -> None:
    assert tether_cli("log", "d", "--in-place", str(tree / "ds")).returncode == 0
    (tree / "ds" / ".git" / "index").write_text("git wrote this")
    r = tether_cli("status", "d")
    assert r.returncode == 0 and "new" not in r.stdout, r.stdout


def test_excluded_folders_are_not_listed_counted_or_hashed(tree: Path) -> None:
    for i in range(30):
        (tree / "ds" / ".git" / "objects" / f"o{i}").write_text(str(i))
    art = tether.Artifact("capped")
    assets = art.add_remote(str(tree / "ds"), max_objects=len(KEPT))  # .git's 31 files do not count
    assert sorted(a.logical_path for a in assets) == KEPT


def test_python_exclude_and_default_excludes(tree: Path) -> None:
    art = tether.Artifact("py")
    pending = art.add(tree / "ds", exclude=["*.tmp", "logs/"], default_excludes=False)
    assert sorted(p.logical_path for p in pending) == sorted(
        [".DS_Store", ".git/HEAD", ".git/objects/ab", ".gitignore", "__MACOSX/._a.txt", "a.txt",
         "desktop.ini", "sub/Thumbs.db", "sub/b.txt"])
    remote = tether.Artifact("py2").add_remote(str(tree / "ds"), exclude="sub/*.txt")
    assert sorted(a.logical_path for a in remote) == [".gitignore", "a.txt", "logs/run.log", "x.tmp"]
    with pytest.raises(errors.InvalidArtifactError, match="exclude pattern"):
        tether.Artifact("bad").add(tree / "ds", exclude=["/"])


def test_a_glob_of_local_files_is_uploaded(tree: Path) -> None:
    assert tether_cli("log", "g", str(tree / "ds" / "**" / "*.txt")).returncode == 0
    assert paths("g") == ["a.txt", "sub/b.txt"]
    assert all("/objects/sha256/" in a.uri for a in tether.Catalog().get("g").assets)


# ------------------------------------------------------------ symlinked folders
@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """ds/ holding a symlinked file and a symlinked folder, both pointing outside it."""
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "x.bin").write_text("x")
    (tmp_path / "lone.txt").write_text("lone")
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "own.txt").write_text("own")
    (ds / "file-link.txt").symlink_to(tmp_path / "lone.txt")
    (ds / "folder-link").symlink_to(outside, target_is_directory=True)
    (ds / "dangling").symlink_to(tmp_path / "gone")
    return ds


@pytest.mark.parametrize("mode", [[], ["--in-place"]])
def test_symlinked_folders_are_followed_like_symlinked_files(linked: Path, mode: list[str]) -> None:
    assert tether_cli("log", "ln", *mode, str(linked)).returncode == 0
    assert paths("ln") == ["file-link.txt", "folder-link/deep/x.bin", "own.txt"]


def test_a_symlink_loop_is_refused_naming_it(linked: Path) -> None:
    (linked / "outside-loop").symlink_to(linked, target_is_directory=True)
    for mode in ([], ["--in-place"]):
        r = tether_cli("log", "loop", *mode, str(linked))
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
        assert "outside-loop" in r.stderr and "links to a folder that contains it" in r.stderr
    assert tether_cli("list").stdout == ""
    # Excluding the link is the way out.
    assert tether_cli("log", "loop", str(linked), "--exclude", "outside-loop").returncode == 0
