"""A loopback HTTP proxy that makes a local S3 server answer like a remote one.

    python bench/latency_proxy.py UPSTREAM_PORT DELAY_SECONDS   # prints "ready <port>"

Every request waits ``DELAY_SECONDS`` (real S3 listing pages take about 50 ms) and is then
answered. Listing pages (ListObjectsV2, ListObjectVersions) are fetched from upstream once and
then replayed from memory, keyed by the request's path and query: the buckets of a benchmark do
not change, and replaying keeps the server's own work (moto spends about 0.5 ms of CPU a key)
out of the timed loop, so what is measured is the client: its waiting and its per-key work.
It runs in its own process so that replaying pages never competes with the client for the GIL.

``GET /__proxy__/stats`` answers the counts since ``GET /__proxy__/reset``: requests, listing
requests by operation, replayed, forwarded, and the most requests in flight at once. Same idea as tests/faults.py, without faults.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


def listing_op(method: str, path: str) -> str | None:
    query = path.partition("?")[2]
    params = {p.partition("=")[0] for p in query.split("&")}
    if method != "GET" or "/" in path.partition("?")[0].strip("/"):
        return None  # not a bucket-level GET
    if "list-type" in params:
        return "ListObjectsV2"
    if "versions" in params:
        return "ListObjectVersions"
    return None


class Proxy:
    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.pages: dict[str, tuple[int, list[tuple[str, str]], bytes]] = {}
        self.counts: Counter[str] = Counter()
        self.in_flight = 0
        self.lock = threading.Lock()
        self.local = threading.local()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                proxy.serve(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def upstream(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=600)
        return conn

    def forward(self, h: BaseHTTPRequestHandler, body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
        fwd = {k: v for k, v in h.headers.items() if k.lower() not in _HOP}
        for attempt in (0, 1):  # a kept-alive upstream connection may have been closed
            conn = self.upstream()
            try:
                conn.request(h.command, h.path, body=body, headers=fwd)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP], data
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def serve(self, h: BaseHTTPRequestHandler) -> None:
        if h.path.startswith("/__proxy__/"):
            return self.control(h)
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else None
        op = listing_op(h.command, h.path)
        with self.lock:
            self.in_flight += 1
            self.counts["max_in_flight"] = max(self.counts["max_in_flight"], self.in_flight)
        try:
            self.answer(h, op, body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def answer(self, h: BaseHTTPRequestHandler, op: str | None, body: bytes | None) -> None:
        time.sleep(self.delay)
        with self.lock:
            self.counts["requests"] += 1
            if op:
                self.counts[op] += 1
            page = self.pages.get(h.path) if op else None
        if page is None:
            page = self.forward(h, body)
            with self.lock:
                self.counts["forwarded"] += 1
                if op and page[0] == 200:
                    self.pages[h.path] = page
        else:
            with self.lock:
                self.counts["replayed"] += 1
        status, headers, data = page
        h.send_response(status)
        for k, v in headers:
            if k.lower() != "content-length":
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def control(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            data = json.dumps(dict(self.counts)).encode()
            if h.path == "/__proxy__/reset":
                self.counts.clear()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def main() -> None:
    proxy = Proxy(int(sys.argv[1]), float(sys.argv[2]))
    threading.Thread(target=proxy.server.serve_forever, daemon=True).start()
    print(f"ready {proxy.port}", flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    proxy.server.shutdown()


if __name__ == "__main__":
    main()
