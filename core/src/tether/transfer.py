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

This module plans a download (checks every path, finds conflicts, refuses
unverifiable files) and runs it across workers; fetching one file is
:mod:`tether.fetcher`, retrying :mod:`tether.retry`. Their names stay
importable from here.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

import attrs

from . import localfs, operations
from .checksums import SIZE_ONLY, check_file, verification_strength
from .driver import Driver
from .errors import (
    DestinationConflictError,
    DownloadError,
    InvalidArgumentError,
    NoDriverError,
    ObjectNotFoundError,
    TetherError,
    UnsafePathError,
    UnverifiedAssetError,
)
from .fetcher import (  # noqa: F401 - re-exported: these lived here before the split
    MAX_PART_SIZE,
    Downloader,
    Overwrite,
    Progress,
    _Cancelled,
    _part_path,
    local_matches,
    memory_budget,
    part_size_for,
)
from .models import Asset
from .parallel import parallel_map
from .paths import clash_reason, dest_path_for, fold_case, fold_unicode, name_clash
from .retry import RetryPolicy, is_transient  # noqa: F401 - re-exported


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
