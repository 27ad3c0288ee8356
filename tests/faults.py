"""A fault-injecting HTTP proxy on 127.0.0.1, between tether and a real test server.

It forwards each request to the upstream server (moto, fake-gcs-server) and,
for a chosen fraction of object reads, damages the answer the way real networks
and stores do:

* ``reset``    – send the headers and part of the body, then reset the connection
* ``error``    – answer 503 (S3 ``SlowDown`` / GCS ``backendError``) without asking upstream
* ``stall``    – wait longer than the client's read timeout before answering
* ``truncate`` – announce the full length, send half the body, close
* ``flip``     – flip one byte in the body, full length, connection kept
* ``drop``     – forward the request (so the store acts on it), then close the
  connection without relaying the answer: a write whose response was lost

``is_object_read(method, path, headers)`` chooses which requests may be
damaged (by default ranged GETs), ``body_contains`` narrows that to requests
whose body holds those bytes, and ``max_faults`` caps how many are damaged.
Every request loop is bounded by the test; the proxy serves until stopped.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("reset", "error", "stall", "truncate", "flip", "drop")
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


class FaultProxy:
    def __init__(self, upstream_port: int, rates: dict[str, float], *, stall_seconds: float = 3.0,
                 is_object_read=lambda method, path, headers: method == "GET" and "range" in headers,
                 seed: int = 1234, max_faults: int | None = None, body_contains: bytes | None = None) -> None:
        self.upstream_port = upstream_port
        self.max_faults = max_faults
        self.body_contains = body_contains
        self.rates = rates
        self.stall_seconds = stall_seconds
        self.is_object_read = is_object_read
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _pick(self) -> str | None:
        with self._lock:
            if self.max_faults is not None and sum(self.injected.values()) >= self.max_faults:
                return None
            roll = self._rng.random()
            acc = 0.0
            for fault in FAULTS:
                acc += self.rates.get(fault, 0.0)
                if roll < acc:
                    self.injected[fault] += 1
                    return fault
        return None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests += 1
        headers = {k.lower(): v for k, v in h.headers.items()}
        length = int(headers.get("content-length", 0) or 0)
        body = h.rfile.read(length) if length else None
        eligible = self.is_object_read(h.command, h.path, headers) and (
            self.body_contains is None or self.body_contains in (body or b""))
        fault = self._pick() if eligible else None
        if fault == "error":
            payload = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            h.send_response(503)
            h.send_header("Content-Type", "application/xml")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        if fault == "stall":
            time.sleep(self.stall_seconds)
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            fwd = {k: v for k, v in h.headers.items() if k.lower() not in _HOP}
            conn.request(h.command, h.path, body=body, headers=fwd)
            resp = conn.getresponse()
            data = resp.read()
            status, resp_headers = resp.status, resp.getheaders()
        finally:
            conn.close()
        if fault == "drop":  # the store acted; the client never hears of it
            self._close(h, reset=False)
            return
        if fault == "flip" and data:
            i = len(data) // 2
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        h.send_response(status)
        head = h.command == "HEAD"  # no body: the upstream's Content-Length is the object's size
        for k, v in resp_headers:
            if k.lower() not in _HOP and (head or k.lower() != "content-length"):
                h.send_header(k, v)
        if not head:
            h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if head:
            return
        if fault in ("reset", "truncate") and len(data) > 1:
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            self._close(h, reset=fault == "reset")
            return
        h.wfile.write(data)

    @staticmethod
    def _close(h: BaseHTTPRequestHandler, *, reset: bool) -> None:
        sock: socket.socket = h.connection
        if reset:  # RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
