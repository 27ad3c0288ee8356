"""Ctrl-C and crashes in the CLI and in logging: prompt stop, exit 130, nothing half-done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tether
from tether import errors

from .slow_local import slow_local_driver

SLOW_CLI = slow_local_driver(0.05) + """
from tether.cli import main
main(sys.argv[1:])
"""


def _wait_for(pred, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_ctrl_c_during_cli_download_exits_130_and_cleans_up(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"f{i}.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    art = tether.Artifact("big")
    art.add(src)
    tether.Catalog().log(art)
    dest = tmp_path / "dest"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_CLI, "download", "big", str(dest), "--workers", "2"],
                            stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: dest.exists() and any(".tether-part-" in p.name for p in dest.iterdir()))
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert time.monotonic() - started < 10
    assert stderr.strip().splitlines()[-1] == "tether: interrupted" and "Traceback" not in stderr
    assert [p.name for p in dest.iterdir() if ".tether-" in p.name] == []
    # whatever is under a final name is complete and verified
    for p in dest.iterdir():
        assert (src / p.name).read_bytes() == p.read_bytes()


SLOW_LOG = """
import os, sys, time, tether.checksums as c, tether_local
real = c.hash_file
def slow(path, *a, **k):
    with open(os.environ["HASH_MARK"], "a") as m:
        m.write("x")
    time.sleep(0.2)
    return real(path, *a, **k)
tether_local.hash_file = slow
from tether.cli import main
main(sys.argv[1:])
"""


def test_ctrl_c_during_log_leaves_the_catalog_as_it_was(tmp_path: Path, _isolated_home: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(200):
        (src / f"{i}.txt").write_text(str(i))
    mark = tmp_path / "hashing"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_LOG, "log", "slow", "--upload", str(src)],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "HASH_MARK": str(mark)})
    _wait_for(lambda: mark.exists() and len(mark.read_text()) >= 4)  # mid-way through 200 x 0.2 s of hashing
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr
    assert time.monotonic() - started < 3, "log did not stop promptly"
    assert tether.Catalog().artifacts() == []
    with pytest.raises(errors.UnknownArtifactError):
        tether.Catalog().get("slow")


def test_crash_between_manifest_and_claim_leaves_no_version(tmp_path: Path, monkeypatch) -> None:
    f = tmp_path / "a.txt"
    f.write_text("a")
    art = tether.Artifact("half")
    art.add_remote(str(f))
    cat = tether.Catalog()
    v1 = cat.log(art)
    f.write_text("bb")
    drv = cat._driver
    real_write = type(drv).write_bytes

    def crash_on_claim(self, uri, data, *, if_absent=False):
        if "/versions/" in uri:
            raise KeyboardInterrupt  # the process dies right before claiming
        return real_write(self, uri, data, if_absent=if_absent)

    monkeypatch.setattr(type(drv), "write_bytes", crash_on_claim)
    art2 = tether.Artifact("half")
    art2.add_remote(str(f))
    with pytest.raises(KeyboardInterrupt):
        cat.log(art2)
    monkeypatch.undo()
    assert [v.version for v in cat.versions("half")] == [1]
    assert cat.get("half").version == 1 and cat.get("half").digest == v1.digest


def test_a_claim_whose_manifest_is_missing_or_cut_is_never_a_version(tmp_path: Path, _isolated_home: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("a")
    art = tether.Artifact("cut")
    art.add_remote(str(f))
    tether.Catalog().log(art)
    manifest = next((_isolated_home / "artifacts/cut/manifests").iterdir())
    data = manifest.read_bytes()
    manifest.write_bytes(data[: len(data) // 2])
    with pytest.raises(errors.ManifestError):
        tether.Catalog().get("cut")
    manifest.unlink()
    with pytest.raises(errors.ManifestError, match="missing"):
        tether.Catalog().get("cut")
