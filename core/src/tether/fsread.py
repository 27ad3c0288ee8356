"""Reading one asset of ``tether://``: the pinned, verified file object and cache entry names.

See :mod:`tether.fs` for what is verified when; this module does the verifying.
"""

from __future__ import annotations

import hashlib
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
