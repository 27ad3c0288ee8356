"""Data a user believes is kept (issue 12): local paths are copied unless --in-place,
link-only sources are opt-in, and re-logging the same content says so."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import tether


def tether_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture
def ds(tmp_path: Path) -> Path:
    d = tmp_path / "ds"
    d.mkdir()
    (d / "a.txt").write_text("one")
    return d


# ------------------------------------------------------------- uploaded by default
def test_a_local_folder_logged_twice_keeps_its_first_version(ds: Path, tmp_path: Path) -> None:
    """The issue's first scenario: log, edit, log, download version 1."""
    assert tether_cli("log", "mydata", str(ds)).returncode == 0
    (ds / "a.txt").write_text("two!")
    assert tether_cli("log", "mydata", str(ds)).returncode == 0
    r = tether_cli("download", "mydata:1", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "a.txt").read_text() == "one"
    # Copies in the catalog's content-addressed storage, not the user's folder.
    uris = [a.uri for a in tether.Catalog().get("mydata:1").assets]
    assert all("/objects/sha256/" in (u or "") for u in uris), uris


def test_in_place_says_what_it_means_and_a_failed_download_says_how_to_keep_copies(
        ds: Path, tmp_path: Path) -> None:
    r = tether_cli("log", "live", "--in-place", str(ds))
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("tether: note: ")  # one line, no Python warning
    assert "tracked in place" in r.stderr and "cannot be downloaded" in r.stderr
    assert "without --in-place" in r.stderr
    (ds / "a.txt").write_text("changed")
    r = tether_cli("download", "live:1", str(tmp_path / "out"))
    assert r.returncode == 1
    last = r.stderr.splitlines()[-1]
    assert last.startswith("tether: error: 1 of 1 file(s) of live:v1 failed; a.txt: "), last
    assert "tracked in place" in last and "log without --in-place" in last
    assert "Artifact.add" not in r.stderr  # the CLI speaks CLI
    assert not (tmp_path / "out" / "a.txt").exists()


def test_python_add_uploads_and_add_remote_of_a_local_path_warns_once_per_log(ds: Path) -> None:
    (ds / "b.txt").write_text("bee")
    art = tether.Artifact("inplace")
    art.add_remote(str(ds))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        tether.Catalog().log(art)
    in_place = [w for w in seen if issubclass(w.category, tether.InPlaceWarning)]
    assert len(in_place) == 1, [str(w.message) for w in seen]
    assert "2 local file(s) in place" in str(in_place[0].message)
    assert "Artifact.add keeps copies" in str(in_place[0].message)

    copied = tether.Artifact("copied")
    copied.add(ds)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        v = tether.Catalog().log(copied)
    assert not [w for w in seen if issubclass(w.category, tether.InPlaceWarning)]
    (ds / "a.txt").write_text("changed")
    assert v.verify(ds).ok is False  # the local file changed ...
    assert tether.Catalog().get("copied").download(ds.parent / "back").ok  # ... the copy did not


def test_a_download_of_a_changed_in_place_file_explains_in_python_too(ds: Path, tmp_path: Path) -> None:
    art = tether.Artifact("live")
    art.add_remote(str(ds))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tether.InPlaceWarning)
        v = tether.Catalog().log(art)
    (ds / "a.txt").write_text("ONE")  # same size, other bytes
    with pytest.raises(tether.errors.DownloadError, match=r"tracked in place .* log with Artifact\.add"):
        v.download(tmp_path / "out")


# ------------------------------------------------------------------ link-only
def test_a_source_tether_cannot_fetch_is_refused_unless_allow_links(tmp_path: Path) -> None:
    r = tether_cli("log", "web", "ftp://example.com/data.csv")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("tether: error: no installed tether driver serves ftp://example.com/data.csv")
    assert "--allow-links" in r.stderr and "strict" not in r.stderr
    assert tether_cli("list").stdout == ""  # nothing logged
    r = tether_cli("log", "web", "ftp://example.com/data.csv", "--allow-links")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("ftp://example.com/data.csv") == 1  # the warning names it once
    r = tether_cli("log", "web2", "ftp://example.com/data.csv", "--allow-links", "--strict")
    assert r.returncode == 2 and "contradict" in r.stderr


def test_download_and_verify_of_only_link_only_assets_fail_saying_so(tmp_path: Path) -> None:
    assert tether_cli("log", "web", "ftp://example.com/data.csv", "--allow-links").returncode == 0
    out = tmp_path / "out"
    r = tether_cli("download", "web", str(out))
    assert r.returncode == 1
    assert "web:v1 -> " in r.stdout and ": 1 link-only" in r.stdout
    assert r.stderr.splitlines()[-1].startswith("tether: error: nothing was downloaded")
    out.mkdir(exist_ok=True)
    r = tether_cli("verify", "web", str(out))
    assert r.returncode == 1
    assert "0 file(s) checked, 1 link-only: nothing verified" in r.stdout
    assert "verified" not in r.stdout.replace("nothing verified", "")
    assert r.stderr.startswith("tether: error: nothing was verified")


def test_link_only_assets_beside_real_files_are_counted_not_fatal(ds: Path, tmp_path: Path) -> None:
    r = tether_cli("log", "mixed", str(ds), "ftp://example.com/x.csv", "--allow-links")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    r = tether_cli("download", "mixed", str(out))
    assert r.returncode == 0 and "1 downloaded, 1 link-only" in r.stdout, r.stdout
    r = tether_cli("verify", "mixed", str(out))
    assert r.returncode == 0 and "1 file(s) checked, 1 link-only: verified" in r.stdout


# ----------------------------------------------------------- re-logging the same
def test_relogging_identical_content_says_unchanged_and_shows_what_it_applied(ds: Path) -> None:
    r = tether_cli("log", "mydata", str(ds), "--tag", "first")
    assert r.stdout == "mydata:v1: 1 asset(s), 3 B, tags first\n", r.stdout
    r = tether_cli("log", "mydata", str(ds), "--tag", "nightly", "--alias", "prod")
    assert r.returncode == 0
    assert r.stdout == "unchanged: same as mydata:v1 (1 asset(s), 3 B), aliases prod, tags nightly\n"
    assert tether.Catalog().get("mydata@prod").tags == ("first", "nightly")


def test_python_log_tells_a_new_version_from_an_unchanged_one(ds: Path) -> None:
    art = tether.Artifact("p")
    art.add(ds)
    first = tether.Catalog().log(art)
    again = tether.Catalog().log(art)
    assert first.is_new is True and again.is_new is False
    assert again == first  # the same version, as before
    assert tether.Catalog().get("p").is_new is False
