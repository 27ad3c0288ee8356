"""A loopback HTTP/1.1 file server with the behaviours tether-http must handle.

Serves the files of one folder on 127.0.0.1 with HEAD and GET, single byte
ranges (206 / 416), strong or weak ETags (a hash of the content, so any rewrite
changes them), Last-Modified (the file's mtime), the preconditions ``If-Match``,
``If-Unmodified-Since`` and ``If-Range`` (412 on a failed one), and optionally
``Repr-Digest`` / ``Digest`` / ``Content-MD5`` / ``x-goog-hash``. Switches in
:class:`Behaviour` make it a worse server: one that ignores ``Range`` or every
precondition, refuses HEAD, omits sizes (chunked bodies) or fails requests.

Paths under ``/private/`` need HTTP basic auth (401 otherwise); paths under
``/signed/`` behave like a presigned GET URL: HEAD is always 403 and GET needs
``X-Amz-Signature=valid`` in the query; ``/redirect/<path>`` answers 302 to ``/<path>``.

Every request is recorded (method, path, headers) so tests can count them; an
exception in a handler (other than the client hanging up) is kept in
``errors`` and fails the test that caused it.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

USER, PASSWORD = "reader", "pa55-word"
SIGNATURE = "s1gn4ture-d3adbeef"


@attrs.define
class Behaviour:
    etag: str = "strong"               # strong | weak | none
    last_modified: bool = True
    ranges: bool = True                # False: 200 with the whole body to every ranged GET
    preconditions: bool = True         # False: If-Match / If-Unmodified-Since / If-Range ignored
    head: bool = True                  # False: 405 to HEAD
    sizes: bool = True                 # False: chunked bodies, no Content-Length anywhere
    digests: tuple[str, ...] = ()      # of "repr-digest", "digest", "content-md5", "x-goog-hash"
    extra_headers: dict[str, dict[str, str]] = attrs.field(factory=dict)  # url path -> headers
    fail: dict[str, list[int]] = attrs.field(factory=dict)  # url path -> statuses to answer first


@attrs.define
class Request:
    method: str
    path: str
    headers: dict[str, str]
    port: int = 0  # the client's: one port, one connection


class LoopbackServer:
    def __init__(self, root: Path, tls: ssl.SSLContext | None = None) -> None:
        self.root = root
        self.behaviour = Behaviour()
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self.httpd = _Httpd(("127.0.0.1", 0), _handler(self))
        self.httpd.owner = self
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="loopback-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()

    def reset(self) -> None:
        with self._lock:
            self.behaviour = Behaviour()
            self.requests.clear()
            self.errors.clear()

    # ---------------------------------------------------------------- files
    def file_for(self, url_or_path: str) -> Path:
        path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path
        rel = unquote(path).lstrip("/")
        for prefix in ("private/", "signed/"):
            rel = rel.removeprefix(prefix) if rel.startswith(prefix) else rel
        target = (self.root / rel).resolve()
        if self.root.resolve() not in target.parents:
            raise ValueError(f"{path!r} is outside the served folder")
        return target

    def put(self, url_or_path: str, data: bytes) -> None:
        """Write a file as another tool would; its mtime moves on by at least a
        second, so Last-Modified changes (it has one-second resolution)."""
        target = self.file_for(url_or_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        before = target.stat().st_mtime if target.exists() else 0
        target.write_bytes(data)
        mtime = max(int(target.stat().st_mtime), int(before) + 1)
        os.utime(target, (mtime, mtime))

    def remove(self, url_or_path: str) -> None:
        self.file_for(url_or_path).unlink()

    def count(self, method: str, path_suffix: str = "") -> int:
        return sum(1 for r in self.requests if r.method == method and r.path.split("?")[0].endswith(path_suffix))

    def _record(self, req: Request) -> None:
        with self._lock:
            self.requests.append(req)


class _Httpd(ThreadingHTTPServer):
    owner: LoopbackServer

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up between requests is normal (tether-http closes a
        connection whose body it stopped reading); anything else is recorded."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        if exc is not None:
            self.owner.errors.append(exc)


def _etag(data: bytes, kind: str) -> str | None:
    if kind == "none":
        return None
    tag = '"' + hashlib.sha256(data).hexdigest()[:24] + '"'
    return "W/" + tag if kind == "weak" else tag


def _b64(kind: str, data: bytes) -> str:
    if kind == "crc32c":
        import google_crc32c

        raw = google_crc32c.Checksum(data).digest()
    else:
        raw = hashlib.new(kind, data).digest()
    return base64.b64encode(raw).decode()


def _digest_headers(kinds: tuple[str, ...], data: bytes) -> dict[str, str]:
    out = {}
    if "repr-digest" in kinds:
        out["Repr-Digest"] = f"sha-256=:{_b64('sha256', data)}:, sha-512=:{_b64('sha512', data)}:"
    if "digest" in kinds:
        out["Digest"] = f"SHA-256={_b64('sha256', data)},MD5={_b64('md5', data)}"
    if "content-md5" in kinds:
        out["Content-MD5"] = _b64("md5", data)
    if "x-goog-hash" in kinds:
        out["x-goog-hash"] = f"crc32c={_b64('crc32c', data)},md5={_b64('md5', data)}"
    return out


def _handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:
            self._guarded(head=True)

        def do_GET(self) -> None:
            self._guarded(head=False)

        def _guarded(self, *, head: bool) -> None:
            try:
                self._serve(head)
            except (ConnectionError, ssl.SSLError):
                self.close_connection = True  # the client stopped reading: tether-http may
            except BaseException as exc:  # noqa: BLE001 - surfaced by the fixture
                server.errors.append(exc)
                self.close_connection = True

        def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            b = server.behaviour
            head = self.command == "HEAD"  # headers only, whatever the status
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if b.sizes or status >= 400:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if head:
                return
            if b.sizes or status >= 400:
                for i in range(0, len(body), 65536):
                    self.wfile.write(body[i:i + 65536])
            else:
                for i in range(0, len(body), 65536):
                    piece = body[i:i + 65536]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

        def _serve(self, head: bool) -> None:
            b = server.behaviour
            url = urlsplit(self.path)
            server._record(Request("HEAD" if head else "GET", self.path, dict(self.headers.items()),
                                   self.client_address[1]))
            queued = b.fail.get(url.path)
            if queued:
                self._send(queued.pop(0), {}, b"injected failure")
                return
            if url.path.startswith("/redirect/"):
                self._send(302, {"Location": url.path[len("/redirect"):] + (f"?{url.query}" if url.query else "")})
                return
            if url.path.startswith("/private/"):
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self._send(401, {"WWW-Authenticate": 'Basic realm="loopback"'}, b"who are you")
                    return
            if url.path.startswith("/signed/") and (
                    head or parse_qs(url.query).get("X-Amz-Signature") != [SIGNATURE]):
                self._send(403, {}, b"SignatureDoesNotMatch")
                return
            if head and not b.head:
                self._send(405, {"Allow": "GET"}, b"")
                return
            try:
                path = server.file_for(url.path)
                data = path.read_bytes()
                mtime = int(path.stat().st_mtime)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError):
                self._send(404, {}, b"not found")
                return
            headers: dict[str, str] = {"Accept-Ranges": "bytes" if b.ranges else "none"}
            etag = _etag(data, b.etag)
            if etag:
                headers["ETag"] = etag
            if b.last_modified:
                headers["Last-Modified"] = email.utils.formatdate(mtime, usegmt=True)
            headers.update(_digest_headers(b.digests, data))
            headers.update(b.extra_headers.get(url.path, {}))
            if b.preconditions and not self._preconditions_hold(etag, mtime):
                self._send(412, {}, b"precondition failed")
                return
            status, body = 200, data
            wanted = self.headers.get("Range")
            if wanted and b.ranges and not head and self._if_range_holds(etag, mtime):
                found = _byte_range(wanted, len(data))
                if found is None:
                    self._send(416, {"Content-Range": f"bytes */{len(data)}"}, b"")
                    return
                start, end = found
                status, body = 206, data[start:end]
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
                headers.pop("Content-MD5", None)  # it would describe the part
            if head:
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                if b.sizes:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                return
            self._send(status, headers, body)

        def _preconditions_hold(self, etag: str | None, mtime: int) -> bool:
            if_match = self.headers.get("If-Match")
            if if_match is not None:
                tags = [t.strip() for t in if_match.split(",")]
                strong = etag is not None and not etag.startswith("W/")
                return "*" in tags or (strong and etag in tags)
            since = self.headers.get("If-Unmodified-Since")
            if since is not None:
                try:
                    limit = email.utils.parsedate_to_datetime(since).timestamp()
                except (TypeError, ValueError):
                    return True
                return mtime <= limit
            return True

        def _if_range_holds(self, etag: str | None, mtime: int) -> bool:
            value = self.headers.get("If-Range")
            if value is None or not server.behaviour.preconditions:
                return True
            if value.startswith('"'):
                return etag == value
            try:
                return int(email.utils.parsedate_to_datetime(value).timestamp()) == mtime
            except (TypeError, ValueError):
                return False

    return Handler


def _byte_range(value: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` -> [start, end); None when unsatisfiable."""
    unit, _, spec = value.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return (0, size) if size else None
    first, _, last = spec.strip().partition("-")
    if first == "":
        n = int(last)
        return (max(0, size - n), size) if n and size else None
    start = int(first)
    end = min(size, int(last) + 1) if last else size
    return (start, end) if start < size and start < end else None
