"""The catalog primitives every driver provides, with fsspec defaults.

``read_bytes / write_bytes(if_absent) / list_names / delete / exists`` are the
small operations the catalog is built on; ``write_bytes(if_absent=True)`` must
be atomic create-if-absent (the store's conditional write), the basis of
version numbering without a server. ``read_bytes_versioned /
write_bytes_if_match`` read an object with a token naming that state of it and
overwrite it only if it is still in that state (S3: ``If-Match`` on the ETag;
GCS: ``ifGenerationMatch``; local: a lock, a compare and an atomic rename).
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING

from ..errors import AlreadyExistsError, ObjectNotFoundError, PreconditionFailedError
from ..uris import redact

if TYPE_CHECKING:
    from .base import Driver

_FALLBACK_LOCK = threading.Lock()


class CatalogMixin:
    """Catalog primitives of :class:`~tether.driver.Driver` (mixed into it)."""

    def read_bytes(self: Driver, uri: str) -> bytes:
        """The whole object at ``uri``; :class:`~tether.errors.ObjectNotFoundError` when there is none."""
        path = self.path_of(uri)
        try:
            return self.fs(path).cat_file(self.fs_path(path))
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object at {redact(uri)}") from None

    def write_bytes(self: Driver, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        """Store ``data`` at ``uri``. ``if_absent=True`` must be atomic create-if-absent:
        :class:`~tether.errors.AlreadyExistsError` when an object is already there."""
        path = self.path_of(uri)
        fs = self.fs(path)
        try:
            fs.pipe_file(self.fs_path(path), data, mode="create" if if_absent else "overwrite")
        except FileExistsError:
            raise AlreadyExistsError(f"{redact(uri)} already exists") from None

    # The conditional overwrite. The default is a generic fsspec fallback: the
    # token is the sha256 of the bytes, and the compare and the write are two
    # calls, serialised only within this process (a lock), so two *processes*
    # can both win a race. Drivers whose store has a conditional write override
    # both methods; a store that lives inside one process (memory://) is
    # already safe with the lock.
    def read_bytes_versioned(self: Driver, uri: str) -> tuple[bytes, str]:
        """The object's bytes and a token naming this state of it (an ETag, a
        generation, a content hash), for :meth:`write_bytes_if_match`."""
        data = self.read_bytes(uri)
        return data, content_token(data)

    def write_bytes_if_match(self: Driver, uri: str, data: bytes, token: str) -> str:
        """Overwrite ``uri`` with ``data`` only if it is still in the state
        ``token`` (from :meth:`read_bytes_versioned`) names; return the token of
        the new state.

        Raises :class:`~tether.errors.PreconditionFailedError` when the object
        changed since (a concurrent writer won: read again and retry) and
        :class:`~tether.errors.ObjectNotFoundError` when it is gone. Read, modify,
        write with this is how git updates a ref (``update-ref <new> <old>``):
        no lock held across the modification, lost races are retried."""
        with _FALLBACK_LOCK:
            current = self.read_bytes(uri)
            if content_token(current) != token:
                raise PreconditionFailedError(f"{redact(uri)} changed since it was read")
            self.write_bytes(uri, data)
        return content_token(data)

    def exists(self: Driver, uri: str) -> bool:
        """Whether an object (not a prefix) is at ``uri``."""
        path = self.path_of(uri)
        return self.stat_path(path) is not None

    def list_names(self: Driver, uri: str) -> list[str]:
        """Names directly under the folder ``uri`` (objects and sub-folders)."""
        path = self.path_of(uri).rstrip("/")
        fs = self.fs(path)
        try:
            entries = fs.ls(self.fs_path(path), detail=False)
        except FileNotFoundError:
            return []
        names = {e.rstrip("/").rsplit("/", 1)[-1] for e in entries}
        names.discard("")
        return sorted(names)

    def delete(self: Driver, uri: str) -> None:
        """Remove the object at ``uri``; nothing there is not an error."""
        path = self.path_of(uri)
        try:
            self.fs(path).rm_file(self.fs_path(path))
        except FileNotFoundError:
            pass


def content_token(data: bytes) -> str:
    """The token of a conditional overwrite where the store has none: a content hash.

    Equal bytes give equal tokens, so a write over content that changed and
    changed back succeeds; harmless for read-modify-write, which only needs
    the state it read to be the state it replaces."""
    return "sha256:" + hashlib.sha256(data).hexdigest()

