"""tether-s3: the S3 driver (``s3://``, ``s3a://``), a thin adapter over s3fs.

An :class:`tether.objectstore.ObjectStoreDriver`: it supplies the store calls
(list_page, head, get_range, put, get_with_token, put_if_match, delete_key)
and keeps its own concurrent :meth:`S3Driver.list` and part-size ``enrich``.

s3fs provides the session: credentials (environment, profiles, instance
roles), endpoint, retries, the event loop. tether calls the S3 API through
``S3FileSystem._call_s3`` with explicit ``Bucket``/``Key`` so keys containing
``?``, ``#`` or ``%`` are never re-parsed as paths, and so it can use what
s3fs's file API does not expose:

* one paginated ListObjectsV2 (1,000 keys a page) per prefix, or
  ListObjectVersions on a versioned bucket so every version id comes from the
  listing itself;
* GetObject pinned to the recorded ``VersionId``, else conditioned on the
  recorded ETag (``If-Match``) so a changed object is a drift error;
* PutObject with ``If-None-Match: *`` for the catalog's version claims, and
  with ``If-Match: <ETag>`` for the conditional overwrite of run records;
* uploads checked by S3 itself (``ChecksumSHA256`` on every PUT and part) and
  visible only once they are the hashed bytes (:mod:`tether_s3.uploads`).
* HeadObject with ``PartNumber=1`` for objects uploaded in parts: the part
  size that makes their multipart ETag verifiable (see :meth:`S3Driver.enrich`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import attrs
from tether import hookimpl
from tether.driverkit import (
    DEFAULT_MAX_OBJECTS,
    Driver,
    Resolution,
    RiskReport,
    StoredObject,
    b64_to_hex,
    gc_paused,
    iso_time,
    multipart_parts,
    parallel_map,
    redact,
    too_many,
    uniform_part_size,
)
from tether.errors import (
    AccessDeniedError,
    InvalidURIError,
    ObjectNotFoundError,
    StorageError,
)
from tether.models import Asset, RemoteObject
from tether.objectstore import ListPage, ObjectStoreDriver
from tether.options import Option

# Split out by concern; their names stay importable from here (lifecycle and uploads use _error_code).
from .errors import _UNSUPPORTED, _error_code, _translate  # noqa: F401
from .facts import _UNKNOWN, BucketFacts  # noqa: F401
from .session import s3_filesystem

__all__ = ["S3Driver"]

_VERSION_PIN_RE = re.compile(r"^(?P<path>.+)\?versionId=(?P<vid>[^/?&#]+)$")

#: Options tether understands for s3 (``tether.configure("s3", ...)``,
#: ``TETHER_S3_<OPTION>`` or ``[s3]`` in config.toml).
OPTIONS = {
    "endpoint_url", "region", "profile", "addressing_style", "max_attempts", "connect_timeout",
    "read_timeout", "verify", "anon", "key", "secret", "token", "requester_pays",
    "max_pool_connections", "additional_checksums",
}
_ADDITIONAL = {"ChecksumSHA256": "sha256", "ChecksumSHA1": "sha1", "ChecksumCRC32C": "crc32c",
               "ChecksumCRC32": "crc32", "ChecksumCRC64NVME": "crc64nvme"}


def _etag(raw: str | None) -> str | None:
    return raw.strip('"') if raw else None


class S3Driver(BucketFacts, ObjectStoreDriver):
    schemes = ("s3", "s3a")
    supports_versions, version_uri_format = True, "{uri}?versionId={version}"  # where the bucket keeps versions
    pins_by_etag = conditional_overwrite = lists_checksums = True  # If-Match-style reads and writes
    description = "Amazon S3 and S3-compatible object stores, over s3fs"
    bucketed = True
    default_workers = 32
    part_size = 16 * 1024 * 1024

    declared_options = (
        Option("endpoint_url", str, help="S3-compatible endpoint (MinIO, R2, moto ...)"),
        Option("region", str, help="AWS region"),
        Option("profile", str, help="AWS shared-config profile"),
        Option("addressing_style", str, choices=("auto", "virtual", "path"), help="bucket addressing"),
        Option("max_attempts", int, 5, minimum=1,
               help="attempts per request, the first included (AWS config's max_attempts; 1: no retries)"),
        Option("connect_timeout", float, minimum=0.0, help="seconds"),
        Option("read_timeout", float, minimum=0.0, help="seconds"),
        Option("verify", object, help="TLS verification: true/false or a CA bundle path"),
        Option("anon", bool, False, help="unsigned requests (public buckets)"),
        Option("key", str, secret=True, help="access key id"),
        Option("secret", str, secret=True, help="secret access key"),
        Option("token", str, secret=True, help="session token"),
        Option("requester_pays", bool, False, help="send x-amz-request-payer"),
        Option("max_pool_connections", int, 64, minimum=1, help="HTTP connections per client"),
        Option("additional_checksums", bool, False, help="read SHA256/CRC checksums with one HEAD per object"),
    )

    def __init__(self, scheme: str | None = None) -> None:
        super().__init__(scheme)
        self._bucket_facts: dict[tuple[str, str], Any] = {}
        self._facts_lock = threading.Lock()

    # ---------------------------------------------------------------- session
    def make_filesystem(self, bucket: str | None, options: dict[str, Any]):
        """An s3fs filesystem for ``bucket``. Every option is converted to its type
        here, so a mistake (``max_attempts = "x"``, ``endpoint_url = 5``) is a
        ConfigError naming where it was set, not a TypeError from inside botocore."""
        return s3_filesystem(bucket, options)

    def _call(self, bucket: str, method: str, **kw: Any) -> Any:
        from fsspec.asyn import sync

        fs = self.fs(bucket)
        return sync(fs.loop, fs._call_s3, method, Bucket=bucket, **kw)

    def _get_bytes(self, bucket: str, **kw: Any) -> bytes:
        from fsspec.asyn import sync

        fs = self.fs(bucket)

        async def go() -> bytes:
            resp = await fs._call_s3("get_object", Bucket=bucket, **kw)
            body = resp["Body"]
            try:
                return await body.read()
            finally:
                body.close()

        return sync(fs.loop, go)

    def _pages(self, bucket: str, op: str, **kw: Any) -> Iterator[dict[str, Any]]:
        """Every page of ListObjectsV2 or ListObjectVersions, 1,000 keys a page."""
        kw.setdefault("MaxKeys", 1000)
        while True:
            resp = self._call(bucket, op, **kw)
            yield resp
            if not resp.get("IsTruncated"):
                return
            if op == "list_object_versions":
                kw["KeyMarker"], kw["VersionIdMarker"] = resp.get("NextKeyMarker"), resp.get("NextVersionIdMarker")
            else:
                kw["ContinuationToken"] = resp["NextContinuationToken"]

    # ---------------------------------------------------------------- objects
    def _object(self, bucket: str, key: str, *, size: int, etag: str | None, version_id: str | None,
                modified: Any, extra: dict[str, str] | None = None, sse: str | None = None) -> RemoteObject:
        sums: dict[str, str] = {}
        if etag:
            sums["etag"] = etag
            if "-" not in etag and re.fullmatch(r"[0-9a-f]{32}", etag) and self.etag_is_md5(bucket) \
                    and not (sse and "kms" in sse):
                sums["md5"] = etag
        sums.update(extra or {})
        path = f"{bucket}/{key}"
        return RemoteObject(uri=self.uri_of(path), path=path, size=int(size), checksums=sums,
                            version_id=version_id, last_modified=iso_time(modified))

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> RemoteObject | None:
        """HeadObject with ``ChecksumMode=ENABLED`` (the additional checksums too)."""
        kw: dict[str, Any] = {"Key": key, "ChecksumMode": "ENABLED"}
        if version_id:
            kw["VersionId"] = version_id
        try:
            with self.translating(self.uri_of(f"{bucket}/{key}")):
                resp = self._call(bucket, "head_object", **kw)
        except ObjectNotFoundError:  # VersionGoneError too
            return None
        extra = {}
        etag = _etag(resp.get("ETag")) or ""
        # A multipart object's checksum is a checksum of part checksums unless S3
        # says FULL_OBJECT; some servers (moto) omit ChecksumType, so a multipart
        # object without it is not trusted to carry a whole-object checksum.
        full_object = resp.get("ChecksumType") == "FULL_OBJECT" or (
            "-" not in etag and resp.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT")
        if full_object:
            for field, kind in _ADDITIONAL.items():
                value = resp.get(field)
                if value and "-" not in value:
                    extra[kind] = b64_to_hex(value)
        vid = resp.get("VersionId")
        return self._object(bucket, key, size=resp.get("ContentLength", 0), etag=_etag(resp.get("ETag")),
                            version_id=vid if vid and (version_id or self.versioned(bucket)) else None,
                            modified=resp.get("LastModified"), extra=extra,
                            sse=resp.get("ServerSideEncryption"))

    def version_pin(self, key: str) -> tuple[str, str] | None:
        m = _VERSION_PIN_RE.match(key)
        return (m.group("path"), m.group("vid")) if m else None

    def resolve(self, uri: str, *, max_objects: int = 10_000, glob: bool | None = None) -> Resolution:
        bucket = self.split(self.path_of(uri))[0]
        if not bucket or not re.fullmatch(r"[a-z0-9][a-z0-9.\-_]{1,254}", bucket):
            shown = redact(uri)
            raise InvalidURIError(f"{shown!r}: invalid bucket name {self.split(shown.split('://', 1)[-1])[0]!r}")
        return super().resolve(uri, max_objects=max_objects, glob=glob)

    def _part_size(self, o: RemoteObject) -> int | None:
        """The part size of a multipart object, from one HeadObject with
        ``PartNumber=1`` (its ContentLength and PartsCount); None when the
        store does not say or the parts are not all that size.

        Not conditioned on the ETag (moto answers a part HEAD with the part's
        own ETag): a layout read from a newer object can only make
        verification fail, since the recorded ETag is what is compared."""
        parts = multipart_parts(o.checksums.get("etag"))
        if parts is None:
            return None
        bucket, key = self.split(o.path)
        kw: dict[str, Any] = {"Key": key, "PartNumber": 1}
        if o.version_id:
            kw["VersionId"] = o.version_id
        try:
            with self.translating(o.uri):
                resp = self._call(bucket, "head_object", **kw)
        except (StorageError, AccessDeniedError):
            return None  # shown as size-only, never a failed log
        if resp.get("PartsCount") != parts:
            return None  # a store that ignores PartNumber answers for the whole object
        return uniform_part_size(o.size, parts, int(resp.get("ContentLength") or 0))

    def enrich(self, objects: list[RemoteObject]) -> list[RemoteObject]:
        """Listings carry ETags. Objects uploaded in parts (ETag ``<md5>-<n>``)
        cost one HEAD each, in parallel, for the part size their ETag is
        verified with; single-part objects cost nothing. Additional checksums
        (SHA256, CRC32C ...) cost a HEAD per object, so they are fetched only
        with ``additional_checksums=true``. No byte is read."""
        if not objects:
            return objects
        bucket = self.split(objects[0].path)[0]
        if self.configured_options(bucket).get("additional_checksums", False):
            def one(o: RemoteObject) -> RemoteObject:
                if any(k in o.checksums for k in ("sha256", "crc32c", "sha1")):
                    return o
                b, k = self.split(o.path)
                fresh = self.head(b, k, version_id=o.version_id)
                return fresh or o

            objects = parallel_map(one, objects, self.default_workers)
        multipart = [i for i, o in enumerate(objects)
                     if o.part_size is None and multipart_parts(o.checksums.get("etag")) is not None]
        if not multipart:
            return objects
        sizes = parallel_map(lambda i: self._part_size(objects[i]), multipart, self.default_workers)
        out = list(objects)
        for i, part_size in zip(multipart, sizes):
            if part_size is not None:
                out[i] = attrs.evolve(out[i], part_size=part_size)
        return out

    def list_page(self, bucket: str, prefix: str, *, delimiter: str | None, token: str | None) -> ListPage:
        """One ListObjectVersions page (latest versions, with their ids) on a
        versioned bucket, else one ListObjectsV2 page; a delimited listing
        (names only) is always ListObjectsV2. :meth:`list` does not page
        through this: it lists concurrently (:mod:`tether_s3.listing`)."""
        from .listing import page_from_parsed

        versions = delimiter is None and self.versioned(bucket)
        op, method = ("ListObjectVersions", "list_object_versions") if versions else \
            ("ListObjectsV2", "list_objects_v2")
        kw: dict[str, Any] = {"Prefix": prefix, "MaxKeys": 1000, **(json.loads(token) if token else {})}
        if delimiter:
            kw["Delimiter"] = delimiter
        page = page_from_parsed(self._call(bucket, method, **kw), op)
        objects = tuple(self._object(bucket, key, size=size, etag=_etag(etag), version_id=vid, modified=modified)
                        for key, size, etag, vid, modified in page.rows)
        nxt = json.dumps(page.next) if page.truncated and page.next else None
        return ListPage(objects, tuple(page.prefixes), nxt)

    def list(self, uri: str, *, max_objects: int = DEFAULT_MAX_OBJECTS) -> list[RemoteObject]:
        """Every object under the prefix, with ListObjectVersions on versioned buckets
        (the live version of each key, with its id), else ListObjectsV2: sub-folders
        listed concurrently, pages parsed by tether (see :mod:`tether_s3.listing`).
        Sorted by key, as one paginator returns them."""
        from fsspec.asyn import sync

        from .listing import Lister

        bucket, prefix = self.split(self.path_of(uri))
        with self.translating(uri):
            versioned = self.versioned(bucket)
            fs = self.fs(bucket)
            lister = Lister(fs, bucket, versioned, max_objects, lambda n: too_many(n, max_objects, uri))
            rows = sync(fs.loop, lister.run, prefix)
        rows.sort()
        obj = self._object
        with gc_paused():  # one object per row, none cyclic
            return [obj(bucket, key, size=size, etag=_etag(etag), version_id=vid, modified=modified)
                    for key, size, etag, vid, modified in rows]

    # ------------------------------------------------------------ store calls
    def get_range(self, bucket: str, key: str, start: int, end: int, *, version_id: str | None = None,
                  etag: str | None = None) -> bytes:
        """GetObject with a Range, pinned to the VersionId, else ``If-Match`` on the ETag."""
        kw: dict[str, Any] = {"Key": key, "Range": f"bytes={start}-{end - 1}"}
        if version_id:
            kw["VersionId"] = version_id
        elif etag:
            kw["IfMatch"] = f'"{etag}"'
        return self._get_bytes(bucket, **kw)

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool) -> str:
        """PutObject; ``If-None-Match: *`` for create-if-absent (S3 answers 412 when taken)."""
        kw: dict[str, Any] = {"Key": key, "Body": data}
        if if_absent:
            kw["IfNoneMatch"] = "*"
        return str(self._call(bucket, "put_object", **kw).get("ETag"))

    def get_with_token(self, bucket: str, key: str) -> tuple[bytes, str]:
        """The bytes and the ETag of the same GetObject (one request)."""
        from fsspec.asyn import sync

        fs = self.fs(bucket)

        async def go() -> tuple[bytes, str]:
            resp = await fs._call_s3("get_object", Bucket=bucket, Key=key)
            body = resp["Body"]
            try:
                return await body.read(), resp["ETag"]
            finally:
                body.close()

        return sync(fs.loop, go)

    def put_if_match(self, bucket: str, key: str, data: bytes, token: str) -> str:
        """PutObject with ``If-Match: <ETag>``: S3 answers 412 when the object
        changed since it was read, 404 when it is gone."""
        return str(self._call(bucket, "put_object", Key=key, Body=data, IfMatch=token)["ETag"])

    def delete_key(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        kw: dict[str, Any] = {"Key": key}
        if version_id:
            kw["VersionId"] = version_id
        self._call(bucket, "delete_object", **kw)

    # ---------------------------------------------------------------- transfer
    def upload(self, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
        """PutObject with ChecksumSHA256, or a SHA256-checked multipart upload
        completed only once everything read is the hashed file (see :mod:`.uploads`)."""
        from . import uploads

        return uploads.upload(self, local_path, uri, sha256)

    def holds(self, obj: RemoteObject, local_path: str, *, sha256: str) -> bool:
        from . import uploads

        return uploads.holds(self, obj, local_path, sha256)

    def remove_stale_uploads(self, folder_uri: str) -> int:
        from . import uploads

        return uploads.remove_stale_uploads(self, folder_uri)

    # Errors of every call are mapped here.
    translate_error = staticmethod(_translate)

    # ------------------------------------------- lifecycle (gc, check, insurance, holds)
    def inventory(self, uri: str) -> list[StoredObject]:
        """Every version on a versioned bucket (see :mod:`.lifecycle`)."""
        from . import lifecycle

        return lifecycle.inventory(self, uri)

    def reference_risks(self, uris: Iterable[str]) -> list[RiskReport]:
        """Versioning and lifecycle rules of each bucket, read once per process (see :mod:`.lifecycle`)."""
        from . import lifecycle

        return lifecycle.reference_risks(self, list(uris))

    def set_hold(self, asset: Asset, on: bool) -> None:
        """An Object Lock legal hold on the pinned version (see :mod:`.lifecycle`)."""
        from . import lifecycle

        lifecycle.set_hold(self, asset, on)


@hookimpl
def tether_register_drivers() -> list[type[Driver]]:
    return [S3Driver]


from .checksum_kinds import tether_register_checksums  # noqa: F401 - the checksum kind this plugin adds
