"""tether-azure: the Azure Blob Storage driver (``az://``, ``abfs://``, ``abfss://``).

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
* Put Blob with ``If-None-Match: *`` for the catalog's version claims;
* uploads set Content-MD5, so later listings of them carry a verifiable hash.

URIs: ``az://container/path``; ``abfs[s]://container/path`` and the Hadoop form
``abfss://container@account.dfs.core.windows.net/path`` (the account comes from
the URI) name the same blobs and are recorded as ``az://``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import attrs
from tether import hookimpl
from tether.driverkit import Driver, Resolution, SourceReader, check_cap, folder_prefix, iso_time, redact
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


class AzureDriver(Driver):
    schemes = ("az", "abfs", "abfss")
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
            fs = adlfs.AzureBlobFileSystem(skip_instance_cache=True, use_listings_cache=False,
                                           version_aware=False, **kwargs)
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

    @staticmethod
    def split(path: str) -> tuple[str, str]:
        bucket, _, name = path.partition("/")
        return bucket, name

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

    def _head(self, bucket: str, name: str, *, version_id: str | None = None, etag: str | None = None) -> Any:
        """Blob properties (one HEAD), pinned to a version or conditioned on an ETag."""
        from azure.core import MatchConditions

        async def go(cc: Any, kw: dict[str, Any]) -> Any:
            if etag:
                kw.update(etag=f'"{etag}"', match_condition=MatchConditions.IfNotModified)
            return await cc.get_blob_client(name).get_blob_properties(version_id=version_id, **kw)

        return self._run(bucket, go)

    def stat_path(self, path: str) -> RemoteObject | None:
        bucket, name = self.split(path)
        if not name or name.endswith("/"):
            return None
        m = _VERSION_PIN_RE.match(name)
        uri = self.uri_of(path)
        try:
            with self.translating(uri):
                if m:
                    name, vid = m.group("name"), m.group("vid")
                    props = self._head(bucket, name, version_id=vid)
                    # A store without blob versioning (Azurite) ignores versionid
                    # and answers with the current blob: never record that as the pin.
                    if getattr(props, "version_id", None) != vid:
                        raise VersionGoneError(f"{redact(uri)}: the store served no version {vid} "
                                               "(is blob versioning on for this account?)")
                else:
                    props = self._head(bucket, name)
        except ObjectNotFoundError:
            if m:
                raise VersionGoneError(f"{redact(uri)}: no version {m.group('vid')}") from None
            return None  # maybe a prefix; a missing container is reported by the listing
        if (props.metadata or {}).get("hdi_isfolder") == "true":
            return None  # an ADLS Gen2 directory, not a file
        return self._object(bucket, name, props)

    def resolve(self, uri: str, *, max_objects: int = 10_000, glob: bool | None = None) -> Resolution:
        bucket = self.split(self.path_of(uri))[0]
        if not _CONTAINER_RE.fullmatch(_container(bucket)):
            raise InvalidURIError(f"{redact(uri)!r}: invalid container name {_container(bucket)!r}")
        return super().resolve(uri, max_objects=max_objects, glob=glob)

    def enrich(self, objects: list[RemoteObject]) -> list[RemoteObject]:
        """Listings and HEADs already carry Content-MD5 and the ETag. A blob
        without Content-MD5 (block uploads by most tools) is not read at log
        time: like an S3 multipart object, its downloads are pinned by ETag and
        checked for size (restic and the S3 SDKs trust the store's identity the
        same way); ``tether verify`` reports it as unverifiable."""
        return objects

    def _pages(self, bucket: str, prefix: str, *, delimiter: str | None = None) -> Iterator[list[Any]]:
        """Every page of List Blobs (5,000 a page), or of a delimited walk."""
        token: str | None = None
        while True:
            async def go(cc: Any, kw: dict[str, Any], token: str | None = token) -> tuple[list[Any], str | None]:
                if delimiter:
                    pager = cc.walk_blobs(name_starts_with=prefix or None, delimiter=delimiter,
                                          results_per_page=_PAGE, **kw).by_page(continuation_token=token)
                else:
                    pager = cc.list_blobs(name_starts_with=prefix or None, include=["metadata"],
                                          results_per_page=_PAGE, **kw).by_page(continuation_token=token)
                page = await pager.__anext__()
                return [item async for item in page], pager.continuation_token

            items, token = self._run(bucket, go)
            yield items
            if not token:
                return

    def list(self, uri: str, *, max_objects: int = 10_000) -> list[RemoteObject]:
        """One paginated List Blobs: current blobs with MD5, ETag and version id."""
        bucket, prefix = self.split(self.path_of(uri))
        out: list[RemoteObject] = []
        with self.translating(uri):
            for page in self._pages(bucket, prefix):
                for b in page:
                    if b.name.endswith("/") or (b.metadata or {}).get("hdi_isfolder") == "true":
                        continue  # folder markers and ADLS Gen2 directories are not objects
                    if getattr(b, "is_current_version", None) is False:
                        continue
                    out.append(self._object(bucket, b.name, b))
        check_cap(len(out), max_objects, uri)
        out.sort(key=lambda o: o.path)
        return out

    # ---------------------------------------------------------------- transfer
    def read_range(self, asset: Asset, start: int, end: int) -> bytes:
        assert asset.uri is not None
        bucket, name = self.split(self.path_of(asset.uri))
        etag = asset.checksums.get("etag")
        try:
            with self.translating(asset.uri, asset=asset):
                if end <= start:  # the SDK cannot ask for 0 bytes: a pinned HEAD instead
                    props = self._head(bucket, name, version_id=asset.version_id,
                                       etag=None if asset.version_id else etag)
                    self._check_pin(asset, props)
                    return b""
                data, props = self._get(bucket, name, start, end, asset.version_id,
                                        None if asset.version_id else etag)
                self._check_pin(asset, props)
                return data
        except DriftError:
            # A deleted blob fails If-Match too (412 on Azurite): ask once more
            # so "deleted since it was logged" is not reported as a change.
            try:
                with self.translating(asset.uri, asset=asset):
                    self._head(bucket, name)
            except ObjectNotFoundError:
                raise ObjectNotFoundError(f"{_where(asset.uri, asset)}: deleted since it was logged") from None
            raise

    def _check_pin(self, asset: Asset, props: Any) -> None:
        """A store that ignores ``versionid`` (Azurite, an account without
        versioning) answers with the current blob: accept it only when it is
        the recorded bytes (same ETag; a version's ETag never changes)."""
        if not asset.version_id:
            return
        got = getattr(props, "version_id", None)
        if got == asset.version_id:
            return
        where = _where(asset.uri or "", asset)
        if got:
            raise VersionGoneError(f"{where}: the store served version {got}, not the recorded {asset.version_id}")
        if asset.checksums.get("etag") and _etag(props.etag) != asset.checksums["etag"]:
            raise DriftError(f"{where} changed since it was logged and the store ignored the recorded "
                             f"version {asset.version_id} (no blob versioning)")

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

    def upload(self, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
        """Stage the file as uncommitted blocks, check it, then commit the block list.

        Uncommitted blocks are invisible (Azure drops them after a week), so the
        blob appears only once :class:`~tether.staging.SourceReader` has
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

    # Errors of every call wrapped in translating() are mapped here.
    translate_error = staticmethod(_translate)

    # ------------------------------------------------------- catalog primitives
    def read_bytes(self, uri: str) -> bytes:
        bucket, name = self.split(self.path_of(uri))
        with self.translating(uri):
            return self._get(bucket, name, None, None, None, None)[0]

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        bucket, name = self.split(self.path_of(uri))

        async def go(cc: Any, kw: dict[str, Any]) -> None:
            # overwrite=False is If-None-Match: * on Put Blob (atomic create-if-absent)
            await cc.get_blob_client(name).upload_blob(data, overwrite=not if_absent, **kw)

        with self.translating(uri, create=if_absent):
            self._run(bucket, go)

    def list_names(self, uri: str) -> list[str]:
        bucket, name = self.split(self.path_of(uri))
        prefix = folder_prefix(name)
        names: set[str] = set()
        try:
            with self.translating(uri):
                for page in self._pages(bucket, prefix, delimiter="/"):
                    names.update(item.name[len(prefix):].rstrip("/") for item in page)
        except ObjectNotFoundError:
            return []  # no container: no names
        names.discard("")
        return sorted(names)

    def delete(self, uri: str) -> None:
        bucket, name = self.split(self.path_of(uri))

        async def go(cc: Any, kw: dict[str, Any]) -> None:
            await cc.get_blob_client(name).delete_blob(**kw)

        try:
            with self.translating(uri):
                self._run(bucket, go)
        except ObjectNotFoundError:
            pass  # already gone: what delete wanted


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
