"""The contract suite can fail: its concurrency tests run against deliberately broken drivers.

Each broken driver is the local driver under its own scheme with one defect a
real driver could have. Every threaded or multi-process test of
:class:`tether.testing.DriverContract` is run against the drivers that break
what it guards and must fail for that reason; the same tests pass against the
local driver relabelled without a defect, so a failure is the driver's, not
this harness's. Racers that raise must fail a test even when the end state
looks right: several cases below passed before the suite collected what its
threads raised.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata as md
import inspect
import os
import re
import threading
from pathlib import Path

import attrs
import pytest
import tether
from tether import plugins
from tether.driver import Driver
from tether.errors import AlreadyExistsError, InvalidURIError, TetherError, TooManyObjectsError
from tether.models import RemoteObject
from tether.testing import DriverContract
from tether.uris import split_scheme
from tether_local import LocalDriver

# ------------------------------------------------------------------ the drivers
_OWNER_PID: int | None = None  # the process running the test; others are its racers


def _racing() -> bool:
    """True in a racer: a worker thread, or a process other than the test's."""
    return os.getpid() != _OWNER_PID or threading.current_thread() is not threading.main_thread()


class Relabelled(LocalDriver):
    """The local driver, sound, under another scheme (``relabelled:///tmp/x``)."""

    schemes = ("relabelled",)

    def path_of(self, uri: str) -> str:
        scheme, rest = split_scheme(uri)
        if scheme not in self.schemes:
            raise InvalidURIError(f"{uri!r} is not a {self.canonical_scheme}:// URI")
        return super().path_of("file://" + rest)

    def uri_of(self, path: str) -> str:
        return f"{self.canonical_scheme}://{path}"


class ConflictAsError(Relabelled):
    """Reports a lost create-if-absent as a generic failure, not AlreadyExistsError."""

    schemes = ("conflict-as-error",)

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        try:
            super().write_bytes(uri, data, if_absent=if_absent)
        except AlreadyExistsError:
            raise TetherError(f"precondition failed writing {uri}") from None


class FailsWhenRacing(Relabelled):
    """Every write from a racer lands, then reports failure (a lost response)."""

    schemes = ("fails-when-racing",)

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        super().write_bytes(uri, data, if_absent=if_absent)
        if _racing():
            raise PermissionError(f"write to {uri} reported as refused")


class NoConditionalPut(Relabelled):
    """Create-if-absent overwrites (a store without conditional writes); a racer's
    listings show its own writes, not yet the other racers' (listings lag)."""

    schemes = ("no-conditional-put",)
    _own = threading.local()

    def _written(self) -> set[str]:
        if not hasattr(self._own, "paths"):
            self._own.paths = set()
        return self._own.paths

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        super().write_bytes(uri, data)
        if _racing():
            self._written().add(self.path_of(uri))

    def list_names(self, uri: str) -> list[str]:
        names = super().list_names(uri)
        if not _racing():
            return names
        folder = self.path_of(uri).rstrip("/") + "/"
        mine = {p[len(folder):].split("/", 1)[0] for p in self._written() if p.startswith(folder)}
        return [n for n in names if n in mine]


class DiesWhenRacing(Relabelled):
    """A racer process dies on its first write, without a word."""

    schemes = ("dies-when-racing",)

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> None:
        if os.getpid() != _OWNER_PID:
            os._exit(70)
        super().write_bytes(uri, data, if_absent=if_absent)


class VagueCap(Relabelled):
    """Refuses a prefix over max_objects without saying how many it found."""

    schemes = ("vague-cap",)

    def list(self, uri: str, *, max_objects: int = 10_000) -> list[RemoteObject]:
        found = super().list(uri, max_objects=10_000)
        if len(found) > max_objects:
            raise TooManyObjectsError(f"{uri} holds too many objects")
        return found


class WrongMD5(Relabelled):
    """Enrich records an md5 that is not the object's."""

    schemes = ("wrong-md5",)

    def enrich(self, objects: list[RemoteObject]) -> list[RemoteObject]:
        return [attrs.evolve(o, checksums={**o.checksums, "md5": hashlib.md5(b"").hexdigest()})
                for o in super().enrich(objects)]


class ClaimsEtagPins(Relabelled):
    """Declares pins_by_etag, but reads check only the size (the local driver's rule)."""

    schemes = ("claims-etag-pins",)
    pins_by_etag = True


class ClaimsCompareAndSwap(Relabelled):
    """Declares conditional_overwrite over a compare-then-write that is two steps:
    every racer compares before any writes (as unlucky timing would have it)."""

    schemes = ("claims-cas",)
    conditional_overwrite = True
    read_bytes_versioned = Driver.read_bytes_versioned

    def write_bytes_if_match(self, uri: str, data: bytes, token: str) -> str:
        from tether.driver import content_token
        from tether.errors import PreconditionFailedError
        from tether.testing.base import file_barrier

        if content_token(self.read_bytes(uri)) != token:
            raise PreconditionFailedError(f"{uri} changed since it was read")
        file_barrier(self.path_of(uri) + ".compared", 4)
        self.write_bytes(uri, data)
        return content_token(data)


class HashesOnLog(Relabelled):
    """Declares lists_checksums, but lists through fsspec and reads every object
    to checksum it (the documented minimal driver)."""

    schemes = ("hashes-on-log",)
    lists_checksums = True
    list = Driver.list
    enrich = Driver.enrich


@tether.hookimpl
def tether_register_drivers() -> list[type[Driver]]:
    return [Relabelled, ConflictAsError, FailsWhenRacing, NoConditionalPut, DiesWhenRacing, VagueCap, WrongMD5,
            ClaimsEtagPins, ClaimsCompareAndSwap, HashesOnLog]


def install(owner_pid: int) -> plugins.Registry | None:
    """Serve the broken drivers next to the installed ones (in the test's process
    and, as the contract's ``child_setup``, in every racer process)."""
    global _OWNER_PID
    _OWNER_PID = owner_pid
    found = md.entry_points(group=plugins.ENTRY_POINT_GROUP)
    ours = md.EntryPoint("contract-breakers", __name__, plugins.ENTRY_POINT_GROUP)
    return plugins.set_registry(plugins.Registry([*found, ours]))


@pytest.fixture(autouse=True)
def breakers():
    old = install(os.getpid())
    yield
    plugins.set_registry(old)


# --------------------------------------------------------------- the harness
CREATE = "test_concurrent_create_if_absent_has_one_winner"
LOGGERS = "test_concurrent_loggers_get_distinct_versions"
PROCESSES = "test_concurrent_logging_processes_get_distinct_versions"
ALIASES = "test_racing_alias_moves_end_in_one_requested_state"
CAS = "test_conditional_overwrite_from_separate_processes_has_one_winner"

#: (driver, contract test, racing in processes?, what its failure must say). Each
#: defect shows however the racers happen to interleave (a conflict between two
#: loggers, say, is not: they may run one after the other), so each case fails
#: every time.
BREAKS = [
    # Passed before: the winner won, the 7 losers' errors vanished with their threads.
    ("conflict-as-error", CREATE, True, r"7 of 8 workers raised; the first: TetherError: precondition failed"),
    ("no-conditional-put", CREATE, True, r"8 writers won one create-if-absent"),
    ("fails-when-racing", LOGGERS, True, r"6 of 6 workers raised; the first: AccessDeniedError"),
    ("no-conditional-put", LOGGERS, True, r"versions handed out: \[1, 1, 1, 1, 1, 1\]"),
    # The children's exceptions come back pickled, a silent death as its exit code.
    ("fails-when-racing", PROCESSES, True, r"4 of 4 workers raised; the first: AccessDeniedError"),
    ("no-conditional-put", PROCESSES, True, r"versions handed out: \[1, 1, 1, 1\]"),
    ("dies-when-racing", PROCESSES, True, (r"4 of 4 workers raised; the first: ChildProcessError: "
                                           r"worker process \d+ exited with code 70 before reporting a result")),
    # A store a child cannot reach races threads in the process test: they count too.
    ("fails-when-racing", PROCESSES, False, r"4 of 4 workers raised; the first: AccessDeniedError"),
    # (PermissionError from the driver arrives translated: AccessDeniedError naming the URI.)
    # Passed before: every alias move landed, every mover raised, the alias looked fine.
    ("fails-when-racing", ALIASES, True, r"12 of 12 workers raised; the first: AccessDeniedError"),
    # Not racing, but they passed before too: the "5" was found in the store's
    # location ("store-5"), and only sha256 was compared.
    ("vague-cap", "test_max_objects_is_never_a_silent_cap", True, r"holds too many objects"),
    ("wrong-md5", "test_enrich_keeps_one_object_per_input_in_order", True, r"'md5'"),
    # A flag set True makes the contract demand its behaviour.
    ("claims-etag-pins", "test_changed_object_is_drift_on_the_first_read", True, r"DID NOT RAISE.*DriftError"),
    ("claims-cas", CAS, True, r"4 writers replaced one state"),
    ("hashes-on-log", "test_resolving_a_prefix_reads_no_object_bytes", True, r"resolving a prefix read [1-9]"),
]


def run_contract_test(name: str, scheme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
                      multiprocess: bool = True) -> None:
    """Run one DriverContract test on ``scheme``, with the fixtures it asks for."""
    driver = tether.get_driver(scheme)
    suite = type("BrokenDriverContract", (DriverContract,),
                 {"multiprocess": multiprocess, "driver_class": type(driver)})()
    store = tmp_path / "store-5"  # a digit in the location, as temp folders and buckets have
    store.mkdir()
    fixtures = {"driver": driver, "base_uri": f"{scheme}://{store}", "catalog": tether.Catalog(tmp_path / "cat"),
                "tmp_path": tmp_path, "monkeypatch": monkeypatch,
                "child_env": {}, "child_setup": functools.partial(install, os.getpid())}
    method = getattr(suite, name)
    method(**{p: fixtures[p] for p in inspect.signature(method).parameters})


@pytest.mark.parametrize(("scheme", "name", "multiprocess", "says"), BREAKS,
                         ids=[f"{t[1].removeprefix('test_')}-{t[0]}{'' if t[2] else '-threads'}" for t in BREAKS])
def test_the_contract_fails_a_broken_driver(scheme: str, name: str, multiprocess: bool, says: str,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises((AssertionError, pytest.fail.Exception)) as failed:
        run_contract_test(name, scheme, tmp_path, monkeypatch, multiprocess=multiprocess)
    assert re.search(says, str(failed.value)), str(failed.value)


#: Tests of flags the local driver does not have: the sound drivers that pass
#: them are the real ones (tests/http, tests/s3, tests/gcs, tests/azure).
NOT_LOCAL = {"test_changed_object_is_drift_on_the_first_read", "test_resolving_a_prefix_reads_no_object_bytes"}


@pytest.mark.parametrize(("name", "multiprocess"), sorted({(t[1], t[2]) for t in BREAKS if t[1] not in NOT_LOCAL}))
def test_the_same_tests_pass_a_sound_driver(name: str, multiprocess: bool, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    run_contract_test(name, "relabelled", tmp_path, monkeypatch, multiprocess=multiprocess)


def test_every_concurrent_contract_test_is_shown_able_to_fail() -> None:
    """A racing test added to the contract must race through race() and be in BREAKS."""
    racing = set()
    for name, member in inspect.getmembers(DriverContract, inspect.isfunction):
        if not name.startswith("test_"):
            continue
        source = inspect.getsource(member)
        assert not re.search(r"\b(Thread|Process|Pool|Executor|Barrier)\(", source), (
            f"{name} runs workers itself; use tether.testing.race so what they raise fails the test")
        if "race(" in source:
            racing.add(name)
    assert racing and racing <= {t[1] for t in BREAKS}
