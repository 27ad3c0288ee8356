"""The checksum kind tether-azure adds: Azure Storage's CRC64 (``x-ms-content-crc64``).

Azure's CRC64 is the CRC-64/NVME polynomial (reflected ``0x9A6C9329AC4BC9B5``,
initial value and final XOR all ones: the Azure SDK's ``Crc64Hash``), whose 8
bytes the service sends little-endian, base64-encoded; it is recorded as the
lower-case hex of those bytes. So the same bytes give S3's ``crc64nvme`` and
this ``crc64`` with the byte order reversed. Azure returns it for writes and
for ranged reads that ask for it, not as a blob property, so the driver
does not record it from listings; a manifest written by another tool may carry
it, and tether verifies it. Ranked like a 64-bit CRC (:mod:`tether.checksum_kinds`).
"""

from __future__ import annotations

from tether.checksum_kinds import RANK_CRC64, ChecksumKind, hex_text
from tether.driverkit import Crc64Nvme
from tether.hookspecs import hookimpl

CRC64 = ChecksumKind(
    "crc64", RANK_CRC64, lambda: Crc64Nvme("little"), hex_text(8),
    "Azure Storage CRC64 (x-ms-content-crc64): CRC-64/NVME, 8 bytes little-endian")


@hookimpl
def tether_register_checksums() -> list[ChecksumKind]:
    return [CRC64]
