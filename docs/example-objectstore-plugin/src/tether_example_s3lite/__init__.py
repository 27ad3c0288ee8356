"""Example object-store driver: S3 (and S3-compatible stores) over plain boto3, ``s3lite://bucket/key``.

The seven store calls of :class:`tether.objectstore.ObjectStoreDriver`, each a
single boto3 request; the base turns them into every tether operation. What
each call must guarantee is in ``docs/plugins.md`` ("Writing an object-store
driver"); the comments here say how S3 meets it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

import tether
from tether.driverkit import StoredObject, config_generation, epoch_of, iso_time, redact
from tether.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    DriftError,
    ObjectNotFoundError,
    PreconditionFailedError,
    StorageError,
    TetherError,
    VersionGoneError,
)
from tether.models import RemoteObject
from tether.objectstore import ListPage, ObjectStoreDriver
from tether.options import Option

_PIN = "?versionId="
_CONFLICT = ("PreconditionFailed", "ConditionalRequestConflict")


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


def _code(exc: BaseException) -> tuple[str, int]:
    """The S3 error code and HTTP status of a botocore ClientError (("", 0) for anything else)."""
    resp = getattr(exc, "response", None) or {}
    return str(resp.get("Error", {}).get("Code", "")), int(resp.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class S3LiteDriver(ObjectStoreDriver):
    schemes = ("s3lite",)
    description = "Amazon S3 and S3-compatible stores over plain boto3"
    # What S3 does, so the contract suite demands it: reads pin the version id
    # (where the bucket keeps versions) or else the ETag (If-Match, the base's
    # pins_by_etag); run records are overwritten with If-Match; listings carry
    # the MD5 of single-part objects.
    supports_versions, version_uri_format = True, "{uri}?versionId={version}"
    conditional_overwrite = lists_checksums = True
    declared_options = (
        Option("endpoint_url", help="S3 endpoint, e.g. http://127.0.0.1:9000"),
        Option("region", default="us-east-1", help="AWS region"),
        Option("key", secret=True, help="access key id (default: the AWS credential chain)"),
        Option("secret", secret=True, help="secret access key"),
        Option("token", secret=True, help="session token"),
        Option("max_pool_connections", type=int, default=32, minimum=1, help="HTTP connections per client"),
    )

    def __init__(self, scheme: str | None = None) -> None:
        super().__init__(scheme)
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._versioned: dict[tuple[Any, ...], bool] = {}
        self._guard = threading.Lock()

    # -- the client ------------------------------------------------------------

    def _client_key(self, bucket: str) -> tuple[Any, ...]:
        opts = self.configured_options(bucket)
        # config_generation() changes on every tether.configure(): a new option set, a new client.
        return (config_generation(), *sorted((k, str(v)) for k, v in opts.items()))

    def client(self, bucket: str) -> Any:
        """One boto3 client per option set (boto3 clients are thread-safe; sessions are not)."""
        key = self._client_key(bucket)
        with self._guard:
            client = self._clients.get(key)
            if client is None:
                import boto3  # lazy: keep `import tether` light
                from botocore.config import Config

                opts = self.configured_options(bucket)
                session = boto3.session.Session(
                    aws_access_key_id=opts.get("key"), aws_secret_access_key=opts.get("secret"),
                    aws_session_token=opts.get("token"), region_name=opts.get("region") or "us-east-1")
                client = session.client("s3", endpoint_url=opts.get("endpoint_url"), config=Config(
                    max_pool_connections=opts.get("max_pool_connections") or 32,
                    retries={"mode": "standard", "max_attempts": 5}, s3={"addressing_style": "path"}))
                self._clients[key] = client
        return client

    def is_versioned(self, bucket: str) -> bool:
        """Whether the bucket keeps versions (asked once per bucket and option set).
        A suspended bucket still holds the versions made while it was enabled."""
        key = (*self._client_key(bucket), bucket)
        if key not in self._versioned:
            status = self.client(bucket).get_bucket_versioning(Bucket=bucket).get("Status")
            self._versioned[key] = status in ("Enabled", "Suspended")
        return self._versioned[key]

    def _object(self, bucket: str, key: str, size: int, etag: str | None, *, version_id: str | None = None,
                last_modified: Any = None, extra: dict[str, str] | None = None) -> RemoteObject:
        checksums: dict[str, str] = {}
        tag = _etag(etag)
        if tag:
            checksums["etag"] = tag
            if "-" not in tag and len(tag) == 32:
                checksums["md5"] = tag  # a single-part ETag is the MD5 (no SSE-KMS on this store)
        checksums.update(extra or {})
        path = f"{bucket}/{key}"
        return RemoteObject(uri=self.uri_of(path), path=path, size=int(size), checksums=checksums,
                            version_id=version_id if version_id not in (None, "null") else None,
                            last_modified=iso_time(last_modified))

    # -- the seven store calls -------------------------------------------------

    def list_page(self, bucket: str, prefix: str, *, delimiter: str | None, token: str | None) -> ListPage:
        client = self.client(bucket)
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            args["Delimiter"] = delimiter
        if self.is_versioned(bucket):  # ListObjectVersions: the only listing that names version ids
            if token:
                args["KeyMarker"], args["VersionIdMarker"] = json.loads(token)
            resp = client.list_object_versions(**args)
            objects = tuple(
                self._object(bucket, v["Key"], v["Size"], v.get("ETag"), version_id=v.get("VersionId"),
                             last_modified=v.get("LastModified"))
                for v in resp.get("Versions", ()) if v.get("IsLatest"))  # a delete marker hides the key
            nxt = (json.dumps([resp["NextKeyMarker"], resp.get("NextVersionIdMarker", "")])
                   if resp.get("IsTruncated") else None)
        else:
            if token:
                args["ContinuationToken"] = token
            resp = client.list_objects_v2(**args)
            objects = tuple(self._object(bucket, o["Key"], o["Size"], o.get("ETag"), last_modified=o.get("LastModified"))
                            for o in resp.get("Contents", ()))
            nxt = resp.get("NextContinuationToken") if resp.get("IsTruncated") else None
        prefixes = tuple(p["Prefix"] for p in resp.get("CommonPrefixes", ()))  # whole keys, ending in "/"
        return ListPage(objects=objects, prefixes=prefixes, next_token=nxt)

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> RemoteObject | None:
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
        if version_id:
            args["VersionId"] = version_id
        try:
            resp = self.client(bucket).head_object(**args)
        except Exception as exc:
            code, status = _code(exc)
            # 405: the version is a delete marker; 400: a malformed id names no version.
            if status in (404, 405) or code in ("NoSuchKey", "NotFound", "NoSuchVersion") or (
                    version_id and status == 400):
                return None
            raise
        extra = {}
        sha = resp.get("ChecksumSHA256")
        if sha and resp.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT" and "-" not in sha:
            extra["sha256"] = base64.b64decode(sha).hex()  # sent by put(): the store checked it
        return self._object(bucket, key, resp["ContentLength"], resp.get("ETag"), version_id=resp.get("VersionId"),
                            last_modified=resp.get("LastModified"), extra=extra)

    def get_range(self, bucket: str, key: str, start: int, end: int, *, version_id: str | None = None,
                  etag: str | None = None) -> bytes:
        args: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            args["VersionId"] = version_id
        elif etag:
            args["IfMatch"] = f'"{etag}"'
        uri = self.uri_of(f"{bucket}/{key}")
        try:
            if end <= start:  # an empty range: still check the object is the recorded one
                resp, data = self.client(bucket).head_object(**args), b""
            else:  # [start, end): HTTP ranges are inclusive
                resp = self.client(bucket).get_object(Range=f"bytes={start}-{end - 1}", **args)
                data = resp["Body"].read()
        except Exception as exc:
            code, status = _code(exc)
            if status == 412:
                raise DriftError(f"{redact(uri)}: the object changed since it was recorded (ETag {etag})") from exc
            if version_id and (status in (400, 404, 405) or code == "NoSuchVersion"):
                raise VersionGoneError(f"{redact(uri)}: version {version_id} is gone") from exc
            raise
        if etag and _etag(resp.get("ETag")) != etag:  # a store that ignored the pin
            raise DriftError(f"{redact(uri)}: the store answered with ETag {_etag(resp.get('ETag'))}, recorded {etag}")
        return data

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool) -> str:
        # The base upload hands over bytes it already checked against the
        # file's sha256; sending the store its own checksum makes S3 refuse
        # bytes damaged on the wire, and head() then lists it.
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data, "ChecksumSHA256": _sha256_b64(data)}
        if if_absent:
            args["IfNoneMatch"] = "*"
        try:
            resp = self.client(bucket).put_object(**args)
        except Exception as exc:
            code, status = _code(exc)
            if if_absent and (status in (409, 412) or code in _CONFLICT):
                raise AlreadyExistsError(f"{redact(self.uri_of(f'{bucket}/{key}'))} already exists") from exc
            raise
        return _etag(resp["ETag"]) or ""

    def get_with_token(self, bucket: str, key: str) -> tuple[bytes, str]:
        resp = self.client(bucket).get_object(Bucket=bucket, Key=key)
        return resp["Body"].read(), _etag(resp["ETag"]) or ""

    def put_if_match(self, bucket: str, key: str, data: bytes, token: str) -> str:
        try:
            resp = self.client(bucket).put_object(Bucket=bucket, Key=key, Body=data, IfMatch=f'"{token}"',
                                                  ChecksumSHA256=_sha256_b64(data))
        except Exception as exc:
            code, status = _code(exc)
            if status in (409, 412) or code in _CONFLICT:  # the base asks whether it is gone
                raise PreconditionFailedError(f"{redact(self.uri_of(f'{bucket}/{key}'))} changed since it was read"
                                              ) from exc
            raise
        return _etag(resp["ETag"]) or ""

    def delete_key(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        args: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            args["VersionId"] = version_id  # exactly that version: gc's delete_exact relies on it
        self.client(bucket).delete_object(**args)

    def version_pin(self, key: str) -> tuple[str, str] | None:
        name, sep, version = key.rpartition(_PIN)
        if sep and name and version and "/" not in version:
            return name, version
        return None

    # -- garbage collection ----------------------------------------------------

    def inventory(self, uri: str) -> list[StoredObject]:
        """Every version on a versioned bucket: the base lists current objects
        only, and gc can reclaim only what it sees."""
        bucket, prefix = self.split(self.path_of(uri))
        try:
            with self.translating(uri):
                if not self.is_versioned(bucket):
                    return super().inventory(uri)
                out, args = [], {"Bucket": bucket, "Prefix": prefix}
                while True:
                    resp = self.client(bucket).list_object_versions(**args)
                    out.extend(StoredObject(self.uri_of(f"{bucket}/{v['Key']}"), f"{bucket}/{v['Key']}",
                                            int(v["Size"]), epoch_of(v.get("LastModified")), v["VersionId"],
                                            bool(v.get("IsLatest")))
                               for v in resp.get("Versions", ()) if not v["Key"].endswith("/"))
                    if not resp.get("IsTruncated"):
                        break
                    args.update(KeyMarker=resp["NextKeyMarker"], VersionIdMarker=resp.get("NextVersionIdMarker", ""))
        except ObjectNotFoundError:
            return []  # no bucket: nothing stored
        return sorted(out, key=lambda o: (o.path, not o.latest))

    # -- errors ----------------------------------------------------------------

    def translate_error(self, exc: BaseException, uri: str, *, asset: Any = None, create: bool = False
                        ) -> BaseException:
        """Return (never raise) the tether error for what boto3 raised; ``create``:
        the call was a create-if-absent, where a 409/412 means the key is taken."""
        if isinstance(exc, TetherError):
            return exc  # raised by the store calls above: already right
        where = f"asset {asset.logical_path!r} ({redact(uri)})" if asset else redact(uri)
        code, status = _code(exc)
        if status or code:
            if code == "NoSuchVersion":
                return VersionGoneError(f"{where}: the recorded version is gone ({code})")
            if status == 404 or code in ("NoSuchKey", "NoSuchBucket", "NotFound"):
                return ObjectNotFoundError(f"{where}: not found ({code or status})")
            if status in (401, 403) or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return AccessDeniedError(f"{where}: access denied ({code or status})")
            if status in (409, 412) or code in _CONFLICT:
                if create:
                    return AlreadyExistsError(f"{where} already exists")
                return PreconditionFailedError(f"{where} changed ({code or status})")
            return StorageError(f"{where}: S3 error {code or status}")
        import botocore.exceptions as bx

        if isinstance(exc, bx.NoCredentialsError):
            return AccessDeniedError(f"{where}: no AWS credentials")
        if isinstance(exc, bx.BotoCoreError):
            return StorageError(f"{where}: {type(exc).__name__}")
        return super().translate_error(exc, uri, asset=asset, create=create)


@tether.hookimpl
def tether_register_drivers() -> list[type[tether.Driver]]:
    return [S3LiteDriver]
