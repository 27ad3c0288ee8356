"""Shared fixtures: every test gets its own embedded catalog folder and clean config."""

from __future__ import annotations

import pytest

import tether.config


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("tether-home")
    monkeypatch.setenv("TETHER_HOME", str(home))
    monkeypatch.delenv("TETHER_CATALOG", raising=False)
    monkeypatch.delenv("TETHER_CONFIG", raising=False)
    tether.config.reset()
    yield home
    tether.config.reset()
