"""Contract tests of writes: catalog primitives, uploads, a catalog on the store, races.

Collected for drivers with ``writable`` (and ``lists_prefixes`` where the
catalog lists). Every race goes through :func:`tether.testing.race`, so what a
racer raises fails the test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from .. import Artifact, Catalog
from ..driver import Driver
from ..errors import AlreadyExistsError, ObjectNotFoundError, PreconditionFailedError
from ..racing import race
from .base import ContractBase, art, canonical, file_barrier, log_remote, requires


class WriteContract(ContractBase):
    @requires("writable", "lists_prefixes")
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

    @requires("writable")
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

    @requires("writable")
    def test_upload_local_files_to_this_store(self, driver: Driver, base_uri: str, catalog: Catalog, tmp_path: Path) -> None:
        src = tmp_path / "src"
        (src / "sub").mkdir(parents=True)
        (src / "a.txt").write_bytes(b"alpha")
        (src / "sub" / "b #1.txt").write_bytes(b"beta")
        (src / "0-first.txt").write_bytes(b"zero")
        up = Artifact("uploaded", artifacts_uri=f"{base_uri}/storage")
        up.add(src / "sub" / "b #1.txt", "z-added-first.txt")  # added out of name order,
        up.add(src)                                              # and the same file twice
        v = catalog.log(up)
        assert v.asset("z-added-first.txt").checksums["sha256"] == hashlib.sha256(b"beta").hexdigest()
        assert v.asset("0-first.txt").checksums["sha256"] == hashlib.sha256(b"zero").hexdigest()
        assert all(a.uri and a.uri.startswith(canonical(driver, f"{base_uri}/storage/")) for a in v.assets)
        assert v.asset("a.txt").checksums["sha256"] == hashlib.sha256(b"alpha").hexdigest()
        v.download(tmp_path / "out")
        assert (tmp_path / "out" / "sub" / "b #1.txt").read_bytes() == b"beta"

    @requires("writable")
    def test_upload_of_a_file_changed_after_hashing_is_refused_and_leaves_nothing(
            self, driver: Driver, base_uri: str, catalog: Catalog, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
        """The :meth:`Driver.upload` contract: bytes that are not the hashed
        bytes never appear at the content address, and nothing is recorded."""
        from ..errors import SourceChangedError, UnknownArtifactError

        src = tmp_path / "still-being-written.bin"
        hashed, later = b"the bytes that were hashed", b"bytes written after hashing"[:26]
        src.write_bytes(hashed)
        real = type(driver).upload

        def upload(drv: Driver, local_path: str, uri: str, **kw: str) -> object:
            src.write_bytes(later)  # same size, other bytes: its writer is not done
            return real(drv, local_path, uri, **kw)

        monkeypatch.setattr(type(driver), "upload", upload)
        up = Artifact("changing", artifacts_uri=f"{base_uri}/storage")
        up.add(src)
        with pytest.raises(SourceChangedError, match="still-being-written.bin"):
            catalog.log(up)
        for data in (hashed, later):
            sha = hashlib.sha256(data).hexdigest()
            assert driver.stat_path(driver.path_of(f"{base_uri}/storage/sha256/{sha[:2]}/{sha}")) is None
        with pytest.raises(UnknownArtifactError):
            catalog.get("changing")

    @requires("writable", "lists_prefixes")
    def test_catalog_on_this_store(self, driver: Driver, base_uri: str, tmp_path: Path) -> None:
        self.put(driver, f"{base_uri}/d/f", b"1")
        cat = Catalog(f"{base_uri}/catalog")
        v1 = cat.log(art("team", f"{base_uri}/d"), aliases=["prod"], tags=["first"])
        self.put(driver, f"{base_uri}/d/f", b"22")
        v2 = cat.log(art("team", f"{base_uri}/d"))
        assert (v1.version, v2.version) == (1, 2)
        assert cat.artifacts() == ["team"]
        assert cat.get("team@prod").version == 1 and cat.get("team@prod").tags == ("first",)
        cat.set_alias("team", "prod", 2)
        assert cat.get("team", alias="prod").version == 2
        assert [i.version for i in cat.versions("team")] == [1, 2]

    @requires("writable", "lists_prefixes")
    def test_concurrent_loggers_get_distinct_versions(self, driver: Driver, base_uri: str) -> None:
        cat = Catalog(f"{base_uri}/catalog")
        for i in range(6):
            self.put(driver, f"{base_uri}/c{i}/f", str(i).encode())
        arts = [art("racing", f"{base_uri}/c{i}") for i in range(6)]
        results = race(lambda a: cat.log(a).version, [(a,) for a in arts])
        # Explicit messages: pytest rewrites asserts in test modules, not in this one.
        assert sorted(results) == list(range(1, 7)), f"versions handed out: {sorted(results)}"
        contents = {cat.get("racing", version=n).assets[0].uri for n in range(1, 7)}
        assert len(contents) == 6, f"6 versions record {len(contents)} different contents"

    @requires("writable", "lists_prefixes")
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
            got = race(log_remote, calls, processes=True, env=child_env, setup=child_setup)
        else:  # a child would see an empty store of its own: the same race, with threads
            got = race(log_remote, calls)
        assert sorted(got) == [1, 2, 3, 4], f"versions handed out: {sorted(got)}"
        cat = Catalog(root)
        listed = [info.version for info in cat.versions("multi")]
        assert listed == [1, 2, 3, 4], f"versions in the catalog: {listed}"
        for src, number in zip(sources, got):  # each logger was told the version holding its content
            recorded = cat.get("multi", version=number).assets[0].uri
            assert recorded == canonical(driver, f"{src}/f"), f"{src} was told v{number}, which records {recorded}"
        assert cat.aliases("multi").get("newest") in got, f"alias 'newest': {cat.aliases('multi')}"

    @requires("writable", "lists_prefixes")
    def test_racing_alias_moves_end_in_one_requested_state(self, driver: Driver, base_uri: str) -> None:
        cat = Catalog(f"{base_uri}/catalog")
        for i in range(3):
            self.put(driver, f"{base_uri}/a/f", str(i).encode())
            cat.log(art("aliased", f"{base_uri}/a"))
        race(lambda i: cat.set_alias("aliased", "prod", i % 3 + 1), [(i,) for i in range(12)])
        assert cat.aliases("aliased").get("prod") in (1, 2, 3), f"aliases: {cat.aliases('aliased')}"
        assert cat.get("aliased@prod").aliases == ("prod",)

    @requires("writable", "conditional_overwrite")
    def test_conditional_overwrite_from_separate_processes_has_one_winner(
            self, driver: Driver, base_uri: str, tmp_path: Path, child_env: dict[str, str],
            child_setup: Callable[[], object] | None) -> None:
        """``conditional_overwrite``: writers in separate processes that all read
        one state and all try to replace it: exactly one succeeds, the rest get
        :class:`PreconditionFailedError`, and the object holds the winner's bytes."""
        uri = f"{base_uri}/cas/record.json"
        self.put(driver, uri, b"initial state")
        calls = [(uri, i, str(tmp_path / "cas-barrier"), 4) for i in range(4)]
        if self.multiprocess:
            won = race(overwrite_if_unchanged, calls, processes=True, env=child_env, setup=child_setup)
        else:
            won = race(overwrite_if_unchanged, calls)
        winners = [i for i, w in enumerate(won) if w]
        assert len(winners) == 1, f"{len(winners)} writers replaced one state: {winners}"
        assert driver.read_bytes(uri) == f"racer {winners[0]}".encode()


def overwrite_if_unchanged(uri: str, i: int, barrier: str, parties: int) -> bool:
    """One racer of the conditional-overwrite test (module level: a spawned child
    imports it): read, wait until every racer has read, then replace that state."""
    from .. import get_driver
    from ..resolver import scheme_of

    driver = get_driver(scheme_of(uri))
    _, token = driver.read_bytes_versioned(uri)
    file_barrier(barrier, parties)
    try:
        driver.write_bytes_if_match(uri, f"racer {i}".encode(), token)
    except PreconditionFailedError:  # the only way to lose; anything else fails the race
        return False
    return True
