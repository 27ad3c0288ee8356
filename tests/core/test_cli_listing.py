"""``list``, ``show``, ``alias list``, ``tag list``, ``tag rm`` and ``info`` as a user reads them
(issue 12), through click's runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tether.cli import cli


def run(*args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == code, (result.output, result.exception)
    return result.stdout


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "big.bin").write_bytes(b"x" * 1536)
    run("log", "mydata", str(d), "--alias", "stable")
    (d / "more.bin").write_bytes(b"y" * (3 * 1024 * 1024))
    run("log", "mydata", str(d), "--alias", "prod", "--tag", "nightly")
    run("log", "other", str(d / "big.bin"))
    return d


def test_list_shows_latest_version_size_aliases_and_age(logged: Path) -> None:
    lines = run("list").splitlines()
    assert lines[0].split() == ["NAME", "LATEST", "SIZE", "ALIASES", "LOGGED"]
    assert lines[1].split() == ["mydata", "v2", "3.0", "MiB", "prod,", "stable=v1", "just", "now"]
    assert lines[2].split() == ["other", "v1", "1.5", "KiB", "-", "just", "now"]


def test_list_json_keeps_raw_numbers(logged: Path) -> None:
    rows = json.loads(run("list", "--json"))
    mine = rows[0]
    assert mine["name"] == "mydata" and mine["latest"] == 2 and mine["asset_count"] == 2
    assert mine["total_size"] == 1536 + 3 * 1024 * 1024 and mine["aliases"] == {"prod": 2, "stable": 1}
    assert mine["created_at"].endswith("Z")


def test_list_reads_no_manifest(logged: Path) -> None:
    for manifest in (Path(os.environ["TETHER_HOME"]) / "artifacts").glob("*/manifests/*"):
        manifest.unlink()
    assert run("list").splitlines()[1].split()[:4] == ["mydata", "v2", "3.0", "MiB"]
    assert "v2  just now  2 asset(s)  3.0 MiB  [prod]" in run("list", "mydata")


def test_show_gives_sizes_in_human_units(logged: Path) -> None:
    out = run("show", "mydata")
    assert "2 asset(s), 3.0 MiB (3,147,264 bytes)" in out
    assert "  big.bin  1.5 KiB  sha256  file://" in out
    assert json.loads(run("show", "mydata", "--json"))["assets"][0]["size"] == 1536


def test_alias_list_and_tag_list(logged: Path) -> None:
    assert run("alias", "list", "mydata") == "mydata@prod -> v2\nmydata@stable -> v1\n"
    assert json.loads(run("alias", "list", "mydata", "--json")) == {"prod": 2, "stable": 1}
    run("tag", "add", "mydata:1", "old", "first")
    assert run("tag", "list", "mydata") == "mydata:v1  first, old\nmydata:v2  nightly\n"
    assert run("tag", "list", "mydata@prod") == "mydata:v2  nightly\n"
    assert json.loads(run("tag", "list", "mydata:1", "--json")) == {"1": ["first", "old"]}
    assert run("tag", "list", "other") == ""


def tether_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True,
                          text=True, timeout=120)


def test_removing_a_tag_or_alias_that_is_not_there_is_an_error(logged: Path) -> None:
    r = tether_cli("tag", "rm", "mydata:2", "nightly", "nope")
    assert r.returncode == 1 and r.stderr == ("tether: error: mydata:v2 has no tag 'nope' "
                                              "(its tags: nightly)\n")
    assert run("tag", "list", "mydata:2") == "mydata:v2  nightly\n"  # nothing was removed
    r = tether_cli("alias", "rm", "mydata", "nope")
    assert r.returncode == 1 and "has no alias 'nope'" in r.stderr
    r = tether_cli("alias", "list", "mydta")
    assert r.returncode == 1 and "did you mean 'mydata'" in r.stderr
    assert run("tag", "rm", "mydata:2", "nightly") == "mydata:v2: untagged nightly\n"


def test_alias_and_tag_changes_answer_json_when_asked(logged: Path) -> None:
    assert json.loads(run("alias", "set", "mydata", "best", "v1", "--json")) == {
        "name": "mydata", "alias": "best", "version": 1}
    assert json.loads(run("alias", "rm", "mydata", "best", "--json")) == {"name": "mydata", "removed": "best"}
    assert json.loads(run("tag", "add", "mydata", "a", "b", "--json")) == {
        "name": "mydata", "version": 2, "added": ["a", "b"]}
    assert json.loads(run("tag", "rm", "mydata", "a", "--json")) == {"name": "mydata", "version": 2, "removed": ["a"]}


def test_info_says_which_catalog_config_and_drivers(logged: Path, tmp_path: Path) -> None:
    home = os.environ["TETHER_HOME"]
    out = run("info")
    assert f"catalog:  file://{home}  [default: TETHER_HOME]  exists" in out
    assert f"config:   {home}/config.toml  [default]  not found (optional)" in out
    assert "tether-local" in out and "file://" in out
    out = run("--catalog", str(tmp_path / "elsewhere"), "info")
    assert f"file://{tmp_path}/elsewhere  [--catalog]  DOES NOT EXIST" in out
    out = run("info", env={"TETHER_CATALOG": str(logged)})
    assert "[TETHER_CATALOG]" in out
    r = subprocess.run([sys.executable, "-m", "tether.cli", "info", "--json"], check=False, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "TETHER_DISABLE_PLUGINS": "s3"})
    doc = json.loads(r.stdout)
    s3 = next(d for d in doc["drivers"] if d["distribution"] == "tether-s3")
    assert s3["installed"] is False and s3["hint"].startswith("s3:// needs: pip install ")
    assert doc["catalog"]["source"] == "default: TETHER_HOME" and doc["catalog"]["exists"] is True
    assert doc["config_file"] == {"path": f"{home}/config.toml", "exists": False, "source": "default"}
    local = next(d for d in doc["drivers"] if d["distribution"] == "tether-local")
    assert local["installed"] and local["version"] and local["schemes"] == ["file"]
