"""The local driver against the driver contract, on real files in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from tether.testing import DriverContract
from tether_local import LocalDriver


class TestLocalDriverContract(DriverContract):
    driver_class = LocalDriver

    @pytest.fixture
    def base_uri(self, tmp_path: Path) -> str:
        root = tmp_path / "store"
        root.mkdir()
        return "file://" + str(root)


class TestPlainPathsContract(DriverContract):
    """The same contract with plain paths instead of file:// URIs."""

    driver_class = LocalDriver

    @pytest.fixture
    def base_uri(self, tmp_path: Path) -> str:
        root = tmp_path / "plain"
        root.mkdir()
        return str(root)
