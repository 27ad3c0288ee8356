"""Discovery: conflicts, broken plugins, install hints, disabling, the plugins command."""

from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tether
from tether import errors
from tether.plugins import PluginLoadWarning, Registry, get_registry

from .conftest import install_fake_distribution

LOCAL_EP = md.EntryPoint("local", "tether_local", "tether.drivers")


def test_install_hint_for_known_scheme_without_driver() -> None:
    reg = Registry(entry_points=[LOCAL_EP])
    with pytest.raises(errors.DriverNotInstalledError) as exc:
        reg.driver_for("s3")
    # the distribution from an index, its folder when tether came from a source tree (as here)
    assert str(exc.value).startswith("s3:// needs: pip install ")
    assert str(exc.value).endswith(("tether-s3", "/plugins/s3"))
    with pytest.raises(errors.DriverNotInstalledError, match=r"^gs:// needs: pip install .*(tether-|plugins/)gcs$"):
        reg.driver_for("gs")


def test_unknown_scheme_becomes_link_only_with_warning(recwarn: pytest.WarningsRecorder, site_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_DISABLE_PLUGINS", "http")  # https:// as it is without tether-http
    art = tether.Artifact("links")
    (asset,) = art.add_remote("ftp://files.example.com/pub/data.tar")
    assert asset.synced is False and asset.link == "ftp://files.example.com/pub/data.tar"
    assert asset.logical_path == "data.tar"
    assert any(issubclass(w.category, tether.LinkOnlyWarning) for w in recwarn.list)
    with pytest.raises(errors.NoDriverError):
        tether.Artifact("strict", strict=True).add_remote("https://example.com/x.csv")


def test_link_only_assets_are_skipped_and_reported_on_download(tmp_path: Path, site_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_DISABLE_PLUGINS", "http")  # https:// as it is without tether-http
    src = tmp_path / "f.txt"
    src.write_bytes(b"real")
    art = tether.Artifact("mixed")
    art.add_remote(str(src))
    with pytest.warns(tether.LinkOnlyWarning):
        art.add_remote("https://example.com/extra.bin")
    v = tether.Catalog().log(art)
    result = v.download(tmp_path / "out")
    assert result.counts() == {"downloaded": 1, "skipped": 1}
    assert result.with_status("skipped")[0].logical_path == "extra.bin"
    with pytest.raises(errors.NoDriverError, match="extra.bin"):
        v.download(tmp_path / "out2", strict=True)
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())


def test_two_plugins_claiming_one_scheme_is_a_reported_conflict(memory_plugin: Path, monkeypatch) -> None:
    (memory_plugin / "dup_plugin.py").write_text(
        "import tether\nfrom tether_example_memory import MemoryDriver\n"
        "class ForkedMemoryDriver(MemoryDriver):\n    pass\n"
        "@tether.hookimpl\ndef tether_register_drivers():\n    return [ForkedMemoryDriver]\n")
    install_fake_distribution(memory_plugin, "tether-example-memory-fork", {"memory2": "dup_plugin"})
    reg = get_registry()
    assert reg.conflicts() == {"memory": ["memory", "memory2"]}
    with pytest.raises(errors.DriverConflictError) as exc:
        reg.driver_for("memory")
    assert "'memory'" in str(exc.value) and "'memory2'" in str(exc.value)
    assert "TETHER_DRIVER_MEMORY" in str(exc.value)
    monkeypatch.setenv("TETHER_DRIVER_MEMORY", "memory2")
    assert type(reg.driver_for("memory")).__name__ == "ForkedMemoryDriver"
    # the local driver is unaffected by the conflict
    assert reg.driver_for("file").scheme == "file"


def test_broken_plugin_is_contained_and_named_on_use(site_dir: Path) -> None:
    (site_dir / "broken_plugin.py").write_text("import not_a_real_module_xyz\n")
    install_fake_distribution(site_dir, "tether-broken", {"broken": "broken_plugin"})
    reg = get_registry()
    with pytest.warns(PluginLoadWarning, match="broken"):
        reg.load()
    (info,) = [p for p in reg.plugins if p.name == "broken"]
    assert "ModuleNotFoundError" in (info.error or "")
    assert reg.driver_for("file").scheme == "file"  # other drivers still work
    with pytest.raises(errors.DriverLoadError) as exc:
        reg.driver_for("broken")
    assert "'broken'" in str(exc.value) and "not_a_real_module_xyz" in str(exc.value)


def test_plugin_returning_a_non_driver_is_contained(site_dir: Path) -> None:
    (site_dir / "dup_plugin.py").write_text(
        "import tether\n@tether.hookimpl\ndef tether_register_drivers():\n    return [object]\n")
    install_fake_distribution(site_dir, "tether-dup", {"dup": "dup_plugin"})
    with pytest.warns(PluginLoadWarning, match="not a tether.driver.Driver subclass"):
        get_registry().load()


def test_disable_plugins_switch(memory_plugin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_DISABLE_PLUGINS", "memory")
    assert not get_registry().has_driver("memory")


def test_plugins_command_lists_drivers() -> None:
    out = subprocess.run([sys.executable, "-m", "tether.cli", "plugins", "--json"],
                         capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    local = [p for p in doc["plugins"] if p["name"] == "local"][0]
    assert local["distribution"] == "tether-local" and local["schemes"] == ["file"]
    assert local["error"] is None and local["version"]


def test_import_tether_stays_light() -> None:
    code = ("import sys, tether; heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'boto3','botocore','aiobotocore','s3fs','gcsfs','google','fsspec','tqdm'}); print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
