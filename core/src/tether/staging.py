"""What every driver's ``upload`` shares: reading the local file, checking it
is still the hashed file, and naming (and later sweeping) staged copies.

``Artifact.add`` hashes a file when it is logged, and the file lands at the
content address that hash names. Between the hash and the upload, or during
the upload, the file may be rewritten (a training job still saving its
checkpoint). So an upload reads the file through :class:`SourceReader`, which
hashes exactly the bytes it hands out, and the driver lets those bytes become
visible at the address only after :meth:`SourceReader.check` has confirmed
they are the hashed bytes. Where a store has no invisible staging of its own
(a local folder, a plain fsspec filesystem), bytes are staged under a
:func:`staging_name` beside the address: a name that is never a content
address (content addresses are bare hex digests), so nothing ever mistakes a
staged copy for content. A copy left by a process killed mid-upload is removed
by a later upload into the same folder once it is :data:`STALE_AFTER` old,
the way git prunes its temporary objects only after a grace period, so an
upload still in progress elsewhere is never pulled from under its writer.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Self

from .atomic import TMP_MARK
from .checksums import MultiHasher, hash_file
from .errors import SourceChangedError
from .progress import bound

#: Age after which a staged copy is abandoned (seconds): far longer than any
#: upload runs, short enough that a crash does not hold disk space for long.
STALE_AFTER = 24 * 3600

_STAMP = re.compile(re.escape(TMP_MARK) + r"(\d+)-[0-9a-f]+$")


class SourceReader:
    """A local file opened for upload, hashing every byte it hands out.

    ``sha256`` is the digest the file had when it was hashed (the one its
    content address is named by); ``kinds`` are further checksums the driver
    wants of the same bytes (``md5``, ``crc32c`` for the store's own check).
    Reads return what ``open().read`` returns; :meth:`check` then says whether
    everything read is the hashed file."""

    def __init__(self, local_path: str, sha256: str, kinds: tuple[str, ...] = ()) -> None:
        self.path = local_path
        self.expected = sha256
        self._hasher = MultiHasher(("sha256", *kinds))
        self.read_size = 0
        self._report = bound("uploading")  # reads may come from an SDK's own threads
        try:
            self._file = open(local_path, "rb")  # noqa: SIM115 - closed by close() / the with block
        except (FileNotFoundError, NotADirectoryError):
            raise source_removed(local_path) from None
        #: Size when opened: where an upload that must announce its length
        #: expects the file to end (it may not, if the file is being written).
        self.size_at_open = os.fstat(self._file.fileno()).st_size

    def read(self, n: int) -> bytes:
        data = self._file.read(n)
        self._hasher.update(data)
        self.read_size += len(data)
        self._report(len(data))
        return data

    def chunks(self, n: int) -> Iterator[bytes]:
        while chunk := self.read(n):
            yield chunk

    def check(self) -> dict[str, str]:
        """The checksums of everything read so far, or :class:`SourceChangedError`
        when those bytes are not the file that was hashed."""
        sums = self._hasher.digests()
        if sums["sha256"] != self.expected:
            raise source_changed(self.path)
        return sums

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def source_changed(local_path: str) -> SourceChangedError:
    """The error an upload raises when the bytes it read from ``local_path`` are not the hashed ones."""
    return SourceChangedError(
        f"{local_path} changed while it was being logged (its bytes no longer match the sha256 "
        "computed when it was hashed); nothing was stored or recorded: log it again once it is "
        "no longer being written")


def source_removed(local_path: str) -> SourceChangedError:
    """The error an upload raises when ``local_path`` disappeared while it was being read."""
    return SourceChangedError(f"{local_path} was removed while it was being logged; nothing was stored "
                              "or recorded")


def local_size(local_path: str) -> int:
    """The size of ``local_path``; :func:`source_removed` when it is gone."""
    try:
        return os.path.getsize(local_path)
    except (FileNotFoundError, NotADirectoryError):
        raise source_removed(local_path) from None


def local_matches(checksums: Mapping[str, str], local_path: str, sha256: str) -> bool:
    """Whether a stored object's ``checksums`` (as the store computed them)
    prove it holds the bytes of ``local_path``, whose sha256 is ``sha256``.

    A recorded sha256 answers alone. Otherwise every other verifiable kind
    recorded (md5, sha1, crc32c, crc32) is computed from the local file in one
    read, together with its sha256 (the file must still be the hashed file),
    and all must match. No verifiable checksum at all proves nothing: False."""
    if "sha256" in checksums:
        return checksums["sha256"] == sha256
    kinds = [k for k in ("md5", "sha1", "crc32c", "crc32") if k in checksums]
    if not kinds:
        return False
    try:
        local = hash_file(local_path, ("sha256", *kinds))
    except (FileNotFoundError, NotADirectoryError):
        raise source_removed(local_path) from None
    if local["sha256"] != sha256:
        raise source_changed(local_path)
    return all(local[k] == checksums[k] for k in kinds)


def staging_name(final_name: str, now: float | None = None) -> str:
    """A unique hidden name beside ``final_name`` for staging its bytes: it
    carries the time it was made (for stores that keep no modification time)
    and :data:`~tether.atomic.TMP_MARK`, which every listing of tether's own
    folders skips."""
    stamp = int(time.time() if now is None else now)
    return f".{final_name[:80]}{TMP_MARK}{stamp}-{secrets.token_hex(6)}"


def is_stale(name: str, modified: float | None, now: float, max_age: float = STALE_AFTER) -> bool:
    """Whether ``name`` is a staged copy abandoned ``max_age`` seconds ago.

    ``modified`` is the store's modification time when it keeps one (on a
    local disk it keeps moving while the copy is still being written, so an
    upload that runs for days is never swept); else the time in the name.
    Staged names without a time (older tethers) count as stale only by
    ``modified``."""
    if TMP_MARK not in name:
        return False
    if modified is None:
        m = _STAMP.search(name)
        if m is None:
            return False
        modified = float(m.group(1))
    return now - modified > max_age
