"""Workers for the concurrent ``gc`` + ``log`` tests (issue 16), spawned as real processes.

Loggers log versions mixing new bytes, bytes that only garbage (a deleted
version) held, and bytes every logger shares; a churner keeps logging and
deleting new bytes that the loggers then reuse, garbage from the start;
a collector runs ``gc`` with no grace period in a loop until every logger is
done. Afterwards the test downloads every version the loggers logged.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import tether
from tether.racing import race

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


def churn_bytes(k: int) -> bytes:
    return f"churned bytes {k} ".encode() * 40


def latest_churn(workdir: str) -> int | None:
    try:
        return int(Path(workdir, "churn-k").read_text())
    except (FileNotFoundError, ValueError):
        return None


def slow_claims(pause: float) -> None:
    """Make this process's logs pause between their uploads and their claim: a slow
    log, so a gc has time to run while uploads nothing references yet are in flight."""
    from tether.catalog.core import Catalog

    commit = Catalog._commit

    def paused(self, manifest, latest):  # type: ignore[no-untyped-def]
        time.sleep(pause)
        return commit(self, manifest, latest)

    Catalog._commit = paused  # type: ignore[method-assign]


def logger(root: str, workdir: str, i: int, rounds: int, reuse: list[bytes], done: str,
           pause: float = 0.0) -> list[int]:
    slow_claims(pause)
    cat = tether.Catalog(root)
    out = []
    try:
        for r in range(rounds):
            d = Path(workdir) / f"w{i}-{r}"
            d.mkdir()
            k = latest_churn(workdir)
            (d / "new.bin").write_bytes(os.urandom(4096))
            (d / "reused.bin").write_bytes(reuse[(i + r) % len(reuse)])
            (d / "churned.bin").write_bytes(churn_bytes(k) if k is not None else b"no churn yet")
            (d / "shared.bin").write_bytes(SHARED)
            art = tether.Artifact(f"w{i}")
            art.add(str(d))
            out.append(cat.log(art).version)
    finally:
        Path(done, str(i)).touch()
    return out


def churner(root: str, workdir: str, done: str, loggers: int) -> int:
    """Upload new bytes and delete the version again, until the loggers are
    done: the latest such upload, which the loggers reuse, is garbage from
    the moment it is written."""
    cat = tether.Catalog(root)
    d = Path(workdir) / "churn"
    d.mkdir()
    k = 0
    while len(os.listdir(done)) < loggers:
        (d / "c").write_bytes(churn_bytes(k))
        art = tether.Artifact("churn")
        art.add(str(d))
        v = cat.log(art)
        cat.delete("churn", v.version, reason="churn")
        tmp = Path(workdir, "churn-k.tmp")
        tmp.write_text(str(k))
        tmp.replace(Path(workdir, "churn-k"))
        k += 1
    return k


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


def _call(fn, args):  # type: ignore[no-untyped-def]  # module level: picklable for the processes
    return fn(*args)


def race_logs_and_gc(root: str, workdir: Path, *, loggers: int, rounds: int, reused: int, unused: int,
                     pause: float) -> tuple[tether.Catalog, list[bytes]]:
    """The whole scenario on the catalog at ``root``, in separate processes:
    ``loggers`` loggers of ``rounds`` versions each, a churner and a collector
    with no grace period. Every version a log returned downloads, before and
    after a last ``gc(0)``. Returns the catalog and the garbage nobody reused,
    for the caller to check it is gone in its store's terms."""
    reuse, garbage_only = garbage(reused, "reused"), garbage(unused, "unused")
    log_garbage(root, workdir, reuse + garbage_only)
    done = workdir / "done"
    done.mkdir()
    calls = [(logger, (root, str(workdir), i, rounds, reuse, str(done), pause)) for i in range(loggers)]
    calls.append((collector, (root, str(done), loggers)))
    calls.append((churner, (root, str(workdir), str(done), loggers)))
    results = race(_call, calls, processes=True)
    check_every_version(root, loggers, rounds, results[:loggers], workdir / "out")
    cat = tether.Catalog(root)
    cat.gc(0)
    check_every_version(root, loggers, rounds, results[:loggers], workdir / "out2")
    return cat, garbage_only
