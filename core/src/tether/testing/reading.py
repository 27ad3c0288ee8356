"""Contract tests every driver runs: one object at a time, read-only.

Objects are written with the suite's :meth:`~ContractBase.put` (as another
tool would), never through the driver, so a read-only store runs them too.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import attrs
import pytest

from .. import Artifact, Catalog, get_driver
from ..artifact import LinkOnlyWarning
from ..driver import Driver, StoredObject
from ..errors import (
    AccessDeniedError,
    DownloadError,
    DriftError,
    ObjectNotFoundError,
    StorageError,
    TetherError,
    VersionGoneError,
)
from ..models import Asset
from ..resolver import scheme_of
from ..uris import split_scheme
from .base import ContractBase, art, canonical, requires


class ReadContract(ContractBase):
    def test_resolve_single_object(self, driver: Driver, base_uri: str) -> None:
        self.put(driver, f"{base_uri}/one.bin", b"payload")
        res = driver.resolve(f"{base_uri}/one.bin")
        assert res.kind == "object"
        (obj,) = res.objects
        assert obj.size == 7
        assert obj.checksums, "a driver must record at least one checksum"
        assert res.relative(obj) == "one.bin"

    def test_missing_uri_is_a_clear_error(self, driver: Driver, base_uri: str) -> None:
        with pytest.raises(ObjectNotFoundError) as exc:
            Artifact("missing").add_remote(f"{base_uri}/nothing-here")
        assert "nothing-here" in str(exc.value)

    def test_checksum_reads_the_bytes(self, driver: Driver, base_uri: str) -> None:
        self.put(driver, f"{base_uri}/c.bin", b"checksum me")
        assert driver.checksum(f"{base_uri}/c.bin")["sha256"] == hashlib.sha256(b"checksum me").hexdigest()

    def test_enrich_keeps_one_object_per_input_in_order(self, driver: Driver, base_uri: str) -> None:
        data = {"z.bin": b"last by name", "a.bin": b"first by name", "m.bin": b"middle"}
        self.tree(driver, base_uri, data)
        objs = [driver.stat_path(driver.path_of(f"{base_uri}/{name}")) for name in ("z.bin", "a.bin", "z.bin", "m.bin")]
        assert all(objs)
        out = driver.enrich(objs)  # type: ignore[arg-type]
        assert [o.path for o in out] == [o.path for o in objs]  # type: ignore[union-attr]
        for o in out:
            name = o.path.rsplit("/", 1)[-1]
            assert o.size == len(data[name])
            for kind in ("sha256", "md5"):  # whichever of these the store gives must be this object's
                if kind in o.checksums:
                    assert o.checksums[kind] == hashlib.new(kind, data[name]).hexdigest(), (name, kind)

    def test_identical_content_is_not_a_new_version(self, driver: Driver, base_uri: str,
                                                    catalog: Catalog) -> None:
        uri = f"{base_uri}/same/a"
        self.put(driver, uri, b"a")
        v1 = catalog.log(art("same", uri))
        v2 = catalog.log(art("same", uri))
        assert v1.version == v2.version == 1
        self.put(driver, uri, b"changed")
        assert catalog.log(art("same", uri)).version == 2

    def test_changed_object_is_never_delivered_silently(self, driver: Driver, base_uri: str,
                                                         catalog: Catalog, tmp_path: Path) -> None:
        self.put(driver, f"{base_uri}/drift/a.txt", b"original")
        v = catalog.log(art("drift", f"{base_uri}/drift/a.txt"))
        self.put(driver, f"{base_uri}/drift/a.txt", b"modified!")
        dest = tmp_path / "out"
        if self.supports_versions:
            v.download(dest)
            assert (dest / "a.txt").read_bytes() == b"original"
        else:
            with pytest.raises(DownloadError) as exc:
                v.download(dest)
            assert "a.txt" in str(exc.value)
            assert not (dest / "a.txt").exists()
            assert [p.name for p in dest.iterdir()] == []  # no temp file left behind

    def test_deleted_object_fails_naming_the_asset(self, driver: Driver, base_uri: str,
                                                   catalog: Catalog, tmp_path: Path) -> None:
        self.tree(driver, base_uri, {"del/keep": b"k", "del/gone": b"g"})
        deleted = Artifact("deleted")
        for name in ("keep", "gone"):
            deleted.add_remote(f"{base_uri}/del/{name}")
        v = catalog.log(deleted)
        self.remove(driver, f"{base_uri}/del/gone")
        result = v.download(tmp_path / "out", raise_on_error=False)
        if self.supports_versions:  # a delete hides the object; its recorded version remains
            assert result.ok and (tmp_path / "out" / "gone").read_bytes() == b"g"
            return
        (failed,) = result.with_status("failed")
        assert failed.logical_path == "gone" and "gone" in (failed.error or "")
        assert (tmp_path / "out" / "keep").read_bytes() == b"k"
        assert not (tmp_path / "out" / "gone").exists()

    def test_large_object_in_parallel_parts(self, driver: Driver, base_uri: str, catalog: Catalog,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        data = os.urandom(5 * 256 * 1024 + 123)
        self.put(driver, f"{base_uri}/big.bin", data)
        v = catalog.log(art("big", f"{base_uri}/big.bin"))
        monkeypatch.setattr(type(driver), "part_size", 256 * 1024)
        ranges: set[tuple[int, int]] = set()
        read_range = type(driver).read_range

        def counted(self: Driver, asset: object, start: int, end: int) -> bytes:
            ranges.add((start, end))
            return read_range(self, asset, start, end)  # type: ignore[arg-type]

        monkeypatch.setattr(type(driver), "read_range", counted)
        v.download(tmp_path / "out", workers=4)
        assert (tmp_path / "out" / "big.bin").read_bytes() == data
        assert len(ranges) > 1, f"one request for the whole object, not parts: {sorted(ranges)}"

    # --------------------------------------------------------- what flags promise
    @requires("pins_by_etag", "not versioned_store")
    def test_changed_object_is_drift_on_the_first_read(self, driver: Driver, base_uri: str, catalog: Catalog,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """``pins_by_etag``: a rewrite of the same size is a DriftError from the
        read itself, so the downloader never retries it and no bytes land."""
        uri = f"{base_uri}/pinned/a.txt"
        self.put(driver, uri, b"original")
        v = catalog.log(art("pinned", uri))
        self.put(driver, uri, b"modified")  # same size: only the pin can tell
        asset = v.asset("a.txt")
        with pytest.raises(DriftError) as drift:
            driver.read_range(asset, 0, asset.size)
        assert "a.txt" in str(drift.value), str(drift.value)
        reads: list[int] = []
        read_range = type(driver).read_range

        def counted(self: Driver, asset: object, start: int, end: int) -> bytes:
            reads.append(start)
            return read_range(self, asset, start, end)  # type: ignore[arg-type]

        monkeypatch.setattr(type(driver), "read_range", counted)
        with pytest.raises(DownloadError) as exc:
            v.download(tmp_path / "out")
        assert "a.txt" in str(exc.value)
        assert len(reads) == 1, f"a changed object was read {len(reads)} times: drift must not be retried"
        assert [p.name for p in (tmp_path / "out").iterdir()] == []

    @requires("versioned_store")
    def test_version_pins_and_gone_versions(self, driver: Driver, base_uri: str, catalog: Catalog,
                                            tmp_path: Path) -> None:
        """``supports_versions``: a URI pinned to a version (``version_uri_format``) logs that
        version; its bytes download after an overwrite; a deleted version is
        :class:`VersionGoneError`, never the current bytes."""
        uri = f"{base_uri}/ver/a.bin"
        self.put(driver, uri, b"first")
        first = driver.stat(uri)
        assert first.version_id, "a versioned store must report version ids"
        self.put(driver, uri, b"second, longer")
        assert driver.version_uri_format, f"{type(driver).__name__} supports versions but declares no version_uri_format"
        pinned = driver.version_uri_format.format(uri=uri, version=first.version_id)
        v = catalog.log(art("pinned", pinned))
        (asset,) = v.assets
        assert (asset.version_id, asset.size) == (first.version_id, 5)
        v.download(tmp_path / "out")
        assert (tmp_path / "out" / asset.logical_path).read_bytes() == b"first"
        gone = self.forget_version(driver, uri, first.version_id)
        with pytest.raises(VersionGoneError):
            driver.read_range(attrs.evolve(asset, version_id=gone), 0, asset.size)
        with pytest.raises(VersionGoneError):
            Artifact("gone").add_remote(driver.version_uri_format.format(uri=uri, version=gone))

    @requires("versioned_store", "exact_version_deletes", "writable")
    def test_delete_exact_removes_only_that_version(self, driver: Driver, base_uri: str) -> None:
        """What ``tether gc`` relies on: :meth:`~Driver.inventory` lists every version,
        and :meth:`~Driver.delete_exact` of an old one deletes exactly it, never the
        current object (a delete that drops the version id would)."""
        uri = f"{base_uri}/gc/a.bin"
        self.put(driver, uri, b"old")
        old = driver.stat(uri)
        self.put(driver, uri, b"current")
        current = driver.stat(uri)
        versions = [o for o in driver.inventory(f"{base_uri}/gc/") if o.path == driver.path_of(uri)]
        assert {o.version_id for o in versions} == {old.version_id, current.version_id}, (
            "inventory must list every version on a versioned store, or gc never sees the old ones")
        (stored,) = [o for o in versions if o.version_id == old.version_id]
        driver.delete_exact(stored)
        assert driver.stat_version(Asset.from_object("a.bin", old)) is None, (
            "delete_exact left the old version: a delete without its version id removes the current object")
        after = driver.stat(uri)
        assert (after.version_id, after.size) == (current.version_id, len(b"current"))
        assert driver.read_range(Asset.from_object("a.bin", after), 0, after.size) == b"current"
        assert [o.version_id for o in driver.inventory(f"{base_uri}/gc/")] == [current.version_id]

    def forget_version(self, driver: Driver, uri: str, version_id: str) -> str:
        """Make version ``version_id`` of ``uri`` gone and return the id now gone.
        This deletes exactly that version; a suite whose emulator cannot
        (fake-gcs-server ignores ``generation`` on DELETE) returns an id that
        never existed instead."""
        driver.delete_exact(StoredObject(canonical(driver, uri), driver.path_of(uri), 0, version_id=version_id))
        return version_id

    # ---------------------------------------------------------------- failures
    @requires("hook:denied_uri")
    def test_access_denied_is_link_only_or_strict_error(self, driver: Driver, denied_uri: str) -> None:
        """Like a URI no driver serves: recorded as a link with a warning, an
        :class:`AccessDeniedError` under ``strict=True``."""
        with pytest.warns(LinkOnlyWarning):
            (asset,) = Artifact("denied").add_remote(denied_uri)
        assert asset.link and asset.uri is None and not asset.checksums
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # strict: an error, not a link and a warning
            with pytest.raises(AccessDeniedError):
                Artifact("denied", strict=True).add_remote(denied_uri)

    @requires("bucketed")
    def test_missing_bucket_is_a_clear_error(self, driver: Driver, missing_bucket_uri: str) -> None:
        bucket = driver.bucket_of(driver.path_of(missing_bucket_uri))
        for attempt in (lambda: Artifact("nobucket").add_remote(missing_bucket_uri),
                        lambda: Artifact("nobucket").add_remote(missing_bucket_uri + "/one.bin")):
            with pytest.raises(TetherError) as exc:
                attempt()
            assert isinstance(exc.value, (ObjectNotFoundError, AccessDeniedError)), repr(exc.value)
            assert bucket and bucket in str(exc.value), str(exc.value)

    @requires("hook:transient_faults")
    def test_transient_errors_are_storage_errors_and_retried(
            self, driver: Driver, base_uri: str, catalog: Catalog, tmp_path: Path,
            transient_faults: object, monkeypatch: pytest.MonkeyPatch) -> None:
        data = os.urandom(3000)
        uri = f"{base_uri}/flaky/a.bin"
        self.put(driver, uri, data)
        v = catalog.log(art("flaky", uri))
        asset = v.asset("a.bin")
        injected = transient_faults(uri, 1)  # type: ignore[operator]
        with pytest.raises(StorageError) as exc:  # the driver's client does not hide it, nor mistype it
            driver.read_range(asset, 0, asset.size)
        assert "a.bin" in str(exc.value), str(exc.value)
        assert injected() == 1
        monkeypatch.setenv("TETHER_RETRY_BASE_DELAY", "0.01")
        transient_faults(uri, 2)  # type: ignore[operator]
        assert v.download(tmp_path / "out").ok
        assert (tmp_path / "out" / "a.bin").read_bytes() == data
        assert injected() == 3, f"{injected()} faults injected: the download did not meet (and retry) them"

    def test_alias_schemes_record_the_canonical_uri(self, driver: Driver, base_uri: str) -> None:
        self.put(driver, f"{base_uri}/alias/a.bin", b"aliased")
        want = canonical(driver, f"{base_uri}/alias/a.bin")
        scheme, rest = split_scheme(base_uri)
        aliases = self.alias_schemes if self.alias_schemes is not None else type(driver).schemes
        for other in aliases:
            uri = f"{other}://{rest}/alias/a.bin" if scheme else f"{other}://{base_uri}/alias/a.bin"
            assert type(get_driver(scheme_of(uri))) is type(driver), f"{other}:// is served by another driver"
            (asset,) = Artifact("alias").add_remote(uri)
            assert asset.uri == want, f"{uri} recorded as {asset.uri}, not {want}"
