"""The GCS driver against the driver contract, on the real fake-gcs-server."""

from __future__ import annotations

import pytest
from tether.driver import Driver
from tether.testing import DriverContract
from tether_gcs import GCSDriver


class TestGCSContract(DriverContract):
    driver_class = GCSDriver

    @pytest.fixture
    def base_uri(self, gcs_bucket: str) -> str:
        return f"gs://{gcs_bucket}/base"


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
