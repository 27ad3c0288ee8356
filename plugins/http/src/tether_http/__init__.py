"""tether-http: read-only HTTP(S) objects (``http://``, ``https://``).

A URL names exactly one object. HTTP has no listing, so there are no prefixes
and no globs (a URL ending in ``/`` or containing ``*`` in its path is an
``InvalidURIError``), and nothing is ever written: the catalog primitives and
uploads raise ``AccessDeniedError`` ("read-only").

Logging costs one HEAD per URL (a ``Range: bytes=0-0`` GET when the server
refuses HEAD, as a presigned GET URL does). tether records what the server
says about the bytes:

* ``Content-Length`` as the size;
* the ``ETag``: a strong one pins downloads (``If-Match``); a weak one (``W/``)
  is recorded and compared but never sent as a precondition, since RFC 9110
  forbids weak tags in ``If-Match``;
* ``Last-Modified``, used as ``If-Unmodified-Since`` when there is no strong ETag;
* a whole-object checksum when the server sends one (``Repr-Digest``,
  ``Digest``, ``Content-MD5``, ``x-goog-hash``), which every download verifies.

With ``hash=True`` (``tether.configure("https", hash=True)`` or
``TETHER_HTTPS_HASH=1``) an object without a server sha256 is read once at log
time and its sha256 recorded. A server that reports no size is always read once.

Downloads are ranged GETs conditioned on the recorded strong ETag (else the
date). Like ``curl --fail`` with ``If-Match``, a 412 is a ``DriftError`` naming the
asset, never retried; and because servers and caches may ignore conditional
headers, every response's own ETag / Last-Modified and total size are compared
with the recorded ones too. A server that ignores ``Range`` (200 to a ranged GET)
still yields the right bytes: the part is sliced out of the streamed body, so
no more than one part is held in memory (it costs transfer: each part re-reads
the body up to its end).

Credentials never enter a manifest: a URL with ``user:password@`` or a
signature / token / key in its query is, by default, recorded as a link only
with a warning (``strict=True`` raises ``AccessDeniedError``), because tether
could never fetch it again. ``signed_urls="record"`` opts in to using the
credentials once, at log time, and recording the object's size and checksums
under the redacted URL (``tether.driverkit.redact``); a later download without them
fails with ``AccessDeniedError`` that says the signature was not recorded, and a
copy fetched with a fresh signed URL can be checked with ``tether verify``.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import unquote

import attrs
import urllib3
from tether import Resolution, hookimpl
from tether.driverkit import (
    DEFAULT_MAX_OBJECTS,
    Driver,
    MultiHasher,
    driver_options,
    parallel_map,
    redact,
    split_scheme,
)
from tether.errors import (
    AccessDeniedError,
    DriftError,
    InvalidURIError,
    ObjectNotFoundError,
    StorageError,
    TetherError,
)
from tether.models import Asset, RemoteObject

from .client import (
    CHUNK,
    DECLARED_OPTIONS,
    Client,
    discard,
    has_credentials,
    parse_options,
    read_exactly,
    recorded_uri,
    skip,
    split_url,
    withheld_userinfo,
)
from .headers import (
    content_range,
    digests,
    iso_from_http_date,
    parse_etag,
    preconditions,
    same_object,
    validators,
)

__all__ = ["HttpDriver"]


@attrs.frozen
class _OneObject(Resolution):
    """A resolved URL: its logical name is the last path segment, unescaped,
    without the query (what ``wget`` names the file)."""

    def relative(self, obj: RemoteObject) -> str:
        return logical_name(obj.uri)


def logical_name(uri: str) -> str:
    host, path, _ = split_url(uri)
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    for name in (unquote(segment), segment):  # escaped when unescaping gives '/' or '..'
        if name and name not in (".", "..") and not any(c in name for c in "/\\\x00"):
            return name
    return host


def _where(uri: str, asset: Asset | None) -> str:
    return f"asset {asset.logical_path!r} ({redact(uri)})" if asset else redact(uri)


class HttpDriver(Driver):
    schemes = ("http", "https")
    writable = lists_prefixes = False  # read-only; a URL names one object
    pins_by_etag = True  # If-Match (else If-Unmodified-Since), and every response's validators
    description = "read-only HTTP(S) objects: one HEAD each, downloads conditioned on the recorded ETag/date"
    # Servers are not object stores: a few connections per host, like a browser.
    default_workers = 8
    #: What `tether plugins --options` prints; :func:`.client.parse_options` applies them.
    declared_options = DECLARED_OPTIONS

    def __init__(self, scheme: str | None = None) -> None:
        super().__init__(scheme)
        self._clients: dict[tuple[tuple[str, str], ...], Client] = {}
        self._clients_lock = threading.Lock()

    def make_filesystem(self, bucket: str | None, options: dict[str, Any]) -> Any:  # never called
        raise NotImplementedError("tether-http talks HTTP through urllib3; it has no fsspec filesystem")

    # ------------------------------------------------------------ configuration
    def options(self) -> dict[str, Any]:
        """This scheme's options, validated (``http`` and ``https`` are configured apart)."""
        return parse_options(self.scheme, driver_options(self.scheme))

    def client(self, options: dict[str, Any] | None = None) -> Client:
        opts = options or self.options()
        key = tuple(sorted((k, repr(v)) for k, v in opts.items()))
        with self._clients_lock:
            found = self._clients.get(key)
            if found is None:
                self._clients.clear()  # configuration changed: the old pool is not needed
                found = self._clients[key] = Client(self.scheme, opts)
            return found

    # --------------------------------------------------------------------- URIs
    def path_of(self, uri: str) -> str:
        scheme, rest = split_scheme(uri)
        if scheme != self.scheme:
            raise InvalidURIError(f"{redact(uri)!r} is not an {self.scheme}:// URI")
        split_url(uri)  # a host, a valid port
        return rest

    def uri_of(self, path: str) -> str:
        return f"{self.scheme}://{path}"  # never the canonical "http" for an https URL

    # ----------------------------------------------------------- errors
    def translate_error(self, exc: BaseException, uri: str, *, asset: Asset | None = None,
                        create: bool = False) -> BaseException:
        """urllib3's exceptions, by type only: their messages hold the URL, query included."""
        if isinstance(exc, TetherError):
            return exc
        where = _where(uri, asset)
        if isinstance(exc, urllib3.exceptions.MaxRetryError):
            if isinstance(exc.reason, urllib3.exceptions.ResponseError):
                return StorageError(f"{where}: more than {self.options()['max_redirects']} redirects")
            exc = exc.reason or exc
        if isinstance(exc, urllib3.exceptions.SSLError):
            return StorageError(f"{where}: TLS failed ({type(exc).__name__}); a private CA's bundle goes "
                                f"in the {self.scheme} option 'verify'")
        if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
            return StorageError(f"{where}: HTTP request failed ({type(exc).__name__})")
        return exc

    def _status_error(self, resp: urllib3.BaseHTTPResponse, uri: str,
                      asset: Asset | None = None) -> TetherError | None:
        status = resp.status
        if status in (200, 206):
            return None
        where = _where(uri, asset)
        if status in (404, 410):
            return ObjectNotFoundError(f"{where} no longer exists (HTTP {status})" if asset
                                       else f"no object at {where} (HTTP {status})")
        if status in (401, 403):
            why = f"{where}: access denied (HTTP {status})"
            if withheld_userinfo(uri):
                why += "; the user:password it was logged with was not recorded (tether never stores credentials)"
            elif asset is not None:
                why += ("; if it was logged from a signed URL, the signature was not recorded (tether never "
                        "stores credentials): fetch it with a fresh signed URL and check it with tether verify")
            return AccessDeniedError(why)
        if status == 412:
            return DriftError(f"{where} changed since it was logged (HTTP 412: the server no longer has "
                              "the recorded ETag / Last-Modified) and HTTP keeps no old versions")
        if status == 416:
            return DriftError(f"{where} changed since it was logged (HTTP 416: it is now shorter than the "
                              f"recorded {asset.size if asset else '?'} bytes)")
        return StorageError(f"{where}: HTTP {status}")

    def _read_only(self, uri: str, what: str) -> AccessDeniedError:
        return AccessDeniedError(f"{redact(uri)}: cannot {what}: {self.scheme}:// is read-only in tether "
                                 "(tether-http); keep catalogs and uploads where tether can write "
                                 "(a local folder, s3://, gs://)")

    # ------------------------------------------------------------------ objects
    def _describe(self, uri: str) -> RemoteObject | None:
        """One HEAD (or a one-byte GET where HEAD is refused) -> the object, its
        size -1 when the server did not say; None on 404/410."""
        client = self.client()
        with self.translating(uri):
            resp = client.request("HEAD", uri)
            try:
                if resp.status in (403, 405, 501):  # a presigned GET URL, a HEAD-less server
                    discard(resp)
                    resp = client.request("GET", uri, {"Range": "bytes=0-0"})
                if resp.status in (404, 410):
                    return None
                error = self._status_error(resp, uri)
                if error is not None:
                    raise error
                return self._object(uri, resp)
            finally:
                discard(resp)

    def _object(self, uri: str, resp: urllib3.BaseHTTPResponse) -> RemoteObject:
        headers = resp.headers
        size = -1
        if resp.status == 206:
            found = content_range(headers.get("Content-Range"))
            if found is not None and found[2] is not None:
                size = found[2]
        elif (headers.get("Content-Length") or "").strip().isdigit():
            size = int(headers["Content-Length"])
        sums = digests(headers, whole_body=resp.status != 206)
        etag = parse_etag(headers.get("ETag"))
        if etag:
            sums["etag"] = etag
        clean = recorded_uri(uri)
        return RemoteObject(uri=clean, path=self.path_of(clean), size=size, checksums=sums,
                            last_modified=iso_from_http_date(headers.get("Last-Modified")))

    def stat_path(self, path: str) -> RemoteObject | None:
        obj = self._describe(self.uri_of(path))
        return None if obj is None else self._complete(obj, self.uri_of(path), self.options(), only_size=True)

    def resolve(self, uri: str, *, max_objects: int = DEFAULT_MAX_OBJECTS,
                glob: bool | None = None) -> Resolution:
        """One object per URL, one HEAD; never a listing."""
        self.path_of(uri)
        _, path, query = split_url(uri)
        if glob or (glob is None and "*" in path):
            raise InvalidURIError(f"{redact(uri)!r}: HTTP has no listing, so a glob cannot be expanded; "
                                  "name each file (a literal '*' in a URL is written %2A)")
        if not query and (not path or path.endswith("/")):
            raise InvalidURIError(f"{redact(uri)!r} ends in '/': HTTP has no listing, so tether cannot "
                                  "log a folder; a URL names one file")
        options = self.options()
        if has_credentials(uri) and options["signed_urls"] != "record":
            raise AccessDeniedError(
                f"{redact(uri)}: the URL carries credentials (a signed query string or user:password), which "
                "tether never records, so it could not fetch these bytes again (the "
                f"{self.scheme} option signed_urls='record' records their size and checksums instead)")
        obj = self._describe(uri)
        if obj is None:
            raise ObjectNotFoundError(f"no object at {redact(uri)} (HTTP 404; a URL names one file, "
                                      "HTTP has no listing of folders)")
        obj = self._complete(obj, uri, options)
        return _OneObject("object", obj.path, (obj,))

    def enrich(self, objects: list[RemoteObject]) -> list[RemoteObject]:
        """Nothing to add unless ``hash`` is on (or a size is unknown): then each
        object without a server sha256 is read once. One per input, in order."""
        options = self.options()
        return parallel_map(lambda o: self._complete(o, o.uri, options), objects, self.default_workers)

    def _complete(self, obj: RemoteObject, fetch_uri: str, options: dict[str, Any], *,
                  only_size: bool = False) -> RemoteObject:
        """``obj`` with the size and sha256 a read gives, when they are needed.
        ``fetch_uri`` is the URL as given, credentials included: ``obj.uri`` is redacted."""
        want_hash = options["hash"] and "sha256" not in obj.checksums and not only_size
        if obj.size >= 0 and not want_hash:
            return obj
        sums, size = self._read_once(obj, fetch_uri, ("sha256",))
        return attrs.evolve(obj, size=size, checksums={**obj.checksums, **sums})

    def _read_once(self, obj: RemoteObject, uri: str, kinds: tuple[str, ...]) -> tuple[dict[str, str], int]:
        """Stream the whole object once through the hashers, conditioned on what
        the HEAD saw, so the digests describe the recorded ETag / size."""
        headers = preconditions(obj.checksums.get("etag"), obj.last_modified)
        hasher = MultiHasher(kinds)
        size = 0
        with self.translating(uri):
            resp = self.client().request("GET", uri, headers)
            try:
                error = self._status_error(resp, uri)
                if isinstance(error, DriftError) or (error is None and not same_object(resp.status, resp.headers, obj)):
                    raise DriftError(f"{redact(uri)} changed while it was being read; log it again")
                if error is not None:
                    raise error
                while chunk := resp.read(CHUNK, decode_content=False):
                    hasher.update(chunk)
                    size += len(chunk)
            finally:
                discard(resp)
        if obj.size >= 0 and size != obj.size:
            raise DriftError(f"{redact(uri)} changed while it was being read ({size} bytes, the server "
                             f"said {obj.size}); log it again")
        return hasher.digests(), size

    def checksum(self, uri: str, kinds: Any = ("sha256",)) -> dict[str, str]:
        """One HEAD and one streamed GET, whatever the object's size."""
        obj = self._describe(uri)
        if obj is None:
            raise ObjectNotFoundError(f"no object at {redact(uri)}")
        return self._read_once(obj, uri, tuple(kinds))[0]

    def list(self, uri: str, *, max_objects: int = DEFAULT_MAX_OBJECTS) -> list[RemoteObject]:
        raise InvalidURIError(f"{redact(uri)!r}: HTTP has no listing; a URL names one file")

    # ------------------------------------------------------------------ transfer
    def read_range(self, asset: Asset, start: int, end: int) -> bytes:
        """Bytes ``[start, end)``: a ranged GET conditioned on the recorded ETag
        (else date), the response's validators and total size checked too."""
        assert asset.uri is not None
        uri = asset.uri
        etag = asset.checksums.get("etag")
        headers = {"Range": f"bytes={start}-{end - 1}", **preconditions(etag, asset.last_modified)}
        with self.translating(uri, asset=asset):
            # One try: tether's downloader retries transient errors itself.
            resp = self.client().request("GET", uri, headers, attempts=1)
            try:
                error = self._status_error(resp, uri, asset)
                if error is not None:
                    raise error
                where = _where(uri, asset)
                if not same_object(resp.status, resp.headers, asset):
                    raise DriftError(f"{where} changed since it was logged (the server now reports "
                                     f"{validators(resp.headers)}) and HTTP keeps no old versions")
                if resp.status == 206:
                    found = content_range(resp.headers.get("Content-Range"))
                    if found is None or found[0] > start:
                        raise StorageError(f"{where}: the server answered a different range "
                                           f"({resp.headers.get('Content-Range')!r})")
                    skip(resp, start - found[0])
                    return read_exactly(resp, end - start)
                # 200: the server ignored Range. The part is sliced out of the stream.
                skip(resp, start)
                return read_exactly(resp, end - start)
            finally:
                discard(resp)

    # ------------------------------------------------------- catalog primitives
    def read_bytes(self, uri: str) -> bytes:
        with self.translating(uri):
            resp = self.client().request("GET", uri)
            try:
                error = self._status_error(resp, uri)
                if error is not None:
                    raise error
                return resp.read(decode_content=False)
            finally:
                discard(resp)

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        raise self._read_only(uri, "write")

    def delete(self, uri: str) -> None:
        raise self._read_only(uri, "delete")

    def upload(self, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
        raise self._read_only(uri, f"upload {local_path}")

    def list_names(self, uri: str) -> list[str]:
        raise InvalidURIError(f"{redact(uri)!r}: HTTP has no listing, so tether cannot list names there "
                              f"(a catalog cannot live on {self.scheme}://: tether-http is read-only)")


@hookimpl
def tether_register_drivers() -> list[type[Driver]]:
    return [HttpDriver]
