"""The S3 driver against the driver contract, on moto's real S3 server.

:class:`TestS3Contract` also runs the contract's failure cases: its bucket
reaches moto through a :class:`~tests.store_faults.StoreFaults` proxy that
answers S3's own ``AccessDenied`` 403 for one prefix and ``InternalError``
500s for the next reads of one object, with botocore's retries off
(``max_attempts = 1``). Not ``503 SlowDown``: s3fs retries that itself (five
tries, not configurable through tether), so it would never reach tether.
"""

from __future__ import annotations

import pytest
import tether
from tether.testing import DriverContract
from tether_s3 import S3Driver

from ..store_faults import StoreFaultHooks, StoreFaults


class TestS3Contract(StoreFaultHooks, DriverContract):
    driver_class = S3Driver

    @pytest.fixture
    def base_uri(self, bucket: str) -> str:
        return f"s3://{bucket}/base"

    @pytest.fixture
    def fault_proxy(self, moto_server, bucket: str):
        proxy = StoreFaults(moto_server.port, "s3")
        tether.configure("s3", bucket=bucket, endpoint_url=proxy.url, max_attempts=1)
        yield proxy
        proxy.stop()


class TestS3VersionedContract(DriverContract):
    driver_class = S3Driver
    supports_versions = True

    @pytest.fixture
    def base_uri(self, versioned_bucket: str) -> str:
        return f"s3://{versioned_bucket}"


class TestS3aAliasContract(DriverContract):
    """s3a:// is an alias: same objects, recorded as s3://."""

    driver_class = S3Driver

    @pytest.fixture
    def base_uri(self, bucket: str) -> str:
        return f"s3a://{bucket}/alias"
