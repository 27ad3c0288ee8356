"""CRC-64/NVME, the 64-bit CRC both S3 and Azure Storage use, as an incremental hasher.

The catalogue's CRC-64/NVME: reflected polynomial ``0x9A6C9329AC4BC9B5``
(``0xAD93D23594C93659`` unreflected), initial value and final XOR all ones,
check value ``0xAE8B14860A799888`` for ``b"123456789"``. S3's full-object
``ChecksumCRC64NVME`` is the base64 of its 8 bytes big-endian; Azure's
``x-ms-content-crc64`` is the same CRC with its 8 bytes little-endian (the
Azure SDK's ``Crc64Hash`` serialises the low byte first). A store's plugin
registers the kind with the byte order its store uses (tether-s3's
``crc64nvme``, tether-azure's ``crc64``); both read the recorded value as the
lower-case hex of the bytes the store sent.

The C implementation of ``awscrt`` (the AWS Common Runtime, a dependency of
tether-s3) does the work when installed; otherwise a table-driven pure-Python
loop, correct but thousands of times slower (measured on one core: 7.7 MB/s,
against about 24 GB/s for awscrt). That is why tether-s3 depends on awscrt: on
S3 this CRC can be the strongest checksum of an object (an SSE-KMS object whose
ETag is no MD5), so it is on the download path there.
"""

from __future__ import annotations

from typing import Literal

POLY = 0x9A6C9329AC4BC9B5
_MASK = (1 << 64) - 1
_TABLE: list[int] | None = None


def _table() -> list[int]:
    global _TABLE
    if _TABLE is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ POLY if c & 1 else c >> 1
            table.append(c)
        _TABLE = table
    return _TABLE


def crc64nvme_py(data: bytes, crc: int = 0) -> int:
    """The CRC of ``data`` continuing from ``crc`` (0 to start), in pure Python."""
    t = _table()
    crc ^= _MASK
    for b in memoryview(data).cast("B") if not isinstance(data, bytes) else data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ _MASK


def _engine():
    try:
        from awscrt.checksums import crc64nvme  # C, with hardware CRC instructions where the CPU has them
    except ImportError:
        return crc64nvme_py
    return crc64nvme


class Crc64Nvme:
    """An incremental CRC-64/NVME hasher whose ``hexdigest()`` is its 8 bytes in ``byteorder``."""

    def __init__(self, byteorder: Literal["big", "little"] = "big") -> None:
        self._update = _engine()
        self._crc = 0
        self._order: Literal["big", "little"] = byteorder

    def update(self, data: bytes) -> None:
        self._crc = self._update(data, self._crc)

    def hexdigest(self) -> str:
        return self._crc.to_bytes(8, self._order).hex()
