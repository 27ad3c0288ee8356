"""A moto S3 server for the whole session; a fresh bucket for each test."""

from __future__ import annotations

import os
import uuid

import pytest

import tether.config

from ..servers import start_moto

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-value",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_server():
    saved = {k: os.environ.get(k) for k in [*S3_ENV, "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
                                            "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]}
    server = start_moto()
    os.environ.update(S3_ENV)
    os.environ["AWS_ENDPOINT_URL_S3"] = server.url  # the standard variable: drivers need no option
    os.environ.pop("AWS_PROFILE", None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    try:
        yield server
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


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
