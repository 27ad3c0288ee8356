"""The S3 driver against the driver contract, on moto's real S3 server."""

from __future__ import annotations

import pytest
from tether.testing import DriverContract
from tether_s3 import S3Driver


class TestS3Contract(DriverContract):
    driver_class = S3Driver

    @pytest.fixture
    def base_uri(self, bucket: str) -> str:
        return f"s3://{bucket}/base"


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
