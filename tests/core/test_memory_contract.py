"""A third-party plugin, end to end: discovered by entry point, run through the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import tether
from tether.plugins import get_registry
from tether.testing import DriverContract


class TestMemoryPluginContract(DriverContract):
    # driver_class stays None: the example is imported afresh for each test (its
    # fixture installs it), and it declares tether.Driver's default capabilities,
    # which the contract's driver fixture checks.
    multiprocess = False  # memory:// lives inside one process: a child would see an empty store

    @pytest.fixture
    def base_uri(self, memory_uri: str) -> str:
        return memory_uri


def test_third_party_plugin_found_by_scheme_logs_and_downloads(memory_uri: str, tmp_path: Path) -> None:
    info = {p.name: p for p in get_registry().plugins}
    assert info["memory"].distribution == "tether-example-memory"
    assert info["memory"].schemes == ("memory",)
    drv = tether.get_driver("memory")
    drv.write_bytes(f"{memory_uri}/model/weights.bin", b"\x00\x01" * 1000)
    drv.write_bytes(f"{memory_uri}/model/config.json", b"{}")
    art = tether.Artifact("mem-model", type="model")
    art.add_remote(f"{memory_uri}/model/")
    v = tether.Catalog(tmp_path / "cat").log(art)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "weights.bin").read_bytes() == b"\x00\x01" * 1000
    assert (tmp_path / "out" / "config.json").read_bytes() == b"{}"
