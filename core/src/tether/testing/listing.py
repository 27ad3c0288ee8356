"""Contract tests of prefixes and globs: collected for drivers with ``lists_prefixes``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .. import Artifact, Catalog
from ..driver import Driver
from ..errors import TooManyObjectsError
from .base import ContractBase, art, canonical, counting, requires

#: Names that break naive quoting, splitting and URL handling.
UNUSUAL_NAMES = (
    "with space.txt",
    "ünïcödé-日本.bin",
    "hash#mark.txt",
    "question?mark.txt",
    "percent%20sign.txt",
    "plus+and=equals.txt",
)

#: What a read of object bytes may go through: the driver's own operations, and
#: its fsspec filesystem's (where a driver hashing at log time would read).
_DRIVER_READS = ("read_range", "checksum", "read_bytes")
_FS_READS = ("cat_file", "_cat_file", "cat_ranges", "_cat_ranges", "open", "_open", "read_block")


class ListingContract(ContractBase):
    @requires("lists_prefixes")
    def test_prefix_matches_on_slash_boundaries(self, driver: Driver, base_uri: str) -> None:
        self.tree(driver, base_uri, {"data/x": b"1", "data/deep/y": b"22", "data2/z": b"333",
                                     "database": b"4"})
        assets = Artifact("boundary").add_remote(f"{base_uri}/data")
        assert sorted(a.logical_path for a in assets) == ["deep/y", "x"]
        art2 = Artifact("boundary2")
        assert sorted(a.logical_path for a in art2.add_remote(f"{base_uri}/data/", "in")) == ["in/deep/y", "in/x"]

    @requires("lists_prefixes")
    def test_max_objects_is_never_a_silent_cap(self, driver: Driver, base_uri: str) -> None:
        self.tree(driver, base_uri, {f"many/{i}": b"x" for i in range(5)})
        with pytest.raises(TooManyObjectsError) as exc:
            Artifact("capped").add_remote(f"{base_uri}/many", max_objects=3)
        # The count found, not one in the location (temp folders and buckets hold digits).
        said = str(exc.value)
        for where in (base_uri, canonical(driver, base_uri), driver.path_of(base_uri)):
            said = said.replace(where, "<base>")
        assert re.search(r"\b5\b", said), said
        assert len(Artifact("fits").add_remote(f"{base_uri}/many", max_objects=5)) == 5

    @requires("lists_prefixes")
    def test_glob(self, driver: Driver, base_uri: str) -> None:
        self.tree(driver, base_uri, {"g/a.csv": b"a", "g/b.csv": b"b", "g/c.txt": b"c"})
        assets = Artifact("glob").add_remote(f"{base_uri}/g/*.csv")
        assert sorted(a.logical_path for a in assets) == ["a.csv", "b.csv"]

    @requires("lists_prefixes")
    def test_log_download_verify_with_unusual_names(self, driver: Driver, base_uri: str,
                                                     catalog: Catalog, tmp_path: Path) -> None:
        files = {f"set/{n}": n.encode() * 3 for n in UNUSUAL_NAMES}
        files["set/empty"] = b""
        files["set/nested/deeper/file.dat"] = os.urandom(3000)
        self.tree(driver, base_uri, files)
        unusual = Artifact("weird-names")
        unusual.add_remote(f"{base_uri}/set")
        v = catalog.log(unusual)
        assert v.version == 1
        assert {a.uri for a in v.assets} == {canonical(driver, f"{base_uri}/{k}") for k in files}
        dest = tmp_path / "out"
        result = v.download(dest)
        assert result.ok and len(result.with_status("downloaded")) == len(files)
        for rel, data in files.items():
            assert (dest / rel[len("set/"):]).read_bytes() == data
        checked = v.verify(dest)  # every file checked, not an empty (vacuously ok) result
        assert checked.ok and len(checked.with_status("ok")) == len(files)
        again = v.download(dest)
        assert len(again.with_status("present")) == len(files)

    @requires("lists_prefixes")
    def test_status_reports_drift(self, driver: Driver, base_uri: str, catalog: Catalog) -> None:
        self.tree(driver, base_uri, {"st/same": b"s", "st/mod": b"m", "st/del": b"d"})
        v = catalog.log(art("status", f"{base_uri}/st"))
        self.put(driver, f"{base_uri}/st/mod", b"m2-longer")
        self.remove(driver, f"{base_uri}/st/del")
        self.put(driver, f"{base_uri}/st/new", b"n")
        got = {(o.logical_path or o.uri): o.status for o in v.status().outcomes}
        assert got == {"same": "unchanged", "mod": "modified", "del": "deleted",
                       canonical(driver, f"{base_uri}/st/new"): "new"}

    @requires("lists_prefixes")
    def test_folder_markers_are_not_assets(self, driver: Driver, base_uri: str, catalog: Catalog,
                                           tmp_path: Path) -> None:
        """Zero-byte ``folder/`` objects (consoles, Hadoop, rclone make them) are
        neither assets nor a reason to miss the objects beside them."""
        self.tree(driver, base_uri, {"fm/a.txt": b"a", "fm/sub/b.txt": b"b"})
        for folder in ("fm", "fm/sub", "fm/empty"):
            self.put_folder_marker(driver, f"{base_uri}/{folder}")
        v = catalog.log(art("markers", f"{base_uri}/fm"))
        assert sorted(a.logical_path for a in v.assets) == ["a.txt", "sub/b.txt"]
        assert v.download(tmp_path / "out").ok
        assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")
                      if p.is_file()) == ["a.txt", "sub/b.txt"]
        assert sorted(a.logical_path for a in Artifact("g").add_remote(f"{base_uri}/fm/**")) == ["a.txt", "sub/b.txt"]

    @requires("lists_prefixes")
    def test_a_prefix_of_several_listing_pages(self, driver: Driver, base_uri: str, catalog: Catalog,
                                               listing_page_size: int | None) -> None:
        """Every page is read, none twice, whatever the order of the pages."""
        count = 2 * listing_page_size + 1 if listing_page_size else 7
        files = {f"pages/{i:04d}": str(i).encode() for i in range(count)}
        self.tree(driver, base_uri, files)
        v = catalog.log(art("pages", f"{base_uri}/pages"))
        assert [a.logical_path for a in v.assets] == sorted(k[len("pages/"):] for k in files)
        sizes = {a.logical_path: a.size for a in v.assets}
        assert all(sizes[k[len("pages/"):]] == len(d) for k, d in files.items())

    @requires("lists_prefixes", "lists_checksums")
    def test_resolving_a_prefix_reads_no_object_bytes(self, driver: Driver, base_uri: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        """``lists_checksums``: logging a prefix costs listings, not reads. Every
        read path of the driver and of its filesystem is counted."""
        files = {f"noread/{i}.bin": os.urandom(100 + i) for i in range(4)}
        self.tree(driver, base_uri, files)
        reads = counting(monkeypatch, type(driver), _DRIVER_READS)
        fs_reads = [0]
        try:
            fs = driver.fs(driver.path_of(base_uri))
        except NotImplementedError:  # no fsspec filesystem: the driver's own reads are all there are
            fs = None
        if fs is not None:
            fs_reads = counting(monkeypatch, type(fs), _FS_READS)
        assets = Artifact("noread").add_remote(f"{base_uri}/noread")
        assert len(assets) == len(files)
        assert all(a.checksums for a in assets)
        assert (reads[0], fs_reads[0]) == (0, 0), (
            f"resolving a prefix read {reads[0]} bytes through {type(driver).__name__} and made "
            f"{fs_reads[0]} filesystem reads: a driver with lists_checksums takes checksums from listings")
