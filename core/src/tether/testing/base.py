"""What every part of the contract shares: the capability selection, fixtures, helpers.

A contract test states what it needs with :func:`requires`; a suite class
(``class TestMyDriver(DriverContract)``) names the driver it certifies in
``driver_class``, and :meth:`ContractBase.__init_subclass__` leaves out of that
class every test whose needs the driver's capability flags (or the suite's own
hooks) do not meet. Left out means not collected, like a test that was never
written for that store: nothing is skipped, and every flag that is True is
demanded by the tests that need it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .. import Artifact, Catalog, get_driver
from ..driver import Driver
from ..resolver import scheme_of

#: The flags :class:`tether.driver.Driver` declares, with what the contract does for each.
FLAGS = ("writable", "lists_prefixes", "supports_versions", "pins_by_etag", "conditional_overwrite",
         "lists_checksums", "bucketed")


def requires(*needs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Collect the decorated contract test only where each of ``needs`` holds.

    A need is a driver flag (``"writable"``, ``"pins_by_etag"`` ...), one of the
    suite's own attributes (``"versioned_store"``: :attr:`ContractBase.supports_versions`;
    ``"multiprocess"``, ``"exact_version_deletes"``), or ``"hook:<fixture>"``: the suite class provides that
    fixture (``hook:faulty_store``). ``"not <need>"`` negates."""
    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__tether_requires__ = (*getattr(fn, "__tether_requires__", ()), *needs)  # type: ignore[attr-defined]
        return fn
    return mark


class NotCollected:
    """Stands in for a contract test a suite class does not get (pytest collects
    only callables); its repr says why, for anyone inspecting the class."""

    def __init__(self, name: str, missing: list[str], test: Callable[..., Any]) -> None:
        self.name, self.missing, self.test = name, missing, test

    def __repr__(self) -> str:
        return f"<{self.name}: not collected, the driver lacks {', '.join(self.missing)}>"


class ContractBase:
    #: The driver class this suite certifies: its capability flags choose the tests.
    #: None: :class:`tether.driver.Driver`'s defaults (writable, lists prefixes,
    #: nothing more promised), and the ``driver`` fixture must declare no more.
    driver_class: ClassVar[type[Driver] | None] = None
    #: True when the store under ``base_uri`` keeps old object versions (a versioned
    #: bucket). A property of that store, not of the driver: the S3 driver pins
    #: versions, and a bucket without versioning keeps none. Requires the
    #: driver's ``supports_versions``.
    supports_versions: ClassVar[bool] = False
    #: False when a child process cannot reach the same store (one that lives
    #: inside a process, like ``memory://``): the process tests race threads.
    multiprocess: ClassVar[bool] = True
    #: False when the store under ``base_uri`` cannot delete one version by id
    #: (fake-gcs-server ignores ``generation`` on DELETE): the test of
    #: :meth:`~tether.driver.Driver.delete_exact` is then not collected.
    exact_version_deletes: ClassVar[bool] = True
    #: Schemes that must record as the canonical one (None: the driver's
    #: ``schemes[1:]``). A suite whose base URI only one scheme can reach sets ``()``.
    alias_schemes: ClassVar[tuple[str, ...] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        drv = cls.driver_class or Driver
        if cls.supports_versions and not drv.supports_versions:
            raise TypeError(f"{cls.__name__}: supports_versions = True, but {drv.__name__} does not declare "
                            "supports_versions (its reads would not pin the recorded version)")
        for name in dir(cls):
            if not name.startswith("test_"):
                continue
            fn = _contract_test(cls, name)
            if fn is None:
                continue
            missing = [n for n in getattr(fn, "__tether_requires__", ()) if not cls.has(n)]
            setattr(cls, name, NotCollected(name, missing, fn) if missing else fn)

    @classmethod
    def has(cls, need: str) -> bool:
        """Whether this suite meets ``need`` (see :func:`requires`)."""
        if need.startswith("not "):
            return not cls.has(need[4:])
        if need == "versioned_store":
            return bool(cls.supports_versions)
        if need == "multiprocess":
            return bool(cls.multiprocess)
        if need == "exact_version_deletes":
            return bool(cls.exact_version_deletes)
        if need.startswith("hook:"):
            hook = need[5:]
            return getattr(cls, hook, None) is not getattr(ContractBase, hook, None)
        if need not in FLAGS:
            raise ValueError(f"unknown contract need {need!r}")
        return bool(getattr(cls.driver_class or Driver, need, False))

    # ------------------------------------------------------------- fixtures
    @pytest.fixture
    def base_uri(self) -> str:  # pragma: no cover - subclasses provide it
        raise NotImplementedError("subclass DriverContract and define a base_uri fixture")

    @pytest.fixture
    def driver(self, base_uri: str) -> Driver:
        drv = get_driver(scheme_of(base_uri))
        declared = self.driver_class or Driver
        if self.driver_class is not None:
            assert isinstance(drv, self.driver_class), (
                f"{base_uri} is served by {type(drv).__name__}, not the {declared.__name__} this suite certifies")
        else:
            claims = [f for f in FLAGS if getattr(type(drv), f) != getattr(Driver, f) and f != "bucketed"]
            assert not claims, (f"{type(drv).__name__} declares {claims}: set driver_class = "
                                f"{type(drv).__name__} so the contract demands them")
        return drv

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

    @pytest.fixture
    def missing_bucket_uri(self, base_uri: str) -> str:
        """A URI in a bucket (container) that does not exist (bucketed drivers)."""
        import uuid

        return f"{scheme_of(base_uri)}://tether-missing-{uuid.uuid4().hex[:12]}/data"

    @pytest.fixture
    def listing_page_size(self) -> int | None:
        """How many objects one listing page of this store holds in this suite
        (override to make pages small, e.g. by setting the driver's page size);
        None: the store lists in one call."""
        return None

    # Hooks a suite provides when its store can be made to behave so. A test that
    # needs one is collected only where the suite class defines it (``hook:<name>``).
    denied_uri: ClassVar[Any] = None
    """Fixture: a URI of an existing object the store refuses to read to these
    credentials (HTTP 401/403); it must resolve to AccessDeniedError."""
    transient_faults: ClassVar[Any] = None
    """Fixture: a callable ``fail_next(uri, n)`` after which the next ``n`` reads of
    the object ``uri`` fail transiently (a 503, a reset connection), the driver's
    own client retries turned off; it returns a zero-argument callable giving how
    many faults were injected so far."""

    # -------------------------------------------------------------- helpers
    def put(self, driver: Driver, uri: str, data: bytes) -> None:
        """Write an object the way a user's other tools would (override if needed)."""
        driver.write_bytes(uri, data)

    def put_folder_marker(self, driver: Driver, uri: str) -> None:
        """Make the "folder" ``uri`` the way consoles and tools do: a zero-byte object
        named ``uri + "/"`` in a bucketed store, a directory elsewhere."""
        if driver.bucketed:
            self.put(driver, uri.rstrip("/") + "/", b"")
            return
        path = driver.path_of(uri.rstrip("/"))
        driver.fs(path).makedirs(driver.fs_path(path), exist_ok=True)

    def remove(self, driver: Driver, uri: str) -> None:
        driver.delete(uri)

    def tree(self, driver: Driver, base: str, files: dict[str, bytes]) -> None:
        for rel, data in files.items():
            self.put(driver, f"{base}/{rel}", data)


def _contract_test(cls: type, name: str) -> Callable[..., Any] | None:
    """The test ``name`` as the nearest class defining it wrote it (through a
    stand-in a parent suite left); None when a suite set it to None itself."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            value = klass.__dict__[name]
            if isinstance(value, NotCollected):
                return value.test
            return value if callable(value) else None
    return None


def canonical(driver: Driver, uri: str) -> str:
    """How tether records ``uri`` (plain paths become file:// URIs, aliases a canonical scheme)."""
    return driver.uri_of(driver.path_of(uri))


def art(name: str, uri: str) -> Artifact:
    a = Artifact(name)
    a.add_remote(uri)
    return a


def log_remote(root: str, name: str, uri: str) -> int:
    """One racer of the process test (module level: a spawned child imports it)."""
    return Catalog(root).log(art(name, uri), aliases=["newest"]).version


def file_barrier(folder: str, parties: int, timeout: float = 60.0) -> None:
    """Wait until ``parties`` racers (threads or processes) have arrived in ``folder``.

    The racers of a read-modify-write test must all have read before any writes;
    :func:`tether.testing.race` only releases them together."""
    import os
    import time
    import uuid

    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{os.getpid()}-{uuid.uuid4().hex}").touch()
    deadline = time.monotonic() + timeout
    while len(os.listdir(folder)) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(os.listdir(folder))} of {parties} racers arrived")
        time.sleep(0.01)


def counting(monkeypatch: pytest.MonkeyPatch, cls: type, names: tuple[str, ...]) -> list[int]:
    """Wrap ``cls``'s methods ``names`` so every call adds the bytes it returned to
    the returned one-element list (dict results: nothing; a call still counts 1)."""
    total = [0]
    for name in names:
        real = getattr(cls, name, None)
        if real is None:
            continue

        def make(real: Callable[..., Any]) -> Callable[..., Any]:
            def counted(*args: Any, **kw: Any) -> Any:
                out = real(*args, **kw)
                total[0] += len(out) if isinstance(out, (bytes, bytearray)) else 1
                return out
            return counted

        monkeypatch.setattr(cls, name, make(real))
    return total
