"""Catalogs for the UI tests, built once per session into their own folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from .catalogs import big, demo, hostile


@pytest.fixture(scope="session")
def ui_catalog(tmp_path_factory: pytest.TempPathFactory) -> str:
    """demo + hostile + a 2,500-asset artifact ``many``, in one local catalog."""
    base = tmp_path_factory.mktemp("ui-catalog")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TETHER_HOME", str(base / "home"))
        mp.setenv("TETHER_CACHE_DIR", str(base / "cache"))
        root = str(base / "catalog")
        demo(root, base / "work")
        hostile(root, base / "work")
        big(root, 2_500, name="many")
    return root


@pytest.fixture(scope="session")
def huge_catalog(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two versions of 100,000 assets (``huge``)."""
    base = tmp_path_factory.mktemp("ui-huge")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TETHER_HOME", str(base / "home"))
        root = str(base / "catalog")
        big(root, 100_000)
    return root


def snapshot(root: str) -> dict[str, tuple[int, int]]:
    """Every file under a local catalog with its size and mtime: proof nothing was written."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in Path(root).rglob("*")}
