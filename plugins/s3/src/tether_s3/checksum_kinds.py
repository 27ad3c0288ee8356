"""The checksum kind tether-s3 adds: S3's full-object CRC-64/NVME (``ChecksumCRC64NVME``).

S3 reports it (``HeadObject`` with ``ChecksumMode=ENABLED``) as the base64 of
the CRC's 8 bytes big-endian; the driver records the lower-case hex of those
bytes as ``crc64nvme``. S3 computes it for every object uploaded since its
default integrity protections (with or without a checksum the client chose),
so it is often the only content checksum of an SSE-KMS object. Ranked like a
64-bit CRC: above ``crc32c``, below a multipart ETag (it detects accidents,
not tampering). Computed with awscrt's C code (:mod:`tether.crc64`).
"""

from __future__ import annotations

from tether.checksum_kinds import RANK_CRC64, ChecksumKind, hex_text
from tether.driverkit import Crc64Nvme
from tether.hookspecs import hookimpl

CRC64NVME = ChecksumKind(
    "crc64nvme", RANK_CRC64, lambda: Crc64Nvme("big"), hex_text(8),
    "S3 full-object CRC-64/NVME (ChecksumCRC64NVME), 8 bytes big-endian")


@hookimpl
def tether_register_checksums() -> list[ChecksumKind]:
    return [CRC64NVME]
