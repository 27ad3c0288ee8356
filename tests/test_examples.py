"""The examples the README points users to run as they are."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import tether

ROOT = Path(__file__).resolve().parents[1]


def _quickstart(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py"), *args], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    return run


def test_quickstart_runs_and_restores_what_it_logged(tmp_path: Path) -> None:
    env = {**os.environ, "TETHER_HOME": str(tmp_path / "home")}
    run = _quickstart(env=env)
    assert "changed files ['train.csv']" in run.stdout
    assert "every file matches its recorded size and sha256" in run.stdout
    assert "versions: v1 (3 files), v2 (3 files)" in run.stdout


def test_quickstart_writes_to_a_temporary_catalog_and_says_where(tmp_path: Path) -> None:
    # a shell profile that points tether at real data must not receive the quickstart's versions
    real = {"TETHER_HOME": tmp_path / "real-home", "TETHER_CATALOG": tmp_path / "real-catalog",
            "TETHER_CACHE_DIR": tmp_path / "real-cache"}
    env = {**os.environ, **{k: str(v) for k, v in real.items()}}
    for _ in range(3):  # "downloads version 1" stays true on every run
        out = _quickstart(env=env).stdout
        where = re.match(r"catalog: (.+?) \(temporary, removed at the end; --catalog PATH keeps one\)\n", out)
        assert where, out
        assert "logged quickstart-data:v1:" in out and "logged quickstart-data:v2:" in out
        assert "downloaded quickstart-data:v1 to " in out
        assert "versions: v1 (3 files), v2 (3 files)\n" in out
        assert not Path(where[1]).exists() and f"removed {Path(where[1]).parent}" in out
    assert not any(p.exists() for p in real.values())


def test_quickstart_keeps_its_versions_in_the_catalog_it_is_given(tmp_path: Path) -> None:
    kept = tmp_path / "kept catalog"
    env = {**os.environ, "TETHER_HOME": str(tmp_path / "home")}
    _quickstart("--catalog", str(kept), env=env)
    out = _quickstart("--catalog", str(kept), env=env).stdout
    assert out.startswith(f"catalog: {tether.Catalog(kept).root} (kept)\n"), out
    # a second run in a kept catalog logs the next numbers and restores the first of them
    assert "logged quickstart-data:v3:" in out and "downloaded quickstart-data:v3 to " in out
    assert [v.version for v in tether.Catalog(kept).versions("quickstart-data")] == [1, 2, 3, 4]
