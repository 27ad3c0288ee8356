"""Streaming checksums: which kinds tether can verify, and how strong each is.

Values are stored as lower-case hex for every kind tether computes (``sha256``,
``sha1``, ``md5``, ``crc32c``). ``etag`` is kept verbatim (quotes stripped): it
identifies an object version but is not a content hash in general.

Every synced asset has a *verification strength*, the strongest check tether
can make of its bytes (:func:`verification_strength`), strongest first:

``sha256`` > ``sha1`` > ``md5`` > ``multipart-etag`` > ``crc32c`` > ``crc32`` > ``size-only``

``multipart-etag`` is S3's ETag of an object uploaded in parts (``<hex>-<n>``:
the MD5 of the concatenated MD5s of its parts). It can be recomputed only when
the part size is known, which the S3 driver records at log time as the
asset's ``part_size``; it is an MD5 construction, so it ranks with MD5 above
the CRCs, which detect accidents but not tampering. ``size-only`` means no
recorded checksum can be recomputed (SSE-KMS ETags, parts of unequal sizes,
stores that report nothing): tether never calls such bytes verified.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Protocol

from .progress import advance

# Strongest first. Only these can be recomputed from bytes on disk.
VERIFIABLE = ("sha256", "sha1", "md5", "crc32c", "crc32")
# Every kind a manifest may carry. Unknown kinds in a manifest are refused.
KNOWN_KINDS = frozenset(VERIFIABLE) | {"etag", "crc32", "crc64nvme", "sha512"}

CHUNK = 1 << 20

MULTIPART = "multipart-etag"
SIZE_ONLY = "size-only"
#: Every verification strength, strongest first (see the module docstring).
STRENGTHS = ("sha256", "sha1", "md5", MULTIPART, "crc32c", "crc32", SIZE_ONLY)
#: S3 allows at most 10,000 parts an object.
MAX_PARTS = 10_000
_MULTIPART_ETAG = re.compile(r"([0-9a-f]{32})-([1-9][0-9]{0,4})")


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


class MultipartEtag:
    """S3's ETag of an object uploaded in ``part_size`` parts, computed while streaming.

    The MD5 of each ``part_size`` run of bytes, then the MD5 of those digests
    concatenated, then ``-<number of parts>`` (what aws-cli, boto3 and s3fs
    produce). Bytes arrive in pieces of any size (ranged downloads do not line
    up with the upload's parts): the hasher splits them on its own boundaries.
    Each byte goes through hashlib's MD5 once; the digest of digests is kept
    running, so memory stays constant whatever the part count."""

    def __init__(self, part_size: int) -> None:
        if not isinstance(part_size, int) or part_size < 1:
            raise ValueError(f"part size must be a positive integer, not {part_size!r}")
        self.part_size = part_size
        self._outer = hashlib.md5()
        self._part = hashlib.md5()
        self._in_part = 0
        self._parts = 0

    def update(self, data: bytes) -> None:
        room = self.part_size - self._in_part
        if len(data) < room:  # the common case: the piece stays inside one part
            self._part.update(data)
            self._in_part += len(data)
            return
        view = memoryview(data)
        while len(view) >= room:
            self._part.update(view[:room])
            self._outer.update(self._part.digest())
            self._parts += 1
            self._part = hashlib.md5()
            self._in_part = 0
            view = view[room:]
            room = self.part_size
        if len(view):
            self._part.update(view)
            self._in_part = len(view)

    def hexdigest(self) -> str:
        outer, parts = self._outer.copy(), self._parts
        if self._in_part or not parts:  # the short last part (or the one empty part)
            outer.update(self._part.digest())
            parts += 1
        return f"{outer.hexdigest()}-{parts}"


def multipart_parts(etag: str | None) -> int | None:
    """The part count of a multipart ETag (``<32 hex>-<n>``), else None."""
    m = _MULTIPART_ETAG.fullmatch(etag or "")
    if m is None:
        return None
    n = int(m.group(2))
    return n if n <= MAX_PARTS else None


def uniform_part_size(size: int, parts: int, first_part: int) -> int | None:
    """``first_part`` when ``parts`` parts of that size (the last one shorter or
    equal) make exactly ``size`` bytes: the layout every SDK uploads. Else None
    (parts of unequal sizes cannot be told apart from their sizes alone)."""
    if parts < 1 or first_part < 1 or parts > MAX_PARTS:
        return None
    if (parts - 1) * first_part < size <= parts * first_part:
        return first_part
    return None


def verifiers(checksums: Mapping[str, str], part_size: int | None = None) -> list[tuple[str, Hasher, str]]:
    """The checks to make of an asset's bytes: ``(kind, fresh hasher, expected hex)``.

    The strongest verifiable check, plus crc32c when also recorded (cheap, and
    the store's own end-to-end check on GCS). Empty when the asset is
    ``size-only``. Feed every byte to every hasher, then compare."""
    best = verification_strength(checksums, part_size)
    if best == SIZE_ONLY:
        return []
    if best == MULTIPART:
        assert part_size is not None
        checks: list[tuple[str, Hasher, str]] = [(MULTIPART, MultipartEtag(part_size), checksums["etag"])]
    else:
        checks = [(best, new_hasher(best), checksums[best])]
    if best != "crc32c" and "crc32c" in checksums:
        checks.append(("crc32c", new_hasher("crc32c"), checksums["crc32c"]))
    return checks


def verification_strength(checksums: Mapping[str, str], part_size: int | None = None) -> str:
    """How strongly an asset's bytes can be verified: one of :data:`STRENGTHS`."""
    for kind in ("sha256", "sha1", "md5"):
        if kind in checksums:
            return kind
    if part_size is not None and multipart_parts(checksums.get("etag")) is not None:
        return MULTIPART
    for kind in ("crc32c", "crc32"):
        if kind in checksums:
            return kind
    return SIZE_ONLY


def mismatches(checks: Iterable[tuple[str, Hasher, str]]) -> list[tuple[str, str, str]]:
    """``(kind, got, expected)`` for each check whose hasher disagrees."""
    out = []
    for kind, hasher, expected in checks:
        got = hasher.hexdigest()
        if got != expected:
            out.append((kind, got, expected))
    return out


def check_file(path: str, checksums: Mapping[str, str], part_size: int | None = None,
               ) -> list[tuple[str, str, str]] | None:
    """Verify a local file: None when nothing can be checked (``size-only``),
    else the mismatches (empty: the file holds the recorded bytes)."""
    checks = verifiers(checksums, part_size)
    if not checks:
        return None
    feed_file(path, MultiHasher(hashers={k: h for k, h, _ in checks}))
    return mismatches(checks)


class MultiHasher:
    """Feeds the same bytes to several hashers; one pass over the data."""

    def __init__(self, kinds: Iterable[str] = (), *, hashers: Mapping[str, Hasher] | None = None) -> None:
        self.hashers = {k: new_hasher(k) for k in kinds}
        self.hashers.update(hashers or {})

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


def b64_to_hex(value: str) -> str:
    """GCS and S3 report md5/crc32c as base64 of the raw digest.

    binascii directly: called twice per object of every GCS listing, and
    base64.b64decode's argument checks cost more than the decoding."""
    return binascii.a2b_base64(value).hex()


def hash_file(path: str, kinds: Iterable[str] = ("sha256",), chunk: int = 4 * CHUNK) -> dict[str, str]:
    """``{kind: hex digest}`` of the local file ``path``, every kind in one read."""
    h = MultiHasher(kinds)
    feed_file(path, h, chunk)
    return h.digests()


def feed_file(path: str, h: MultiHasher, chunk: int = 4 * CHUNK) -> None:
    """Every byte of the file at ``path`` into ``h``."""
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
