"""Hashing remote objects at log time (``add_remote(..., hash=True)``, ``tether log --hash``).

For objects whose store records no checksum tether can recompute (SSE-KMS
ETags, parts of unequal sizes, stores that report nothing), the bytes are read
once and their sha256 recorded, the way restic and git address content by a
hash they computed themselves. Reads go through the driver's ``read_range``,
so they are pinned to the version being recorded (version id, generation or
``If-Match`` on the ETag). Whatever checksum the store did report (an MD5
ETag, a multipart ETag) is checked on the same pass, so a byte corrupted in
transit is read again rather than recorded as the content's sha256. An object
with no such checksum has nothing to check the read against: were it
corrupted on the wire, the recorded sha256 would make every download of it
fail with a checksum error (never accept other bytes) until it is logged again.
"""

from __future__ import annotations

import hashlib

import attrs

from .checksums import MultiHasher, mismatches, verifiers
from .driver import Driver
from .errors import ChecksumMismatchError
from .models import Asset
from .parallel import parallel_map
from .transfer import RetryPolicy, is_transient

#: Objects hashed at once: each holds one ranged part (``driver.part_size``) in memory.
MAX_WORKERS = 8


def hash_assets(assets: list[Asset], driver: Driver, retry: RetryPolicy | None = None) -> list[Asset]:
    """``assets`` with ``sha256`` added to every one that lacks it; one per input, in order."""
    retry = retry or RetryPolicy.from_env()

    def one(a: Asset) -> Asset:
        if not a.synced or "sha256" in a.checksums:
            return a
        return attrs.evolve(a, checksums={**a.checksums, "sha256": _sha256(a, driver, retry)})

    return parallel_map(one, assets, min(MAX_WORKERS, driver.default_workers))


def _sha256(asset: Asset, driver: Driver, retry: RetryPolicy) -> str:
    size = asset.size or 0
    for attempt in range(retry.attempts):
        sha = hashlib.sha256()
        checks = verifiers(asset.checksums, asset.part_size)
        h = MultiHasher(hashers={"sha256": sha, **{kind: hasher for kind, hasher, _ in checks}})
        for start in range(0, size, driver.part_size):
            h.update(_read(asset, driver, retry, start, min(size, start + driver.part_size)))
        bad = mismatches(checks)
        if not bad:
            return sha.hexdigest()
        if attempt == retry.attempts - 1:
            kind, got, expected = bad[0]
            raise ChecksumMismatchError(
                f"asset {asset.logical_path!r}: {kind} of the bytes read to hash it is {got}, the store "
                f"reports {expected} (corrupted in transit, or the object changed); nothing was recorded")
        retry.sleep(attempt)
    raise AssertionError("unreachable")


def _read(asset: Asset, driver: Driver, retry: RetryPolicy, start: int, end: int) -> bytes:
    for attempt in range(retry.attempts):
        try:
            data = driver.read_range(asset, start, end)
        except Exception as exc:
            if not is_transient(exc) or attempt == retry.attempts - 1:
                raise
            retry.sleep(attempt)
            continue
        if len(data) == end - start:
            return data
        if attempt == retry.attempts - 1:
            raise ChecksumMismatchError(f"asset {asset.logical_path!r}: short read at byte {start} "
                                        f"({len(data)} of {end - start} bytes)")
        retry.sleep(attempt)
    raise AssertionError("unreachable")
