"""Workers for the concurrent ``gc`` + ``log`` tests (issue 16), spawned as real processes.

Loggers log versions mixing new bytes, bytes that only garbage (a deleted
version) held, and bytes every logger shares; a collector runs ``gc`` in a
loop until every logger is done. Afterwards the test downloads every version.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import tether

SHARED = b"bytes every logger shares"


def garbage(n: int, tag: str) -> list[bytes]:
    return [f"garbage {tag} {i} ".encode() * 50 for i in range(n)]


def log_garbage(root: str, workdir: Path, contents: list[bytes]) -> None:
    """Log ``contents`` as one version, then delete it: its uploads become garbage."""
    d = workdir / "garbage"
    d.mkdir()
    for i, data in enumerate(contents):
        (d / f"g{i}").write_bytes(data)
    cat = tether.Catalog(root)
    art = tether.Artifact("garbage")
    art.add(str(d))
    cat.log(art)
    cat.delete("garbage", reason="garbage for the gc test")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def logger(root: str, workdir: str, i: int, rounds: int, reuse: list[bytes], done: str) -> list[int]:
    cat = tether.Catalog(root)
    out = []
    try:
        for r in range(rounds):
            d = Path(workdir) / f"w{i}-{r}"
            d.mkdir()
            (d / "new.bin").write_bytes(os.urandom(4096))
            (d / "reused.bin").write_bytes(reuse[(i + r) % len(reuse)])
            (d / "shared.bin").write_bytes(SHARED)
            art = tether.Artifact(f"w{i}")
            art.add(str(d))
            out.append(cat.log(art).version)
    finally:
        Path(done, str(i)).touch()
    return out


def collector(root: str, done: str, loggers: int) -> tuple[int, int]:
    """``gc(grace=0)`` until every logger is done, once more after; (runs, bytes reclaimed)."""
    cat = tether.Catalog(root)
    runs = reclaimed = 0
    while True:
        finished = len(os.listdir(done)) >= loggers
        reclaimed += cat.gc(0).bytes_reclaimed
        runs += 1
        if finished:
            return runs, reclaimed


def check_every_version(root: str, loggers: int, rounds: int, versions: list[list[int]], out: Path) -> None:
    """Every version a finished log returned downloads, verified, with its bytes."""
    cat = tether.Catalog(root)
    for i in range(loggers):
        assert len(versions[i]) == rounds
        for n in versions[i]:
            v = cat.get(f"w{i}", version=n)
            result = v.download(out / f"w{i}-{n}")
            assert result.ok, [(o.logical_path, o.status, o.error) for o in result.outcomes]
            assert (out / f"w{i}-{n}" / "shared.bin").read_bytes() == SHARED
