"""Runs on an Azure catalog (Azurite): the conditional overwrite (If-Match on the blob ETag) across processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from tether import errors, get_driver
from tether.racing import race

from ..runs_helpers import check_conditional_overwrite, check_racing_runs

pytestmark = pytest.mark.azure

WRITERS = 6
EACH = 15


def _increment(uri: str, times: int) -> int:
    """Read-modify-write a counter ``times`` times, retrying lost races (how run
    records are completed); return how many races this process lost."""
    driver = get_driver("az")
    lost = 0
    for _ in range(times):
        while True:
            data, token = driver.read_bytes_versioned(uri)
            try:
                driver.write_bytes_if_match(uri, str(int(data) + 1).encode(), token)
                break
            except errors.PreconditionFailedError:
                lost += 1
    return lost


def test_if_match_overwrite(container: str) -> None:
    check_conditional_overwrite(get_driver("az"), f"az://{container}/p")


def test_conditional_overwrite_loses_no_update_across_processes(container: str) -> None:
    """Separate processes incrementing one blob: every increment lands. A
    compare-then-write serialised only inside one process (the generic
    fallback Azure used before) lets two processes both win and loses updates."""
    uri = f"az://{container}/runs/counter"
    driver = get_driver("az")
    driver.write_bytes(uri, b"0")
    lost = race(_increment, [(uri, EACH)] * WRITERS, processes=True)
    assert int(driver.read_bytes(uri)) == WRITERS * EACH, f"lost races retried: {sum(lost)}"


def test_racing_processes_each_using_and_logging_leave_complete_runs(container: str, tmp_path: Path) -> None:
    check_racing_runs(f"az://{container}/catalog", tmp_path, 6, env={"TETHER_RUN_HEARTBEAT": "0.1"})
