"""The install-hint table names every in-tree driver, and http(s) without tether-http
stays link-only while tether still names the distribution that would serve it."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import tether
from tether import errors, plugins
from tether.installhints import INSTALL_HINTS, LINK_ONLY_WITHOUT_DRIVER
from tether.resolver import can_link_only

ROOT = Path(__file__).parents[2]


def _in_tree_drivers() -> dict[str, set[str]]:
    """distribution -> the schemes its registered driver classes declare."""
    out: dict[str, set[str]] = {}
    for pyproject in sorted(ROOT.glob("plugins/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        for target in project["entry-points"]["tether.drivers"].values():
            module = importlib.import_module(target)
            for cls in module.tether_register_drivers():
                out.setdefault(project["name"], set()).update(cls.schemes)
    return out


def test_every_in_tree_driver_scheme_has_its_install_hint() -> None:
    drivers = _in_tree_drivers()
    assert {"tether-local", "tether-s3", "tether-gcs", "tether-azure", "tether-http"} <= set(drivers)
    expected = {scheme: dist for dist, schemes in drivers.items() for scheme in schemes}
    assert INSTALL_HINTS == expected  # every scheme named, and nothing stale
    assert plugins.INSTALL_HINTS is INSTALL_HINTS  # still importable where it was


@pytest.fixture
def without_http_plugin(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TETHER_DISABLE_PLUGINS", "http")
    old = plugins.set_registry(None)
    yield
    plugins.set_registry(old)


def test_without_tether_http_a_url_is_a_link_that_names_tether_http(without_http_plugin: None) -> None:
    assert LINK_ONLY_WITHOUT_DRIVER == {"http", "https"}
    url = "https://data.example.invalid/files/report.csv?sig=SECRET"
    assert can_link_only(url) and can_link_only("http://data.example.invalid/x")
    with pytest.warns(tether.LinkOnlyWarning, match=r"recorded as a link only; tether-http fetches and verifies "
                                                    r"https:// URIs \(pip install .*(tether-|plugins/)http\)") as w:
        (asset,) = tether.Artifact("links").add_remote(url)
    assert not asset.synced and "SECRET" not in asset.link and "SECRET" not in str(w.list[0].message)
    with pytest.raises(errors.NoDriverError, match=r"no installed tether driver serves .*; tether-http fetches"):
        tether.Artifact("strict", strict=True).add_remote(url)
    # s3 without tether-s3 is still an error, not a link
    assert not can_link_only("s3://bucket/key")


def test_a_scheme_without_a_known_distribution_gets_no_note(without_http_plugin: None) -> None:
    with pytest.warns(tether.LinkOnlyWarning) as w:
        tether.Artifact("links").add_remote("ftp://files.example.com/pub/data.tar")
    assert "pip install" not in str(w.list[0].message)


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TETHER_HOME": str(tmp_path / "home"), "TETHER_DISABLE_PLUGINS": "http"}
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True,
                          text=True, env=env, timeout=120)


def test_plugins_and_info_name_tether_http_when_it_is_not_installed(tmp_path: Path) -> None:
    doc = json.loads(_cli("plugins", "--json", tmp_path=tmp_path).stdout)
    (row,) = [m for m in doc["not_installed"] if m["distribution"] == "tether-http"]
    assert row["schemes"] == ["http", "https"] and row["link_only"] is True
    assert "pip install" in row["hint"]
    text = _cli("plugins", tmp_path=tmp_path).stdout
    assert "not installed: tether-http (http:// needs: pip install" in text
    assert "until then these URIs are recorded as link-only" in text
    info = json.loads(_cli("info", "--json", tmp_path=tmp_path).stdout)
    (drow,) = [d for d in info["drivers"] if d["distribution"] == "tether-http"]
    assert drow["installed"] is False and drow["schemes"] == ["http", "https"] and drow["link_only"] is True
    assert "tether-http" in _cli("info", tmp_path=tmp_path).stdout
    r = _cli("log", "links", "https://data.example.invalid/report.csv", tmp_path=tmp_path)
    assert r.returncode == 1 and "tether-http fetches and verifies https:// URIs" in r.stderr
    assert "--allow-links" in r.stderr
