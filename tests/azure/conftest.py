"""One Azurite blob service for the session; a fresh container for each test."""

from __future__ import annotations

import uuid

import pytest

import tether.config

from ..servers import AZURITE_ACCOUNT, AZURITE_KEY, environ, start_azurite

pytestmark = pytest.mark.azure


@pytest.fixture(scope="session")
def azurite():
    server = start_azurite()
    try:
        # tether's own options, as a user would set them (spawned processes inherit
        # them); no AZURE_STORAGE_* variable of the machine leaks into the tests.
        with environ(TETHER_AZ_ENDPOINT_URL=server.blob_url, TETHER_AZ_ACCOUNT_NAME=AZURITE_ACCOUNT,
                     TETHER_AZ_ACCOUNT_KEY=AZURITE_KEY, AZURE_STORAGE_CONNECTION_STRING=None,
                     AZURE_STORAGE_ACCOUNT_NAME=None, AZURE_STORAGE_ACCOUNT_KEY=None,
                     AZURE_STORAGE_SAS_TOKEN=None, AZURE_STORAGE_ANON=None):
            yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def blob_service(azurite):
    """The Azure SDK, as a user's other tools would write blobs."""
    from azure.storage.blob import BlobServiceClient

    conn = (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={azurite.blob_url};")
    with BlobServiceClient.from_connection_string(conn) as svc:
        yield svc


@pytest.fixture
def container(blob_service) -> str:
    name = f"t-{uuid.uuid4().hex[:16]}"
    blob_service.create_container(name)
    return name


@pytest.fixture(autouse=True)
def _az_env(azurite):
    tether.config.reset()
    yield
