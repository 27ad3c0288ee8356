"""tether-http against the driver contract, on the loopback server, in several server shapes.

tether-http declares ``writable = lists_prefixes = False`` and ``pins_by_etag``:
the contract gives it its read tests (one URL per object) and the drift test
its ETag pinning demands, and leaves out the write and listing tests (not
collected, not skipped). What a read-only, listing-less store must do instead
(refuse writes, refuse folders and globs) is checked by the ``test_http_*``
tests of :class:`HttpContract`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import pytest
import tether
from tether import Artifact, Catalog
from tether.driver import Driver
from tether.errors import (
    AccessDeniedError,
    DownloadError,
    InvalidURIError,
    ObjectNotFoundError,
)
from tether.testing import UNUSUAL_NAMES, DriverContract, race
from tether_http import HttpDriver

from .server import Behaviour, LoopbackServer

pytestmark = pytest.mark.http

def _url(base: str, rel: str) -> str:
    return f"{base}/{quote(rel)}"


class HttpContract(DriverContract):
    """The contract for a read-only store; subclasses pick the server's behaviour."""

    driver_class = HttpDriver
    alias_schemes = ("http",)  # https:// is another server (port, TLS), not an alias
    behaviour: ClassVar[dict[str, Any]] = {}
    options: ClassVar[dict[str, Any]] = {}

    @pytest.fixture
    def server(self, http_server: LoopbackServer) -> LoopbackServer:
        return http_server

    @pytest.fixture
    def base_uri(self, base: str) -> str:
        return base

    @pytest.fixture(autouse=True)
    def _shape(self, server: LoopbackServer, base_uri: str) -> None:
        self.server = server
        server.behaviour = Behaviour(**self.behaviour)
        if self.options:
            tether.configure(base_uri.split(":", 1)[0], **self.options)

    # Objects are written into the served folder, as another tool would.
    def put(self, driver: Driver, uri: str, data: bytes) -> None:
        self.server.put(uri, data)

    def remove(self, driver: Driver, uri: str) -> None:
        self.server.remove(uri)

    # ------------------------------------------- the failure hooks of the contract
    @pytest.fixture
    def denied_uri(self, base_uri: str) -> str:
        """The server's /private/ folder answers 401 without credentials."""
        self.server.put(f"{base_uri}/secret.bin", b"secret")
        scheme_host, folder = base_uri.rsplit("/", 1)
        return f"{scheme_host}/private/{folder}/secret.bin"

    @pytest.fixture
    def transient_faults(self) -> Callable[[str, int], Callable[[], int]]:
        """The next ``n`` requests for the object are answered 503."""
        queued = [0]

        def fail_next(uri: str, n: int) -> Callable[[], int]:
            path = urlsplit(uri).path
            self.server.behaviour.fail.setdefault(path, []).extend([503] * n)
            queued[0] += n
            return lambda: queued[0] - len(self.server.behaviour.fail.get(path, []))

        return fail_next

    # -------------------------------------------------- what they check, over HTTP
    def test_http_catalog_primitives_are_read_only(self, driver: Driver, base_uri: str, tmp_path: Path) -> None:
        uri = f"{base_uri}/claims/one.json"
        self.put(driver, uri, b"first")
        local = tmp_path / "f"
        local.write_bytes(b"local")
        for attempt in (lambda: driver.write_bytes(uri, b"second", if_absent=True),
                        lambda: driver.write_bytes(uri, b"third"),
                        lambda: driver.write_bytes(f"{base_uri}/claims/new.json", b"new", if_absent=True),
                        lambda: driver.delete(uri),
                        lambda: driver.upload(str(local), f"{base_uri}/up/f", sha256="0" * 64)):
            with pytest.raises(AccessDeniedError, match="read-only") as exc:
                attempt()
            assert base_uri in str(exc.value)
        assert driver.read_bytes(uri) == b"first"
        assert sorted(p.name for p in self.server.file_for(f"{base_uri}/claims").iterdir()) == ["one.json"]
        with pytest.raises(InvalidURIError, match="no listing"):
            driver.list_names(f"{base_uri}/claims")
        with pytest.raises(ObjectNotFoundError):
            driver.read_bytes(f"{base_uri}/claims/absent.json")

    def test_http_racing_writers_are_all_refused(self, driver: Driver, base_uri: str) -> None:
        uri = f"{base_uri}/race/claim"

        def attempt(i: int) -> str:
            try:
                driver.write_bytes(uri, str(i).encode(), if_absent=True)
            except AccessDeniedError:
                return "refused"
            return "written"

        assert race(attempt, [(i,) for i in range(8)]) == ["refused"] * 8
        with pytest.raises(ObjectNotFoundError):
            driver.read_bytes(uri)

    def test_http_a_url_is_one_object_never_a_listing(self, driver: Driver, base_uri: str) -> None:
        self.tree(driver, base_uri, {"data/x": b"1", "data/deep/y": b"22", "data2/z": b"333",
                                     "database": b"4", "g/a.csv": b"a", "star*.txt": b"*"})
        (one,) = Artifact("boundary").add_remote(f"{base_uri}/database", max_objects=1)
        assert (one.logical_path, one.size) == ("database", 1)
        with pytest.raises(ObjectNotFoundError, match="one file") as exc:
            Artifact("folder").add_remote(f"{base_uri}/data")
        assert "data" in str(exc.value)
        with pytest.raises(InvalidURIError, match="folder"):
            Artifact("folder").add_remote(f"{base_uri}/data/")
        with pytest.raises(InvalidURIError, match="glob"):
            Artifact("glob").add_remote(f"{base_uri}/g/*.csv")
        with pytest.raises(InvalidURIError, match="glob"):
            Artifact("glob").add_remote(f"{base_uri}/g/a.csv", glob=True)
        with pytest.raises(InvalidURIError, match="no listing"):
            driver.list(f"{base_uri}/data/")
        (star,) = Artifact("star").add_remote(f"{base_uri}/star%2A.txt")
        assert (star.logical_path, star.size) == ("star*.txt", 1)

    def test_http_log_download_verify_with_unusual_names(self, driver: Driver, base_uri: str,
                                                         catalog: Catalog, tmp_path: Path) -> None:
        tether.configure(base_uri.split(":", 1)[0], hash=True)  # verify() needs a computable checksum
        files = {n: n.encode() * 3 for n in UNUSUAL_NAMES}
        files["empty"] = b""
        files["nested/deeper/file.dat"] = os.urandom(3000)
        for rel, data in files.items():
            self.put(driver, _url(f"{base_uri}/set", rel), data)  # escaped: '#' and '?' mean something in a URL
        art = Artifact("weird-names")
        for rel in files:
            (asset,) = art.add_remote(_url(f"{base_uri}/set", rel), rel if "/" in rel else None)
            assert asset.logical_path == rel  # the name the server has, unescaped
        v = catalog.log(art)
        assert {a.uri for a in v.assets} == {_url(f"{base_uri}/set", rel) for rel in files}
        dest = tmp_path / "out"
        result = v.download(dest)
        assert result.ok and len(result.with_status("downloaded")) == len(files)
        for rel, data in files.items():
            assert (dest / rel).read_bytes() == data
        checked = v.verify(dest)
        assert checked.ok and len(checked.with_status("ok")) == len(files)
        assert len(v.download(dest).with_status("present")) == len(files)

    def test_http_identical_content_is_not_a_new_version(self, driver: Driver, base_uri: str,
                                                         catalog: Catalog) -> None:
        url = f"{base_uri}/same/a"
        self.put(driver, url, b"a")
        v1 = catalog.log(_art("same", url))
        v2 = catalog.log(_art("same", url))
        assert v1.version == v2.version == 1
        self.put(driver, url, b"b")  # same size: only the ETag / date / checksum tells
        assert catalog.log(_art("same", url)).version == 2

    def test_http_changed_object_is_never_delivered_silently(self, driver: Driver, base_uri: str,
                                                             catalog: Catalog, tmp_path: Path) -> None:
        url = f"{base_uri}/drift/a.txt"
        self.put(driver, url, b"original")
        v = catalog.log(_art("drift", url))
        self.put(driver, url, b"modified")  # same size
        self.server.requests.clear()
        dest = tmp_path / "out"
        with pytest.raises(DownloadError) as exc:
            v.download(dest)
        said = str(exc.value)
        assert "'a.txt'" in said and "changed since it was logged" in said, said
        assert self.server.count("GET", "/drift/a.txt") == 1, "drift must not be retried"
        assert [p.name for p in dest.iterdir()] == []

    def test_http_deleted_object_fails_naming_the_asset(self, driver: Driver, base_uri: str,
                                                        catalog: Catalog, tmp_path: Path) -> None:
        self.tree(driver, base_uri, {"del/keep": b"k", "del/gone": b"g"})
        art = Artifact("deleted")
        art.add_remote(f"{base_uri}/del/keep")
        art.add_remote(f"{base_uri}/del/gone")
        v = catalog.log(art)
        self.remove(driver, f"{base_uri}/del/gone")
        self.server.requests.clear()
        result = v.download(tmp_path / "out", raise_on_error=False)
        (failed,) = result.with_status("failed")
        assert failed.logical_path == "gone" and "'gone'" in (failed.error or "")
        assert "no longer exists" in (failed.error or "")
        assert self.server.count("GET", "/del/gone") == 1, "a 404 must not be retried"
        assert (tmp_path / "out" / "keep").read_bytes() == b"k"
        assert not (tmp_path / "out" / "gone").exists()
        with pytest.raises(ObjectNotFoundError, match="asset 'gone'"):
            driver.read_range(v.asset("gone"), 0, 1)

    def test_http_status_reports_drift(self, driver: Driver, base_uri: str, catalog: Catalog) -> None:
        self.tree(driver, base_uri, {"st/same": b"s", "st/mod": b"m", "st/del": b"d"})
        art = Artifact("status")
        for name in ("same", "mod", "del"):
            art.add_remote(f"{base_uri}/st/{name}")
        v = catalog.log(art)
        self.put(driver, f"{base_uri}/st/mod", b"m2-longer")
        self.remove(driver, f"{base_uri}/st/del")
        got = {o.logical_path: o.status for o in v.status().outcomes}
        assert got == {"same": "unchanged", "mod": "modified", "del": "deleted"}  # no "new": no listing

    def test_http_uploads_are_refused(self, driver: Driver, base_uri: str, catalog: Catalog,
                                      tmp_path: Path) -> None:
        (tmp_path / "a.txt").write_bytes(b"alpha")
        art = Artifact("uploaded", artifacts_uri=f"{base_uri}/storage")
        art.add(tmp_path / "a.txt")
        with pytest.raises(AccessDeniedError, match="read-only"):
            catalog.log(art)
        assert not self.server.file_for(f"{base_uri}/storage").exists()
        with pytest.raises(tether.errors.UnknownArtifactError):
            catalog.get("uploaded")

    def test_http_catalog_cannot_live_on_http(self, driver: Driver, base_uri: str) -> None:
        self.put(driver, f"{base_uri}/d/f", b"1")
        cat = Catalog(f"{base_uri}/catalog")
        with pytest.raises(InvalidURIError, match="read-only"):
            cat.log(_art("team", f"{base_uri}/d/f"))
        with pytest.raises(InvalidURIError, match="no listing"):
            cat.artifacts()
        assert not self.server.file_for(f"{base_uri}/catalog").exists()

    def test_http_checksums_recorded_are_this_objects(self, driver: Driver, base_uri: str) -> None:
        data = os.urandom(70_000)
        self.put(driver, f"{base_uri}/c.bin", data)
        (obj,) = driver.resolve(f"{base_uri}/c.bin").objects
        assert obj.size == len(data)
        for kind in ("sha256", "md5", "sha512", "crc32c"):
            if kind in obj.checksums and kind != "crc32c":
                assert obj.checksums[kind] == hashlib.new(kind, data).hexdigest(), kind


def _art(name: str, uri: str) -> Artifact:
    art = Artifact(name)
    art.add_remote(uri)
    return art


# ------------------------------------------------------------------ server shapes
class TestHttpContract(HttpContract):
    """A good static server: strong ETags, Last-Modified, byte ranges, preconditions."""


class TestHttpDigestContract(HttpContract):
    """The server sends Repr-Digest (sha-256, sha-512) and Content-MD5: recorded, and verified."""

    behaviour: ClassVar[dict[str, Any]] = {"digests": ("repr-digest", "content-md5")}


class TestHttpDateOnlyHashedContract(HttpContract):
    """No ETag: downloads are pinned by If-Unmodified-Since; ``hash=True`` records sha256."""

    behaviour: ClassVar[dict[str, Any]] = {"etag": "none"}
    options: ClassVar[dict[str, Any]] = {"hash": True}


class TestHttpCarelessServerContract(HttpContract):
    """A server that ignores Range and every precondition, with weak ETags: the bytes are
    still right (parts sliced from whole bodies) and drift is still caught (response validators)."""

    behaviour: ClassVar[dict[str, Any]] = {"ranges": False, "preconditions": False, "etag": "weak"}


class TestHttpsContract(HttpContract):
    """https:// with certificate verification against the test CA; recorded as https://."""

    alias_schemes = ("https",)

    @pytest.fixture
    def server(self, https_server: LoopbackServer) -> LoopbackServer:
        return https_server

    @pytest.fixture
    def base_uri(self, https_base: str) -> str:
        return https_base
