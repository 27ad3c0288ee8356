"""``ObjectStoreDriver``: the base of a driver for an object store (S3, GCS, Azure ...).

The plain :class:`~tether.driver.Driver` defaults work for any fsspec
filesystem, and for an object store they are wrong in ways no test of a round
trip shows: every object is read at log time (a listing through fsspec carries
no checksum tether can verify), ``last_modified`` is lost, a changed object is
noticed only as a checksum mismatch after the downloader's retries, fsspec's
listing cache serves a stale catalog, and the conditional overwrite of run
records is a compare-then-write that two processes can both win.

A store supplies seven calls on ``(bucket, key)`` pairs, the ones every object
store API has (the S3 SDKs' ``ListObjectsV2``, ``HeadObject``, ranged
``GetObject`` with ``VersionId`` / ``If-Match``, ``PutObject`` with
``If-None-Match: *`` / ``If-Match``, ``DeleteObject``):

========================  ==================================================
:meth:`list_page`         one page of a listing, with size, checksums, version
                          ids and last-modified of every object
:meth:`head`              one object (one HEAD), pinned to a version if asked
:meth:`get_range`         a ranged read pinned to a version or an ETag
:meth:`put`               a write; with ``if_absent`` the atomic create-if-absent
:meth:`get_with_token`    the bytes and the token (ETag, generation) of one state
:meth:`put_if_match`      the overwrite conditioned on that token
:meth:`delete_key`        a delete (of one version, if asked)
========================  ==================================================

and this base implements every :class:`Driver` operation with them. Each call
runs inside :meth:`Driver.translating`, so whatever a store's client raises
leaves as the tether error its :meth:`Driver.translate_error` maps it to.
Drivers may still override any operation for speed (S3 lists a prefix with
concurrent requests).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .driver import DEFAULT_MAX_OBJECTS, Driver, StoredObject, epoch_of, folder_prefix, too_many
from .errors import (
    ChecksumMismatchError,
    DriftError,
    ObjectNotFoundError,
    PreconditionFailedError,
    VersionGoneError,
)
from .models import Asset, RemoteObject
from .progress import advance
from .staging import SourceReader
from .uris import redact

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["NO_FSSPEC_CACHES", "ListPage", "ObjectStoreDriver"]

#: What to pass to an fsspec filesystem an object-store driver builds: no
#: instance shared with other code (it would bring that code's caches and
#: settings), no listing cache (a catalog's names change under it: another
#: process's new version is invisible until the cache expires).
#: :meth:`ObjectStoreDriver.fs` also turns the listing cache off on whatever
#: :meth:`~Driver.make_filesystem` returns.
NO_FSSPEC_CACHES: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}


@attrs.frozen
class ListPage:
    """One page of a listing (:meth:`ObjectStoreDriver.list_page`).

    ``objects``: the objects of the page, as the listing describes them (size,
    checksums, version id, last-modified); ``prefixes``: with a delimiter, the
    keys of the "sub-folders" (relative to the bucket, ending in the
    delimiter); ``next_token``: what to pass for the next page, None on the last."""

    objects: tuple[RemoteObject, ...] = ()
    prefixes: tuple[str, ...] = ()
    next_token: str | None = None


def _todo(what: str) -> NotImplementedError:
    return NotImplementedError(f"an ObjectStoreDriver must implement {what} (see docs/plugins.md, "
                               "'Writing an object-store driver')")


class ObjectStoreDriver(Driver):
    """Base of object-store drivers: implement the seven store calls below
    (and :meth:`~Driver.make_filesystem` if they use an fsspec filesystem),
    :meth:`~Driver.translate_error` for what the client raises, and
    :meth:`version_pin` if URIs can name a version."""

    bucketed = True  # so Driver.path_of refuses credentials in URIs
    raw_keys = True  # keys may hold "?", "#", ";": redact() leaves them alone
    #: True when a read of an object logged without a version id is conditioned
    #: on its recorded ETag (``If-Match``), so a changed object is a
    #: :class:`~tether.errors.DriftError` before a byte is delivered. Set it to
    #: False only for a store that records a version id for every object (GCS
    #: generations), or whose ETags are not stable for unchanged content.
    pins_by_etag: ClassVar[bool] = True

    # ----------------------------------------------------------- to implement
    def list_page(self, bucket: str, prefix: str, *, delimiter: str | None,
                  token: str | None) -> ListPage:
        """One page of the objects whose key starts with ``prefix``, in key
        order, from ``token`` (None: the first page) on. Each object carries
        what the store lists: size, checksums (``md5`` or ``etag``,
        ``crc32c`` ...: never computed from the bytes), ``version_id`` where
        the store keeps versions, ``last_modified``. Only current versions. With
        ``delimiter``, keys containing it after ``prefix`` are rolled up into
        ``prefixes``. A missing bucket raises (ObjectNotFoundError)."""
        raise _todo("list_page(bucket, prefix, *, delimiter, token) -> ListPage")

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> RemoteObject | None:
        """The object at ``key`` (that version of it when ``version_id`` is
        given), from one metadata request; None when there is none."""
        raise _todo("head(bucket, key, *, version_id=None) -> RemoteObject | None")

    def get_range(self, bucket: str, key: str, start: int, end: int, *, version_id: str | None = None,
                  etag: str | None = None) -> bytes:
        """Bytes ``[start, end)`` of exactly one state of the object: the
        version ``version_id`` when given; else, when ``etag`` is given, only
        if the object's ETag is still ``etag`` (``If-Match``). ``etag`` may come
        with ``version_id`` too, to check an answer from a store that ignored
        the version. Raise DriftError when the ETag no longer matches,
        VersionGoneError when the version is gone, ObjectNotFoundError when there
        is no object (or let :meth:`~Driver.translate_error` map the client's
        errors to those)."""
        raise _todo("get_range(bucket, key, start, end, *, version_id=None, etag=None) -> bytes")

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool) -> str:
        """Store ``data`` at ``key``; return the token of the new state (its
        ETag, generation). ``if_absent=True`` must be the store's atomic
        create-if-absent (``If-None-Match: *``, ``ifGenerationMatch=0``):
        AlreadyExistsError when the key is taken. The catalog's version numbers
        depend on it."""
        raise _todo("put(bucket, key, data, *, if_absent) -> str")

    def get_with_token(self, bucket: str, key: str) -> tuple[bytes, str]:
        """The object's bytes and the token (ETag, generation) of exactly the
        state they were read from, for :meth:`put_if_match`."""
        raise _todo("get_with_token(bucket, key) -> tuple[bytes, str]")

    def put_if_match(self, bucket: str, key: str, data: bytes, token: str) -> str:
        """Overwrite ``key`` only if it is still in the state ``token`` names
        (``If-Match``, ``ifGenerationMatch``), atomically in the store; return
        the new token. PreconditionFailedError (or the DriftError a store's
        translator makes of a 412) when it changed; ObjectNotFoundError when
        it is gone (the base asks once when the store cannot tell)."""
        raise _todo("put_if_match(bucket, key, data, token) -> str")

    def delete_key(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        """Delete ``key`` (only that version when ``version_id`` is given)."""
        raise _todo("delete_key(bucket, key, *, version_id=None)")

    def version_pin(self, key: str) -> tuple[str, str] | None:
        """``(key, version_id)`` when ``key`` as a user wrote it pins a version
        (``a.bin?versionId=...``, ``a.bin#<generation>``), else None."""
        return None

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def split(path: str) -> tuple[str, str]:
        """``bucket/key`` as ``(bucket, key)``."""
        bucket, _, key = path.partition("/")
        return bucket, key

    def fs(self, path: str = "") -> AbstractFileSystem:
        """The filesystem :meth:`~Driver.make_filesystem` built, with fsspec's
        listing cache off whatever it was built with (see :data:`NO_FSSPEC_CACHES`)."""
        fs = super().fs(path)
        cache = getattr(fs, "dircache", None)
        if getattr(cache, "use_listings_cache", False):
            cache.use_listings_cache = False
            cache.clear()
        return fs

    def pages(self, bucket: str, prefix: str, *, delimiter: str | None = None) -> Iterator[ListPage]:
        """Every page of a listing (:meth:`list_page` until no next token)."""
        token: str | None = None
        while True:
            page = self.list_page(bucket, prefix, delimiter=delimiter, token=token)
            yield page
            if not page.next_token:
                return
            token = page.next_token

    # ------------------------------------------------------------- operations
    def stat_path(self, path: str) -> RemoteObject | None:
        """One HEAD. A pinned name (:meth:`version_pin`) is that version, and a
        version the store does not have is VersionGoneError, unless an object
        is literally named so; a store that ignores the pin (answers with
        another version) is never recorded as holding it."""
        bucket, key = self.split(path)
        if not key or key.endswith("/"):
            return None  # the bucket, or a folder marker: a prefix
        uri = self.uri_of(path)
        pin = self.version_pin(key)
        with self.translating(uri):
            if pin is None:
                return self.head(bucket, key)
            name, vid = pin
            try:
                obj = self.head(bucket, name, version_id=vid)
            except VersionGoneError:
                obj = None
            if obj is not None and obj.version_id == vid:
                return obj
            literal = self.head(bucket, key)
        if literal is not None:
            return literal
        if obj is not None and obj.version_id:
            raise VersionGoneError(f"{redact(uri)}: the store served version {obj.version_id}, not {vid}")
        if obj is not None:  # it ignored the pin and served the current object
            raise VersionGoneError(f"{redact(uri)}: the store served no version {vid} (does it keep versions?)")
        raise VersionGoneError(f"{redact(uri)}: no version {vid}")

    def list(self, uri: str, *, max_objects: int = DEFAULT_MAX_OBJECTS) -> list[RemoteObject]:
        """Every object under the prefix ``uri``, from :meth:`list_page` pages:
        no request and no byte read per object. Folder markers (keys ending in
        ``/``) are not objects; only keys under the prefix on a ``/`` boundary
        are kept whatever the store returns. The listing stops at the first
        page past ``max_objects`` and raises. Sorted by path."""
        bucket, prefix = self.split(self.path_of(uri))
        under = f"{bucket}/{prefix}"
        out: list[RemoteObject] = []
        with self.translating(uri):
            for page in self.pages(bucket, prefix):
                kept = [o for o in page.objects if o.path.startswith(under) and not o.path.endswith("/")]
                out.extend(kept)
                advance("listing", len(kept), "objects")
                if len(out) > max_objects:
                    raise too_many(len(out), max_objects, uri, complete=not page.next_token)
        out.sort(key=lambda o: o.path)
        return out

    def enrich(self, objects: list[RemoteObject]) -> list[RemoteObject]:
        """Nothing is read: a listing carries the store's checksums. An object
        without a verifiable one (an S3 multipart upload, an Azure blob
        without Content-MD5) is pinned by version id or ETag and checked for
        size, the way restic and the S3 SDKs trust the store's identity;
        ``tether verify`` reports it as unverifiable."""
        return objects

    def read_range(self, asset: Asset, start: int, end: int) -> bytes:
        """The recorded version (``version_id``), else the recorded ETag when
        :attr:`pins_by_etag`: a changed object is a DriftError before any
        retry. A store whose ``If-Match`` also fails on a deleted object gets
        one HEAD, so "deleted" is not reported as "changed"."""
        assert asset.uri is not None
        bucket, key = self.split(self.path_of(asset.uri))
        etag = asset.checksums.get("etag") if self.pins_by_etag else None
        try:
            with self.translating(asset.uri, asset=asset):
                return self.get_range(bucket, key, start, end, version_id=asset.version_id, etag=etag)
        except (DriftError, ObjectNotFoundError) as exc:
            if isinstance(exc, DriftError) and not asset.version_id:
                with self.translating(asset.uri, asset=asset):
                    gone = self.head(bucket, key) is None
                if gone:
                    raise ObjectNotFoundError(f"asset {asset.logical_path!r} ({redact(asset.uri)}): deleted "
                                              "since it was logged") from None
            if f"{asset.logical_path!r}" in str(exc):
                raise
            raise type(exc)(f"asset {asset.logical_path!r}: {exc}") from None

    def upload(self, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
        """One :meth:`put` of the whole file, made only once the bytes read are
        the hashed file (a single PUT is atomic: nothing partial is ever
        visible), then compared with the MD5 the store lists, where it lists
        one. Holds the file in memory: stores override this with multipart
        uploads or resumable sessions for large files."""
        bucket, key = self.split(self.path_of(uri))
        with SourceReader(local_path, sha256, ("md5",)) as src:
            data = b"".join(src.chunks(self.part_size))
            sums = src.check()
        with self.translating(uri):
            self.put(bucket, key, data, if_absent=False)
            obj = self.head(bucket, key)
        if obj is None:
            raise ObjectNotFoundError(f"upload to {redact(uri)} left no object")
        if obj.checksums.get("md5", sums["md5"]) != sums["md5"]:
            raise ChecksumMismatchError(f"{redact(uri)}: the store holds other bytes than were sent")
        return attrs.evolve(obj, checksums={**obj.checksums, "sha256": sha256})

    def remove_stale_uploads(self, folder_uri: str) -> int:
        """Nothing to sweep: the base uploads with one PUT, which leaves
        nothing behind when it is interrupted."""
        return 0

    # ------------------------------------------------------- catalog primitives
    def read_bytes(self, uri: str) -> bytes:
        bucket, key = self.split(self.path_of(uri))
        with self.translating(uri):
            return self.get_with_token(bucket, key)[0]

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        bucket, key = self.split(self.path_of(uri))
        with self.translating(uri, create=if_absent):
            self.put(bucket, key, data, if_absent=if_absent)

    def read_bytes_versioned(self, uri: str) -> tuple[bytes, str]:
        """:meth:`get_with_token`: the bytes and the token of one state."""
        bucket, key = self.split(self.path_of(uri))
        with self.translating(uri):
            return self.get_with_token(bucket, key)

    def write_bytes_if_match(self, uri: str, data: bytes, token: str) -> str:
        """:meth:`put_if_match`, atomic in the store: two processes cannot
        both win. A failed precondition on a key that is gone is
        ObjectNotFoundError (GCS and Azure answer 412 for both)."""
        bucket, key = self.split(self.path_of(uri))
        try:
            with self.translating(uri):
                return self.put_if_match(bucket, key, data, token)
        except DriftError:  # how translators name a 412 outside create-if-absent
            pass
        except PreconditionFailedError:
            pass
        with self.translating(uri):
            if self.head(bucket, key) is None:
                raise ObjectNotFoundError(f"{redact(uri)}: no such object")
        raise PreconditionFailedError(f"{redact(uri)} changed since it was read")

    def list_names(self, uri: str) -> list[str]:
        """Names directly under the folder ``uri``: one delimiter listing."""
        bucket, key = self.split(self.path_of(uri))
        prefix = folder_prefix(key)
        skip = len(bucket) + 1 + len(prefix)
        names: set[str] = set()
        try:
            with self.translating(uri):
                for page in self.pages(bucket, prefix, delimiter="/"):
                    names.update(o.path[skip:] for o in page.objects)
                    names.update(p[len(prefix):].rstrip("/") for p in page.prefixes)
        except ObjectNotFoundError:
            return []  # no bucket: no names
        names.discard("")
        return sorted(names)

    def delete(self, uri: str) -> None:
        bucket, key = self.split(self.path_of(uri))
        try:
            with self.translating(uri):
                self.delete_key(bucket, key)
        except ObjectNotFoundError:
            pass  # already gone: what delete wanted

    # ------------------------------------------- lifecycle (gc, check, insurance)
    def inventory(self, uri: str) -> list[StoredObject]:
        """The current objects under the prefix, from listings (stores that
        keep versions override this to list every version)."""
        bucket, prefix = self.split(self.path_of(uri))
        out = []
        try:
            with self.translating(uri):
                for page in self.pages(bucket, prefix):
                    out.extend(StoredObject(o.uri, o.path, o.size, epoch_of(o.last_modified), o.version_id)
                               for o in page.objects if not o.path.endswith("/"))
        except ObjectNotFoundError:
            return []
        return sorted(out, key=lambda o: o.path)

    def delete_exact(self, obj: StoredObject) -> None:
        """Exactly ``obj``: its version when it has one, so gc never removes a
        version written since it judged this one."""
        bucket, key = self.split(obj.path)
        with self.translating(obj.uri):
            self.delete_key(bucket, key, version_id=obj.version_id)

    def stat_version(self, asset: Asset) -> RemoteObject | None:
        """One HEAD of the recorded version (or of the name, without one)."""
        assert asset.uri is not None
        bucket, key = self.split(self.path_of(asset.uri))
        try:
            with self.translating(asset.uri, asset=asset):
                obj = self.head(bucket, key, version_id=asset.version_id)
        except VersionGoneError:
            return None
        if obj is not None and asset.version_id and obj.version_id not in (None, asset.version_id):
            return None  # the store ignored the pin: that version is not what it described
        return obj
