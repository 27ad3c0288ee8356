"""Progress on long work (issue 12): listing, hashing and uploading in ``log``, hashing in
``verify``, listing in ``status``; drawn on a terminal, never into a pipe.

The CLI runs as a real subprocess whose stderr is a pseudo-terminal (or a pipe)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest
import tether
from tether.progress import ProgressEvent


def run(*args: str, terminal: bool, columns: int = 100) -> tuple[int, str, str]:
    """Exit code, stdout, and stderr as the terminal (or pipe) received it.

    ``columns=0``: a terminal that reports no size, as a fresh pseudo-terminal does."""
    cmd = [sys.executable, "-m", "tether.cli", *args]
    if not terminal:
        r = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout, r.stderr
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    received = bytearray()
    errors: list[BaseException] = []

    def drain() -> None:  # the pty's buffer is small: read while the child writes
        try:
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed its end
                    return
                if not chunk:
                    return
                received.extend(chunk)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread below
            errors.append(exc)

    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    os.close(slave)  # only now: the reader must not see the terminal hang up before the child opened it
    reader.join(timeout=60)
    os.close(master)
    if errors:
        raise errors[0]
    return proc.returncode, out.decode(), received.decode(errors="replace")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    for i in range(20):
        (d / "sub" / f"f{i}.bin").write_bytes(os.urandom(64 * 1024))
    return d


def test_log_verify_and_status_show_progress_on_a_terminal(data: Path, tmp_path: Path) -> None:
    code, out, err = run("log", "ds", str(data), terminal=True)
    assert code == 0 and out.startswith("ds:v1: 20 asset(s)")
    for stage in ("listing", "hashing", "uploading"):
        assert stage in err, err
    code, out, err = run("log", "live", "--in-place", str(data / "sub"), terminal=True, columns=0)
    assert code == 0 and "listing" in err and "objects found" in err  # a terminal of no reported size too
    assert run("download", "ds", str(tmp_path / "out"), "--no-progress", terminal=False)[0] == 0
    code, out, err = run("verify", "ds", str(tmp_path / "out"), terminal=True)
    assert code == 0 and "hashing" in err and "1.25M" in err  # 20 x 64 KiB, the total
    code, out, err = run("status", "live", terminal=True)
    assert code == 0 and "listing" in err and "objects found" in err


def test_progress_never_reaches_a_pipe_and_no_progress_silences_a_terminal(data: Path, tmp_path: Path) -> None:
    code, _, err = run("log", "ds", str(data), terminal=False)
    assert code == 0 and err == ""
    code, _, err = run("log", "ds2", str(data), "--no-progress", terminal=True)
    assert code == 0 and err == ""
    assert run("download", "ds", str(tmp_path / "out"), terminal=False)[0] == 0
    for args in (("verify", "ds", str(tmp_path / "out")), ("status", "ds")):
        code, _, err = run(*args, terminal=False)
        assert code == 0 and err == "", (args, err)
        code, _, err = run(*args, "--no-progress", terminal=True)
        assert code == 0 and err == "", (args, err)
    code, _, err = run("verify", "ds", str(tmp_path / "out"), "--progress", terminal=False)
    assert code == 0 and "hashing" in err  # asked for explicitly


def test_python_progress_callbacks_report_each_stage(data: Path, tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    art = tether.Artifact("py")
    art.add(data, progress=events.append)
    v = tether.Catalog().log(art, progress=events.append)
    v.download(tmp_path / "out")
    v.verify(tmp_path / "out", progress=events.append)
    last = {e.stage: e for e in events}
    assert last["listing"].done == 20 and last["listing"].unit == "objects"
    assert last["uploading"].done == last["uploading"].total == 20 * 64 * 1024
    assert last["hashing"].done == last["hashing"].total  # the verify pass, completed
    seen: list[ProgressEvent] = []
    tether.Artifact("inplace").add_remote(str(data), progress=seen.append)
    assert {e.stage for e in seen} >= {"listing"}
    live = tether.Catalog().get("py")
    live.status(progress=seen.append)
