"""Operation hooks: plugins wrap resolve/list/checksum/upload/download for every scheme."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import tether
from tether import errors, operations
from tether.driver import Driver
from tether.plugins import get_registry

from .conftest import install_fake_distribution

METER = '''
import json, os
import tether

@tether.hookimpl(wrapper=True)
def tether_resolve(driver, uri, max_objects, glob):
    res = yield
    _note("resolve", driver, uri)
    return res

@tether.hookimpl(wrapper=True)
def tether_list(driver, uri, max_objects):
    res = yield
    _note("list", driver, uri)
    return res

@tether.hookimpl(wrapper=True)
def tether_checksum(driver, uri, kinds):
    res = yield
    _note("checksum", driver, uri)
    return res

@tether.hookimpl(wrapper=True)
def tether_upload(driver, local_path, uri, sha256):
    res = yield
    _note("upload", driver, uri)
    return res

@tether.hookimpl(wrapper=True)
def tether_download(driver, asset, dest, fetch):
    res = yield
    _note("download", driver, asset.uri)
    return res

def _note(op, driver, uri):
    with open(os.environ["METER_LOG"], "a") as f:
        f.write(json.dumps([op, driver.scheme, uri]) + "\\n")
'''


def _install_hook_plugin(site: Path, source: str) -> str:
    module = f"hookplug_{uuid.uuid4().hex[:8]}"
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    install_fake_distribution(site, module.replace("_", "-"), {module: module})
    return module


@pytest.fixture
def meter(memory_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "meter.jsonl"
    monkeypatch.setenv("METER_LOG", str(log))
    _install_hook_plugin(memory_plugin, METER)
    return log


def _ops(log: Path) -> list[list[Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_hook_only_plugin_wraps_every_operation_of_another_plugins_driver(
        meter: Path, memory_uri: str, tmp_path: Path) -> None:
    drv = tether.get_driver("memory")
    drv.write_bytes(f"{memory_uri}/data/a.bin", b"a" * 10)
    drv.write_bytes(f"{memory_uri}/data/b.bin", b"b" * 20)
    local = tmp_path / "local.txt"
    local.write_bytes(b"local bytes")
    art = tether.Artifact("metered")
    art.add_remote(f"{memory_uri}/data")
    art.add(str(local))
    v = tether.Catalog(f"{memory_uri}/cat").log(art)
    v.download(tmp_path / "out")
    ops = _ops(meter)
    kinds = [o[0] for o in ops]
    assert ["list", f"{memory_uri}/data/"] == [ops[0][0], ops[0][2]]
    assert ["resolve", "memory", f"{memory_uri}/data"] in ops
    assert kinds.count("checksum") == 2  # the memory store's listing has no checksums: read once each
    assert kinds.count("upload") == 1 and kinds.count("download") == 3
    assert {o[1] for o in ops} == {"memory"}


def test_failing_wrapper_is_a_plugin_error_naming_plugin_and_hook(memory_plugin: Path, memory_uri: str) -> None:
    name = _install_hook_plugin(memory_plugin, '''
        import tether

        @tether.hookimpl(wrapper=True)
        def tether_resolve(driver, uri, max_objects, glob):
            raise RuntimeError("meter backend down")
            yield
    ''')
    tether.get_driver("memory").write_bytes(f"{memory_uri}/x.bin", b"x")
    with pytest.raises(errors.PluginError, match=rf"plugin '{name}' failed in tether_resolve: RuntimeError: meter") as exc:
        tether.Artifact("a").add_remote(f"{memory_uri}/x.bin")
    assert exc.value.plugin == name and exc.value.hook == "tether_resolve"


def test_wrapper_sees_the_operations_error_and_it_passes_unchanged(memory_plugin: Path, memory_uri: str,
                                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "seen"
    monkeypatch.setenv("SEEN", str(seen))
    _install_hook_plugin(memory_plugin, '''
        import os
        import tether

        @tether.hookimpl(wrapper=True)
        def tether_resolve(driver, uri, max_objects, glob):
            try:
                return (yield)
            except Exception as exc:
                open(os.environ["SEEN"], "w").write(type(exc).__name__)
                raise
    ''')
    with pytest.raises(errors.ObjectNotFoundError, match="no object or prefix"):
        tether.Artifact("a").add_remote(f"{memory_uri}/missing")
    assert seen.read_text() == "ObjectNotFoundError"


def test_policy_plugin_refusal_is_its_own_typed_error(memory_plugin: Path, memory_uri: str) -> None:
    _install_hook_plugin(memory_plugin, '''
        import tether
        from tether.errors import SchemeNotAllowedError

        @tether.hookimpl(wrapper=True)
        def tether_upload(driver, local_path, uri, sha256):
            if "forbidden" in uri:
                raise SchemeNotAllowedError(f"{uri} is outside the allow-list")
            return (yield)
    ''')
    with pytest.raises(errors.SchemeNotAllowedError, match="outside the allow-list"):
        operations.upload(tether.get_driver("memory"), "/nope", f"{memory_uri}/forbidden/x", sha256="0" * 64)


def test_plugins_command_lists_the_hooks_each_plugin_implements(meter: Path) -> None:
    by_name = {p.name: p for p in get_registry().plugins}
    assert by_name["memory"].hooks == ("tether_register_drivers",)
    hooky = next(p for p in by_name.values() if p.name.startswith("hookplug_"))
    assert hooky.hooks == ("tether_checksum", "tether_download", "tether_list", "tether_resolve", "tether_upload")
    assert hooky.schemes == ()
    out = subprocess.run([sys.executable, "-m", "tether.cli", "plugins", "--json"], capture_output=True, text=True,
                         check=True, env=_env_with_site(meter.parent / "site")).stdout
    rows = {r["name"]: r for r in json.loads(out)["plugins"]}
    assert rows[hooky.name]["hooks"] == list(hooky.hooks)
    text = subprocess.run([sys.executable, "-m", "tether.cli", "plugins"], capture_output=True, text=True,
                          check=True, env=_env_with_site(meter.parent / "site")).stdout
    assert "hooks: tether_checksum, tether_download" in text


def _env_with_site(site: Path) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(Path(tether.__file__).parents[3] / "docs"
                                                                         / "example-plugin" / "src")])}


class Forgetful(Driver):
    """A driver that calls its client without ``translating()``."""

    schemes = ("forgetful",)

    def list(self, uri: str, *, max_objects: int = 10) -> list[Any]:
        raise PermissionError(13, "Forbidden")

    def stat_path(self, path: str) -> None:
        return None

    def read_bytes(self, uri: str) -> bytes:
        raise ConnectionResetError(104, "Connection reset by peer")


def test_errors_are_translated_even_where_a_driver_forgot() -> None:
    drv = Forgetful()
    with pytest.raises(errors.AccessDeniedError, match=r"forgetful://b/data/: access denied"):
        drv.resolve("forgetful://b/data")
    with pytest.raises(errors.StorageError, match=r"forgetful://b/cat.json: ConnectionResetError"):
        drv.read_bytes("forgetful://b/cat.json")
