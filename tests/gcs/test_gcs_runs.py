"""Runs on a GCS catalog (fake-gcs-server): records, edges, ifGenerationMatch overwrites, racing processes."""

from __future__ import annotations

from pathlib import Path

from tether import get_driver

from ..runs_helpers import check_conditional_overwrite, check_racing_runs, check_run_scenario


def test_if_generation_match_overwrite(gcs_bucket: str, gcs_versioned_bucket: str) -> None:
    check_conditional_overwrite(get_driver("gs"), f"gs://{gcs_bucket}/p")
    check_conditional_overwrite(get_driver("gs"), f"gs://{gcs_versioned_bucket}/p")


def test_inputs_outputs_producers_and_a_failed_block(gcs_bucket: str, tmp_path: Path) -> None:
    check_run_scenario(f"gs://{gcs_bucket}/catalog", tmp_path)


def test_racing_processes_each_using_and_logging_leave_complete_runs(gcs_bucket: str, tmp_path: Path) -> None:
    check_racing_runs(f"gs://{gcs_bucket}/catalog", tmp_path, 8, env={"TETHER_RUN_HEARTBEAT": "0.1"})
