"""tether-azure: the Azure Blob Storage driver (``az://``, ``abfs://``, ``abfss://``).

An :class:`tether.objectstore.ObjectStoreDriver`: it supplies the store calls
and the base builds every operation from them.

adlfs provides the session (credentials: account key, SAS token, connection
string, service principal or ``DefaultAzureCredential``; the event loop);
tether calls the Blob API through adlfs's async ``BlobServiceClient`` with the
container and blob name as separate arguments, so names containing ``?``,
``#`` or ``%`` round-trip exactly (adlfs's path parser would cut a name at
``?versionid=``). What that buys over the generic fsspec calls:

* one paginated List Blobs (5,000 blobs a page) per prefix records size,
  Content-MD5 (when the blob has one), ETag, last-modified and, on accounts
  with blob versioning, the version id: no request, and no byte read, per blob;
* reads pinned to the recorded version id, else conditioned on the recorded
  ETag (``If-Match``): a changed blob is a ``DriftError``. A 412 is followed by
  one HEAD, because a deleted blob also fails ``If-Match`` (Azurite answers
  so): deleted is ``ObjectNotFoundError``, changed is ``DriftError``;
* Put Blob with ``If-None-Match: *`` for the catalog's version claims, and
  with ``If-Match: <ETag>`` for the conditional overwrite of run records
  (atomic in the service: two processes cannot both win);
* uploads set Content-MD5, so later listings of them carry a verifiable hash.

URIs: ``az://container/path``; ``abfs[s]://container/path`` and the Hadoop form
``abfss://container@account.dfs.core.windows.net/path`` (the account comes from
the URI) name the same blobs and are recorded as ``az://``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import attrs
from tether import hookimpl
from tether.driverkit import Driver, Resolution, SourceReader, iso_time, redact
from tether.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ChecksumMismatchError,
    ConfigError,
    DriftError,
    InvalidURIError,
    ObjectNotFoundError,
    StorageError,
    TetherError,
    VersionGoneError,
)
from tether.models import Asset, RemoteObject
from tether.objectstore import NO_FSSPEC_CACHES, ListPage, ObjectStoreDriver
from tether.options import Option

__all__ = ["AzureDriver"]

#: Options tether understands for az (``tether.configure("az", ...)``,
#: ``TETHER_AZ_<OPTION>`` or ``[az]`` in config.toml); abfs/abfss use the same.
OPTIONS = frozenset({
    "account_name", "account_key", "sas_token", "connection_string", "endpoint_url", "anon",
    "max_attempts", "connect_timeout", "read_timeout",
})
#: Options whose values are credentials: never printed, logged or recorded.
SECRET_OPTIONS = frozenset({"account_key", "sas_token", "connection_string"})

_CONTAINER_RE = re.compile(r"\$root|\$web|\$logs|[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")
_VERSION_PIN_RE = re.compile(r"^(?P<name>.+)\?versionid=(?P<vid>[0-9A-Za-z:.\-]+)$", re.IGNORECASE)
_PAGE = 5000  # List Blobs' maximum page
_BLOCK_SIZE = 8 * 1024 * 1024  # staged block size for uploads


def _etag(raw: str | None) -> str | None:
    return raw.strip('"') if raw else None


def _where(uri: str, asset: Asset | None) -> str:
    return f"asset {asset.logical_path!r} ({redact(uri)})" if asset else redact(uri)


def _translate(exc: BaseException, uri: str, *, asset: Asset | None = None,
               create: bool = False) -> BaseException:
    """Map azure-core / azure-identity exceptions to tether errors.

    Messages carry the status and Azure error code only: the SDK's own text
    can include the request URL, and with it a SAS token."""
    if isinstance(exc, TetherError):
        return exc
    where = _where(uri, asset)
    status = getattr(exc, "status_code", None)
    code = str(getattr(exc, "error_code", "") or "")
    code = code.rsplit(".", 1)[-1] if code.startswith("StorageErrorCode.") else code
    name = type(exc).__name__
    if status == 412 or code in ("ConditionNotMet", "CONDITION_NOT_MET"):
        if create:
            return AlreadyExistsError(f"{where} already exists")
        return DriftError(f"{where} changed since it was logged (ETag no longer matches) and no "
                          "version id pins the recorded bytes")
    if status == 409 and create:
        return AlreadyExistsError(f"{where} already exists")
    if status == 404:
        if code in ("ContainerNotFound", "CONTAINER_NOT_FOUND"):
            return ObjectNotFoundError(f"{where}: no such container")
        if asset is not None and asset.version_id:
            return VersionGoneError(f"{where}: recorded version {asset.version_id} no longer exists")
        return ObjectNotFoundError(f"{where}: no such blob")
    if status in (401, 403) or name in ("ClientAuthenticationError", "CredentialUnavailableError"):
        return AccessDeniedError(f"{where}: access denied ({code or status or 'no usable Azure credentials'})")
    if status == 400 and code in ("InvalidResourceName", "InvalidUri", "OutOfRangeInput"):
        return InvalidURIError(f"{where}: Azure refused the name ({code})")
    if isinstance(exc, FileNotFoundError):
        return ObjectNotFoundError(f"{where}: no such blob")
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"{where}: access denied")
    return StorageError(f"{where}: Azure request failed ({code or status or name})")


class AzureDriver(ObjectStoreDriver):
    schemes = ("az", "abfs", "abfss")
    supports_versions, version_uri_format = True, "{uri}?versionid={version}"  # where the account keeps versions
    pins_by_etag = lists_checksums = True  # If-Match reads; MD5 listed
    conditional_overwrite = True  # Put Blob with If-Match on the blob ETag
    description = "Azure Blob Storage and ADLS Gen2, over adlfs / azure-storage-blob"
    bucketed = True
    default_workers = 32
    part_size = 16 * 1024 * 1024
    #: Declared for tooling that prints options (``tether info``): mask these.
    secret_options: ClassVar[frozenset[str]] = SECRET_OPTIONS
    declared_options = (
        Option("account_name", str, help="storage account"),
        Option("account_key", str, secret=True, help="shared key"),
        Option("sas_token", str, secret=True, help="shared access signature"),
        Option("connection_string", str, secret=True, help="full connection string"),
        Option("endpoint_url", str, help="blob endpoint (Azurite ...)"),
        Option("anon", object, help="anonymous access (public containers)"),
        Option("max_attempts", object, help="retry attempts"),
        Option("connect_timeout", object, help="seconds"),
        Option("read_timeout", object, help="seconds"),
    )

    # ---------------------------------------------------------------- session
    def make_filesystem(self, bucket: str | None, options: dict[str, Any]) -> Any:
        import adlfs  # lazy: keeps `import tether` free of the Azure SDK

        kwargs = _fs_kwargs(bucket, options)
        try:
            fs = adlfs.AzureBlobFileSystem(**NO_FSSPEC_CACHES, version_aware=False, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a malformed connection string, missing credential libs ...
            # Not the exception text: it may quote the connection string.
            raise ConfigError(f"az://{bucket or ''}: cannot set up the Azure client "
                              f"({type(exc).__name__}); check account_name / connection_string") from None
        # Per-request transport settings: adlfs builds its client without them,
        # and the SDK's default (10 retries) takes minutes to give up on a dead endpoint.
        call_kw: dict[str, Any] = {"retry_total": max(0, int(options.get("max_attempts", 5)) - 1)}
        for ours, theirs in (("connect_timeout", "connection_timeout"), ("read_timeout", "read_timeout")):
            if options.get(ours):
                call_kw[theirs] = float(options[ours])
        fs.tether_call_kw = call_kw
        return fs

    def _run(self, bucket: str, fn: Callable[[Any, dict[str, Any]], Any]) -> Any:
        """Run ``fn(container_client, call_kwargs)`` (a coroutine) on adlfs's loop."""
        from fsspec.asyn import sync

        fs = self.fs(bucket)
        cc = fs.service_client.get_container_client(_container(bucket))
        return sync(fs.loop, fn, cc, dict(fs.tether_call_kw))

    # ---------------------------------------------------------------- objects
    def _object(self, bucket: str, name: str, p: Any) -> RemoteObject:
        """A listing row or a HEAD (both ``BlobProperties``) as a RemoteObject."""
        sums: dict[str, str] = {}
        if p.content_settings.content_md5:
            sums["md5"] = bytes(p.content_settings.content_md5).hex()
        if p.etag:
            sums["etag"] = _etag(p.etag)
        path = f"{bucket}/{name}"
        return RemoteObject(uri=self.uri_of(path), path=path, size=int(p.size or 0), checksums=sums,
                            version_id=getattr(p, "version_id", None) or None,
                            last_modified=iso_time(p.last_modified))

    def _props(self, bucket: str, name: str, *, version_id: str | None = None, etag: str | None = None) -> Any:
        """Blob properties (one HEAD), pinned to a version or conditioned on an ETag."""
        from azure.core import MatchConditions

        async def go(cc: Any, kw: dict[str, Any]) -> Any:
            if etag:
                kw.update(etag=f'"{etag}"', match_condition=MatchConditions.IfNotModified)
            return await cc.get_blob_client(name).get_blob_properties(version_id=version_id, **kw)

        return self._run(bucket, go)

    def resolve(self, uri: str, *, max_objects: int = 10_000, glob: bool | None = None) -> Resolution:
        bucket = self.split(self.path_of(uri))[0]
        if not _CONTAINER_RE.fullmatch(_container(bucket)):
            raise InvalidURIError(f"{redact(uri)!r}: invalid container name {_container(bucket)!r}")
        return super().resolve(uri, max_objects=max_objects, glob=glob)

    # ------------------------------------------------------------ store calls
    def list_page(self, bucket: str, prefix: str, *, delimiter: str | None, token: str | None) -> ListPage:
        """One page of List Blobs (5,000 blobs): Content-MD5 when the blob has
        one, ETag, last-modified, version id on accounts with blob versioning.
        ADLS Gen2 directories and noncurrent versions are left out."""
        from azure.storage.blob.aio import BlobPrefix

        async def go(cc: Any, kw: dict[str, Any]) -> tuple[list[Any], str | None]:
            if delimiter:
                pager = cc.walk_blobs(name_starts_with=prefix or None, delimiter=delimiter,
                                      results_per_page=_PAGE, **kw).by_page(continuation_token=token)
            else:
                pager = cc.list_blobs(name_starts_with=prefix or None, include=["metadata"],
                                      results_per_page=_PAGE, **kw).by_page(continuation_token=token)
            page = await pager.__anext__()
            return [item async for item in page], pager.continuation_token

        items, nxt = self._run(bucket, go)
        objects, prefixes = [], []
        for b in items:
            if isinstance(b, BlobPrefix):
                prefixes.append(b.name)
            elif (b.metadata or {}).get("hdi_isfolder") != "true" and getattr(b, "is_current_version", None) \
                    is not False:
                objects.append(self._object(bucket, b.name, b))
        return ListPage(tuple(objects), tuple(prefixes), nxt or None)

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> RemoteObject | None:
        try:
            with self.translating(self.uri_of(f"{bucket}/{key}")):
                props = self._props(bucket, key, version_id=version_id)
        except ObjectNotFoundError:
            return None
        if (props.metadata or {}).get("hdi_isfolder") == "true":
            return None  # an ADLS Gen2 directory, not a file
        return self._object(bucket, key, props)

    def version_pin(self, key: str) -> tuple[str, str] | None:
        m = _VERSION_PIN_RE.match(key)
        return (m.group("name"), m.group("vid")) if m else None

    def get_range(self, bucket: str, key: str, start: int, end: int, *, version_id: str | None = None,
                  etag: str | None = None) -> bytes:
        """Get Blob with ``x-ms-range``, pinned to the version id, else ``If-Match``."""
        cond = None if version_id else etag
        if end <= start:  # the SDK cannot ask for 0 bytes: a pinned HEAD instead
            data, props = b"", self._props(bucket, key, version_id=version_id, etag=cond)
        else:
            data, props = self._get(bucket, key, start, end, version_id, cond)
        if version_id:
            self._check_pin(f"{bucket}/{key}", version_id, etag, props)
        return data

    def _check_pin(self, path: str, version_id: str, etag: str | None, props: Any) -> None:
        """A store that ignores ``versionid`` (Azurite, an account without
        versioning) answers with the current blob: accept it only when it is
        the recorded bytes (same ETag; a version's ETag never changes)."""
        got = getattr(props, "version_id", None)
        if got == version_id:
            return
        where = redact(self.uri_of(path))
        if got:
            raise VersionGoneError(f"{where}: the store served version {got}, not the recorded {version_id}")
        if etag and _etag(props.etag) != etag:
            raise DriftError(f"{where} changed since it was logged and the store ignored the recorded "
                             f"version {version_id} (no blob versioning)")

    def _get(self, bucket: str, name: str, start: int | None, end: int | None, version_id: str | None,
             etag: str | None) -> tuple[bytes, Any]:
        from azure.core import MatchConditions

        async def go(cc: Any, kw: dict[str, Any]) -> tuple[bytes, Any]:
            if etag:
                kw.update(etag=f'"{etag}"', match_condition=MatchConditions.IfNotModified)
            if start is not None and end is not None:
                # Ranged reads are download parts: tether's downloader retries them
                # with its own short backoff (the SDK's first retry waits ~15 s).
                kw.update(offset=start, length=end - start, retry_total=0)
            stream = await cc.get_blob_client(name).download_blob(version_id=version_id, max_concurrency=1, **kw)
            return await stream.readall(), stream.properties

        return self._run(bucket, go)

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool) -> str:
        """Put Blob; ``overwrite=False`` is ``If-None-Match: *`` (atomic create-if-absent)."""
        async def go(cc: Any, kw: dict[str, Any]) -> str:
            out = await cc.get_blob_client(key).upload_blob(data, overwrite=not if_absent, **kw)
            return str(out.get("etag"))

        return self._run(bucket, go)

    def get_with_token(self, bucket: str, key: str) -> tuple[bytes, str]:
        """The bytes and the ETag of one Get Blob."""
        data, props = self._get(bucket, key, None, None, None, None)
        return data, str(props.etag)

    def put_if_match(self, bucket: str, key: str, data: bytes, token: str) -> str:
        """Put Blob with ``If-Match: <ETag>``, atomic in the service: Azure
        answers 412 when the blob changed since it was read (or is gone)."""
        from azure.core import MatchConditions

        async def go(cc: Any, kw: dict[str, Any]) -> str:
            out = await cc.get_blob_client(key).upload_blob(
                data, overwrite=True, etag=token, match_condition=MatchConditions.IfNotModified, **kw)
            return str(out.get("etag"))

        return self._run(bucket, go)

    def delete_key(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        async def go(cc: Any, kw: dict[str, Any]) -> None:
            if version_id:
                kw["version_id"] = version_id
            await cc.get_blob_client(key).delete_blob(**kw)

        self._run(bucket, go)

    # ---------------------------------------------------------------- transfer
    def upload(self, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
        """Stage the file as uncommitted blocks, check it, then commit the block list.

        Uncommitted blocks are invisible (Azure drops them after a week), so the
        blob appears only once :class:`~tether.driverkit.SourceReader` has
        confirmed the bytes sent are the hashed file; the commit carries their
        MD5, so listings of uploaded blobs carry a checksum. The commit is
        create-if-absent first: a blob already holding these exact bytes is
        kept, not rewritten, since a rewrite gives it a new ETag and would break
        the pin of whoever recorded the old one (two logs of one file racing)."""
        import base64

        from azure.core import MatchConditions
        from azure.storage.blob import BlobBlock, ContentSettings

        bucket, name = self.split(self.path_of(uri))
        with SourceReader(local_path, sha256, ("md5",)) as src, self.translating(uri):
            async def stage(cc: Any, kw: dict[str, Any]) -> list[str]:
                ids = []
                for i, chunk in enumerate(src.chunks(_BLOCK_SIZE)):
                    block_id = base64.b64encode(f"{i:08d}".encode()).decode()
                    await cc.get_blob_client(name).stage_block(block_id, chunk, **kw)
                    ids.append(block_id)
                return ids

            ids = self._run(bucket, stage)
            sums = src.check()  # raises SourceChangedError: nothing was committed
        settings = ContentSettings(content_md5=bytearray.fromhex(sums["md5"]))
        for if_absent in (True, False):
            try:
                with self.translating(uri, create=if_absent):
                    async def commit(cc: Any, kw: dict[str, Any], if_absent: bool = if_absent) -> None:
                        if if_absent:
                            kw.update(match_condition=MatchConditions.IfMissing)  # If-None-Match: *
                        await cc.get_blob_client(name).commit_block_list(
                            [BlobBlock(block_id=b) for b in ids], content_settings=settings, **kw)

                    self._run(bucket, commit)
                break
            except AlreadyExistsError:
                existing = self.stat_path(self.path_of(uri))
                if existing is not None and self.holds(existing, local_path, sha256=sha256):
                    return attrs.evolve(existing, checksums={**existing.checksums, "sha256": sha256})
        obj = self.stat_path(self.path_of(uri))
        if obj is None:
            raise ObjectNotFoundError(f"upload to {redact(uri)} left no blob")
        if obj.checksums.get("md5", sums["md5"]) != sums["md5"]:
            raise ChecksumMismatchError(f"{redact(uri)}: the store holds other bytes than were sent")
        return attrs.evolve(obj, checksums={**obj.checksums, "sha256": sha256})

    # Errors of every call are mapped here.
    translate_error = staticmethod(_translate)


def _container(bucket: str) -> str:
    """``container`` of ``container`` or ``container@account.dfs.core.windows.net``."""
    return bucket.split("@", 1)[0]


def _fs_kwargs(bucket: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """adlfs arguments from tether's options (and the account in an ``@host`` bucket)."""
    from tether.driverkit import bool_option

    opts = {k: v for k, v in options.items() if v not in (None, "")}
    host = bucket.split("@", 1)[1] if bucket and "@" in bucket else None
    if host and "account_name" not in opts:
        opts["account_name"] = host.split(".", 1)[0]
    anon = bool_option(opts.get("anon", False))
    if opts.get("connection_string"):
        return {"connection_string": opts["connection_string"]}
    if opts.get("endpoint_url"):
        # adlfs makes https://<account>.<host> URLs only; an emulator or a
        # private endpoint goes through a connection string built here.
        endpoint = str(opts["endpoint_url"]).rstrip("/")
        account = opts.get("account_name") or urlsplit(endpoint).path.strip("/").split("/")[0]
        parts = [f"BlobEndpoint={endpoint}"]
        if opts.get("account_key") and not anon:
            if not account:
                raise ConfigError("az: account_key needs account_name (or an endpoint_url ending in it)")
            parts += [f"AccountName={account}", f"AccountKey={opts['account_key']}"]
        elif opts.get("sas_token") and not anon:
            parts.append(f"SharedAccessSignature={str(opts['sas_token']).lstrip('?')}")
        return {"connection_string": ";".join(parts) + ";"}
    kwargs: dict[str, Any] = {"anon": anon}
    if opts.get("account_name"):
        kwargs["account_name"] = opts["account_name"]
    if host and ".dfs." in host:
        kwargs["account_host"] = host.replace(".dfs.", ".blob.", 1)  # the Blob API serves HNS accounts too
    elif host:
        kwargs["account_host"] = host
    if not anon:
        for k in ("account_key", "sas_token"):
            if opts.get(k):
                kwargs[k] = opts[k]
    return kwargs


@hookimpl
def tether_register_drivers() -> list[type[Driver]]:
    return [AzureDriver]


from .checksum_kinds import tether_register_checksums  # noqa: F401 - the checksum kind this plugin adds
