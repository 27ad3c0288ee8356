"""tether-gcs: the Google Cloud Storage driver (``gs://``, ``gcs://``), over gcsfs.

An :class:`tether.objectstore.ObjectStoreDriver`: it supplies the store calls
on the JSON API, and the base builds every operation from them.

gcsfs provides the session (Google auth, endpoint, retries, event loop);
tether calls the JSON API through ``GCSFileSystem._call`` with the bucket and
object name as separate, fully quoted arguments, so names containing ``#``
(gcsfs's own generation separator), ``?`` or ``%`` round-trip exactly.

* one paginated objects.list per prefix records name, size, md5Hash, crc32c,
  generation and updated: no request per object;
* every object's generation is recorded as its version id; downloads ask for
  exactly that generation. If it is gone, a versioned bucket means the
  recorded version was deleted (VersionGoneError); an unversioned one means
  the object changed or was deleted since it was logged (DriftError);
* crc32c (and md5 when present; composite objects have none) are verified
  while streaming;
* the catalog's version claims are small uploads with ``ifGenerationMatch=0``;
* uploads are checked by GCS (md5Hash / crc32c sent with the bytes) and by
  tether before they become visible (:mod:`tether_gcs.uploads`).
  run records are completed with ``ifGenerationMatch=<generation read>``.

Against an emulator (``STORAGE_EMULATOR_HOST`` or an ``endpoint_url``) the
plain ``gcsfs.core.GCSFileSystem`` is used: gcsfs's experimental
hierarchical-namespace probe would stall every call there.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from tether import hookimpl
from tether.driverkit import Driver, RiskReport, StoredObject, b64_to_hex, config_generation, iso_time, redact
from tether.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConfigError,
    DriftError,
    ObjectNotFoundError,
    StorageError,
    TetherError,
    VersionGoneError,
)
from tether.models import Asset, RemoteObject
from tether.objectstore import NO_FSSPEC_CACHES, ListPage, ObjectStoreDriver
from tether.options import Option

__all__ = ["GCSDriver"]

OPTIONS = {"endpoint_url", "project", "token", "requester_pays", "timeout", "read_timeout", "max_attempts"}
_GENERATION_PIN_RE = re.compile(r"^(?P<name>.+)#(?P<gen>\d+)$")


def _translate(exc: BaseException, uri: str, *, asset: Asset | None = None,
               create: bool = False) -> BaseException:
    if isinstance(exc, TetherError):
        return exc
    where = f"asset {asset.logical_path!r} ({redact(uri)})" if asset else redact(uri)
    if isinstance(exc, FileExistsError):  # gcsfs maps 412 here
        if create:
            return AlreadyExistsError(f"{where} already exists")
        return DriftError(f"{where} changed since it was logged")
    if isinstance(exc, FileNotFoundError):
        return ObjectNotFoundError(f"{where}: no such object")
    code = getattr(exc, "code", None)
    text = str(exc)
    if code in (401, 403) or text.startswith("Forbidden") or isinstance(exc, PermissionError):
        return AccessDeniedError(f"{where}: access denied ({code or 'forbidden'})")
    name = type(exc).__name__
    if name in ("DefaultCredentialsError", "RefreshError", "TransportError") or "credentials" in text.lower():
        return AccessDeniedError(f"{where}: no usable Google credentials ({name})")
    return StorageError(f"{where}: GCS request failed ({name})")


_ATTEMPTS: dict[tuple[type, int], type] = {}


def _with_attempts(cls: type, attempts: int) -> type:
    """``cls`` with every request tried ``attempts`` times. gcsfs fixes its
    retries (6, backoff up to 32 s) when its class is defined and takes no
    option for them; tether's downloader retries parts with its own short
    backoff, so a user (or the contract's transient-fault case) may want
    gcsfs's off. Built from the undecorated request, with gcsfs's own retry
    decorator: which errors are retried stays gcsfs's decision."""
    from gcsfs.retry import retry_request

    with _ATTEMPTS_LOCK:
        if (cls, attempts) not in _ATTEMPTS:
            raw = cls._request.__wrapped__  # type: ignore[attr-defined]
            _ATTEMPTS[(cls, attempts)] = type(f"{cls.__name__}Tries{attempts}", (cls,),
                                              {"_request": retry_request(retries=attempts)(raw)})
        return _ATTEMPTS[(cls, attempts)]


_ATTEMPTS_LOCK = threading.Lock()


class GCSDriver(ObjectStoreDriver):
    schemes = ("gs", "gcs")
    supports_versions, version_uri_format = True, "{uri}#{version}"  # generations, kept where versioning is on
    pins_by_etag = conditional_overwrite = lists_checksums = True  # generation-pinned reads (ifGenerationMatch) and writes
    description = "Google Cloud Storage, over gcsfs"
    bucketed = True
    default_workers = 32
    part_size = 16 * 1024 * 1024
    declared_options = (
        Option("endpoint_url", str, help="GCS endpoint (fake-gcs-server ...)"),
        Option("project", str, help="Google Cloud project"),
        Option("token", object, secret=True, help="credentials: a path, a keyword (anon, google_default) or an object"),
        Option("requester_pays", bool, False, help="bill the requester"),
        Option("timeout", float, minimum=0.0, help="seconds"),
        Option("read_timeout", float, minimum=0.0, help="seconds per socket read"),
        Option("max_attempts", int, minimum=1,
               help="attempts per request, the first included (unset: gcsfs's own 6; 1: no retries)"),
    )

    def __init__(self, scheme: str | None = None) -> None:
        super().__init__(scheme)
        self._versioned: dict[tuple[str, int], bool] = {}
        self._lock2 = threading.Lock()

    # ---------------------------------------------------------------- session
    def make_filesystem(self, bucket: str | None, options: dict[str, Any]):
        """A gcsfs filesystem for ``bucket``. Options are converted to their types
        here: a mistake is a ConfigError naming where it was set."""
        from tether.driverkit import OptionReader, option_origin

        opt = OptionReader("gs", bucket, options)
        endpoint_url = opt.get_str("endpoint_url")
        project = opt.get_str("project")
        # A token is a path, a keyword ("anon", "google_default" ...) or, through
        # configure(), a credentials dict or object: only a wrong scalar is refused.
        token = options.get("token")
        if isinstance(token, (bool, int, float)):
            raise ConfigError(f"{option_origin('gs', bucket, 'token')} must be a string, got {token!r}")
        timeout = opt.get_float("timeout", minimum=0.0)
        read_timeout = opt.get_float("read_timeout", minimum=0.0)
        requester_pays = opt.get_bool("requester_pays")
        endpoint = endpoint_url or os.environ.get("STORAGE_EMULATOR_HOST")
        emulator = bool(endpoint) and "googleapis.com" not in str(endpoint)
        if emulator:
            os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        import gcsfs.core  # lazy: keeps `import tether` free of google libraries

        cls = gcsfs.core.GCSFileSystem if emulator else __import__("gcsfs").GCSFileSystem
        kwargs: dict[str, Any] = {**NO_FSSPEC_CACHES, "version_aware": False, "requester_pays": requester_pays}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        if project:
            kwargs["project"] = project
        if token:
            kwargs["token"] = token
        elif emulator:
            kwargs["token"] = "anon"
        if timeout:
            kwargs["timeout"] = timeout
        if read_timeout:
            import aiohttp

            kwargs["requests_timeout"] = aiohttp.ClientTimeout(sock_read=read_timeout)
        attempts = opt.get_int("max_attempts", 0, minimum=1)  # 0: not set, gcsfs's own retries
        if attempts:
            cls = _with_attempts(cls, attempts)
        try:
            return cls(**kwargs)
        except Exception as exc:  # noqa: BLE001 - a bad token file, no default credentials ...
            raise AccessDeniedError(f"gs://{bucket or ''}: cannot set up Google credentials "
                                    f"({type(exc).__name__})") from None

    def _run(self, bucket: str, fn: Any, *args: Any, **kw: Any) -> Any:
        from fsspec.asyn import sync

        fs = self.fs(bucket)
        return sync(fs.loop, fn, fs, *args, **kw)

    def _json(self, bucket: str, method: str, path: str, *args: str, **params: Any) -> Any:
        async def go(fs: Any) -> Any:
            return await fs._call(method, path, *args, json_out=True, **params)

        return self._run(bucket, go)

    def _pages(self, bucket: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of objects.list, 1,000 objects a page."""
        params.setdefault("maxResults", 1000)
        while True:
            page = self._json(bucket, "GET", "b/{}/o", bucket, **params)
            yield page
            if not page.get("nextPageToken"):
                return
            params["pageToken"] = page["nextPageToken"]

    def versioned(self, bucket: str) -> bool:
        """Whether ``bucket`` keeps noncurrent generations, asked once per bucket
        and configuration. Credentials that may not read the bucket's metadata
        are an answer (unversioned, as far as tether can tell); any other
        failure (a bad option, no credentials, a transient error) raises and is
        never remembered, so a later call under a fixed configuration asks again."""
        key = (bucket, config_generation())
        with self._lock2:
            if key in self._versioned:
                return self._versioned[key]
        try:
            with self.translating(self.uri_of(f"{bucket}/")):
                meta = self._json(bucket, "GET", "b/{}", bucket)
            value = bool(meta.get("versioning", {}).get("enabled"))
        except AccessDeniedError:
            value = False
        with self._lock2:
            self._versioned[key] = value
        return value

    # ---------------------------------------------------------------- objects
    def _object(self, bucket: str, item: dict[str, Any]) -> RemoteObject:
        sums: dict[str, str] = {}
        if item.get("md5Hash"):
            sums["md5"] = b64_to_hex(item["md5Hash"])
        if item.get("crc32c"):
            sums["crc32c"] = b64_to_hex(item["crc32c"])
        if item.get("etag"):
            sums["etag"] = item["etag"]
        path = f"{bucket}/{item['name']}"
        gen = item.get("generation")
        return RemoteObject(uri=self.uri_of(path), path=path, size=int(item.get("size", 0)), checksums=sums,
                            version_id=str(gen) if gen else None, last_modified=iso_time(item.get("updated")))

    # ------------------------------------------------------------ store calls
    def list_page(self, bucket: str, prefix: str, *, delimiter: str | None, token: str | None) -> ListPage:
        """One objects.list page (1,000 objects): md5Hash, crc32c, generation, updated."""
        params: dict[str, Any] = {"prefix": prefix, "maxResults": 1000}
        if delimiter:
            params["delimiter"] = delimiter
        if token:
            params["pageToken"] = token
        try:
            with self.translating(self.uri_of(f"{bucket}/{prefix}")):
                page = self._json(bucket, "GET", "b/{}/o", bucket, **params)
        except ObjectNotFoundError:
            raise ObjectNotFoundError(f"gs://{bucket}/: no such bucket") from None
        return ListPage(tuple(self._object(bucket, item) for item in page.get("items", [])),
                        tuple(page.get("prefixes", [])), page.get("nextPageToken") or None)

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> RemoteObject | None:
        params = {"generation": version_id} if version_id else {}
        try:
            with self.translating(self.uri_of(f"{bucket}/{key}")):
                item = self._json(bucket, "GET", "b/{}/o/{}", bucket, key, **params)
        except ObjectNotFoundError:
            return None
        return self._object(bucket, item)

    def version_pin(self, key: str) -> tuple[str, str] | None:
        m = _GENERATION_PIN_RE.match(key)
        return (m.group("name"), m.group("gen")) if m else None

    def get_range(self, bucket: str, key: str, start: int, end: int, *, version_id: str | None = None,
                  etag: str | None = None) -> bytes:
        """A ranged media GET of exactly the recorded generation. If it is gone,
        a versioned bucket means the version was deleted (VersionGoneError); an
        unversioned one that the object changed or was deleted (DriftError)."""
        params: dict[str, Any] = {"alt": "media"}
        if version_id:
            params["generation"] = version_id

        async def go(fs: Any) -> bytes:
            _, body = await fs._call("GET", "b/{}/o/{}", bucket, key,
                                     headers={"Range": f"bytes={start}-{end - 1}"}, **params)
            return body

        uri = self.uri_of(f"{bucket}/{key}")
        try:
            with self.translating(uri):
                return self._run(bucket, go)
        except ObjectNotFoundError:
            if not version_id:
                raise
            if self.versioned(bucket):
                raise VersionGoneError(f"{redact(uri)}: recorded generation {version_id} no longer exists") from None
            raise DriftError(f"{redact(uri)} changed or was deleted since it was logged (generation "
                             f"{version_id} is gone and the bucket keeps no old versions)") from None

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool) -> str:
        """A single small request: the one upload shape on which the emulator,
        like GCS, honours ``ifGenerationMatch=0`` (create-if-absent)."""
        from gcsfs.core import simple_upload

        item = self._run(bucket, lambda fs: simple_upload(fs, bucket, key, data,
                                                          mode="create" if if_absent else "overwrite"))
        return str((item or {}).get("generation", ""))

    def get_with_token(self, bucket: str, key: str) -> tuple[bytes, str]:
        """The bytes and their generation: the metadata first, then the media of
        exactly that generation, so the token always names the bytes returned."""
        async def go(fs: Any) -> tuple[bytes, str]:
            meta = await fs._call("GET", "b/{}/o/{}", bucket, key, json_out=True)
            gen = str(meta["generation"])
            _, body = await fs._call("GET", "b/{}/o/{}", bucket, key, alt="media", generation=gen)
            return body, gen

        return self._run(bucket, go)

    def put_if_match(self, bucket: str, key: str, data: bytes, token: str) -> str:
        """A single-request upload with ``ifGenerationMatch=<generation>``: GCS
        answers 412 when the object changed since it was read, or is gone."""
        async def go(fs: Any) -> str:
            meta = json.dumps({"name": key})
            body = (b"--==0==\nContent-Type: application/json; charset=UTF-8\n\n" + meta.encode()
                    + b"\n--==0==\nContent-Type: application/octet-stream\n\n" + data + b"\n--==0==--")
            out = await fs._call("POST", f"{fs._location}/upload/storage/v1/b/{quote(bucket)}/o",
                                 uploadType="multipart", ifGenerationMatch=token, data=body, json_out=True,
                                 headers={"Content-Type": 'multipart/related; boundary="==0=="'})
            return str(out["generation"])

        return self._run(bucket, go)

    def delete_key(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        params = {"generation": version_id} if version_id else {}

        async def go(fs: Any) -> None:
            await fs._call("DELETE", "b/{}/o/{}", bucket, key, **params)

        self._run(bucket, go)

    def read_bytes(self, uri: str) -> bytes:
        """One media GET (the base's :meth:`get_with_token` costs two)."""
        bucket, name = self.split(self.path_of(uri))

        async def go(fs: Any) -> bytes:
            _, body = await fs._call("GET", "b/{}/o/{}", bucket, name, alt="media")
            return body

        with self.translating(uri):
            return self._run(bucket, go)

    # ---------------------------------------------------------------- transfer
    def upload(self, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
        """A checked single request or a resumable session finalised only with
        the hashed bytes, conditional on what was there (see :mod:`.uploads`).
        An interrupted one is an unfinished resumable session, which holds no
        object and which GCS discards after a week: nothing to sweep."""
        from . import uploads

        return uploads.upload(self, local_path, uri, sha256)

    # Errors of every call are mapped here.
    translate_error = staticmethod(_translate)

    # ------------------------------------------- lifecycle (gc, check, insurance, holds)
    def inventory(self, uri: str) -> list[StoredObject]:
        """Every generation on a versioned bucket (see :mod:`.lifecycle`)."""
        from . import lifecycle

        return lifecycle.inventory(self, uri)

    def reference_risks(self, uris: Iterable[str]) -> list[RiskReport]:
        """Versioning and lifecycle rules from each bucket's metadata (see :mod:`.lifecycle`)."""
        from . import lifecycle

        return lifecycle.reference_risks(self, list(uris))

    def set_hold(self, asset: Asset, on: bool) -> None:
        """A temporary hold on the pinned generation (see :mod:`.lifecycle`)."""
        from . import lifecycle

        lifecycle.set_hold(self, asset, on)


@hookimpl
def tether_register_drivers() -> list[type[Driver]]:
    return [GCSDriver]
