"""Core tests: a third-party plugin made discoverable through real entry-point metadata."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from tether import plugins

EXAMPLE_PLUGIN = Path(__file__).resolve().parents[2] / "docs" / "example-plugin" / "src"


def install_fake_distribution(site: Path, dist: str, entry_points: dict[str, str], version: str = "0.1.0") -> None:
    """Write a ``.dist-info`` folder into ``site``: what pip would leave, minus the files."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = ["[tether.drivers]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A temporary site folder on sys.path, with a fresh registry around the test."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    old = plugins.set_registry(None)
    yield site
    plugins.set_registry(old)
    for name in list(sys.modules):
        if name.startswith(("tether_example_memory", "broken_plugin", "dup_plugin")):
            del sys.modules[name]


@pytest.fixture
def memory_plugin(site_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The docs' example plugin, installed as distribution ``tether-example-memory``."""
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN))
    install_fake_distribution(site_dir, "tether-example-memory", {"memory": "tether_example_memory"})
    return site_dir


@pytest.fixture
def memory_uri(memory_plugin: Path) -> str:
    return f"memory://t-{uuid.uuid4().hex[:10]}"
