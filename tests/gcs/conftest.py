"""One fake-gcs-server (the real Go binary) for the session; a fresh bucket per test."""

from __future__ import annotations

import uuid

import pytest

import tether.config

from ..servers import environ, start_fake_gcs


@pytest.fixture(scope="session")
def gcs_server():
    server = start_fake_gcs()
    try:
        # gcsfs's hierarchical-namespace probe stalls ~80 s per call on an emulator.
        with environ(STORAGE_EMULATOR_HOST=server.url, GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT="false"):
            yield server
    finally:
        server.stop()


class GCSAdmin:
    """Direct JSON-API calls for test set-up (as another tool would write objects)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _req(self, method: str, path: str, data: bytes | None = None, ctype: str = "application/json"):
        import json
        import urllib.request

        req = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": ctype})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def create_bucket(self, name: str, versioned: bool = False) -> None:
        import json

        doc = {"name": name, "versioning": {"enabled": versioned}}
        self._req("POST", "/storage/v1/b?project=test", json.dumps(doc).encode())

    def put(self, bucket: str, name: str, data: bytes) -> dict:
        from urllib.parse import quote

        return self._req("POST", f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={quote(name, safe='')}",
                         data, "application/octet-stream")

    def delete(self, bucket: str, name: str, generation: str | None = None) -> None:
        from urllib.parse import quote

        q = f"?generation={generation}" if generation else ""
        self._req("DELETE", f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}{q}")


@pytest.fixture(scope="session")
def gcs_admin(gcs_server) -> GCSAdmin:
    return GCSAdmin(gcs_server.url)


@pytest.fixture
def gcs_bucket(gcs_admin) -> str:
    name = f"t-{uuid.uuid4().hex[:16]}"
    gcs_admin.create_bucket(name)
    return name


@pytest.fixture
def gcs_versioned_bucket(gcs_admin) -> str:
    name = f"v-{uuid.uuid4().hex[:16]}"
    gcs_admin.create_bucket(name, versioned=True)
    return name


@pytest.fixture(autouse=True)
def _gcs_env(gcs_server):
    tether.config.reset()
    yield
