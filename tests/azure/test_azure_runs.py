"""Runs on an Azure catalog (Azurite): the conditional overwrite (If-Match on the blob ETag) across processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from tether import get_driver
from tether.racing import race

from ..runs_helpers import check_conditional_overwrite, check_racing_runs, increment

pytestmark = pytest.mark.azure

WRITERS = 6
EACH = 15


def test_if_match_overwrite(container: str) -> None:
    check_conditional_overwrite(get_driver("az"), f"az://{container}/p")


def test_conditional_overwrite_loses_no_update_across_processes(container: str) -> None:
    """Separate processes incrementing one blob: every increment lands. A
    compare-then-write serialised only inside one process (the generic
    fallback Azure used before) lets two processes both win and loses updates."""
    uri = f"az://{container}/runs/counter"
    driver = get_driver("az")
    driver.write_bytes(uri, b"0")
    lost = race(increment, [(uri, EACH)] * WRITERS, processes=True)
    assert int(driver.read_bytes(uri)) == WRITERS * EACH, f"lost races retried: {sum(lost)}"


def test_racing_processes_each_using_and_logging_leave_complete_runs(container: str, tmp_path: Path) -> None:
    check_racing_runs(f"az://{container}/catalog", tmp_path, 6, env={"TETHER_RUN_HEARTBEAT": "0.1"})
