"""The GCS driver against the driver contract, on the real fake-gcs-server.

:class:`TestGCSContract` also runs the contract's failure cases: its bucket
reaches fake-gcs-server through a :class:`~tests.store_faults.StoreFaults`
proxy that answers GCS's own 403 JSON error for one prefix and 503
``backendError`` for the next media reads of one object, with gcsfs's retries
off (tether-gcs ``max_attempts = 1``; gcsfs alone would retry a 503 six times).
"""

from __future__ import annotations

import pytest
import tether
from tether.driver import Driver
from tether.testing import DriverContract
from tether_gcs import GCSDriver

from ..store_faults import StoreFaultHooks, StoreFaults


class TestGCSContract(StoreFaultHooks, DriverContract):
    driver_class = GCSDriver

    @pytest.fixture
    def base_uri(self, gcs_bucket: str) -> str:
        return f"gs://{gcs_bucket}/base"

    @pytest.fixture
    def fault_proxy(self, gcs_server, gcs_bucket: str):
        proxy = StoreFaults(gcs_server.port, "gs")
        tether.configure("gs", bucket=gcs_bucket, endpoint_url=proxy.url, max_attempts=1)
        yield proxy
        proxy.stop()


class TestGCSVersionedContract(DriverContract):
    driver_class = GCSDriver
    supports_versions = True

    exact_version_deletes = False  # fake-gcs-server ignores `generation` on DELETE

    def forget_version(self, driver: Driver, uri: str, version_id: str) -> str:
        # fake-gcs-server ignores `generation` on DELETE (it removes the live object):
        # a generation that never existed stands for one that was deleted.
        return "1234567"

    @pytest.fixture
    def base_uri(self, gcs_versioned_bucket: str) -> str:
        return f"gs://{gcs_versioned_bucket}"


class TestGCSAliasContract(DriverContract):
    """gcs:// names the same objects as gs:// and is recorded as gs://."""

    driver_class = GCSDriver

    @pytest.fixture
    def base_uri(self, gcs_bucket: str) -> str:
        return f"gcs://{gcs_bucket}/alias"
