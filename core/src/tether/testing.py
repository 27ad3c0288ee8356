"""The driver contract suite: one set of tests every driver runs against its real backend.

Subclass :class:`DriverContract` in your plugin's tests and provide a
``base_uri`` fixture: a fresh, empty, writable location for each test (a temp
folder, a new bucket on the emulator, a unique prefix). ``pytest`` collects the
inherited tests::

    from tether.testing import DriverContract

    class TestMyDriver(DriverContract):
        supports_versions = False

        @pytest.fixture
        def base_uri(self, my_server):
            return f"my://{my_server.new_bucket()}"

Class attributes describe what the backend can do; the tests adapt to them,
they are never skipped.

The concurrency tests race threads on one client, and spawned processes on
their own clients, through :func:`tether.racing.race`: whatever a racer
raises fails the test (a race whose racers all failed can still leave a
plausible end state). A child process inherits the environment (where the S3
and GCS drivers find their endpoints and credentials); a suite that configures
its driver in-process (``tether.configure(...)`` in a fixture) overrides the
``child_env`` and ``child_setup`` fixtures so each child is configured the
same way. A store that lives inside one process (``memory://``) sets
``multiprocess = False`` and its process test races threads instead.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from . import Artifact, Catalog, get_driver
from .driver import Driver
from .errors import (
    AlreadyExistsError,
    DownloadError,
    ObjectNotFoundError,
    TooManyObjectsError,
)
from .racing import WorkersFailed, race
from .resolver import scheme_of

__all__ = ["UNUSUAL_NAMES", "DriverContract", "WorkersFailed", "race"]

UNUSUAL_NAMES = (
    "with space.txt",
    "ünïcödé-日本.bin",
    "hash#mark.txt",
    "question?mark.txt",
    "percent%20sign.txt",
    "plus+and=equals.txt",
)


class DriverContract:
    #: True when the store keeps old object versions that tether can pin.
    supports_versions: bool = False
    #: False when a child process cannot reach the same store (one that lives
    #: inside a process, like ``memory://``): the process tests race threads.
    multiprocess: bool = True

    # ------------------------------------------------------------- fixtures
    @pytest.fixture
    def base_uri(self) -> str:  # pragma: no cover - subclasses provide it
        raise NotImplementedError("subclass DriverContract and define a base_uri fixture")

    @pytest.fixture
    def driver(self, base_uri: str) -> Driver:
        return get_driver(scheme_of(base_uri))

    @pytest.fixture
    def catalog(self, tmp_path: Path) -> Catalog:
        return Catalog(tmp_path / "catalog")

    @pytest.fixture
    def child_env(self) -> dict[str, str]:
        """Variables a child process needs on top of this process's environment."""
        return {}

    @pytest.fixture
    def child_setup(self) -> Callable[[], object] | None:
        """A picklable (module-level) callable each child process runs before it
        races: configure tether there the way this suite's fixtures configured it
        here (``functools.partial(tether.configure, "my", endpoint=url)``)."""
        return None

    # -------------------------------------------------------------- helpers
    def put(self, driver: Driver, uri: str, data: bytes) -> None:
        """Write an object the way a user's other tools would (override if needed)."""
        driver.write_bytes(uri, data)

    def remove(self, driver: Driver, uri: str) -> None:
        driver.delete(uri)

    def tree(self, driver: Driver, base: str, files: dict[str, bytes]) -> None:
        for rel, data in files.items():
            self.put(driver, f"{base}/{rel}", data)

    # ------------------------------------------------------ catalog primitives
    def test_bytes_round_trip_and_create_if_absent(self, driver: Driver, base_uri: str) -> None:
        uri = f"{base_uri}/claims/one.json"
        driver.write_bytes(uri, b"first", if_absent=True)
        with pytest.raises(AlreadyExistsError):
            driver.write_bytes(uri, b"second", if_absent=True)
        assert driver.read_bytes(uri) == b"first"
        driver.write_bytes(uri, b"third")
        assert driver.read_bytes(uri) == b"third"
        assert "one.json" in driver.list_names(f"{base_uri}/claims")
        driver.delete(uri)
        with pytest.raises(ObjectNotFoundError):
            driver.read_bytes(uri)

    def test_concurrent_create_if_absent_has_one_winner(self, driver: Driver, base_uri: str) -> None:
        uri = f"{base_uri}/race/claim"

        def attempt(i: int) -> bool:
            try:
                driver.write_bytes(uri, str(i).encode(), if_absent=True)
                return True
            except AlreadyExistsError:  # the only way to lose; anything else fails the race
                return False

        won = race(attempt, [(i,) for i in range(8)])
        winners = [i for i, w in enumerate(won) if w]
        assert len(winners) == 1, f"{len(winners)} writers won one create-if-absent: {winners}"
        assert driver.read_bytes(uri) == str(winners[0]).encode()

    # ----------------------------------------------------------------- resolve
    def test_resolve_single_object(self, driver: Driver, base_uri: str) -> None:
        self.put(driver, f"{base_uri}/one.bin", b"payload")
        res = driver.resolve(f"{base_uri}/one.bin")
        assert res.kind == "object"
        (obj,) = res.objects
        assert obj.size == 7
        assert obj.checksums, "a driver must record at least one checksum"
        assert res.relative(obj) == "one.bin"

    def test_prefix_matches_on_slash_boundaries(self, driver: Driver, base_uri: str) -> None:
        self.tree(driver, base_uri, {"data/x": b"1", "data/deep/y": b"22", "data2/z": b"333",
                                     "database": b"4"})
        art = Artifact("boundary")
        assets = art.add_remote(f"{base_uri}/data")
        assert sorted(a.logical_path for a in assets) == ["deep/y", "x"]
        art2 = Artifact("boundary2")
        assert sorted(a.logical_path for a in art2.add_remote(f"{base_uri}/data/", "in")) == ["in/deep/y", "in/x"]

    def test_missing_uri_is_a_clear_error(self, driver: Driver, base_uri: str) -> None:
        with pytest.raises(ObjectNotFoundError) as exc:
            Artifact("missing").add_remote(f"{base_uri}/nothing-here")
        assert "nothing-here" in str(exc.value)

    def test_max_objects_is_never_a_silent_cap(self, driver: Driver, base_uri: str) -> None:
        self.tree(driver, base_uri, {f"many/{i}": b"x" for i in range(5)})
        with pytest.raises(TooManyObjectsError) as exc:
            Artifact("capped").add_remote(f"{base_uri}/many", max_objects=3)
        # The count found, not one in the location (temp folders and buckets hold digits).
        said = str(exc.value)
        for where in (base_uri, _canonical(driver, base_uri), driver.path_of(base_uri)):
            said = said.replace(where, "<base>")
        assert re.search(r"\b5\b", said), said
        assert len(Artifact("fits").add_remote(f"{base_uri}/many", max_objects=5)) == 5

    def test_glob(self, driver: Driver, base_uri: str) -> None:
        self.tree(driver, base_uri, {"g/a.csv": b"a", "g/b.csv": b"b", "g/c.txt": b"c"})
        assets = Artifact("glob").add_remote(f"{base_uri}/g/*.csv")
        assert sorted(a.logical_path for a in assets) == ["a.csv", "b.csv"]

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

    # ---------------------------------------------------------- the whole loop
    def test_log_download_verify_with_unusual_names(self, driver: Driver, base_uri: str,
                                                     catalog: Catalog, tmp_path: Path) -> None:
        files = {f"set/{n}": n.encode() * 3 for n in UNUSUAL_NAMES}
        files["set/empty"] = b""
        files["set/nested/deeper/file.dat"] = os.urandom(3000)
        self.tree(driver, base_uri, files)
        art = Artifact("weird-names")
        art.add_remote(f"{base_uri}/set")
        v = catalog.log(art)
        assert v.version == 1
        assert {a.uri for a in v.assets} == {_canonical(driver, f"{base_uri}/{k}") for k in files}
        dest = tmp_path / "out"
        result = v.download(dest)
        assert result.ok and len(result.with_status("downloaded")) == len(files)
        for rel, data in files.items():
            assert (dest / rel[len("set/"):]).read_bytes() == data
        checked = v.verify(dest)  # every file checked, not an empty (vacuously ok) result
        assert checked.ok and len(checked.with_status("ok")) == len(files)
        again = v.download(dest)
        assert len(again.with_status("present")) == len(files)

    def test_identical_content_is_not_a_new_version(self, driver: Driver, base_uri: str,
                                                    catalog: Catalog) -> None:
        self.put(driver, f"{base_uri}/same/a", b"a")
        v1 = catalog.log(_art("same", f"{base_uri}/same"))
        v2 = catalog.log(_art("same", f"{base_uri}/same"))
        assert v1.version == v2.version == 1
        self.put(driver, f"{base_uri}/same/a", b"changed")
        assert catalog.log(_art("same", f"{base_uri}/same")).version == 2

    def test_changed_object_is_never_delivered_silently(self, driver: Driver, base_uri: str,
                                                         catalog: Catalog, tmp_path: Path) -> None:
        self.put(driver, f"{base_uri}/drift/a.txt", b"original")
        v = catalog.log(_art("drift", f"{base_uri}/drift"))
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
        v = catalog.log(_art("deleted", f"{base_uri}/del"))
        self.remove(driver, f"{base_uri}/del/gone")
        result = v.download(tmp_path / "out", raise_on_error=False)
        if self.supports_versions:  # a delete hides the object; its recorded version remains
            assert result.ok and (tmp_path / "out" / "gone").read_bytes() == b"g"
            return
        (failed,) = result.with_status("failed")
        assert failed.logical_path == "gone" and "gone" in (failed.error or "")
        assert (tmp_path / "out" / "keep").read_bytes() == b"k"
        assert not (tmp_path / "out" / "gone").exists()

    def test_status_reports_drift(self, driver: Driver, base_uri: str, catalog: Catalog) -> None:
        self.tree(driver, base_uri, {"st/same": b"s", "st/mod": b"m", "st/del": b"d"})
        v = catalog.log(_art("status", f"{base_uri}/st"))
        self.put(driver, f"{base_uri}/st/mod", b"m2-longer")
        self.remove(driver, f"{base_uri}/st/del")
        self.put(driver, f"{base_uri}/st/new", b"n")
        got = {(o.logical_path or o.uri): o.status for o in v.status().outcomes}
        assert got == {"same": "unchanged", "mod": "modified", "del": "deleted",
                       _canonical(driver, f"{base_uri}/st/new"): "new"}

    def test_large_object_in_parallel_parts(self, driver: Driver, base_uri: str, catalog: Catalog,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        data = os.urandom(5 * 256 * 1024 + 123)
        self.put(driver, f"{base_uri}/big.bin", data)
        v = catalog.log(_art("big", f"{base_uri}/big.bin"))
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

    # ------------------------------------------------------------- upload & catalog
    def test_upload_local_files_to_this_store(self, driver: Driver, base_uri: str, catalog: Catalog, tmp_path: Path) -> None:
        src = tmp_path / "src"
        (src / "sub").mkdir(parents=True)
        (src / "a.txt").write_bytes(b"alpha")
        (src / "sub" / "b #1.txt").write_bytes(b"beta")
        (src / "0-first.txt").write_bytes(b"zero")
        art = Artifact("uploaded", artifacts_uri=f"{base_uri}/storage")
        art.add(src / "sub" / "b #1.txt", "z-added-first.txt")  # added out of name order,
        art.add(src)                                              # and the same file twice
        v = catalog.log(art)
        assert v.asset("z-added-first.txt").checksums["sha256"] == hashlib.sha256(b"beta").hexdigest()
        assert v.asset("0-first.txt").checksums["sha256"] == hashlib.sha256(b"zero").hexdigest()
        assert all(a.uri and a.uri.startswith(_canonical(driver, f"{base_uri}/storage/")) for a in v.assets)
        assert v.asset("a.txt").checksums["sha256"] == hashlib.sha256(b"alpha").hexdigest()
        v.download(tmp_path / "out")
        assert (tmp_path / "out" / "sub" / "b #1.txt").read_bytes() == b"beta"

    def test_catalog_on_this_store(self, driver: Driver, base_uri: str, tmp_path: Path) -> None:
        self.put(driver, f"{base_uri}/d/f", b"1")
        cat = Catalog(f"{base_uri}/catalog")
        v1 = cat.log(_art("team", f"{base_uri}/d"), aliases=["prod"], tags=["first"])
        self.put(driver, f"{base_uri}/d/f", b"22")
        v2 = cat.log(_art("team", f"{base_uri}/d"))
        assert (v1.version, v2.version) == (1, 2)
        assert cat.artifacts() == ["team"]
        assert cat.get("team@prod").version == 1 and cat.get("team@prod").tags == ("first",)
        cat.set_alias("team", "prod", 2)
        assert cat.get("team", alias="prod").version == 2
        assert [i.version for i in cat.versions("team")] == [1, 2]

    def test_concurrent_loggers_get_distinct_versions(self, driver: Driver, base_uri: str) -> None:
        cat = Catalog(f"{base_uri}/catalog")
        for i in range(6):
            self.put(driver, f"{base_uri}/c{i}/f", str(i).encode())
        arts = [_art("racing", f"{base_uri}/c{i}") for i in range(6)]
        results = race(lambda a: cat.log(a).version, [(a,) for a in arts])
        # Explicit messages: pytest rewrites asserts in test modules, not in this one.
        assert sorted(results) == list(range(1, 7)), f"versions handed out: {sorted(results)}"
        contents = {cat.get("racing", version=n).assets[0].uri for n in range(1, 7)}
        assert len(contents) == 6, f"6 versions record {len(contents)} different contents"

    def test_concurrent_logging_processes_get_distinct_versions(
            self, driver: Driver, base_uri: str, child_env: dict[str, str],
            child_setup: Callable[[], object] | None) -> None:
        """Separate processes, each with its own client, log one artifact at once."""
        root = f"{base_uri}/catalog"
        sources = [f"{base_uri}/p{i}" for i in range(4)]
        for i, src in enumerate(sources):
            self.put(driver, f"{src}/f", f"process {i}".encode())
        calls = [(root, "multi", src) for src in sources]
        if self.multiprocess:
            got = race(_log_remote, calls, processes=True, env=child_env, setup=child_setup)
        else:  # a child would see an empty store of its own: the same race, with threads
            got = race(_log_remote, calls)
        assert sorted(got) == [1, 2, 3, 4], f"versions handed out: {sorted(got)}"
        cat = Catalog(root)
        listed = [info.version for info in cat.versions("multi")]
        assert listed == [1, 2, 3, 4], f"versions in the catalog: {listed}"
        for src, number in zip(sources, got):  # each logger was told the version holding its content
            recorded = cat.get("multi", version=number).assets[0].uri
            assert recorded == _canonical(driver, f"{src}/f"), f"{src} was told v{number}, which records {recorded}"
        assert cat.aliases("multi").get("newest") in got, f"alias 'newest': {cat.aliases('multi')}"


    def test_racing_alias_moves_end_in_one_requested_state(self, driver: Driver, base_uri: str) -> None:
        cat = Catalog(f"{base_uri}/catalog")
        for i in range(3):
            self.put(driver, f"{base_uri}/a/f", str(i).encode())
            cat.log(_art("aliased", f"{base_uri}/a"))
        race(lambda i: cat.set_alias("aliased", "prod", i % 3 + 1), [(i,) for i in range(12)])
        assert cat.aliases("aliased").get("prod") in (1, 2, 3), f"aliases: {cat.aliases('aliased')}"
        assert cat.get("aliased@prod").aliases == ("prod",)


    def test_upload_of_a_file_changed_after_hashing_is_refused_and_leaves_nothing(
            self, driver: Driver, base_uri: str, catalog: Catalog, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
        """The :meth:`Driver.upload` contract: bytes that are not the hashed
        bytes never appear at the content address, and nothing is recorded."""
        from .errors import SourceChangedError, UnknownArtifactError

        src = tmp_path / "still-being-written.bin"
        hashed, later = b"the bytes that were hashed", b"bytes written after hashing"[:26]
        src.write_bytes(hashed)
        real = type(driver).upload

        def upload(drv: Driver, local_path: str, uri: str, **kw: str) -> object:
            src.write_bytes(later)  # same size, other bytes: its writer is not done
            return real(drv, local_path, uri, **kw)

        monkeypatch.setattr(type(driver), "upload", upload)
        art = Artifact("changing", artifacts_uri=f"{base_uri}/storage")
        art.add(src)
        with pytest.raises(SourceChangedError, match="still-being-written.bin"):
            catalog.log(art)
        for data in (hashed, later):
            sha = hashlib.sha256(data).hexdigest()
            assert driver.stat_path(driver.path_of(f"{base_uri}/storage/sha256/{sha[:2]}/{sha}")) is None
        with pytest.raises(UnknownArtifactError):
            catalog.get("changing")

def _canonical(driver: Driver, uri: str) -> str:
    """How tether records ``uri`` (plain paths become file:// URIs, aliases a canonical scheme)."""
    path = driver.path_of(uri)
    return driver.uri_of(path)


def _art(name: str, uri: str) -> Artifact:
    art = Artifact(name)
    art.add_remote(uri)
    return art


def _log_remote(root: str, name: str, uri: str) -> int:
    """One racer of the process test (module level: a spawned child imports it)."""
    return Catalog(root).log(_art(name, uri), aliases=["newest"]).version
