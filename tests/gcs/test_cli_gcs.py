"""The CLI against fake-gcs-server, issue 12: a catalog in a bucket that does not exist is
an error, not an empty list; an empty prefix of an existing bucket is an empty catalog."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gcs


def tether_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True,
                          text=True, env={**os.environ, "TETHER_HOME": str(home)}, timeout=120)


def test_a_catalog_in_a_missing_bucket_is_an_error(gcs_bucket: str, tmp_path: Path) -> None:
    r = tether_cli("--catalog", f"gs://{gcs_bucket}-missing/cat", "list", home=tmp_path)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert f"does not exist (no bucket '{gcs_bucket}-missing')" in r.stderr
    r = tether_cli("--catalog", f"gs://{gcs_bucket}/cat", "list", home=tmp_path)
    assert r.returncode == 0 and r.stderr == f"no artifacts in gs://{gcs_bucket}/cat\n", r.stderr
