"""Streaming checksums: which kinds tether can verify, and how strong each is.

Values are stored as lower-case hex for every kind tether computes (``sha256``,
``sha1``, ``md5``, ``crc32c``). ``etag`` is kept verbatim (quotes stripped): it
identifies an object version but is not a content hash in general.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import zlib
from collections.abc import Iterable, Mapping
from typing import Protocol

from .progress import advance

# Strongest first. Only these can be recomputed from bytes on disk.
VERIFIABLE = ("sha256", "sha1", "md5", "crc32c", "crc32")
# Every kind a manifest may carry. Unknown kinds in a manifest are refused.
KNOWN_KINDS = frozenset(VERIFIABLE) | {"etag", "crc32", "crc64nvme", "sha512"}

CHUNK = 1 << 20


class Hasher(Protocol):
    def update(self, data: bytes, /) -> object: ...
    def hexdigest(self) -> str: ...


class _Crc32c:
    """CRC32C (Castagnoli) with google-crc32c's C code when installed."""

    def __init__(self) -> None:
        try:
            import google_crc32c  # heavy-ish, only drivers that record crc32c install it

            self._impl = google_crc32c.Checksum()
            self._fast = True
        except ImportError:  # pragma: no cover - exercised only without the wheel
            self._impl = None
            self._fast = False
            self._crc = 0

    def update(self, data: bytes) -> None:
        if self._fast:
            # the C extension takes only read-only buffers (bytes), not memoryviews
            self._impl.update(data if isinstance(data, bytes) else bytes(data))
        else:
            self._crc = _crc32c_py(self._crc, data)

    def hexdigest(self) -> str:
        if self._fast:
            return self._impl.digest().hex()
        return f"{self._crc:08x}"


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE: list[int] | None = None


def _crc32c_py(crc: int, data: bytes) -> int:
    global _TABLE
    if _TABLE is None:
        _TABLE = _make_table()
    t = _TABLE
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class _Crc32:
    """CRC32 (zlib's): S3's default additional checksum on recent SDKs."""

    def __init__(self) -> None:
        self._crc = 0

    def update(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)

    def hexdigest(self) -> str:
        return f"{self._crc:08x}"


def new_hasher(kind: str) -> Hasher:
    if kind == "crc32c":
        return _Crc32c()
    if kind == "crc32":
        return _Crc32()
    if kind in ("sha256", "sha1", "md5", "sha512"):
        return hashlib.new(kind)
    raise ValueError(f"cannot compute checksum kind {kind!r}")


class MultiHasher:
    """Feeds the same bytes to several hashers; one pass over the data."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self.hashers = {k: new_hasher(k) for k in kinds}

    def update(self, data: bytes) -> None:
        for h in self.hashers.values():
            h.update(data)

    def digests(self) -> dict[str, str]:
        return {k: h.hexdigest() for k, h in self.hashers.items()}


def strongest(checksums: Mapping[str, str]) -> str | None:
    """The strongest kind in ``checksums`` that can be recomputed locally."""
    for kind in VERIFIABLE:
        if kind in checksums:
            return kind
    return None


def kinds_to_verify(checksums: Mapping[str, str]) -> list[str]:
    """The strongest verifiable kind, plus crc32c when also recorded (cheap, and
    the store's own end-to-end check on GCS). crc32 only when nothing stronger is there."""
    best = strongest(checksums)
    if best is None:
        return []
    kinds = [best]
    if best != "crc32c" and "crc32c" in checksums:
        kinds.append("crc32c")
    return kinds


def b64_to_hex(value: str) -> str:
    """GCS and S3 report md5/crc32c as base64 of the raw digest.

    binascii directly: called twice per object of every GCS listing, and
    base64.b64decode's argument checks cost more than the decoding."""
    return binascii.a2b_base64(value).hex()


def hash_file(path: str, kinds: Iterable[str] = ("sha256",), chunk: int = 4 * CHUNK) -> dict[str, str]:
    h = MultiHasher(kinds)
    with open(path, "rb", buffering=0) as f:
        # A buffer no larger than the file: zeroing 4 MiB for each of 20,000 small
        # files costs more than hashing them.
        buf = bytearray(max(1, min(chunk, os.fstat(f.fileno()).st_size + 1)))
        view = memoryview(buf)
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
            advance("hashing", n)
    return h.digests()
