"""The benchmark suite runs (tiny sizes); timings are printed, never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_tiny_runs_every_scenario_and_writes_results() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--size", "tiny"],
                       capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    path = Path(r.stdout.strip().splitlines()[-1].removeprefix("wrote "))
    doc = json.loads(path.read_text())
    path.unlink()
    titles = [d["title"] for d in doc["results"]]
    assert [t.split(" ")[0] for t in titles] == ["resolve", "resolve", "resolve", "scale:", "scale:", "scale:",
                                                 "download", "download", "download", "log",
                                                 "catalog:", "diff:", "import", "runs:", "runs:"]
    resolve = doc["results"][0]
    assert resolve["requests (one run)"]["tether"] <= 4  # one listing page plus per-bucket facts
    assert "not run" in resolve["wandb Artifact.add_reference"]  # peers absent: said, not dropped
    assert doc["results"][-3]["heavy_modules"] == "[]"
    lineage = doc["results"][-2]  # lineage among 303 runs: the requests of a 3-run catalog
    assert lineage["requests grow with the catalog"] is False
    for scale in doc["results"][3:6]:  # tether and boto3 listed the same keys; requests were counted
        assert scale["same objects in the same order"] is True
        assert set(scale["requests (one run)"]) == {"tether", *scale["ratios"]}
        assert scale["ratios"] and all(isinstance(v["requests"], int) for v in scale["requests (one run)"].values())
    local = next(d for d in doc["results"] if d["title"].startswith("log a local folder"))
    assert "of the first log" in local["unchanged re-log, whole (state cache; the same version comes back)"]
    catalog = next(d for d in doc["results"] if d["title"].startswith("catalog:"))
    for key in ("build + log (s)", "relog unchanged, build + compare (s)", "peak RSS per asset, building + logging (bytes)",
                "peak RSS per asset, reading back (bytes)", "manifest bytes per asset (gzip JSON)"):
        assert catalog[key] > 0, key
