"""Test hooks that change a local file at a chosen moment of ``log``.

No client is mocked: the real driver uploads to the real server; the hooks
only rewrite the file the way a process still writing it would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tether.driver import Driver


def rewrite_before_upload(monkeypatch: pytest.MonkeyPatch, driver_class: type[Driver], path: Path,
                          data: bytes) -> None:
    """Rewrite ``path`` after ``log`` hashed it, just before the driver uploads it."""
    real = driver_class.upload

    def upload(self, local_path: str, uri: str, **kw):
        if local_path == str(path):
            path.write_bytes(data)
        return real(self, local_path, uri, **kw)

    monkeypatch.setattr(driver_class, "upload", upload)


def rewrite_during_read(monkeypatch: pytest.MonkeyPatch, path: Path, data: bytes, after_reads: int = 0) -> list[int]:
    """Rewrite ``path`` in place (same inode, the open upload keeps reading it)
    once the upload has read it ``after_reads`` times. Returns the read count."""
    from tether.staging import SourceReader  # what every driver's upload reads through

    real = SourceReader.read
    reads = [0]

    def read(self: SourceReader, n: int) -> bytes:
        if self.path == str(path):
            if reads[0] == after_reads:
                with open(path, "r+b") as f:
                    f.write(data)
                    f.truncate()
            reads[0] += 1
        return real(self, n)

    monkeypatch.setattr(SourceReader, "read", read)
    return reads
