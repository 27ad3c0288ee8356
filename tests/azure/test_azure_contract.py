"""The Azure driver against the driver contract, on Azurite."""

from __future__ import annotations

import pytest
from tether.testing import DriverContract
from tether_azure import AzureDriver

pytestmark = pytest.mark.azure


class TestAzureContract(DriverContract):
    # Azurite keeps no blob versions (it ignores versionid): ETag-pinned reads are
    # what this run certifies; version pinning is untested here (docs/azure.md).
    driver_class = AzureDriver
    supports_versions = False

    @pytest.fixture
    def base_uri(self, container: str) -> str:
        return f"az://{container}/base"


class TestAbfssAliasContract(DriverContract):
    """abfss:// names the same blobs as az:// and is recorded as az://."""

    driver_class = AzureDriver

    @pytest.fixture
    def base_uri(self, container: str) -> str:
        return f"abfss://{container}/alias"


class TestAbfsAliasContract(DriverContract):
    """abfs:// likewise."""

    driver_class = AzureDriver

    @pytest.fixture
    def base_uri(self, container: str) -> str:
        return f"abfs://{container}/alias"
