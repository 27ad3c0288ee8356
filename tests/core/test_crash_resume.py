"""kill -9 in the middle of a download, then the same download again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import tether

from .slow_local import slow_local_driver

SLOW_DOWNLOAD = slow_local_driver(0.02) + """
tether.Catalog().get("big").download(sys.argv[1], workers=1)
"""


def test_kill_9_then_rerun_fetches_only_the_rest(tmp_path: Path, monkeypatch) -> None:
    data = os.urandom(8 * 1024 * 1024)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    art = tether.Artifact("big")
    art.add(src)
    tether.Catalog().log(art)
    dest = tmp_path / "dest"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_DOWNLOAD, str(dest)])
    deadline = time.monotonic() + 60
    parts: list[Path] = []
    while time.monotonic() < deadline:
        parts = list(dest.glob(".big.bin.tether-part-*")) if dest.exists() else []
        if parts and parts[0].stat().st_size >= 1024 * 1024:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (dest / "big.bin").exists()  # never visible under its final name half-written
    assert parts, "the download never started"
    fetched = []
    drv = tether.get_driver("file")
    orig = type(drv).read_range
    monkeypatch.setattr(type(drv), "read_range",
                        lambda self, a, s, e: fetched.append(e - s) or orig(self, a, s, e))
    result = tether.Catalog().get("big").download(dest)
    assert result.ok and (dest / "big.bin").read_bytes() == data
    assert 0 < sum(fetched) <= len(data) - 1024 * 1024  # only what the killed run had not written
    assert list(dest.glob(".*tether-part*")) == []
