"""The CLI against a real S3 (moto), issue 12: a source that would fall back to a link
for lack of credentials is refused unless --allow-links, its warning names it once,
and a catalog in a bucket that does not exist is an error, not an empty list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.s3


def tether_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.fixture
def env(moto_server, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TETHER_HOME": str(tmp_path / "home"), "AWS_ENDPOINT_URL_S3": moto_server.url}


@pytest.fixture
def no_credentials(env: dict[str, str]) -> dict[str, str]:
    out = {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                      "AWS_SESSION_TOKEN")}
    return {**out, "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def test_no_credentials_is_an_error_unless_allow_links(s3_client, bucket, no_credentials, tmp_path) -> None:
    s3_client.put_object(Bucket=bucket, Key="d/a.bin", Body=b"a")
    uri = f"s3://{bucket}/d/"
    r = tether_cli("log", "nocreds", uri, env=no_credentials)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("tether: error: ") and "--allow-links" in r.stderr and uri in r.stderr
    assert tether_cli("list", env=no_credentials).stdout == ""  # nothing logged

    r = tether_cli("log", "nocreds", uri, "--allow-links", env=no_credentials)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("tether: warning: ") and r.stderr.count("\n") == 1
    assert r.stderr.count(uri) == 1, r.stderr  # named once, not "uri: uri: ..."
    r = tether_cli("download", "nocreds", str(tmp_path / "out"), env=no_credentials)
    assert r.returncode == 1 and "1 link-only" in r.stdout and "nothing was downloaded" in r.stderr


def test_a_catalog_in_a_missing_bucket_is_an_error(bucket, env) -> None:
    r = tether_cli("--catalog", f"s3://{bucket}-missing/cat", "list", env=env)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert f"catalog s3://{bucket}-missing/cat does not exist (no bucket '{bucket}-missing')" in r.stderr
    r = tether_cli("--catalog", f"s3://{bucket}-missing/cat", "show", "x", "--json", env=env)
    assert r.returncode == 1 and json.loads(r.stdout)["error"]["type"] == "CatalogNotFoundError"
    # A prefix of an existing bucket with nothing in it yet is an empty catalog.
    r = tether_cli("--catalog", f"s3://{bucket}/cat", "list", env=env)
    assert r.returncode == 0 and r.stderr == f"no artifacts in s3://{bucket}/cat\n"
    r = tether_cli("--catalog", f"s3://{bucket}/cat", "info", "--json", env=env)
    assert json.loads(r.stdout)["catalog"]["exists"] is True
