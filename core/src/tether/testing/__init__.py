"""The driver contract suite: one set of tests every driver runs against its real backend.

Subclass :class:`DriverContract` in your plugin's tests, name the driver class
it certifies, and provide a ``base_uri`` fixture: a fresh, empty location for
each test (a temp folder, a new bucket on the emulator, a unique prefix).
``pytest`` collects the inherited tests::

    from tether.testing import DriverContract

    class TestMyDriver(DriverContract):
        driver_class = MyDriver

        @pytest.fixture
        def base_uri(self, my_server):
            return f"my://{my_server.new_bucket()}"

Which tests a suite class gets follows from the driver's capability flags
(:class:`tether.driver.Driver`: ``writable``, ``lists_prefixes``,
``supports_versions``, ``pins_by_etag``, ``conditional_overwrite``,
``lists_checksums``, ``bucketed``): a read-only driver is not given the write
tests, one without listings not the prefix tests (they are not collected, never
skipped), and each flag that is True brings the tests that demand its
behaviour. The suite's own attributes describe the store under ``base_uri``
(``supports_versions``: a versioned bucket; ``multiprocess``), and fixtures a
suite may provide bring the failure cases a store can be made to show
(``denied_uri``, ``transient_faults``, ``listing_page_size``). The parts:

* :class:`~tether.testing.reading.ReadContract` – one object at a time; every driver
* :class:`~tether.testing.listing.ListingContract` – prefixes, globs, pages, markers
* :class:`~tether.testing.writing.WriteContract` – catalog primitives, uploads, races

The concurrency tests race threads on one client, and spawned processes on
their own clients, through :func:`race` (``from tether.testing import race``;
defined in :mod:`tether.racing`): whatever a racer
raises fails the test (a race whose racers all failed can still leave a
plausible end state). A child process inherits the environment (where the S3
and GCS drivers find their endpoints and credentials); a suite that configures
its driver in-process (``tether.configure(...)`` in a fixture) overrides the
``child_env`` and ``child_setup`` fixtures so each child is configured the
same way. A store that lives inside one process (``memory://``) sets
``multiprocess = False`` and its process tests race threads instead.
"""

from __future__ import annotations

from ..racing import WorkersFailed, race
from .base import ContractBase, NotCollected, requires
from .listing import UNUSUAL_NAMES, ListingContract
from .reading import ReadContract
from .writing import WriteContract

__all__ = ["UNUSUAL_NAMES", "ContractBase", "DriverContract", "ListingContract", "NotCollected",
           "ReadContract", "WorkersFailed", "WriteContract", "race", "requires"]


class DriverContract(ReadContract, ListingContract, WriteContract):
    """Every contract test; a subclass gets those its driver's flags call for."""
