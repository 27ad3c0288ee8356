"""Mistakes in S3 options are ConfigErrors naming the config file (or variable,
or configure() call) and the key, before any request; never ``S3 request failed
(TypeError)``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from tether import errors

# (config.toml text, the text the error must hold besides the file's path)
FILE_MISTAKES = [
    ('[s3]\nmax_attempts = "x"\n', "[s3] max_attempts"),
    ("[s3]\nmax_attempts = 0\n", "[s3] max_attempts"),
    ("[s3]\nendpoint_url = 5\n", "[s3] endpoint_url"),
    ("[s3]\nregion = [\"us-east-1\"]\n", "[s3] region"),
    ("[s3]\nconnect_timeout = \"soon\"\n", "[s3] connect_timeout"),
    ("[s3]\nread_timeout = true\n", "[s3] read_timeout"),
    ("[s3]\nanon = \"maybe\"\n", "[s3] anon"),
    ("[s3]\naddressing_style = \"sideways\"\n", "[s3] addressing_style"),
    ("[s3]\nmax_pool_connections = 1.5\n", "[s3] max_pool_connections"),
    ("s3 = 3\n", "s3 must be a table"),
    ("[s3]\nbuckets = 4\n", "[s3] buckets"),
    ("[s3.buckets]\n{bucket} = 3\n", "[s3.buckets] {bucket}"),
    ("[s3.buckets.{bucket}]\nmax_attempts = \"x\"\n", "[s3.buckets.{bucket}] max_attempts"),
]


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("TETHER_CONFIG", str(path))
    return path


@pytest.mark.parametrize("text,needle", FILE_MISTAKES)
def test_config_file_mistakes_name_the_file_and_key(config_file: Path, bucket: str, s3_client,
                                                    text: str, needle: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="d/a.bin", Body=b"a")
    config_file.write_text(text.format(bucket=bucket))
    with pytest.raises(errors.ConfigError) as caught:
        tether.Artifact("x").add_remote(f"s3://{bucket}/d/")
    message = str(caught.value)
    assert str(config_file) in message and needle.format(bucket=bucket) in message, message


def test_config_file_mistake_is_one_cli_line(config_file: Path, bucket: str, tmp_path: Path) -> None:
    config_file.write_text("[s3]\nendpoint_url = 5\n")
    r = subprocess.run([sys.executable, "-m", "tether.cli", "log", "x", f"s3://{bucket}/d/"],
                       check=False, capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"tether: error: tether config file {config_file}: [s3] endpoint_url must be a string")


def test_environment_and_configure_mistakes_name_where_they_were_set(bucket: str, s3_client,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    s3_client.put_object(Bucket=bucket, Key="d/a.bin", Body=b"a")
    monkeypatch.setenv("TETHER_S3_MAX_ATTEMPTS", "lots")
    with pytest.raises(errors.ConfigError, match="environment variable TETHER_S3_MAX_ATTEMPTS must be"):
        tether.Artifact("x").add_remote(f"s3://{bucket}/d/")
    monkeypatch.delenv("TETHER_S3_MAX_ATTEMPTS")
    tether.configure("s3", bucket=bucket, read_timeout="later")
    with pytest.raises(errors.ConfigError, match=rf"tether.configure\('s3', bucket='{bucket}'\) option 'read_timeout'"):
        tether.Artifact("x").add_remote(f"s3://{bucket}/d/")


def test_a_mistyped_secret_is_not_echoed(bucket: str) -> None:
    tether.configure("s3", secret=123456789)
    with pytest.raises(errors.ConfigError, match="secret") as caught:
        tether.Artifact("x").add_remote(f"s3://{bucket}/d/")
    assert "123456789" not in str(caught.value)


def test_well_typed_options_in_every_spelling_work(config_file: Path, bucket: str, s3_client,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    s3_client.put_object(Bucket=bucket, Key="d/a.bin", Body=b"a")
    config_file.write_text(f'[s3]\nmax_attempts = 3\nconnect_timeout = 5\nread_timeout = 7.5\nanon = false\n'
                           f'addressing_style = "path"\n[s3.buckets.{bucket}]\nmax_pool_connections = "8"\n')
    monkeypatch.setenv("TETHER_S3_REQUESTER_PAYS", "no")
    tether.configure("s3", verify=True)
    assets = tether.Artifact("x").add_remote(f"s3://{bucket}/d/")
    assert [a.logical_path for a in assets] == ["a.bin"]


def test_a_misconfiguration_is_not_remembered_as_an_unversioned_bucket(s3_client, versioned_bucket) -> None:
    """A ConfigError while asking whether a bucket keeps versions leaves as the
    error; once the option is fixed, listings carry version ids again (the
    bucket setting was once cached as "unversioned" for the whole process)."""
    s3_client.put_object(Bucket=versioned_bucket, Key="d/a", Body=b"a")
    driver = tether.get_driver("s3")
    tether.configure("s3", max_attempts="many")
    with pytest.raises(errors.ConfigError, match="max_attempts"):
        driver.resolve(f"s3://{versioned_bucket}/d/")
    tether.configure("s3", max_attempts=None)
    (obj,) = driver.resolve(f"s3://{versioned_bucket}/d/").objects
    assert obj.version_id
