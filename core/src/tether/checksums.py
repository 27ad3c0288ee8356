"""Streaming checksums: which kinds tether can verify, and how strong each is.

Which kinds exist is the kind table (:mod:`tether.checksum_kinds`): core's
built-ins (``sha256``, ``sha512``, ``sha1``, ``md5``, ``crc32c``, ``crc32``,
``etag``) plus every kind an installed plugin registers through
``tether_register_checksums``. Values are stored as lower-case hex for every
kind tether computes. ``etag`` is kept verbatim (quotes stripped): it
identifies an object version but is not a content hash in general. A kind no
installed plugin registers is kept in a manifest but never trusted.

Every synced asset has a *verification strength*, the strongest check tether
can make of its bytes (:func:`verification_strength`), strongest first (with
only the built-ins installed):

``sha256`` > ``sha512`` > ``sha1`` > ``md5`` > ``multipart-etag`` > ``crc32c`` > ``crc32`` > ``size-only``

A plugin kind takes its place by its rank (tether-s3's ``crc64nvme`` sits
above ``crc32c``). ``multipart-etag`` is S3's ETag of an object uploaded in
parts (``<hex>-<n>``: the MD5 of the concatenated MD5s of its parts). It can be
recomputed only when the part size is known, which the S3 driver records at
log time as the asset's ``part_size``; it is an MD5 construction, so it ranks
with MD5 above the CRCs, which detect accidents but not tampering.
``size-only`` means no recorded checksum can be recomputed (SSE-KMS ETags,
parts of unequal sizes, stores that report nothing, kinds no installed plugin
knows): tether never calls such bytes verified.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Mapping

from .checksum_kinds import BUILTIN_TABLE, Hasher, KindTable
from .progress import advance

#: The built-in verifiable kinds, strongest first (plugins add more: see :func:`kinds`).
VERIFIABLE = BUILTIN_TABLE.ranked
#: The built-in kinds (plugins add more; unknown kinds are kept and never trusted).
KNOWN_KINDS = frozenset(BUILTIN_TABLE.kinds)

CHUNK = 1 << 20

MULTIPART = "multipart-etag"
SIZE_ONLY = "size-only"
#: The built-in verification strengths, strongest first (see :func:`strengths` for the installed ones).
STRENGTHS = (*BUILTIN_TABLE.above_multipart, MULTIPART, *BUILTIN_TABLE.below_multipart, SIZE_ONLY)
#: S3 allows at most 10,000 parts an object.
MAX_PARTS = 10_000
_MULTIPART_ETAG = re.compile(r"([0-9a-f]{32})-([1-9][0-9]{0,4})")


_plugins = None


def kinds() -> KindTable:
    """The checksum kinds of this process: core's and the installed plugins'.

    Called once per asset when a manifest is written or verified, so the
    plugins module is imported once (it imports this one) and the registry
    read without its lock once it exists."""
    global _plugins
    if _plugins is None:
        from . import plugins

        _plugins = plugins
    reg = _plugins._registry or _plugins.get_registry()  # the lock only guards creation
    return reg.checksum_kinds()


def strengths() -> tuple[str, ...]:
    """Every verification strength with the installed plugins, strongest first."""
    t = kinds()
    return (*t.above_multipart, MULTIPART, *t.below_multipart, SIZE_ONLY)


def new_hasher(kind: str) -> Hasher:
    """A fresh hasher of a registered, recomputable kind."""
    k = kinds().get(kind)
    if k is None or k.hasher is None:
        raise ValueError(f"cannot compute checksum kind {kind!r}"
                         + ("" if k is not None else " (no installed tether plugin registers it)"))
    return k.hasher()


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
    """How strongly an asset's bytes can be verified: one of :func:`strengths`.

    Only registered kinds count: a kind in ``checksums`` that no installed
    plugin registers is never trusted. A kind two plugins register raises
    :class:`~tether.errors.ChecksumKindConflictError`."""
    t = kinds()
    t.check_conflicts(checksums)
    for kind in t.above_multipart:
        if kind in checksums:
            return kind
    if part_size is not None and multipart_parts(checksums.get("etag")) is not None:
        return MULTIPART
    for kind in t.below_multipart:
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
    for kind in kinds().ranked:
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
