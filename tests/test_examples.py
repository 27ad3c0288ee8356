"""The examples the README points users to run as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs_and_restores_what_it_logged(tmp_path: Path) -> None:
    env = {**os.environ, "TETHER_HOME": str(tmp_path / "home")}
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "changed files ['train.csv']" in run.stdout
    assert "every file matches its recorded size and sha256" in run.stdout
    assert "versions: v1 (3 files), v2 (3 files)" in run.stdout
