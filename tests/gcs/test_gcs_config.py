"""Mistakes in GCS options are ConfigErrors naming the config file and key,
before any request; never ``GCS request failed (ValueError)``."""

from __future__ import annotations

from pathlib import Path

import pytest
import tether
from tether import errors


@pytest.mark.parametrize("text,needle", [
    ('[gs]\ntimeout = "soon"\n', "[gs] timeout"),
    ("[gs]\nread_timeout = [1]\n", "[gs] read_timeout"),
    ("[gs]\nproject = 5\n", "[gs] project"),
    ('[gs]\nrequester_pays = "maybe"\n', "[gs] requester_pays"),
    ("[gs]\ntoken = 5\n", "[gs] token"),
    ("[gs]\nendpoint_url = false\n", "[gs] endpoint_url"),
    ("gs = 3\n", "gs must be a table"),
])
def test_config_file_mistakes_name_the_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_admin,
                                                    gcs_bucket: str, text: str, needle: str) -> None:
    gcs_admin.put(gcs_bucket, "d/a.bin", b"a")
    config = tmp_path / "config.toml"
    config.write_text(text)
    monkeypatch.setenv("TETHER_CONFIG", str(config))
    with pytest.raises(errors.ConfigError) as caught:
        tether.Artifact("x").add_remote(f"gs://{gcs_bucket}/d/")
    assert str(config) in str(caught.value) and needle in str(caught.value), str(caught.value)


def test_well_typed_options_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_admin, gcs_bucket: str) -> None:
    gcs_admin.put(gcs_bucket, "d/a.bin", b"a")
    config = tmp_path / "config.toml"
    config.write_text('[gs]\ntimeout = 30\nread_timeout = "20"\nproject = "test"\nrequester_pays = false\n')
    monkeypatch.setenv("TETHER_CONFIG", str(config))
    assert [a.logical_path for a in tether.Artifact("x").add_remote(f"gs://{gcs_bucket}/d/")] == ["a.bin"]


def test_a_failure_to_read_bucket_metadata_is_raised_not_remembered_as_unversioned(gcs_versioned_bucket: str) -> None:
    """A bucket whose metadata could not be read because of a transient or
    configuration failure must not be taken for an unversioned one for the
    rest of the process: that answer turns a deleted generation into "changed"."""
    from tether.plugins import get_driver

    driver = get_driver("gs")
    tether.configure("gs", endpoint_url="http://127.0.0.1:9", max_attempts=1)  # nothing listens on port 9
    with pytest.raises(errors.StorageError):
        driver.versioned(gcs_versioned_bucket)
    tether.config.reset()  # the emulator again
    assert driver.versioned(gcs_versioned_bucket) is True
