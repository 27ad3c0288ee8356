"""The benchmark suite runs (tiny sizes); timings are printed, never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_smoke_runs_and_writes_results() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--reps", "1"],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "tether list requests: 1" in r.stdout
    path = Path(r.stdout.strip().splitlines()[-1].removeprefix("wrote "))
    doc = json.loads(path.read_text())
    path.unlink()
    assert [d["title"].split(" ")[0] for d in doc] == ["resolve", "download", "import"]
    assert doc[-1]["heavy_modules"] == "[]"
