"""The two failure hooks of the driver contract, on a real store behind a proxy.

:class:`StoreFaults` is a :class:`~tests.faults.FaultProxy` in front of moto,
fake-gcs-server or Azurite that knows how the store names an object in a
request (:data:`STORES`) and answers the way that store does:

* ``deny(prefix)``: every read (GET, HEAD, a listing) of ``bucket/prefix...``
  is refused with the store's own 403 body, as an IAM / RBAC policy denying
  ``GetObject`` and ``ListBucket`` on that prefix would; writes pass.
* ``fail_next(path, n)``: the next ``n`` reads of the object's bytes get the
  store's own transient 5xx, without asking upstream; then they pass.

A suite points one bucket (container) at the proxy with tether's per-bucket
``endpoint_url`` option, so only that test's requests cross it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote

import pytest
from tether.driver import Driver

from .faults import FaultProxy


@dataclass(frozen=True)
class Store:
    #: ``(path, query) -> (target, media)``: the ``bucket/key`` (or ``bucket/prefix``
    #: of a listing) a request names, and whether it reads the object's bytes.
    target: Callable[[str, dict[str, list[str]]], tuple[str, bool]]
    denied: tuple[int, dict[str, str], bytes]
    transient: tuple[int, dict[str, str], bytes]


def _path_style(path: str, query: dict[str, list[str]], skip: int = 0) -> tuple[str, bool]:
    parts = unquote(path).lstrip("/").split("/", skip + 1)[skip:]
    bucket, key = parts[0], parts[1] if len(parts) > 1 else ""
    listing = not key or "comp" in query or "list-type" in query
    if listing:
        key = query.get("prefix", [""])[0]
    return f"{bucket}/{key}", not listing


_GCS_OBJECT = re.compile(r"^(?:/download)?/storage/v1/b/([^/]+)/o(?:/(.+))?$")


def _gcs(path: str, query: dict[str, list[str]]) -> tuple[str, bool]:
    m = _GCS_OBJECT.match(path)
    if not m:
        return "", False
    if m.group(2) is None:  # objects.list
        return f"{unquote(m.group(1))}/{query.get('prefix', [''])[0]}", False
    return f"{unquote(m.group(1))}/{unquote(m.group(2))}", query.get("alt") == ["media"]


def _xml(code: str, message: str) -> bytes:
    return f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()


STORES = {
    "s3": Store(
        target=_path_style,
        denied=(403, {"Content-Type": "application/xml"}, _xml("AccessDenied", "Access Denied")),
        # 500, not 503 SlowDown: s3fs retries SlowDown itself (5 tries) whatever
        # botocore's max_attempts says; InternalError only botocore retries.
        transient=(500, {"Content-Type": "application/xml"},
                   _xml("InternalError", "We encountered an internal error. Please try again."))),
    "gs": Store(
        target=_gcs,
        denied=(403, {"Content-Type": "application/json"},
                (b'{"error": {"code": 403, "message": "caller does not have storage.objects.get access",'
                 b' "errors": [{"reason": "forbidden"}]}}')),
        transient=(503, {"Content-Type": "application/json"},
                   b'{"error": {"code": 503, "message": "Backend Error", "errors": [{"reason": "backendError"}]}}')),
    "az": Store(
        target=lambda path, query: _path_style(path, query, skip=1),  # /<account>/<container>/<blob>
        denied=(403, {"Content-Type": "application/xml", "x-ms-error-code": "AuthorizationPermissionMismatch"},
                _xml("AuthorizationPermissionMismatch",
                     "This request is not authorized to perform this operation using this permission.")),
        transient=(503, {"Content-Type": "application/xml", "x-ms-error-code": "ServerBusy"},
                   _xml("ServerBusy", "The server is currently unable to receive requests. Please retry."))),
}


class StoreFaults(FaultProxy):
    def __init__(self, upstream_port: int, store: str) -> None:
        super().__init__(upstream_port, rates={})
        self.store = STORES[store]
        self.denied: list[str] = []
        self._failing: dict[str, int] = {}
        self.transient_injected = 0
        self._faults_lock = threading.Lock()

    def deny(self, prefix: str) -> None:
        """Refuse every read of ``bucket/prefix...`` from now on."""
        self.denied.append(prefix)

    def fail_next(self, path: str, n: int) -> Callable[[], int]:
        """The next ``n`` reads of the bytes of ``bucket/key`` fail transiently;
        returns how many transient faults this proxy injected so far."""
        with self._faults_lock:
            self._failing[path] = self._failing.get(path, 0) + n
        return lambda: self.transient_injected

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path, _, q = h.path.partition("?")
        target, media = self.store.target(path, parse_qs(q))
        answer = None
        if h.command in ("GET", "HEAD") and any(target.startswith(p) for p in self.denied):
            answer = self.store.denied
        elif h.command == "GET" and media:
            with self._faults_lock:
                if self._failing.get(target):
                    self._failing[target] -= 1
                    self.transient_injected += 1
                    answer = self.store.transient
        if answer is None:
            super()._serve(h)
            return
        status, headers, body = answer
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", "0" if h.command == "HEAD" else str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)


class StoreFaultHooks:
    """The contract's ``denied_uri`` and ``transient_faults`` hooks over a
    ``fault_proxy`` fixture (a :class:`StoreFaults` the suite's bucket is
    configured to reach, with the driver's client retries turned off).
    List it before ``DriverContract`` among the suite's bases."""

    @pytest.fixture
    def denied_uri(self, fault_proxy: StoreFaults, driver: Driver, base_uri: str) -> str:
        uri = f"{base_uri}/denied/secret.bin"
        self.put(driver, uri, b"secret")  # type: ignore[attr-defined]  # writes pass: the policy denies reads
        fault_proxy.deny(driver.path_of(uri).rsplit("/", 1)[0] + "/")
        return uri

    @pytest.fixture
    def transient_faults(self, fault_proxy: StoreFaults, driver: Driver) -> Callable[[str, int], Callable[[], int]]:
        return lambda uri, n: fault_proxy.fail_next(driver.path_of(uri), n)
