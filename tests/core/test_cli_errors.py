"""The CLI speaks CLI (issue 12): flag names in hints, JSON errors, a final error line
for failed downloads, documented exit codes, unknown names and versions explained,
missing catalogs refused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from tether import errors

ROOT = Path(__file__).resolve().parents[2]


def tether_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def one_error_line(r: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("tether: error: ") and r.stderr.count("\n") == 1, r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)
    return r.stderr


PYTHON_SPELLINGS = re.compile(r"\w+=(True|False|'|\d)|max_objects|raise_on_error|Artifact\.add\b")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (d / name).write_text(name)
    return d


# -------------------------------------------------------------- flags, not Python
def test_a_conflict_in_dest_names_the_overwrite_flag(data: Path, tmp_path: Path) -> None:
    assert tether_cli("log", "ds", str(data)).returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("mine")
    text = one_error_line(tether_cli("download", "ds", str(out)), 1, "--overwrite overwrite",
                          "--overwrite preserve")
    assert not PYTHON_SPELLINGS.search(text), text


def test_too_many_objects_names_the_max_objects_flag(data: Path) -> None:
    text = one_error_line(tether_cli("log", "ds", "--in-place", str(data), "--max-objects", "2"), 1,
                          "holds 3 objects, more than --max-objects 2", "raise --max-objects")
    assert not PYTHON_SPELLINGS.search(text), text


def test_strict_refusals_name_the_strict_flag(tmp_path: Path) -> None:
    text = one_error_line(tether_cli("log", "web", "ftp://example.com/x", "--strict"), 1, "(--strict)")
    assert not PYTHON_SPELLINGS.search(text), text
    assert tether_cli("log", "web", "ftp://example.com/x", "--allow-links").returncode == 0
    text = one_error_line(tether_cli("download", "web", str(tmp_path / "o"), "--strict"), 1, "(--strict)")
    assert not PYTHON_SPELLINGS.search(text), text


# ------------------------------------------------------------------ JSON errors
@pytest.mark.parametrize("args,kind,code", [
    (("show", "nope", "--json"), "UnknownArtifactError", 1),
    (("list", "nope", "--json"), "UnknownArtifactError", 1),
    (("download", "--json"), "UsageError", 2),
    (("log", "x", "--json"), "UsageError", 2),
    (("status", "ds:9", "--json"), "UnknownVersionError", 1),
])
def test_with_json_an_error_is_json_on_stdout_with_the_same_exit_code(data: Path, args: tuple[str, ...],
                                                                      kind: str, code: int) -> None:
    assert tether_cli("log", "ds", str(data)).returncode == 0
    r = tether_cli(*args)
    assert r.returncode == code, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"error"} and doc["error"]["type"] == kind, doc
    assert doc["error"]["message"] and doc["error"]["message"] in r.stderr  # the same words on stderr


def test_a_failed_download_ends_with_an_error_line_counting_the_failures(data: Path, tmp_path: Path) -> None:
    assert tether_cli("log", "ds", "--in-place", str(data)).returncode == 0
    (data / "a.txt").unlink()
    (data / "b.txt").write_text("other")
    r = tether_cli("download", "ds", str(tmp_path / "out"))
    assert r.returncode == 1
    assert "1 downloaded, 2 failed" in r.stdout
    lines = r.stderr.splitlines()
    assert [ln.split(":")[0] for ln in lines[:2]] == ["  failed a.txt", "  failed b.txt"]
    assert lines[-1].startswith("tether: error: 2 of 3 file(s) of ds:v1 failed; a.txt: ")
    assert lines[-1].endswith("(and 1 more, listed above)")
    r = tether_cli("download", "ds", str(tmp_path / "out2"), "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["error"]["type"] == "DownloadError"


# ------------------------------------------------------------------- exit codes
def test_exit_codes_are_the_documented_ones(data: Path, tmp_path: Path) -> None:
    assert tether_cli("log", "ds", "--in-place", str(data)).returncode == 0
    assert tether_cli("status", "ds").returncode == 0
    assert tether_cli("download", "ds", str(tmp_path / "out")).returncode == 0
    assert tether_cli("verify", "ds", str(tmp_path / "out")).returncode == 0
    (tmp_path / "out" / "a.txt").write_text("tampered")
    assert tether_cli("verify", "ds", str(tmp_path / "out")).returncode == 1
    (data / "new.txt").write_text("new")
    r = tether_cli("status", "ds")
    assert r.returncode == 1 and "new" in r.stdout and "(drifted)" in r.stdout
    r = tether_cli("status", "ds", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["drifted"] is True
    assert tether_cli("status", "--no-such-flag", "ds").returncode == 2
    assert tether_cli("show", "nothing-here").returncode == 1


def test_the_exit_code_table_is_the_same_in_the_readme_and_the_reference() -> None:
    def table(path: Path) -> list[str]:
        text = path.read_text()
        start = text.index("| exit code |")
        return [ln for ln in text[start:].splitlines() if ln.startswith("|")][:6]

    readme, reference = table(ROOT / "README.md"), table(ROOT / "docs" / "reference.md")
    assert readme == reference
    assert [row.split("|")[1].strip() for row in readme[2:]] == ["0", "1", "2", "130"]


# ----------------------------------------------------- unknown names and versions
def test_an_unknown_version_lists_the_versions_there_are(data: Path) -> None:
    for i in range(5):
        (data / "a.txt").write_text(f"v{i}")
        assert tether_cli("log", "mydata", str(data)).returncode == 0
    one_error_line(tether_cli("show", "mydata:9"), 1, "has no version 9 (it has versions 1-5)")
    claims = Path(os.environ["TETHER_HOME"]) / "artifacts" / "mydata" / "versions"
    (claims / "0000000004.json").unlink()
    one_error_line(tether_cli("download", "mydata:4", "out"), 1, "has no version 4 (it has versions 1-3, 5)")
    with pytest.raises(errors.UnknownVersionError, match=r"it has versions 1-3, 5"):
        tether.Catalog().get("mydata", version=4)
    with pytest.raises(errors.UnknownVersionError, match=r"it has versions 1-3, 5"):
        tether.Catalog().set_alias("mydata", "prod", 7)


def test_an_unknown_name_suggests_the_nearest(data: Path) -> None:
    assert tether_cli("log", "mydata", str(data)).returncode == 0
    assert tether_cli("log", "models", str(data)).returncode == 0
    one_error_line(tether_cli("show", "mydta"), 1, "no artifact named 'mydta'", "did you mean 'mydata'?")
    one_error_line(tether_cli("list", "mdoels"), 1, "did you mean 'models'?")
    text = one_error_line(tether_cli("show", "zzz"), 1, "no artifact named 'zzz'")
    assert "did you mean" not in text
    with pytest.raises(errors.UnknownArtifactError, match="did you mean 'mydata'"):
        tether.Catalog().get("mydat@prod")


# ---------------------------------------------------------- a missing catalog
def test_a_catalog_that_does_not_exist_is_an_error_not_an_empty_list(data: Path, tmp_path: Path) -> None:
    typo = tmp_path / "catlog"
    one_error_line(tether_cli("--catalog", str(typo), "list"), 1, f"catalog file://{typo} does not exist")
    one_error_line(tether_cli("show", "ds", env={"TETHER_CATALOG": str(typo)}), 1, "does not exist")
    assert not typo.exists()  # reading created nothing
    with pytest.raises(errors.CatalogNotFoundError) as caught:
        tether.Catalog(typo).artifacts()
    assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, errors.UnknownArtifactError)
    # Writing a new local catalog creates it.
    assert tether_cli("--catalog", str(typo), "log", "ds", str(data)).returncode == 0
    assert tether_cli("--catalog", str(typo), "list").returncode == 0


def test_the_default_catalog_before_its_first_log_is_empty_and_says_so(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh-home"
    r = tether_cli("list", env={"TETHER_HOME": str(fresh)})
    assert r.returncode == 0 and r.stdout == ""
    assert r.stderr == f"no artifacts in file://{fresh}\n"
    r = tether_cli("list", "--json", env={"TETHER_HOME": str(fresh)})
    assert r.returncode == 0 and json.loads(r.stdout) == []
