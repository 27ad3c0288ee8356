"""The CLI as a user runs it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def tether(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    (d / "a b.txt").write_text("a")
    (d / "sub" / "ü#?%.txt").write_text("u")
    return d


def test_log_show_list_download_verify_status(data: Path, tmp_path: Path) -> None:
    r = tether("log", "ds", "--upload", str(data), "--alias", "prod", "--tag", "t1", "--meta", "lr=0.1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ds:v1: 2 asset(s)")
    shown = json.loads(tether("show", "ds@prod", "--json").stdout)
    assert shown["version"] == 1 and shown["metadata"] == {"lr": 0.1} and shown["tags"] == ["t1"]
    assert {a["logical_path"] for a in shown["assets"]} == {"a b.txt", "sub/ü#?%.txt"}
    assert tether("list").stdout.splitlines()[1].split()[:5] == ["ds", "v1", "2", "B", "prod"]
    assert json.loads(tether("list", "ds", "--json").stdout)[0]["aliases"] == ["prod"]
    out = tmp_path / "out"
    r = tether("download", "ds:1", str(out), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["counts"] == {"downloaded": 2}
    assert (out / "sub" / "ü#?%.txt").read_text() == "u"
    assert tether("verify", "ds:1", str(out)).returncode == 0
    (out / "a b.txt").write_text("tampered")
    r = tether("verify", "ds:1", str(out))
    assert r.returncode == 1 and "modified a b.txt" in r.stdout
    r = tether("download", "ds:1", str(out))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "a b.txt" in r.stderr
    assert "Traceback" not in r.stderr
    st = json.loads(tether("status", "ds:1", "--json").stdout)
    assert {o["status"] for o in st["outcomes"]} == {"unchanged"}


def test_status_of_files_tracked_in_place(data: Path) -> None:
    assert tether("log", "live", "--in-place", str(data)).returncode == 0
    assert tether("status", "live").returncode == 0
    (data / "a b.txt").write_text("changed!")
    r = tether("status", "live")
    assert "modified" in r.stdout and "a b.txt" in r.stdout
    assert r.returncode == 1  # drifted, like verify with problems


@pytest.mark.parametrize("args,needle", [
    (("show", "missing"), "no artifact named 'missing'"),
    (("show", "ds:42"), "no version 42"),
    (("show", "ds:banana"), "invalid version"),
    (("show", "ds@nope"), "no alias 'nope'"),
    (("log", "ds", "/definitely/not/here"), "not/here"),
    (("log", "bad/name", "x"), "invalid artifact name"),
    (("log", "ds", "s3x-unknown://b/k", "--strict"), "s3x-unknown"),
    (("log", "ds", "file://relative/path"), "must be absolute"),
])
def test_user_mistakes_print_one_line_and_exit_nonzero(data: Path, args, needle) -> None:
    assert tether("log", "ds", str(data)).returncode == 0
    r = tether(*args)
    assert r.returncode == 1, r
    assert r.stderr.startswith("tether: error: ") and needle in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    r = tether("download")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = tether("download", "ds", str(tmp_path), "--overwrite", "sometimes")
    assert r.returncode == 2


def test_link_only_warning_is_one_line(tmp_path: Path) -> None:
    r = tether("log", "links", "https://user:secret@example.com/f.csv?X-Amz-Signature=deadbeef", "--allow-links")
    assert r.returncode == 0
    assert r.stderr.startswith("tether: warning: ") and r.stderr.count("\n") == 1
    shown = tether("show", "links", "--json").stdout
    assert "secret" not in shown and "deadbeef" not in shown and "secret" not in r.stderr


def test_nul_bytes_in_arguments_and_uris_are_clear_errors(tmp_path: Path) -> None:
    import tether
    from tether import errors

    r = subprocess.run([sys.executable, "-c", "from tether.cli import main; main(['log', 'x', 'a\\x00b'])"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "NUL" in r.stderr and "Traceback" not in r.stderr
    with pytest.raises(errors.InvalidURIError, match="NUL"):
        tether.Artifact("n").add_remote(str(tmp_path) + "/a\x00b")
    with pytest.raises(errors.InvalidURIError, match="NUL"):
        tether.Artifact("n").add(str(tmp_path) + "/a\x00b")
