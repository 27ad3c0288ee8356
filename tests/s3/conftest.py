"""A moto S3 server for the whole session; a fresh bucket for each test."""

from __future__ import annotations

import os
import uuid

import pytest

import tether.config

from ..servers import environ, start_moto

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-value",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_server():
    server = start_moto()
    try:
        # The standard AWS variables: drivers need no tether option, and no
        # profile or credentials file of the machine leaks into the tests.
        with environ(**S3_ENV, AWS_ENDPOINT_URL_S3=server.url, AWS_PROFILE=None,
                     AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                     AWS_EC2_METADATA_DISABLED="true"):
            yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_client(moto_server):
    import boto3

    return boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1")


@pytest.fixture
def bucket(s3_client) -> str:
    name = f"t-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def versioned_bucket(s3_client) -> str:
    name = f"v-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    s3_client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture(autouse=True)
def _s3_endpoint(moto_server):
    tether.config.reset()
    yield
