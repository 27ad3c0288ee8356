"""The conditional overwrite under run records: ``read_bytes_versioned`` / ``write_bytes_if_match``."""

from __future__ import annotations

from pathlib import Path

import pytest
from tether import errors, get_driver
from tether.driver import Driver
from tether.racing import race

from ..runs_helpers import check_conditional_overwrite, increment


def test_local_conditional_overwrite(tmp_path: Path) -> None:
    check_conditional_overwrite(get_driver("file"), (tmp_path / "store").as_uri())


def test_memory_plugin_conditional_overwrite(memory_uri: str) -> None:
    check_conditional_overwrite(get_driver("memory"), memory_uri)


def test_racing_processes_lose_no_update_on_local_disk(tmp_path: Path) -> None:
    uri = (tmp_path / "counter").as_uri()
    get_driver("file").write_bytes(uri, b"0")
    race(increment, [(uri, 25)] * 8, processes=True)
    assert get_driver("file").read_bytes(uri) == b"200"


def test_the_generic_fallback_compares_content(tmp_path: Path) -> None:
    """A driver with only fsspec's defaults gets the documented fallback."""
    driver = get_driver("file")
    uri = (tmp_path / "x").as_uri()
    driver.write_bytes(uri, b"a")
    data, token = Driver.read_bytes_versioned(driver, uri)
    assert data == b"a"
    driver.write_bytes(uri, b"b")
    with pytest.raises(errors.PreconditionFailedError):
        Driver.write_bytes_if_match(driver, uri, b"c", token)
    new = Driver.write_bytes_if_match(driver, uri, b"c", Driver.read_bytes_versioned(driver, uri)[1])
    assert driver.read_bytes(uri) == b"c" and new == Driver.read_bytes_versioned(driver, uri)[1]
