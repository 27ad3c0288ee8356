"""Reading one asset of ``tether://``: the pinned, verified file object and cache entry names.

See :mod:`tether.fs` for what is verified when; this module does the verifying.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import time
from typing import TYPE_CHECKING, Any

from fsspec.spec import AbstractBufferedFile

from . import transfer
from .checksums import MultiHasher, mismatches, verifiers
from .errors import ChecksumMismatchError
from .models import Asset
from .resolver import driver_for_uri

if TYPE_CHECKING:
    from .fs import TetherFileSystem

#: Checksum kinds strong enough to name a cache entry by content.
_CONTENT_KEYS = ("sha256", "sha1", "md5")


class _Verifier:
    """The recorded checksums of one asset, checked over bytes fed in order.
    (The seam for ``tether.checksums.verifiers(asset)``: one line to swap.)"""

    def __init__(self, asset: Asset) -> None:
        self.asset = asset
        # The per-asset plan: the strongest recorded checksum, a multipart ETag
        # with its part size included (see tether.checksums.verifiers).
        self.checks = verifiers(asset.checksums, asset.part_size)
        self.hasher = MultiHasher(hashers={kind: h for kind, h, _ in self.checks})

    def update(self, data: bytes) -> None:
        self.hasher.update(data)

    def check(self) -> None:
        for kind, got, expected in mismatches(self.checks):
            raise ChecksumMismatchError(
                f"asset {self.asset.logical_path!r}: {kind} of the bytes read is {got}, recorded "
                f"{expected} (the object changed in place, or was corrupted in transit)")


def _verifier(asset: Asset) -> _Verifier:
    return _Verifier(asset)


def cache_key(asset: Asset) -> str:
    """The cache entry of an asset: its content (strongest cryptographic checksum
    and size) when recorded, else its object version (URI, version id, checksums)."""
    for kind in _CONTENT_KEYS:
        value = asset.checksums.get(kind)
        if value:
            return f"{kind}/{value[:2]}/{value}-{asset.size}"
    ident = f"{asset.uri}\0{asset.version_id}\0{sorted(asset.checksums.items())}\0{asset.size}"
    digest = hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()
    return f"object/{digest[:2]}/{digest}"


class _ReadsInFlight:
    """Reads of ``tether://`` files running now, drained before the interpreter finalises.

    pyarrow reads a Python file object on its own C++ I/O threads (read-ahead,
    pre-buffering), and the last reference to the buffer a read returned may be
    dropped on such a thread, after the read completed and the reader moved on
    (see the backtrace in the tether-s3 fsspec test). Dropping it takes the GIL.
    If the main thread has begun finalising by then, taking the GIL ends that
    thread with ``pthread_exit``, whose unwinding through pyarrow's C++ frames
    calls ``std::terminate``: the process aborts ("terminate called without an
    active exception", exit -6) after every read succeeded (apache/arrow#49942
    guards the buffer's destructor, not a finalisation that begins while it
    waits for the GIL). ``atexit`` runs before finalisation, while other threads
    may still take the GIL: there tether waits for its reads still running to
    end, then leaves the GIL to other threads for a moment so pyarrow's can let
    go of what they hold, as ``concurrent.futures`` joins its workers at exit
    rather than leaving them to die mid-call. A bounded wait, not a guarantee:
    a thread the OS does not run within :attr:`SETTLE` still races the exit."""

    #: The longest wait at exit for reads still running (a read that hangs must not hang the exit).
    DRAIN_TIMEOUT = 30.0
    #: How long the GIL is left to the threads that ran the last reads.
    SETTLE = 0.05

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running = 0
        self._registered = False

    def __enter__(self) -> None:
        with self._cond:
            self._running += 1
            if not self._registered:
                self._registered = True
                atexit.register(self.drain)

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until no read is in flight; True if none was left running."""
        with self._cond:
            done = self._cond.wait_for(lambda: self._running == 0, self.DRAIN_TIMEOUT if timeout is None else timeout)
        time.sleep(self.SETTLE)  # the GIL, released: pyarrow's threads finish with the buffers
        return done


_in_flight = _ReadsInFlight()


class TetherFile(AbstractBufferedFile):
    """One asset, read through its driver's pinned ``read_range`` (see the module docstring)."""

    def __init__(self, fs: TetherFileSystem, path: str, asset: Asset, *, block_size: int,
                 cache_options: dict[str, Any] | None = None) -> None:
        self.asset = asset
        self.driver = driver_for_uri(asset.uri or asset.link)
        self.retry = transfer.RetryPolicy.from_env()
        self._whole: bytes | None = None
        self._check = _verifier(asset)
        self._hashed = 0  # bytes from offset 0 fed to the verifier, in order
        self._in_order = True
        self._bad: ChecksumMismatchError | None = None
        super().__init__(fs, path, "rb", block_size=block_size, cache_type="readahead",
                         cache_options=cache_options, size=asset.size or 0)

    def read(self, length: int = -1) -> bytes:
        with _in_flight:  # drained at exit (see _ReadsInFlight)
            return super().read(length)

    def _read(self, start: int, end: int) -> bytes:
        for attempt in range(self.retry.attempts):
            try:
                data = self.driver.read_range(self.asset, start, end)
            except Exception as exc:
                if not transfer.is_transient(exc) or attempt == self.retry.attempts - 1:
                    raise
                self.retry.sleep(attempt)
                continue
            if len(data) == end - start:
                return data
            if attempt == self.retry.attempts - 1:
                raise ChecksumMismatchError(f"asset {self.asset.logical_path!r}: short read at byte {start} "
                                            f"({len(data)} of {end - start} bytes)")
            self.retry.sleep(attempt)
        raise AssertionError("unreachable")

    def _fetch_range(self, start: int, end: int) -> bytes:
        if self._bad is not None:
            raise self._bad  # a file that failed verification stays failed: no retry hands out its end
        end = min(end, self.size)
        if start >= end:
            return b""
        if self.size <= self.blocksize:
            return self._small()[start:end]
        data = self._read(start, end)
        if self._in_order:
            if start > self._hashed:
                self._in_order = False  # a gap: this stream cannot be verified as a whole
            elif end > self._hashed:
                self._check.update(data[self._hashed - start:])
                self._hashed = end
                if end == self.size:
                    try:
                        self._check.check()  # before the last block reaches the reader
                    except ChecksumMismatchError as exc:
                        self._bad = exc
                        raise
        return data

    def _small(self) -> bytes:
        """The whole file, fetched once and verified (a second try cures a corruption in transit)."""
        if self._whole is None:
            for attempt in (0, 1):
                data = self._read(0, self.size)
                check = _verifier(self.asset)
                check.update(data)
                try:
                    check.check()
                except ChecksumMismatchError:
                    if attempt:
                        raise
                    continue
                self._whole = data
                break
        return self._whole  # type: ignore[return-value]
