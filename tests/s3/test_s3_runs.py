"""Runs on an S3 catalog (moto): records, edges, If-Match overwrites, 16 racing processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tether
from tether import get_driver

from ..runs_helpers import (
    CountingDriver,
    check_conditional_overwrite,
    check_racing_runs,
    check_run_scenario,
    fake_runs,
)


def test_if_match_overwrite(bucket: str, versioned_bucket: str) -> None:
    check_conditional_overwrite(get_driver("s3"), f"s3://{bucket}/p")
    check_conditional_overwrite(get_driver("s3"), f"s3://{versioned_bucket}/p")


def test_inputs_outputs_producers_and_a_failed_block(bucket: str, tmp_path: Path) -> None:
    check_run_scenario(f"s3://{bucket}/catalog", tmp_path)


def test_sixteen_processes_each_using_and_logging_leave_sixteen_complete_runs(bucket: str,
                                                                              tmp_path: Path) -> None:
    check_racing_runs(f"s3://{bucket}/catalog", tmp_path, 16, env={"TETHER_RUN_HEARTBEAT": "0.1"})


def test_lineage_requests_do_not_grow_with_the_runs_in_the_catalog(bucket: str, tmp_path: Path) -> None:
    root = f"s3://{bucket}/catalog"
    check_run_scenario(root, tmp_path)
    cat = tether.Catalog(root)
    counting = CountingDriver.install(cat)
    cat.lineage("model:1", upstream=2, downstream=2)
    before = dict(counting.calls)
    fake_runs(cat, 1200)  # more than one listing page of runs
    counting.reset()
    cat.lineage("model:1", upstream=2, downstream=2)
    assert dict(counting.calls) == before


def test_tether_run_on_an_s3_catalog_attaches_what_the_script_logs(bucket: str, tmp_path: Path) -> None:
    root = f"s3://{bucket}/catalog"
    (tmp_path / "out.bin").write_bytes(b"out")
    script = ("import subprocess, sys\n"
              "subprocess.run([sys.executable, '-m', 'tether.cli', 'log', 'made', '--upload', sys.argv[1]], "
              "check=True)\nsys.exit(7)\n")
    r = subprocess.run([sys.executable, "-m", "tether.cli", "--catalog", root, "run", "--name", "s3-job", "--",
                        sys.executable, "-c", script, str(tmp_path / "out.bin")],
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 7, r.stderr
    (run,) = tether.Catalog(root).runs()
    rec = tether.Catalog(root).run(run.id)
    assert (rec.status, rec.exit_code, [e.version_ref for e in rec.outputs]) == ("failed", 7, ["made:v1"])
