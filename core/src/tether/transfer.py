"""Downloading and verifying artifact versions on the local disk.

Guarantees (tested in ``tests/core/test_download.py`` and the driver suites):

* every logical path is checked before a byte is written; a path that would
  land outside ``dest`` fails the whole download up front;
* bytes are hashed while they stream, and a file only appears under its final
  name (``os.replace``) once its size and strongest checksum match (an S3
  multipart ETag is recomputed from the recorded part size);
* a file already in ``dest`` counts as present only when its checksum matches:
  an asset with no verifiable checksum (``size-only``) is never taken on its
  size, the way ``rsync --checksum`` never trusts size alone; it is fetched
  again, or is a conflict under ``overwrite="fail"``, and
  ``require_verified=True`` refuses such versions before writing anything;
* a failed or interrupted file leaves nothing behind; after ``kill -9`` the
  hidden ``.tether-part`` file is resumed by the next run, re-hashing what it
  already holds, so only missing bytes are fetched;
* transient store errors are retried with bounded exponential backoff, and a
  body that fails its checksum is fetched again once from scratch.
"""

from __future__ import annotations

import functools
import os
import random
import stat
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import BinaryIO, Literal

import attrs

from . import config, localfs, operations
from .checksums import CHUNK, SIZE_ONLY, MultiHasher, check_file, mismatches, verification_strength, verifiers
from .driver import Driver
from .errors import (
    ChecksumMismatchError,
    DestinationConflictError,
    DownloadError,
    InvalidArgumentError,
    NoDriverError,
    ObjectNotFoundError,
    StorageError,
    TetherError,
    UnsafePathError,
    UnverifiedAssetError,
)
from .models import Asset
from .parallel import parallel_map
from .paths import clash_reason, dest_path_for, fold_case, fold_unicode, name_clash

Overwrite = Literal["fail", "preserve", "overwrite"]
Progress = Callable[[int], None]


@attrs.frozen
class RetryPolicy:
    """How transient failures are retried: ``attempts`` tries in all, sleeping
    ``base_delay * 2**n`` (capped at ``max_delay``, with jitter) in between.
    Defaults come from ``TETHER_RETRY_ATTEMPTS`` / ``TETHER_RETRY_BASE_DELAY``."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The policy the environment sets; a value that is not a number in range
        is a ConfigError naming the variable, not a silent default."""
        return cls(attempts=config.int_setting("retry_attempts", 5, minimum=1),
                   base_delay=config.float_setting("retry_base_delay", 0.2, minimum=0.0))

    def sleep(self, attempt: int) -> None:
        delay = min(self.max_delay, self.base_delay * (2 ** attempt))
        time.sleep(delay * (0.5 + random.random() / 2))


def is_transient(exc: BaseException) -> bool:
    """Errors worth another try: the store or network hiccuped, nothing was wrong
    with the request itself."""
    if isinstance(exc, StorageError):
        return True
    if isinstance(exc, TetherError):
        return False
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    return isinstance(exc, (OSError, ConnectionError, TimeoutError)) or type(exc).__name__ in {
        "ClientPayloadError", "ServerDisconnectedError", "ReadTimeoutError", "IncompleteRead",
        "ResponseStreamingError", "ConnectionClosedError", "EndpointConnectionError", "HttpError",
    }


@attrs.frozen
class AssetOutcome:
    """What happened to one asset. ``status`` is one of ``downloaded``,
    ``present`` (already there, verified), ``preserved`` (kept the local file,
    ``overwrite="preserve"``), ``skipped`` (link-only) or ``failed``."""

    logical_path: str
    status: str
    path: str | None = None
    size: int = 0
    error: str | None = None


@attrs.frozen
class DownloadResult:
    dest: Path
    outcomes: tuple[AssetOutcome, ...]

    @property
    def ok(self) -> bool:
        return not any(o.status == "failed" for o in self.outcomes)

    def with_status(self, status: str) -> list[AssetOutcome]:
        return [o for o in self.outcomes if o.status == status]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out

    @property
    def bytes_downloaded(self) -> int:
        return sum(o.size for o in self.outcomes if o.status == "downloaded")


@attrs.frozen
class VerifyOutcome:
    logical_path: str
    status: str  # ok | missing | modified | unverifiable | skipped
    detail: str | None = None


@attrs.frozen
class VerifyResult:
    dest: Path
    outcomes: tuple[VerifyOutcome, ...]

    @property
    def ok(self) -> bool:
        return all(o.status in ("ok", "skipped") for o in self.outcomes)

    def with_status(self, status: str) -> list[VerifyOutcome]:
        return [o for o in self.outcomes if o.status == status]


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


def plan_targets(assets: Iterable[Asset], dest: Path) -> dict[str, Path]:
    """Check every logical path against ``dest`` before anything is written.

    Refused: paths leading outside ``dest`` or through a link below it; a path
    that is a file in one asset and a folder in another (``a`` and ``a/b``);
    and, on a disk that folds names, two paths it would store as one. Folding
    is probed, not guessed from the OS: a case-insensitive disk (macOS, Windows
    defaults) compares with :func:`~tether.paths.fold_case` (simple case
    folding, so ``ß`` and ``ss`` stay apart), a normalisation-insensitive one
    (APFS, HFS+) with :func:`~tether.paths.fold_unicode` (NFC)."""
    targets = {a.logical_path: dest_path_for(dest, a.logical_path) for a in assets}
    clash = name_clash(targets)
    if clash:
        raise UnsafePathError(f"assets {clash[0]!r} and {clash[1]!r} cannot both be files: "
                              f"{clash[0]!r} would have to be a file and a folder at once")
    if name_clash(targets, fold_case) is None:  # the widest fold: nothing to probe for
        return targets
    by_case, by_form = _case_insensitive(dest), _unicode_insensitive(dest)
    if by_case:
        fold: Callable[[str], str] = functools.partial(fold_case, unicode=by_form)
    elif by_form:
        fold = fold_unicode
    else:
        return targets
    clash = name_clash(targets, fold)
    if clash:
        raise UnsafePathError(f"assets {clash[0]!r} and {clash[1]!r} {clash_reason(*clash, fold)} and would "
                              f"overwrite each other on the disk at {dest}, which does not tell such names apart")
    return targets


def _case_insensitive(folder: Path) -> bool:
    return localfs.names_conflated(folder, "a", "A")


def _unicode_insensitive(folder: Path) -> bool:
    return localfs.names_conflated(folder, "\u00e9", "e\u0301")


def download(assets: tuple[Asset, ...], dest: str | os.PathLike[str], *, overwrite: Overwrite = "fail",
             workers: int | None = None, progress: Progress | None = None, strict: bool = False,
             driver_for: Callable[[Asset], Driver], raise_on_error: bool = True,
             retry: RetryPolicy | None = None, label: str = "artifact",
             require_verified: bool = False) -> DownloadResult:
    """Fetch ``assets`` into ``dest``; see the module docstring for the guarantees.

    ``require_verified=True`` raises :class:`UnverifiedAssetError` (naming the
    first such assets) before anything is written when any asset could only be
    checked by its size."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InvalidArgumentError(f"workers must be a whole number >= 1 (or None for the driver's "
                                   f"default), got {workers!r}")
    if overwrite not in ("fail", "preserve", "overwrite"):
        raise InvalidArgumentError(f"overwrite must be 'fail', 'preserve' or 'overwrite', not {overwrite!r}")
    # Settings are read (and refused) before DEST is touched.
    retry = retry or RetryPolicy.from_env()
    memory_budget()
    if require_verified:
        _require_verified(assets, label)
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise DestinationConflictError(f"destination {dest} exists and is not a folder")
    links = [a for a in assets if not a.synced]
    if links and strict:
        raise NoDriverError(f"{label}: asset {links[0].logical_path!r} is a link-only reference "
                            f"({links[0].link}) that tether cannot download (strict=True)")
    synced = [a for a in assets if a.synced]
    targets = plan_targets(synced, dest)
    dest.mkdir(parents=True, exist_ok=True)

    outcomes: dict[str, AssetOutcome] = {
        a.logical_path: AssetOutcome(a.logical_path, "skipped", error=f"link-only: {a.link}") for a in links}
    todo: list[Asset] = []
    conflicts: list[str] = []
    unverifiable: list[str] = []
    for a in synced:
        target = targets[a.logical_path]
        if target.is_dir() and not target.is_symlink():
            conflicts.append(a.logical_path)
        elif target.exists() or target.is_symlink():
            if local_matches(target, a):
                outcomes[a.logical_path] = AssetOutcome(a.logical_path, "present", str(target), a.size or 0)
            elif overwrite == "preserve":
                outcomes[a.logical_path] = AssetOutcome(a.logical_path, "preserved", str(target), a.size or 0)
            elif overwrite == "fail":
                size_only = verification_strength(a.checksums, a.part_size) == SIZE_ONLY
                (unverifiable if size_only else conflicts).append(a.logical_path)
            else:
                todo.append(a)
        else:
            todo.append(a)
    if conflicts or unverifiable:
        raise DestinationConflictError(_conflict_message(dest, label, conflicts, unverifiable))

    n_workers = workers or (driver_for(todo[0]).default_workers if todo else 1)
    dl = Downloader(workers=n_workers, progress=progress, retry=retry or RetryPolicy.from_env(),
                    driver_for=driver_for)

    def run(a: Asset) -> AssetOutcome:
        target = targets[a.logical_path]
        try:
            status = operations.download(driver_for(a), a, target, lambda: dl.fetch(a, target, overwrite))
        except _Cancelled:
            raise
        except TetherError as exc:
            return AssetOutcome(a.logical_path, "failed", str(target), error=str(exc))
        except Exception as exc:  # store/network errors that survived retries
            return AssetOutcome(a.logical_path, "failed", str(target),
                                error=f"{type(exc).__name__}: {exc}")
        return AssetOutcome(a.logical_path, status, str(target), a.size or 0)

    pool = ThreadPoolExecutor(n_workers, thread_name_prefix="tether-dl")
    try:
        futures = [pool.submit(run, a) for a in todo]
        pending = set(futures)
        while pending:  # short waits keep the main thread responsive to Ctrl-C
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            for fut in done:
                out = fut.result()
                outcomes[out.logical_path] = out
    except BaseException:
        dl.cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        dl.close()
        raise
    pool.shutdown(wait=True)
    dl.close()
    result = DownloadResult(dest, tuple(outcomes[a.logical_path] for a in assets))
    failed = result.with_status("failed")
    if failed and raise_on_error:
        first = failed[0]
        raise DownloadError(f"{len(failed)} of {len(assets)} asset(s) of {label} failed; first: "
                            f"{first.error}", result)
    return result


def _shown(paths: list[str]) -> str:
    return ", ".join(repr(c) for c in paths[:5]) + (" ..." if len(paths) > 5 else "")


def _conflict_message(dest: Path, label: str, conflicts: list[str], unverifiable: list[str]) -> str:
    parts = []
    if conflicts:
        parts.append(f"{len(conflicts)} file(s) in {dest} differ from {label}: {_shown(conflicts)}")
    if unverifiable:
        parts.append(f"{len(unverifiable)} file(s) in {dest} cannot be verified against {label} (no "
                     "checksum recorded, only the size, so any bytes of that size would pass): "
                     f"{_shown(unverifiable)}")
    return ("; ".join(parts) + "; nothing was written "
            "(use overwrite='overwrite' to replace them or 'preserve' to keep them)")


def _require_verified(assets: Iterable[Asset], label: str) -> None:
    weak = [a.logical_path for a in assets
            if a.synced and verification_strength(a.checksums, a.part_size) == SIZE_ONLY]
    if weak:
        raise UnverifiedAssetError(
            f"{label}: {len(weak)} asset(s) can only be checked by their size, not a checksum: "
            f"{_shown(weak)}; nothing was written (log them again with hash=True / --hash to record "
            "sha256, or download without require_verified)")


def verify(assets: tuple[Asset, ...], dest: str | os.PathLike[str], *, workers: int = 8) -> VerifyResult:
    """Check the files under ``dest`` against the recorded sizes and checksums."""
    dest = Path(dest)
    targets = plan_targets([a for a in assets if a.synced], dest)

    def one(a: Asset) -> VerifyOutcome:
        if not a.synced:
            return VerifyOutcome(a.logical_path, "skipped", "link-only")
        path = targets[a.logical_path]
        if not path.is_file():
            return VerifyOutcome(a.logical_path, "missing")
        size = path.stat().st_size
        if size != a.size:
            return VerifyOutcome(a.logical_path, "modified", f"size {size}, recorded {a.size}")
        bad = check_file(str(path), a.checksums, a.part_size)
        if bad is None:
            return VerifyOutcome(a.logical_path, "unverifiable",
                                 "no checksum recorded (size-only): any bytes of that size would pass")
        if bad:
            kind, got, expected = bad[0]
            return VerifyOutcome(a.logical_path, "modified", f"{kind} {got}, recorded {expected}")
        return VerifyOutcome(a.logical_path, "ok")

    return VerifyResult(dest, tuple(parallel_map(one, assets, workers)))


__all__ = ["AssetOutcome", "DownloadResult", "RetryPolicy", "VerifyOutcome", "VerifyResult",
           "download", "verify", "ObjectNotFoundError"]
