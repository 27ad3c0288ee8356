"""The GCS driver against the driver contract, on the real fake-gcs-server."""

from __future__ import annotations

import pytest

from tether.testing import DriverContract


class TestGCSContract(DriverContract):
    supports_versions = False

    @pytest.fixture
    def base_uri(self, gcs_bucket: str) -> str:
        return f"gs://{gcs_bucket}/base"


class TestGCSVersionedContract(DriverContract):
    supports_versions = True

    @pytest.fixture
    def base_uri(self, gcs_versioned_bucket: str) -> str:
        return f"gs://{gcs_versioned_bucket}"


class TestGCSAliasContract(DriverContract):
    """gcs:// names the same objects as gs:// and is recorded as gs://."""

    @pytest.fixture
    def base_uri(self, gcs_bucket: str) -> str:
        return f"gcs://{gcs_bucket}/alias"
