"""Fetching one asset to its final path: verified, atomic, resumable.

:class:`Downloader` streams an asset's bytes into a hidden, locked
``.tether-part`` file (resumed after ``kill -9`` by re-hashing what it holds),
hashes them while they arrive, fetches large objects as parallel ranged parts
under a memory budget, and only then moves the file to its name. Deciding
*which* assets to fetch and where is :mod:`tether.transfer`'s job.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Literal

from . import config, localfs
from .checksums import CHUNK, MultiHasher, check_file, mismatches, verifiers
from .driver import Driver
from .errors import ChecksumMismatchError, DestinationConflictError
from .models import Asset
from .retry import RetryPolicy, is_transient

Overwrite = Literal["fail", "preserve", "overwrite"]
Progress = Callable[[int], None]


def local_matches(path: Path, asset: Asset) -> bool:
    """True when the file at ``path`` has the asset's size and verified checksums.

    Never on size alone: an asset with no verifiable checksum (``size-only``)
    matches no file, since any bytes of the right length would."""
    try:
        if not path.is_file() or path.stat().st_size != asset.size:
            return False
    except OSError:
        return False
    bad = check_file(str(path), asset.checksums, asset.part_size)
    return bad == []


def _part_path(final: Path, asset: Asset) -> Path:
    # The logical path makes two files with one source (deduplicated uploads)
    # use two part files; the source's identity keeps a partial of other bytes
    # from being resumed.
    ident = (f"{asset.logical_path}\0{asset.uri}\0{asset.version_id}\0"
             f"{sorted(asset.checksums.items())}\0{asset.size}")
    return final.with_name(localfs.part_name(final.name, ident))


class _Cancelled(Exception):
    pass


MAX_PART_SIZE = 64 * CHUNK


def memory_budget() -> int:
    """Bytes of object parts a download may hold in memory (``TETHER_DOWNLOAD_MEMORY``,
    a whole number of bytes; at least two parts are always allowed)."""
    return config.int_setting("download_memory", 512 * CHUNK, minimum=0)


def part_size_for(driver: Driver, remaining: int, window: int) -> int:
    """Ranged part size: the driver's minimum, grown so about ``window`` parts cover
    the object, up to 64 MiB. Fewer, larger ranges mean fewer requests (and
    cheaper ones on stores that bill per GET) while still filling ``window``."""
    if remaining <= driver.part_size:
        return driver.part_size
    grown = -(-remaining // window)  # ceil
    return max(driver.part_size, min(MAX_PART_SIZE, grown))


class Downloader:
    def __init__(self, *, workers: int, progress: Progress | None, retry: RetryPolicy,
                 driver_for: Callable[[Asset], Driver]) -> None:
        self.workers = workers
        self.progress = progress
        self.retry = retry
        self.driver_for = driver_for
        self.cancel = threading.Event()
        self._part_pool = ThreadPoolExecutor(max(2, workers), thread_name_prefix="tether-part")
        # Parts of large objects held in memory at once, across all files.
        self._budget = threading.BoundedSemaphore(max(2, memory_budget() // MAX_PART_SIZE))

    def close(self) -> None:
        self._part_pool.shutdown(wait=True, cancel_futures=True)

    def _read(self, driver: Driver, asset: Asset, start: int, end: int) -> bytes:
        for attempt in range(self.retry.attempts):
            if self.cancel.is_set():
                raise _Cancelled()
            try:
                data = driver.read_range(asset, start, end)
            except Exception as exc:
                if not is_transient(exc) or attempt == self.retry.attempts - 1:
                    raise
                self.retry.sleep(attempt)
                continue
            if len(data) != end - start:
                if attempt == self.retry.attempts - 1:
                    raise ChecksumMismatchError(
                        f"asset {asset.logical_path!r}: short read at byte {start} "
                        f"({len(data)} of {end - start} bytes)")
                self.retry.sleep(attempt)
                continue
            return data
        raise AssertionError("unreachable")

    def fetch(self, asset: Asset, final: Path, overwrite: Overwrite = "overwrite") -> str:
        """Fetch one asset to ``final``: verified, atomic, resumable.

        Folders are opened without following links and the part file is
        locked (:mod:`tether.localfs`), so downloads into one ``dest`` from
        several processes take turns on each file. Whoever wins the lock
        checks ``final`` first: another process may have finished it. Returns
        ``downloaded``, or ``present`` / ``preserved`` for a file that appeared
        meanwhile (one that differs is a conflict under ``overwrite="fail"``)."""
        driver = self.driver_for(asset)
        segments = asset.logical_path.split("/")[:-1]

        def waiting() -> None:
            if self.cancel.is_set():
                raise _Cancelled()

        with localfs.Folder.open(final.parents[len(segments)], segments) as folder, \
                localfs.PartFile.acquire(folder, _part_path(final, asset).name, wait=waiting) as part:
            st = folder.lstat(final.name)
            if st is not None and stat.S_ISREG(st.st_mode) and local_matches(final, asset):
                return "present"
            if st is not None and overwrite == "preserve":
                return "preserved"
            if st is not None and overwrite == "fail":
                raise DestinationConflictError(f"{final} appeared during the download and differs from "
                                               f"asset {asset.logical_path!r}; left as it is")
            # A body that fails its checksum (corrupted in transit, or a stale
            # partial) is refetched from zero, up to the retry policy's attempts.
            # Drift is not retried: the store said the object changed.
            for attempt in range(self.retry.attempts):
                try:
                    self._fetch_into(driver, asset, part, resume=attempt == 0)
                    break
                except ChecksumMismatchError:
                    if attempt == self.retry.attempts - 1:
                        raise
                    if attempt:
                        self.retry.sleep(attempt - 1)
            part.commit(final.name, asset.size or 0)
        return "downloaded"

    def _fetch_parts(self, driver: Driver, asset: Asset, starts: Iterable[int], psize: int, size: int,
                     window: int, hasher: MultiHasher, f: BinaryIO) -> None:
        """Large object: ranged parts fetched in parallel, written and hashed in order.

        Parts held in memory are bounded per file (``window``) and across all
        files (the memory budget): a file waits for a budget slot only when it
        has no part in flight, so files never wait on each other in a circle."""
        pending: list[Future[bytes]] = []
        it = iter(starts)
        nxt: int | None = next(it, None)

        def submit(start: int) -> None:
            pending.append(self._part_pool.submit(self._read, driver, asset, start, min(size, start + psize)))

        try:
            while nxt is not None or pending:
                while nxt is not None and len(pending) < window:
                    if not self._budget.acquire(blocking=not pending):
                        break
                    submit(nxt)
                    nxt = next(it, None)
                try:
                    data = pending.pop(0).result()
                finally:
                    self._budget.release()
                hasher.update(data)
                f.write(data)
                if self.progress:
                    self.progress(len(data))
        finally:
            for p in pending:
                p.cancel()
                self._budget.release()

    def _fetch_into(self, driver: Driver, asset: Asset, part: localfs.PartFile, *, resume: bool) -> None:
        size = asset.size or 0
        checks = verifiers(asset.checksums, asset.part_size)
        hasher = MultiHasher(hashers={kind: h for kind, h, _ in checks})
        have = part.size() if resume else 0
        if have > size:
            have = 0
        with part.open(keep=have) as f:
            if have:
                # Re-hash what a killed run left, then continue after it.
                while f.tell() < have:
                    hasher.update(f.read(min(4 * CHUNK, have - f.tell())))
                f.truncate(have)
                f.seek(have)
            window = max(2, min(self.workers, 8))
            psize = part_size_for(driver, size - have, window)
            starts = range(have, size, psize)  # lazy: a claimed size of 2**51 costs nothing here
            if len(starts) <= 1:
                for s in starts:
                    data = self._read(driver, asset, s, min(size, s + psize))
                    hasher.update(data)
                    f.write(data)
                    if self.progress:
                        self.progress(len(data))
            else:
                self._fetch_parts(driver, asset, starts, psize, size, window, hasher, f)
            f.flush()
            os.fsync(f.fileno())
            written = f.tell()
        if written != size:
            raise ChecksumMismatchError(f"asset {asset.logical_path!r}: got {written} bytes, recorded {size}")
        for kind, got, expected in mismatches(checks):
            why = "the object changed since it was logged, or was corrupted in transit"
            if kind == "multipart-etag":
                why += f", or its parts were not all {asset.part_size} bytes"
            raise ChecksumMismatchError(f"asset {asset.logical_path!r}: {kind} of the fetched bytes is {got}, "
                                        f"recorded {expected} ({why})")
