"""The upload contract's defaults: ``upload``, ``holds``, ``remove_stale_uploads``.

See :meth:`UploadMixin.upload` for the promise every driver keeps, and
``docs/plugins.md`` ("The upload contract").
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import TYPE_CHECKING

import attrs

from ..checksums import CHUNK
from ..errors import ObjectNotFoundError
from ..models import RemoteObject
from ..staging import SourceReader, is_stale, local_matches, local_size, staging_name
from ..uris import redact

if TYPE_CHECKING:
    from .base import Driver


class UploadMixin:
    """Upload defaults of :class:`~tether.driver.Driver` (mixed into it)."""

    def upload(self: Driver, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
        """Store the bytes of ``local_path``, whose sha256 is ``sha256``, at ``uri``.

        The contract every driver keeps: when this returns, the object at
        ``uri`` holds exactly the bytes whose sha256 is ``sha256``, and the
        returned object (size, checksums including ``sha256``, version id)
        describes it. Otherwise it raises, and nothing new is visible at
        ``uri``: :class:`~tether.errors.SourceChangedError` when the bytes
        read from ``local_path`` do not hash to ``sha256`` (the file changed
        since it was hashed), :class:`~tether.errors.ChecksumMismatchError`
        when the store holds other bytes than were sent. An object already at
        ``uri`` is replaced: the caller uploads only after :meth:`holds`
        could not verify it.

        How: read the file through :class:`tether.staging.SourceReader`,
        stage the bytes where no reader of ``uri`` sees them, call its
        ``check()``, and only then make them visible at ``uri``. This default
        writes a :func:`~tether.staging.staging_name` beside ``uri`` and moves
        it into place; stores with their own invisible staging (multipart
        uploads, resumable sessions) and their own checksum validation use those."""
        path = self.path_of(uri)
        fs = self.fs(path)
        folder, _, name = path.rpartition("/")
        tmp = f"{folder}/{staging_name(name)}"
        try:
            with self.translating(uri):
                with SourceReader(local_path, sha256) as src, fs.open(self.fs_path(tmp), "wb") as out:
                    for chunk in src.chunks(4 * CHUNK):
                        out.write(chunk)
                src.check()
                fs.mv(self.fs_path(tmp), self.fs_path(path))
        except BaseException:
            try:
                fs.rm_file(self.fs_path(tmp))
            except Exception:  # noqa: BLE001, S110 - never written, or already moved
                pass
            raise
        obj = self.stat_path(path)
        if obj is None:
            raise ObjectNotFoundError(f"upload to {redact(uri)} left no object")
        return attrs.evolve(obj, checksums={**obj.checksums, "sha256": sha256})

    def holds(self: Driver, obj: RemoteObject, local_path: str, *, sha256: str) -> bool:
        """Whether the store's own checksums prove ``obj`` holds exactly the
        bytes of ``local_path`` (whose sha256 is ``sha256``).

        The test an object already at a content address must pass before an
        upload of the same content is skipped: the same size is not enough,
        and neither is a name, since the object may have been written by a
        failed upload or another tool. Drivers add what their store records
        (a multipart ETag, a cached local hash); this default compares the
        verifiable checksums in ``obj.checksums`` (see
        :func:`tether.staging.local_matches`). False means "upload again":
        a store holding wrong bytes at an address heals on the next upload."""
        return obj.size == local_size(local_path) and local_matches(obj.checksums, local_path, sha256)

    def remove_stale_uploads(self: Driver, folder_uri: str) -> int:
        """Remove what uploads killed mid-way left in the folder ``folder_uri``
        once it is :data:`tether.staging.STALE_AFTER` old; return how many.

        Called by each upload pass for the folders it wrote to. This default
        lists the folder for :func:`~tether.staging.staging_name` names."""
        path = self.path_of(folder_uri).rstrip("/")
        fs = self.fs(path)
        now = time.time()
        removed = 0
        try:
            entries = fs.ls(self.fs_path(path), detail=True)
        except FileNotFoundError:
            return 0
        for info in entries:
            name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
            modified = info.get("mtime") or info.get("LastModified") or info.get("updated")
            stamp = (modified.timestamp() if isinstance(modified, _dt.datetime)
                     else float(modified) if isinstance(modified, (int, float)) else None)
            if info.get("type") != "directory" and is_stale(name, stamp, now):
                try:
                    fs.rm_file(info["name"])
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed
