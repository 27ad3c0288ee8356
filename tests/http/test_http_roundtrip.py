"""The whole loop over HTTP (API and CLI), and https:// without the plugin."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tether
from tether import Artifact, Catalog, plugins
from tether.errors import DownloadError, NoDriverError
from tether.resolver import can_link_only

from .server import Behaviour, LoopbackServer

pytestmark = pytest.mark.http


def test_quickstart_round_trip_over_http(http_server: LoopbackServer, base: str, tmp_path: Path) -> None:
    """Log a few URLs, download, verify; change one, log v2; v1 can no longer be fetched, and says so."""
    http_server.behaviour = Behaviour(digests=("repr-digest",))
    files = {"train.csv": b"x,y\n1,2\n" * 500, "labels/classes.txt": b"cat\ndog\n", "model.bin": os.urandom(70_000)}
    for rel, data in files.items():
        http_server.put(f"{base}/{rel}", data)
    catalog = Catalog(tmp_path / "catalog")

    def artifact() -> Artifact:
        art = Artifact("web-data", metadata={"source": "loopback"})
        for rel in files:
            art.add_remote(f"{base}/{rel}", rel)
        return art

    v1 = catalog.log(artifact(), aliases=["candidate"])
    assert (v1.version, len(v1.assets), v1.total_size) == (1, 3, sum(map(len, files.values())))
    assert all(a.checksums["sha256"] == hashlib.sha256(files[a.logical_path]).hexdigest() for a in v1.assets)
    out = tmp_path / "v1"
    assert v1.download(out).counts() == {"downloaded": 3}
    checked = v1.verify(out)
    assert checked.ok and len(checked.with_status("ok")) == 3
    assert v1.download(out).counts() == {"present": 3}
    assert catalog.log(artifact()).version == 1  # nothing changed: no new version

    http_server.put(f"{base}/labels/classes.txt", b"cat\ndog\nbird\n")
    v2 = catalog.log(artifact())
    assert v2.version == 2
    assert {o.logical_path: o.status for o in catalog.get("web-data@candidate").status().outcomes} == {
        "train.csv": "unchanged", "labels/classes.txt": "modified", "model.bin": "unchanged"}
    v2.download(tmp_path / "v2")
    assert v2.verify(tmp_path / "v2").ok
    assert (tmp_path / "v2" / "labels" / "classes.txt").read_bytes() == b"cat\ndog\nbird\n"
    with pytest.raises(DownloadError) as exc:  # HTTP keeps no old versions: v1's bytes are gone
        catalog.get("web-data", version=1).download(tmp_path / "again")
    result = exc.value.result
    assert result.counts() == {"downloaded": 2, "failed": 1}  # type: ignore[attr-defined]
    assert "'labels/classes.txt'" in str(exc.value) and "changed since it was logged" in str(exc.value)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env}, check=False)


def test_cli_round_trip_over_http(http_server: LoopbackServer, base: str, tmp_path: Path) -> None:
    http_server.put(f"{base}/a.txt", b"alpha")
    http_server.put(f"{base}/b.txt", b"beta")
    env = {"TETHER_HOME": str(tmp_path / "home"), "TETHER_HTTP_HASH": "1", "NO_PROXY": "127.0.0.1"}
    r = _cli("log", "site", f"{base}/a.txt", f"{base}/b.txt", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("site:v1: 2 asset(s)")
    shown = json.loads(_cli("show", "site:1", "--json", env=env).stdout)
    assert {a["uri"] for a in shown["assets"]} == {f"{base}/a.txt", f"{base}/b.txt"}
    r = _cli("download", "site:1", str(tmp_path / "out"), env=env)
    assert r.returncode == 0, r.stderr
    assert _cli("verify", "site:1", str(tmp_path / "out"), env=env).returncode == 0
    http_server.put(f"{base}/b.txt", b"BETA")
    r = _cli("download", "site:1", str(tmp_path / "out2"), env=env)
    assert r.returncode == 1 and "failed b.txt" in r.stderr
    assert "'b.txt'" in r.stderr and "changed since it was logged" in r.stderr and "Traceback" not in r.stderr
    r = _cli("log", "site", f"{base}/missing.txt", env=env)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "missing.txt" in r.stderr
    r = _cli("log", "site", f"{base}/", env=env)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "HTTP has no listing" in r.stderr


@pytest.fixture
def without_http_plugin(monkeypatch: pytest.MonkeyPatch):
    """A fresh registry that skips the http plugin, as if tether-http were not installed."""
    monkeypatch.setenv("TETHER_DISABLE_PLUGINS", "http")
    old = plugins.set_registry(None)
    yield
    plugins.set_registry(old)


def test_without_the_plugin_https_stays_link_only(without_http_plugin: None, tmp_path: Path) -> None:
    url = "https://data.example.invalid/files/report.csv"
    assert can_link_only(url) and can_link_only("http://data.example.invalid/x")
    with pytest.warns(tether.LinkOnlyWarning, match="no tether driver serves this scheme"):
        (asset,) = Artifact("links").add_remote(url)
    assert not asset.synced and asset.link == url and asset.logical_path == "report.csv"
    with pytest.raises(NoDriverError) as exc:  # still "no driver", not an install error; it names tether-http
        Artifact("strict", strict=True).add_remote(url)
    assert type(exc.value) is NoDriverError and "tether-http fetches and verifies https://" in str(exc.value)


def test_without_the_plugin_the_cli_warns_and_logs_a_link(tmp_path: Path) -> None:
    env = {"TETHER_HOME": str(tmp_path / "home"), "TETHER_DISABLE_PLUGINS": "http"}
    r = _cli("log", "links", "https://data.example.invalid/report.csv", env=env)
    assert r.returncode == 1 and "no installed tether driver serves https://" in r.stderr  # a link needs consent
    r = _cli("log", "links", "https://data.example.invalid/report.csv", "--allow-links", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("tether: warning: ") and "no tether driver serves this scheme" in r.stderr
    plugins_json = json.loads(_cli("plugins", "--json", env=env).stdout)
    assert "http" not in {p["name"] for p in plugins_json["plugins"]}
    with_plugin = json.loads(_cli("plugins", "--json", env={"TETHER_HOME": str(tmp_path / "home")}).stdout)
    (row,) = [p for p in with_plugin["plugins"] if p["name"] == "http"]
    assert row["distribution"] == "tether-http" and row["schemes"] == ["http", "https"]
