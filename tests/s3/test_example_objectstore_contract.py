"""The documented object-store driver (docs/example-objectstore-plugin), built and
installed with real entry-point metadata, certified by the contract suite on the
session's moto server: one versioned and one unversioned bucket.

The driver reaches moto through boto3's own ``AWS_ENDPOINT_URL_S3`` and
credential variables, which the moto fixture sets and child processes inherit,
so the suite needs no ``child_setup``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tether
from tether import plugins
from tether.driverkit import redact
from tether.testing import DriverContract

PLUGIN = Path(__file__).parents[2] / "docs" / "example-objectstore-plugin"


# The suite classes name the driver class when they are defined (its capability
# flags choose the tests they collect): imported from the plugin's source here,
# the same module object the registry's entry point then loads.
sys.path.insert(0, str(PLUGIN / "src"))
try:
    from tether_example_s3lite import S3LiteDriver
finally:
    sys.path.remove(str(PLUGIN / "src"))


@pytest.fixture(scope="module", autouse=True)
def _installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """pip builds the plugin's wheel (hatchling, no index) and installs it into a
    folder put on sys.path (spawned racers inherit it); a fresh registry finds the
    driver through that install's ``tether.drivers`` entry point."""
    site = tmp_path_factory.mktemp("s3lite-site")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "--no-deps", "--no-build-isolation", "--no-index", "--target", str(site), str(PLUGIN)],
                          check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(site))
    old = plugins.set_registry(None)
    info = {p.name: p for p in plugins.get_registry().plugins}
    assert info["s3lite"].distribution == "tether-example-s3lite"
    yield
    plugins.set_registry(old)
    sys.path.remove(str(site))


class TestExampleObjectStoreContract(DriverContract):
    driver_class = S3LiteDriver
    # The process races (spawned children, seconds each) run on the versioned
    # bucket below; writes take the same code path on both, so here they race threads.
    multiprocess = False

    @pytest.fixture
    def base_uri(self, bucket: str) -> str:
        return f"s3lite://{bucket}/base"


class TestExampleObjectStoreVersionedContract(DriverContract):
    driver_class = S3LiteDriver
    supports_versions = True

    @pytest.fixture
    def base_uri(self, versioned_bucket: str) -> str:
        return f"s3lite://{versioned_bucket}"


def test_a_plugin_object_store_key_holding_a_query_is_recorded_as_it_is(bucket: str, s3_client) -> None:
    """``?``, ``#`` and ``;`` belong to an object store's keys whatever its scheme:
    redaction learns that from the driver's ``raw_keys`` flag (ObjectStoreDriver),
    so a key is never rewritten as a masked query string; userinfo still is masked."""
    key = "a?token=abc#sig=x;password=y"
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"raw key")
    (asset,) = tether.Artifact("raw").add_remote(f"s3lite://{bucket}/{key}")
    assert (asset.uri, asset.source, asset.logical_path) == (f"s3lite://{bucket}/{key}",) * 2 + (key,)
    assert redact(f"s3lite://AKIA:hunter2@{bucket}/{key}") == f"s3lite://***@{bucket}/{key}"
