"""The Azure driver against the driver contract, on Azurite.

:class:`TestAzureContract` also runs the contract's failure cases: its
container reaches Azurite through a :class:`~tests.store_faults.StoreFaults`
proxy that answers Azure's own 403 ``AuthorizationPermissionMismatch`` for one
prefix and 503 ``ServerBusy`` for the next reads of one blob, with the SDK's
retries off (``max_attempts = 1``).
"""

from __future__ import annotations

import pytest
import tether
from tether.testing import DriverContract
from tether_azure import AzureDriver

from ..servers import AZURITE_ACCOUNT
from ..store_faults import StoreFaultHooks, StoreFaults

pytestmark = pytest.mark.azure


class TestAzureContract(StoreFaultHooks, DriverContract):
    # Azurite keeps no blob versions (it ignores versionid): ETag-pinned reads are
    # what this run certifies; version pinning is untested here (docs/azure.md).
    driver_class = AzureDriver
    supports_versions = False

    @pytest.fixture
    def base_uri(self, container: str) -> str:
        return f"az://{container}/base"

    @pytest.fixture
    def fault_proxy(self, azurite, container: str):
        proxy = StoreFaults(azurite.port, "az")
        tether.configure("az", bucket=container, endpoint_url=f"{proxy.url}/{AZURITE_ACCOUNT}", max_attempts=1)
        yield proxy
        proxy.stop()


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
