"""The ``Driver`` base class: tether's storage operations over one fsspec filesystem.

A driver serves one or more URI schemes. Core calls only the methods below;
the defaults work for any fsspec filesystem, so a minimal third-party driver
sets ``schemes`` and implements :meth:`Driver.make_filesystem`. Object stores
override :meth:`Driver.list` (to read version ids and checksums from one
paginated listing) and :meth:`Driver.read_range` (to pin the recorded version).

Operations, in the order a user meets them:

* ``resolve(uri)`` – what a URI names: one object, a prefix, or a glob
* ``list(uri)``    – every object under a prefix, from listings, never per object
* ``stat(uri)``    – one object (one HEAD)
* ``checksum(uri)`` – compute checksums by reading the bytes
* ``read_range(asset, start, end)`` – the recorded bytes of an asset (download)
* ``upload(local, uri, sha256=)`` – store a local file at its content
  address, verified (see :meth:`Driver.upload`); ``holds`` – whether an object
  already there provably holds it; ``remove_stale_uploads`` – sweep what
  interrupted uploads left
* ``read_bytes / write_bytes(if_absent) / list_names / delete`` – the small
  primitives the catalog is built on; ``write_bytes(if_absent=True)`` must be
  atomic create-if-absent (the store's conditional write), the basis of
  version numbering without a server.
* ``read_bytes_versioned / write_bytes_if_match`` – read an object with a
  token naming that state of it, and overwrite it only if it is still in that
  state (S3: ``If-Match`` on the ETag; GCS: ``ifGenerationMatch``; local: a
  lock, a compare and an atomic rename). Run records are completed this way.
* ``inventory / delete_exact / stat_version / reference_risks / set_hold`` –
  optional, for ``tether gc``, ``check``, reference insurance and holds
  (see :mod:`tether.catalog.gc` and :mod:`tether.catalog.insurance`); the
  defaults are correct for any store, if less informed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from . import config, operations
from . import options as _options
from .checksums import CHUNK, SIZE_ONLY, MultiHasher, verification_strength
from .errors import (
    AccessDeniedError,
    AlreadyExistsError,
    HoldNotSupportedError,
    InvalidURIError,
    ObjectNotFoundError,
    PreconditionFailedError,
    StorageError,
    TetherError,
    TooManyObjectsError,
)
from .models import Asset, RemoteObject
from .parallel import parallel_map
from .progress import advance
from .staging import SourceReader, is_stale, local_matches, local_size, staging_name
from .uris import has_userinfo, redact, split_scheme

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

DEFAULT_MAX_OBJECTS = 10_000
GLOB_CHARS = "*"


@attrs.frozen
class Resolution:
    """What a URI named: ``kind`` is ``"object"``, ``"prefix"`` or ``"glob"``.

    ``base`` is the driver path that logical paths are made relative to.
    """

    kind: str
    base: str
    objects: tuple[RemoteObject, ...]

    def relative(self, obj: RemoteObject) -> str:
        if self.kind == "object":
            return obj.path.rstrip("/").rsplit("/", 1)[-1]
        return obj.path[len(self.base):].lstrip("/")


@attrs.frozen
class RiskReport:
    """How long a store keeps the objects under ``scope`` (a bucket or a prefix),
    as far as tether can read it (:meth:`Driver.reference_risks`).

    ``versioned``: whether the bucket keeps old versions (None: unknown or
    irrelevant). ``risks``: what else can make a version undownloadable
    (lifecycle rules expiring or archiving objects), one sentence each.
    ``reason``: why the settings could not be read; such a bucket is
    ``unchecked``, never ``ok``. ``inspectable=False`` means the store has
    no such settings for tether to read (a local disk), rather than that
    the credentials could not read them."""

    scope: str
    versioned: bool | None = None
    risks: tuple[str, ...] = ()
    reason: str | None = None
    inspectable: bool = True

    @property
    def status(self) -> str:
        """``ok`` / ``at-risk`` / ``unchecked``."""
        if self.reason is not None:
            return "unchecked"
        return "at-risk" if self.risks or self.versioned is False else "ok"

    @property
    def messages(self) -> list[str]:
        """The consequences, as sentences a user can act on."""
        out = []
        if self.reason is not None:
            out.append(f"could not check {self.scope}: {self.reason}" if self.inspectable else
                       f"{self.scope}: {self.reason}")
        if self.versioned is False:
            out.append(f"{self.scope} keeps no old versions (versioning is off): overwriting or deleting a "
                       "referenced object makes this version undownloadable")
        out.extend(self.risks)
        return out


@attrs.frozen
class StoredObject:
    """One stored object (one version of it on a versioned store), as garbage
    collection sees it: ``modified`` is the store's time in epoch seconds,
    ``latest`` False for a noncurrent version."""

    uri: str
    path: str
    size: int
    modified: float | None = None
    version_id: str | None = None
    latest: bool = True


def epoch_of(value: Any) -> float | None:
    """Epoch seconds of the timestamp shapes fsspec backends and stores return."""
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_dt.UTC)).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return _dt.datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


# Whole seconds already formatted: files of one folder share a handful of
# mtimes, and gmtime + strftime per file was an eighth of an unchanged re-log.
_STAMPS: dict[int, str] = {}


def _iso(whole: int, micros: int) -> str:
    stamp = _STAMPS.get(whole)
    if stamp is None:
        if len(_STAMPS) >= 4096:
            _STAMPS.clear()
        stamp = _STAMPS[whole] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{stamp}.{micros:06d}Z" if micros else stamp + "Z"


def iso_time_ns(ns: int) -> str:
    """ISO 8601 UTC of a nanosecond epoch (``st_mtime_ns``), to the microsecond:
    the per-file half of every local listing, in integer arithmetic."""
    whole, frac = divmod(ns, 1_000_000_000)
    return _iso(whole, frac // 1000)


def iso_time(value: Any) -> str | None:
    """Normalise the many timestamp shapes fsspec backends return to ISO 8601 UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):  # epoch seconds
        whole = int(value)
        micros = int(round((value - whole) * 1_000_000))
        if micros >= 1_000_000:
            whole, micros = whole + 1, 0
        return _iso(whole, micros)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


class Driver:
    """Base class of every storage driver. Subclass it and register the class
    through the ``tether_register_drivers`` hook."""

    #: URI schemes served, canonical first (``("gs", "gcs")``).
    schemes: ClassVar[tuple[str, ...]] = ()
    #: One line for ``tether plugins``.
    description: ClassVar[str] = ""
    #: True when paths start with a bucket whose options may differ per bucket.
    bucketed: ClassVar[bool] = False
    #: Parallel transfers when the caller does not choose.
    default_workers: ClassVar[int] = 16
    #: Objects larger than this are fetched in parallel ranged parts.
    part_size: ClassVar[int] = 16 * CHUNK
    #: True when :meth:`list` takes ``exclude=`` (a :class:`tether.localtree.Excludes`)
    #: and leaves those files out while listing: not counted against
    #: ``max_objects``, never hashed. Other drivers' results are filtered after.
    lists_with_exclude: ClassVar[bool] = False
    #: The options this driver accepts (:class:`tether.options.Option`): configured
    #: values are checked and converted against them before :meth:`make_filesystem`
    #: sees them, unknown keys refused naming the nearest, secrets masked by
    #: declaration. None: options are passed through unchecked.
    declared_options: ClassVar[tuple[_options.Option, ...] | None] = None
    # Capability flags: what the store behind this driver truly does. The
    # contract suite (:mod:`tether.testing`) reads them: a True flag makes it
    # demand the behaviour; tests needing a capability a driver lacks are not
    # collected for it. Defaults describe a plain writable, listable store.
    #: Core may write here: catalog primitives, uploads (False: read-only, e.g. HTTP).
    writable: ClassVar[bool] = True
    #: A prefix (or glob) can be listed (False: a URI names exactly one object).
    lists_prefixes: ClassVar[bool] = True
    #: Reads pin the recorded object version where the store keeps versions, so
    #: an overwritten or deleted object still downloads; a gone version is a
    #: :class:`~tether.errors.VersionGoneError`.
    supports_versions: ClassVar[bool] = False
    #: How a URI names one version (``"{uri}?versionId={version}"``); None: it cannot.
    version_uri_format: ClassVar[str | None] = None
    #: Reads are conditioned on the recorded ETag (or generation) even without
    #: versions: a changed object, same size or not, is a
    #: :class:`~tether.errors.DriftError` on the first read, never retried.
    pins_by_etag: ClassVar[bool] = False
    #: :meth:`write_bytes_if_match` is the store's own compare-and-swap, so writers
    #: in separate processes (machines) have exactly one winner. False: the
    #: in-process fallback, safe only for writers sharing one process.
    conditional_overwrite: ClassVar[bool] = False
    #: A listing (or HEAD) carries a checksum tether can verify (MD5, CRC32C), so
    #: logging reads no object bytes. False: :meth:`enrich` reads each object once.
    lists_checksums: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _translate_operations(cls)

    def __init__(self, scheme: str | None = None) -> None:
        self.scheme = scheme or self.schemes[0]
        self._fs_cache: dict[tuple[str | None, int], AbstractFileSystem] = {}
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- to implement
    def make_filesystem(self, bucket: str | None, options: dict[str, Any]) -> AbstractFileSystem:
        """Build the fsspec filesystem for ``bucket`` with the configured ``options``.

        Import the fsspec backend here, not at module level, so ``import tether``
        stays light."""
        raise NotImplementedError

    # ----------------------------------------------------------------------- URIs
    @property
    def canonical_scheme(self) -> str:
        return self.schemes[0]

    def path_of(self, uri: str) -> str:
        """The driver path of a URI: everything after ``scheme://``, raw."""
        scheme, rest = split_scheme(uri)
        if scheme is None or scheme not in self.schemes:
            raise InvalidURIError(f"{redact(uri)!r} is not a {self.canonical_scheme}:// URI")
        if self.bucketed and (not rest or rest.startswith("/")):
            raise InvalidURIError(f"{redact(uri)!r} names no bucket")
        if self.bucketed and has_userinfo(uri):  # never sent to a store, nor echoed as a bucket name
            raise InvalidURIError(
                f"{redact(uri)!r}: credentials in {self.canonical_scheme}:// URIs are not supported; set them "
                f"with tether.configure(), TETHER_{self.canonical_scheme.upper()}_* or config.toml")
        return rest

    def uri_of(self, path: str) -> str:
        return f"{self.canonical_scheme}://{path}"

    def fs_path(self, path: str) -> str:
        """The path to hand to the fsspec filesystem (``memory`` wants a leading /)."""
        return path

    def from_fs_path(self, name: str) -> str:
        """Inverse of :meth:`fs_path`: a name from an fsspec listing back to a driver path."""
        return name

    def bucket_of(self, path: str) -> str | None:
        return path.split("/", 1)[0] if self.bucketed else None

    def fs(self, path: str = "") -> AbstractFileSystem:
        """The (cached) filesystem for ``path``'s bucket under the current config."""
        bucket = self.bucket_of(path) if path else None
        key = (bucket, config.generation())
        with self._lock:
            fs = self._fs_cache.get(key)
            if fs is None:
                fs = self.make_filesystem(bucket, self.configured_options(bucket))
                self._fs_cache[key] = fs
        return fs

    def configured_options(self, bucket: str | None = None) -> dict[str, Any]:
        """The merged options for ``bucket``, validated against :attr:`declared_options`."""
        values = config.driver_options(self.canonical_scheme, bucket)
        if self.declared_options is None:
            return values
        return _options.validate(self.canonical_scheme, bucket, values, self.declared_options)

    @contextmanager
    def translating(self, uri: str, *, asset: Asset | None = None, create: bool = False) -> Iterator[None]:
        """Run backend calls inside; any exception leaves as the tether error
        :meth:`translate_error` maps it to, naming ``uri`` (or ``asset``).

        The one place a driver's client exceptions become tether errors: callers
        catch the typed result (``except ObjectNotFoundError: return None``)."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - becomes a tether error naming the URI
            raise self.translate_error(exc, uri, asset=asset, create=create) from None

    def translate_error(self, exc: BaseException, uri: str, *, asset: Asset | None = None,
                        create: bool = False) -> BaseException:
        """Map a backend exception to a :mod:`tether.errors` type naming ``uri``.

        Drivers override this with what their client raises (S3 error codes,
        GCS HTTP statuses); the default knows the builtin ``OSError`` family."""
        if isinstance(exc, TetherError):
            return exc
        where = f"asset {asset.logical_path!r} ({redact(uri)})" if asset else redact(uri)
        if isinstance(exc, FileExistsError) and create:
            return AlreadyExistsError(f"{where} already exists")
        if isinstance(exc, FileNotFoundError):
            return ObjectNotFoundError(f"{where}: no such object")
        if isinstance(exc, PermissionError):
            return AccessDeniedError(f"{where}: access denied")
        if isinstance(exc, OSError):
            return StorageError(f"{where}: {type(exc).__name__}: {exc}")
        return exc

    # ------------------------------------------------------------------ objects
    def object_from_info(self, info: dict[str, Any]) -> RemoteObject:
        """Turn one fsspec ``info``/listing row into a :class:`RemoteObject`."""
        path = self.from_fs_path(info["name"])
        sums = {}
        for kind in ("sha256", "md5", "crc32c"):
            if isinstance(info.get(kind), str):
                sums[kind] = info[kind]
        modified = info.get("LastModified") or info.get("updated") or info.get("mtime") or info.get("created")
        return RemoteObject(uri=self.uri_of(path), path=path, size=int(info.get("size") or 0), checksums=sums,
                            version_id=info.get("version_id"), last_modified=iso_time(modified))

    def enrich(self, objects: list[RemoteObject]) -> list[RemoteObject]:
        """Add checksums a listing does not carry.

        The generic rule: an object whose listing row has no verifiable checksum
        is read once and its sha256 recorded, so every download can be
        verified. Drivers whose listings carry checksums (S3, GCS) or that
        cache hashes (local) override this. Returns one object per input, in
        the same order (callers pair them up by position)."""
        todo = [i for i, o in enumerate(objects)
                if verification_strength(o.checksums, o.part_size) == SIZE_ONLY]
        if not todo:
            return objects
        out = list(objects)

        def one(i: int) -> None:
            o = objects[i]
            sums = dict(o.checksums)
            sums.update(operations.checksum(self, o.uri))
            out[i] = attrs.evolve(o, checksums=sums)

        parallel_map(one, todo, self.default_workers)
        return out

    # ------------------------------------------------------------------ operations
    def resolve(self, uri: str, *, max_objects: int = DEFAULT_MAX_OBJECTS,
                glob: bool | None = None, exclude: Any = None) -> Resolution:
        """Resolve ``uri`` to the objects it names.

        A URI containing ``*`` (or ``glob=True``) is a glob. Otherwise it is the
        object of that exact name when one exists, else the prefix ``uri + "/"``:
        prefixes match on ``/`` boundaries only, so ``data`` never picks up
        ``data2/x``. ``max_objects`` is a hard cap: exceeding it raises
        :class:`TooManyObjectsError` with the count found, never truncates.
        ``exclude`` is handed to :meth:`list` (drivers with ``lists_with_exclude``).
        """
        path = self.path_of(uri)
        leave_out = {} if exclude is None else {"exclude": exclude}
        if glob is None:
            glob = any(c in path for c in GLOB_CHARS)
        if glob:
            objs = self.glob(path, max_objects=max_objects, **leave_out)
            base = path.split("*", 1)[0].rsplit("/", 1)[0]
            return Resolution("glob", base + "/" if base else "", tuple(self.enrich(objs)))
        if not path.endswith("/"):
            obj = self.stat_path(path)
            if obj is not None:
                return Resolution("object", path, tuple(self.enrich([obj])))
        prefix = path if path.endswith("/") else path + "/"
        objs = operations.list_objects(self, self.uri_of(prefix), max_objects=max_objects, **leave_out)
        if not objs:
            raise ObjectNotFoundError(f"no object or prefix at {redact(uri)}")
        return Resolution("prefix", prefix, tuple(self.enrich(objs)))

    def list(self, uri: str, *, max_objects: int = DEFAULT_MAX_OBJECTS) -> list[RemoteObject]:
        """Every object under the prefix ``uri`` (which ends in ``/``), recursively.

        Folder markers (keys ending in ``/``) are not objects. Sorted by path."""
        prefix = self.path_of(uri)
        fs = self.fs(prefix)
        try:
            found = fs.find(self.fs_path(prefix.rstrip("/")), detail=True, withdirs=False)
        except FileNotFoundError:
            return []
        out = []
        for info in found.values():
            if info.get("type") == "directory":
                continue
            obj = self.object_from_info(info)
            if not obj.path.startswith(prefix) or obj.path.endswith("/"):
                continue  # the boundary rule, enforced whatever the backend returns
            out.append(obj)
        advance("listing", len(out), "objects")
        check_cap(len(out), max_objects, uri)
        out.sort(key=lambda o: o.path)
        return out

    def glob(self, pattern: str, *, max_objects: int = DEFAULT_MAX_OBJECTS,
             exclude: Any = None) -> list[RemoteObject]:
        """Objects matching ``pattern``: ``*`` stays within one folder, ``**``
        crosses folders. Costs one listing of the pattern's fixed leading folder."""
        static = pattern.split("*", 1)[0]
        base = static.rsplit("/", 1)[0] + "/" if "/" in static else ""
        rx = glob_regex(pattern)
        listed = operations.list_objects(self, self.uri_of(base), max_objects=sys.maxsize, exclude=exclude)
        out = [o for o in listed if rx.fullmatch(o.path)]
        check_cap(len(out), max_objects, self.uri_of(pattern))
        return out

    def stat_path(self, path: str) -> RemoteObject | None:
        """The object at exactly ``path``, or None when there is none (it may be a prefix)."""
        fs = self.fs(path)
        try:
            info = fs.info(self.fs_path(path))
        except FileNotFoundError:
            return None
        if info.get("type") == "directory":
            return None
        return self.object_from_info(info)

    def stat(self, uri: str) -> RemoteObject:
        """One object, with the checksums :meth:`enrich` adds."""
        return self.enrich([self._stat_raw(uri)])[0]

    def checksum(self, uri: str, kinds: Iterable[str] = ("sha256",)) -> dict[str, str]:
        """Compute checksums of the object's current bytes by streaming them,
        part by part through :meth:`read_range` (so drivers override only that)."""
        obj = self._stat_raw(uri)  # not stat(): enrich() may call checksum() itself
        asset = Asset.from_object("checksum", obj)
        h = MultiHasher(kinds)
        for start in range(0, obj.size, self.part_size):
            h.update(self.read_range(asset, start, min(obj.size, start + self.part_size)))
        return h.digests()

    def _stat_raw(self, uri: str) -> RemoteObject:
        obj = self.stat_path(self.path_of(uri))
        if obj is None:
            raise ObjectNotFoundError(f"no object at {redact(uri)}")
        return obj

    def read_range(self, asset: Asset, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of exactly the recorded object version.

        Raise :class:`~tether.errors.DriftError` when the store can tell the
        object changed, :class:`~tether.errors.VersionGoneError` when the
        recorded version is gone."""
        assert asset.uri is not None
        path = self.path_of(asset.uri)
        try:
            return self.fs(path).cat_file(self.fs_path(path), start=start, end=end)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"asset {asset.logical_path!r}: {redact(asset.uri)} no longer exists") from None

    def upload(self, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
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

    def holds(self, obj: RemoteObject, local_path: str, *, sha256: str) -> bool:
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

    def remove_stale_uploads(self, folder_uri: str) -> int:
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

    # ------------------------------------------------------- catalog primitives
    def read_bytes(self, uri: str) -> bytes:
        path = self.path_of(uri)
        try:
            return self.fs(path).cat_file(self.fs_path(path))
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object at {redact(uri)}") from None

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
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
    def read_bytes_versioned(self, uri: str) -> tuple[bytes, str]:
        """The object's bytes and a token naming this state of it (an ETag, a
        generation, a content hash), for :meth:`write_bytes_if_match`."""
        data = self.read_bytes(uri)
        return data, content_token(data)

    def write_bytes_if_match(self, uri: str, data: bytes, token: str) -> str:
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

    def exists(self, uri: str) -> bool:
        path = self.path_of(uri)
        return self.stat_path(path) is not None

    def list_names(self, uri: str) -> list[str]:
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

    def delete(self, uri: str) -> None:
        path = self.path_of(uri)
        try:
            self.fs(path).rm_file(self.fs_path(path))
        except FileNotFoundError:
            pass


    # ------------------------------------------- lifecycle (optional, for gc, check, holds)
    def inventory(self, uri: str) -> list[StoredObject]:
        """Every object under the prefix ``uri`` as stored: hidden and staged
        names included, every version on a versioned store, no checksums
        computed. What ``tether gc`` lists; unlike :meth:`list` it never reads
        an object. This default walks the fsspec filesystem."""
        prefix = self.path_of(uri)
        fs = self.fs(prefix)
        try:
            found = fs.find(self.fs_path(prefix.rstrip("/")), detail=True, withdirs=False)
        except FileNotFoundError:
            return []
        out = []
        for info in found.values():
            path = self.from_fs_path(info["name"])
            if info.get("type") == "directory" or not path.startswith(prefix):
                continue
            modified = info.get("mtime") or info.get("LastModified") or info.get("updated") or info.get("created")
            out.append(StoredObject(self.uri_of(path), path, int(info.get("size") or 0), epoch_of(modified)))
        return sorted(out, key=lambda o: o.path)

    def delete_exact(self, obj: StoredObject) -> None:
        """Delete exactly ``obj`` (that version of it, on a versioned store).
        Stores with versions override this; the default deletes the name."""
        self.delete(obj.uri)

    def stat_version(self, asset: Asset) -> RemoteObject | None:
        """The recorded version of ``asset`` as the store describes it now
        (size, checksums), from metadata alone: one HEAD, no byte read. None
        when it is gone. This default states the name (stores without
        versions); drivers that can address a version override it."""
        assert asset.uri is not None
        return self.stat_path(self.path_of(asset.uri))

    def reference_risks(self, uris: Iterable[str]) -> list[RiskReport]:
        """Whether the store keeps the objects ``uris`` name: one report per
        bucket (or per store). Object stores override this with what their
        bucket settings say (versioning, lifecycle rules); this default knows
        nothing, so everything is ``unchecked``, never ``ok``."""
        scopes = sorted({self.uri_of(f"{self.bucket_of(self.path_of(u))}/") if self.bucketed
                         else f"{self.canonical_scheme}://" for u in uris})
        return [RiskReport(redact(s), reason=f"tether cannot read how long {self.canonical_scheme}:// keeps "
                           "objects (no versions are kept unless the store says so)", inspectable=False)
                for s in scopes]

    def set_hold(self, asset: Asset, on: bool) -> None:
        """Place (``on=True``) or release a hold on exactly the recorded version
        of ``asset``, so the store refuses to delete it. Stores that can hold
        (S3 Object Lock legal holds, GCS temporary holds) override this."""
        raise HoldNotSupportedError(f"{redact(asset.uri or asset.link)}: {self.canonical_scheme}:// "
                                    "stores cannot hold objects")


_FALLBACK_LOCK = threading.Lock()

#: The public operations whose errors are translated whatever class defines
#: them, and how to find the URI to name: the argument's position (after self)
#: and how to turn it into a URI.
_TRANSLATED: dict[str, tuple[int, str]] = {
    "resolve": (0, "uri"), "list": (0, "uri"), "stat": (0, "uri"), "checksum": (0, "uri"),
    "exists": (0, "uri"), "read_bytes": (0, "uri"), "write_bytes": (0, "uri"), "list_names": (0, "uri"),
    "delete": (0, "uri"), "read_bytes_versioned": (0, "uri"), "write_bytes_if_match": (0, "uri"),
    "remove_stale_uploads": (0, "uri"), "upload": (1, "uri"), "stat_path": (0, "path"),
    "glob": (0, "path"), "read_range": (0, "asset"), "holds": (0, "object"), "enrich": (-1, ""),
}


def _translate_operations(cls: type) -> None:
    """Wrap each public operation ``cls`` itself defines so that any exception
    leaves as :meth:`Driver.translate_error` maps it, naming the URI.

    Done per class at definition time (``__init_subclass__``), so an operation
    a driver overrides without remembering ``translating()`` is translated all
    the same, and inherited ones are already wrapped where they were defined.
    Tether errors pass unchanged (``translate_error`` returns them)."""
    import functools

    for name, (pos, kind) in _TRANSLATED.items():
        fn = cls.__dict__.get(name)
        if fn is None or not callable(fn) or getattr(fn, "__tether_translated__", False):
            continue

        def make(fn: Any, pos: int, kind: str) -> Any:
            @functools.wraps(fn)
            def op(self: Driver, *args: Any, **kwargs: Any) -> Any:
                try:
                    return fn(self, *args, **kwargs)
                except TetherError:
                    raise
                except Exception as exc:
                    where = args[pos] if 0 <= pos < len(args) else kwargs.get(
                        {"uri": "uri", "path": "path", "asset": "asset", "object": "obj"}.get(kind, ""))
                    err = self.translate_error(exc, _named_uri(self, where, kind),
                                               asset=where if kind == "asset" else None,
                                               create=bool(kwargs.get("if_absent")))
                    if err is exc:
                        raise
                    raise err from None
            op.__tether_translated__ = True  # type: ignore[attr-defined]
            return op

        setattr(cls, name, make(fn, pos, kind))


def _named_uri(driver: Driver, value: Any, kind: str) -> str:
    if value is None:
        return f"{driver.canonical_scheme}://"
    if kind == "path" and isinstance(value, str):
        return driver.uri_of(value)
    if kind in ("asset", "object"):
        return str(getattr(value, "uri", None) or f"{driver.canonical_scheme}://")
    return str(value)


_translate_operations(Driver)


def content_token(data: bytes) -> str:
    """The token of a conditional overwrite where the store has none: a content hash.

    Equal bytes give equal tokens, so a write over content that changed and
    changed back succeeds; harmless for read-modify-write, which only needs
    the state it read to be the state it replaces."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def folder_prefix(key: str) -> str:
    """``key`` as a folder prefix ending in ``/``; ``""`` for the bucket's root."""
    return key.rstrip("/") + "/" if key.strip("/") else ""


def check_cap(count: int, max_objects: int, uri: str) -> None:
    if count > max_objects:
        raise too_many(count, max_objects, uri, complete=True)


def too_many(count: int, max_objects: int, uri: str, *, complete: bool = False) -> TooManyObjectsError:
    """The error of a prefix over the ``max_objects`` cap. ``complete=False``: the
    listing stopped at ``count`` (there may be more), as soon as the cap was passed."""
    held = f"{count}" if complete else f"at least {count}"
    return TooManyObjectsError(
        f"{redact(uri)} holds {held} objects, more than max_objects={max_objects} (the default is "
        f"{DEFAULT_MAX_OBJECTS}); nothing was recorded. Raise the cap with add_remote(uri, max_objects=N), "
        "Artifact(..., max_objects=N) or `tether log --max-objects N`, or narrow the prefix")


def glob_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts), re.DOTALL)


def local_abspath(path: str) -> str:
    return os.path.abspath(os.path.expanduser(path))
