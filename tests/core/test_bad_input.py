"""Bad input is one clear line (CLI) or one typed error (Python), never a traceback.

Out-of-range numbers, garbage in ``TETHER_*`` settings and file names that are
not valid UTF-8, each refused before anything is written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tether
from tether import errors
from tether.statecache import StateCache


def tether_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


def one_error_line(r: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert r.returncode == code, (r.returncode, r.stderr)
    assert r.stderr.startswith("tether: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a")
    assert tether_cli("log", "ds", str(data)).returncode == 0
    return data


# ------------------------------------------------------------------ numbers
@pytest.mark.parametrize("option,value", [("--workers", "-3"), ("--workers", "0"), ("--workers", "many")])
def test_download_worker_count_out_of_range_is_a_usage_error_before_dest_exists(
        logged: Path, tmp_path: Path, option: str, value: str) -> None:
    dest = tmp_path / "dest"
    r = tether_cli("download", "ds", str(dest), option, value)
    one_error_line(r, 2, option)
    assert not dest.exists()


@pytest.mark.parametrize("value", ["0", "-1"])
def test_log_max_objects_out_of_range_is_a_usage_error(logged: Path, value: str) -> None:
    r = tether_cli("log", "ds2", str(logged), "--max-objects", value)
    one_error_line(r, 2, "--max-objects")
    assert "ds2" not in tether_cli("list").stdout


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    one_error_line(tether_cli("download"), 2, "Missing argument")
    one_error_line(tether_cli("download", "ds", str(tmp_path), "--overwrite", "sometimes"), 2, "--overwrite")
    one_error_line(tether_cli("no-such-command"), 2, "no-such-command")


@pytest.mark.parametrize("workers", [0, -3, 2.5, True, "4"])
def test_python_download_refuses_a_bad_worker_count_before_dest_exists(logged: Path, tmp_path: Path,
                                                                       workers: object) -> None:
    version = tether.Catalog().get("ds")
    dest = tmp_path / "dest"
    with pytest.raises(errors.InvalidArgumentError, match="workers") as caught:
        version.download(dest, workers=workers)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert not dest.exists()


# ---------------------------------------------------------- TETHER_* settings
BAD_SETTINGS = [
    ("TETHER_RETRY_ATTEMPTS", "x"), ("TETHER_RETRY_ATTEMPTS", "0"), ("TETHER_RETRY_ATTEMPTS", "2.5"),
    ("TETHER_RETRY_BASE_DELAY", "soon"), ("TETHER_RETRY_BASE_DELAY", "nan"), ("TETHER_RETRY_BASE_DELAY", "-1"),
    ("TETHER_DOWNLOAD_MEMORY", "512MB"), ("TETHER_DOWNLOAD_MEMORY", "-1"),
]


@pytest.mark.parametrize("var,value", BAD_SETTINGS)
def test_garbage_in_a_setting_is_one_line_naming_it(logged: Path, tmp_path: Path, var: str, value: str) -> None:
    dest = tmp_path / "dest"
    r = tether_cli("download", "ds", str(dest), env={var: value})
    one_error_line(r, 1, var, repr(value))
    assert not dest.exists()


@pytest.mark.parametrize("var,value", BAD_SETTINGS)
def test_garbage_in_a_setting_is_a_config_error_in_python(logged: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, var: str,
                                                          value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(errors.ConfigError, match=var):
        tether.Catalog().get("ds").download(tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_settings_in_range_still_work(logged: Path, tmp_path: Path) -> None:
    r = tether_cli("download", "ds", str(tmp_path / "dest"), env={
        "TETHER_RETRY_ATTEMPTS": " 3 ", "TETHER_RETRY_BASE_DELAY": "0", "TETHER_DOWNLOAD_MEMORY": "1048576"})
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "dest" / "a.txt").read_text() == "a"


# --------------------------------------------------------- non-UTF-8 names
def make_file(path: bytes, data: bytes = b"x", *, old: bool = True) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    if old:  # outside the state cache's racy window, so it would be cached
        os.utime(path, (time.time() - 3600, time.time() - 3600))


@pytest.fixture
def latin1_folder(tmp_path: Path) -> Path:
    """A folder holding a file named in Latin-1 (``caf\\xe9.txt``) next to a UTF-8 one."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    make_file(bytes(folder) + b"/caf\xe9.txt", b"latin")
    make_file(bytes(folder) + b"/ok.txt", b"ok")
    return folder


@pytest.mark.parametrize("how", ["link", "upload"])
def test_a_non_utf8_file_name_is_refused_naming_it(latin1_folder: Path, how: str) -> None:
    args = [str(latin1_folder)] if how == "link" else ["--upload", str(latin1_folder)]
    r = tether_cli("log", "mixed", *args)
    one_error_line(r, 1, "caf\\xe9.txt", "not valid UTF-8")
    assert tether_cli("list").stdout == ""  # nothing recorded


def test_a_non_utf8_file_name_is_a_typed_error_in_python(latin1_folder: Path) -> None:
    for add in (tether.Artifact("mixed").add_remote, tether.Artifact("mixed").add):
        with pytest.raises(errors.TetherError, match=r"caf\\xe9\.txt") as caught:
            add(str(latin1_folder))
        assert isinstance(caught.value, ValueError)


def test_a_glob_that_leaves_out_the_non_utf8_name_logs(latin1_folder: Path) -> None:
    for _ in range(2):  # the second time through the state cache
        art = tether.Artifact("ok")
        art.add_remote(str(latin1_folder) + "/ok*")
        assert [a.logical_path for a in tether.Catalog().log(art).assets] == ["ok.txt"]


def test_a_folder_or_file_under_a_non_utf8_folder_is_refused(tmp_path: Path) -> None:
    folder = bytes(tmp_path) + b"/d\xe9j\xe0"
    os.mkdir(folder)
    make_file(folder + b"/a.txt")
    # Tracked in place, the folder's name is recorded (in the URI) and must be UTF-8.
    r = tether_cli("log", "f", "--in-place", os.fsdecode(folder))
    one_error_line(r, 1, "d\\xe9j\\xe0", "not valid UTF-8")
    r = tether_cli("log", "f", "--in-place", os.fsdecode(folder + b"/a.txt"))
    one_error_line(r, 1, "d\\xe9j\\xe0", "not valid UTF-8")
    assert tether_cli("list").stdout == ""
    # Uploaded, it is stored by content: its folder's name is not recorded.
    r = tether_cli("log", "f", "--upload", os.fsdecode(folder + b"/a.txt"))
    assert r.returncode == 0, r.stderr


def test_the_state_cache_never_fails_on_names_or_inodes_sqlite_cannot_hold(tmp_path: Path) -> None:
    cache = StateCache(tmp_path / "cache")
    mtime = time.time_ns() - 10**12

    def stat(ino: int) -> os.stat_result:
        return os.stat_result((0o100644, ino, 1, 1, 0, 0, 3, 0, 0, 0), {"st_mtime_ns": mtime})

    entries = {"/d/caf\udce9.txt": (stat(5), "aa"), "/d/big-inode": (stat(2**64 - 1), "bb"),
               "/d/plain": (stat(7), "cc")}
    cache.store(entries)
    cache.store_snapshot("/d", {p: st for p, (st, _) in entries.items()}, {p: d for p, (_, d) in entries.items()})
    stats = {p: st for p, (st, _) in entries.items()}
    assert cache.lookup(stats) == {"/d/big-inode": "bb", "/d/plain": "cc"}
    found, _ = cache.lookup_folder("/d", stats)
    assert found["/d/plain"] == "cc" and found.get("/d/big-inode") == "bb"
    cache.store_snapshot("/caf\udce9", stats, {})  # a root SQLite cannot store: not cached, no error
    assert cache.lookup_folder("/caf\udce9", stats)[0].keys() <= stats.keys()
