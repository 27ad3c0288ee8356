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

This module holds the class itself (URIs, the filesystem cache, options,
error translation hooks, listing, resolving and reading); the upload defaults,
the catalog primitives and the lifecycle defaults are mixins in
:mod:`.uploads`, :mod:`.catalog` and :mod:`.lifecycle`, composed here.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .. import config, operations
from .. import options as _options
from ..checksums import CHUNK, SIZE_ONLY, MultiHasher, verification_strength
from ..errors import (
    AccessDeniedError,
    AlreadyExistsError,
    InvalidURIError,
    ObjectNotFoundError,
    StorageError,
    TetherError,
)
from ..models import Asset, RemoteObject
from ..parallel import parallel_map
from ..progress import advance
from ..rows import ObjectRows
from ..uris import has_userinfo, redact, split_scheme
from .catalog import CatalogMixin
from .lifecycle import LifecycleMixin
from .limits import DEFAULT_MAX_OBJECTS, check_cap
from .names import GLOB_CHARS, glob_regex
from .times import iso_time
from .translation import translate_operations
from .uploads import UploadMixin

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


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



def settled(objects: Sequence[RemoteObject]) -> Sequence[RemoteObject]:
    """The objects a resolution holds: a tuple, except a listing that is already
    an immutable lazy sequence (:class:`~tether.rows.ObjectRows`), kept as it is
    because a tuple would build every object of a folder nobody reads."""
    return objects if isinstance(objects, ObjectRows) else tuple(objects)


class Driver(UploadMixin, CatalogMixin, LifecycleMixin):
    """Base class of every storage driver. Subclass it and register the class
    through the ``tether_register_drivers`` hook."""

    #: URI schemes served, canonical first (``("gs", "gcs")``).
    schemes: ClassVar[tuple[str, ...]] = ()
    #: One line for ``tether plugins``.
    description: ClassVar[str] = ""
    #: True when paths start with a bucket whose options may differ per bucket.
    bucketed: ClassVar[bool] = False
    #: True when ``?``, ``#`` and ``;`` in this driver's URIs are part of object
    #: keys (an object store), not a query: :func:`tether.uris.redact` then masks
    #: only userinfo, so a key like ``a?token=x`` is recorded as it is.
    raw_keys: ClassVar[bool] = False
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
        translate_operations(cls)

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
        except TetherError:
            raise  # already ours: an override of translate_error never has to recognise it
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
            return Resolution("glob", base + "/" if base else "", settled(self.enrich(objs)))
        if not path.endswith("/"):
            obj = self.stat_path(path)
            if obj is not None:
                return Resolution("object", path, tuple(self.enrich([obj])))
        prefix = path if path.endswith("/") else path + "/"
        objs = operations.list_objects(self, self.uri_of(prefix), max_objects=max_objects, **leave_out)
        if not objs:
            raise ObjectNotFoundError(f"no object or prefix at {redact(uri)}")
        return Resolution("prefix", prefix, settled(self.enrich(objs)))

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


# The mixins' operations are wrapped where they are defined, like Driver's own,
# so every subclass inherits them translated.
for _cls in (UploadMixin, CatalogMixin, LifecycleMixin, Driver):
    translate_operations(_cls)
del _cls
