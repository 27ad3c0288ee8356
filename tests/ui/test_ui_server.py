"""``tether ui`` in-process (Starlette's TestClient): every page and its JSON."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import tether
from click.testing import CliRunner
from starlette.testclient import TestClient
from tether.cli import cli
from tether.ui.app import create_app

from .catalogs import SCRIPT, XSS_FLAG
from .conftest import snapshot

pytestmark = pytest.mark.ui


@pytest.fixture
def client(ui_catalog: str) -> TestClient:
    return TestClient(create_app(ui_catalog))


def test_artifacts_page_lists_and_filters(client: TestClient) -> None:
    html = client.get("/").text
    for name in ("images", "labels", "hostile", "many"):
        assert f'href="/a/{name}"' in html
    assert "production → v3" in html and "dataset" in html
    rows = {r["name"]: r for r in client.get("/api/artifacts").json()["artifacts"]}
    assert rows["images"]["latest"] == 3 and rows["images"]["aliases"] == {"candidate": 2, "production": 3}
    assert rows["images"]["type"] == "dataset" and rows["labels"]["type"] == "table"
    assert rows["many"]["asset_count"] == 2_500 - 250 + 25
    names = lambda **q: [r["name"] for r in client.get("/api/artifacts", params=q).json()["artifacts"]]
    assert names(q="ima") == ["images"]
    assert names(type="table") == ["labels"]
    assert names(tag="cleaned") == ["images"]  # a tag of an older version counts
    assert names(limit="2") == ["hostile", "huge"] or names(limit="2")[0] == "hostile"
    page = client.get("/api/artifacts", params={"limit": "1"}).json()
    assert page["next"] == page["artifacts"][0]["name"]
    assert client.get("/api/artifacts", params={"limit": "1", "after": page["next"]}).json()["artifacts"][0][
        "name"] != page["next"]


def test_artifact_page_is_a_timeline_with_a_diff_form(client: TestClient) -> None:
    html = client.get("/a/images").text
    assert html.index(">v3<") < html.index(">v2<") < html.index(">v1<")  # newest first
    assert 'action="/diff"' in html and 'name="a" value="images:2"' in html and 'name="b" value="images:3"' in html
    doc = client.get("/api/a/images").json()
    assert [v["version"] for v in doc["versions"]] == [3, 2, 1]
    assert doc["versions"][1]["aliases"] == ["candidate"] and doc["versions"][1]["tags"] == ["cleaned"]
    older = client.get("/api/a/images", params={"limit": "1", "before": "3"}).json()
    assert [v["version"] for v in older["versions"]] == [2] and older["next"] == 2


def test_version_page_shows_metadata_assets_and_copy_commands(client: TestClient, ui_catalog: str) -> None:
    html = client.get("/a/images/v/production").text
    assert "images:v3" in html and "train/cat/0002.jpg" in html and "sha256" in html
    assert f"tether --catalog file://{ui_catalog} download images:v3 DEST" in html
    assert 'data-copy="file://' in html and '<a href="https://example.com/images"' in html
    doc = client.get("/api/a/images/v/3").json()
    assert doc["asset_count"] == 6 and doc["metadata"]["split"] == {"train": 4, "val": 1, "test": 1}
    assert doc["assets"][0]["strength"] == "sha256" and doc["sections"] == []


def test_version_assets_are_paged_by_keyset(client: TestClient) -> None:
    first = client.get("/api/a/many/v/1").json()
    assert len(first["assets"]) == 100 and first["matching"] == 2_500
    assert first["next"] == first["assets"][-1]["path"]
    html = client.get("/a/many/v/1").text
    assert re.search(r'rel="next" class="next" href="/a/many/v/1\?after=shard-000%2Fpart-0000099\.bin"', html)
    second = client.get("/api/a/many/v/1", params={"after": first["next"]}).json()
    assert second["assets"][0]["path"] > first["next"] and len(second["assets"]) == 100
    last = client.get("/api/a/many/v/1", params={"after": "shard-002/part-0002450.bin"}).json()
    assert len(last["assets"]) == 49 and last["next"] is None
    under = client.get("/api/a/many/v/1", params={"prefix": "shard-001/", "limit": "1000"}).json()
    assert under["matching"] == 1000 and len(under["assets"]) == 1000 and under["next"] is None
    # the same pages once the whole version is cached (a folder view loads it)
    client.get("/a/many/v/1/folders")
    again = client.get("/api/a/many/v/1", params={"after": first["next"]}).json()
    assert [a["path"] for a in again["assets"]] == [a["path"] for a in second["assets"]]
    assert ("pinned_uri", "s3://bench-bucket/shard-000/part-0000100.bin?versionId=v100-1") in \
        second["assets"][0].items()


def test_folder_view(client: TestClient) -> None:
    top = client.get("/api/a/images/v/3/folders").json()
    assert [(f["name"], f["assets"]) for f in top["folders"]] == [("test", 1), ("train", 4), ("val", 1)]
    assert top["assets"] == []
    cats = client.get("/api/a/images/v/3/folders", params={"prefix": "train/cat"}).json()
    assert [a["path"] for a in cats["assets"]] == ["train/cat/0001.jpg", "train/cat/0002.jpg"]
    assert 'href="/a/images/v/3/folders?prefix=train%2F"' in client.get("/a/images/v/3/folders?prefix=train/cat/").text


def test_check_remote_now_shows_drift_without_writing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("one")
    (src / "b.txt").write_text("two")
    root = str(tmp_path / "cat")
    art = tether.Artifact("d")
    art.add_remote(str(src))
    tether.Catalog(root).log(art)
    (src / "a.txt").write_text("changed")
    (src / "b.txt").unlink()
    before = snapshot(root)
    client = TestClient(create_app(root))
    doc = client.get("/api/a/d/v/1/status").json()
    assert doc["drifted"] and doc["counts"] == {"deleted": 1, "modified": 1}
    assert {o["path"]: o["status"] for o in doc["outcomes"]} == {"a.txt": "modified", "b.txt": "deleted"}
    assert "The store no longer matches the manifest" in client.get("/a/d/v/1/status").text
    for url in ("/", "/a/d", "/a/d/v/1", "/a/d/v/1/folders", "/diff?a=d:1&b=d:1"):
        assert client.get(url).status_code == 200
    assert client.post("/a/d/v/1/status").status_code == 405  # nothing but GET
    assert snapshot(root) == before


def test_diff_page_summary_first_then_paged_lists(client: TestClient) -> None:
    html = client.get("/diff", params={"a": "images:1", "b": "images@production"}).text
    assert html.index("2 added") < html.index("By folder") < html.index('id="added"')
    assert "val/0001.jpg → val/0001-renamed.jpg" in html and "README.md" in html
    doc = client.get("/api/diff", params={"a": "images:1", "b": "images:3"}).json()
    assert doc["diff"]["counts"] == {"added": 2, "removed": 1, "modified": 1, "renamed": 1, "unchanged": 2}
    assert doc["lists"]["renamed"]["rows"][0]["old_path"] == "val/0001.jpg"
    big = client.get("/api/diff", params={"a": "many:1", "b": "many:2", "kind": "removed", "limit": "50"}).json()
    assert list(big["lists"]) == ["removed"] and big["lists"]["removed"]["total"] == 250
    nxt = big["lists"]["removed"]["next"]
    more = client.get("/api/diff", params={"a": "many:1", "b": "many:2", "kind": "removed", "after": nxt}).json()
    assert more["lists"]["removed"]["rows"][0]["path"] > nxt
    page = client.get("/diff", params={"a": "many:1", "b": "many:2"}).text
    assert "more removed →" in page and '<tr class="folder"><th colspan="3">shard-000/</th></tr>' in page


def test_hostile_names_metadata_and_links_are_escaped(client: TestClient) -> None:
    pages = ["/", "/a/hostile", "/a/hostile/v/1", "/a/hostile/v/1/folders", "/diff?a=hostile:1&b=hostile:1",
             "/a/hostile/v/1/folders?prefix=%3Cimg%20src%3Dx%20onerror%3Dwindow.__tether_xss%3D4%3E/"]
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.text
        assert "<script>window" not in html and "<img src=x" not in html, url
        assert 'onmouseover="window' not in html, url
        assert not re.search(r'href\s*=\s*"\s*(javascript|data):', html, re.IGNORECASE), url
        assert len(re.findall(r"<script\b", html)) == 1  # only the page's own copy.js
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    version = client.get("/a/hostile/v/1").text
    assert "&lt;script&gt;window." + XSS_FLAG in version and "&#34;onmouseover=&#34;" in version
    assert "javascript:window." + XSS_FLAG in version  # shown as text ...
    assert 'href="javascript' not in version  # ... never as a link
    assert client.get("/api/a/hostile/v/1").json()["type"] == SCRIPT  # JSON carries the value as it is


def test_links_and_uris_are_shown_redacted(tmp_path: Path) -> None:
    root = str(tmp_path / "cat")
    art = tether.Artifact("s", metadata={"home": "https://user:hunter2@example.com/x?token=SECRETTOKEN"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        art.add_remote("https://example.com/file?X-Amz-Signature=SIGSECRET&a=1", logical_path="f")
    tether.Catalog(root).log(art)
    client = TestClient(create_app(root))
    for url in ("/a/s/v/1", "/api/a/s/v/1"):
        text = client.get(url).text
        assert "hunter2" not in text and "SIGSECRET" not in text and "SECRETTOKEN" not in text
    assert "https://***@example.com/x?token=***" in client.get("/a/s/v/1").text


def test_unknown_artifact_version_or_alias_is_a_404_with_a_link_back(client: TestClient) -> None:
    for url in ("/a/nope", "/a/images/v/99", "/a/images/v/no-such-alias", "/a/bad%20name", "/nothing/here",
                "/diff?a=images:1&b=images:42"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert '<a href="/">← back to the artifacts</a>' in r.text
    r = client.get("/api/a/images/v/99")
    assert r.status_code == 404 and r.json()["error"] == "artifact 'images' has no version 99 (it has versions 1-3)"
    assert client.get("/api/a/many/v/1", params={"limit": "abc"}).status_code == 400


def test_unreadable_catalog_is_a_clear_page_and_the_server_keeps_running(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("one")
    root = tmp_path / "cat"
    art = tether.Artifact("d")
    art.add_remote(str(src))
    tether.Catalog(str(root)).log(art)
    claim = root / "artifacts/d/versions/0000000001.json"
    good = claim.read_bytes()
    claim.write_text("{not json")
    client = TestClient(create_app(str(root)))
    r = client.get("/a/d/v/1")
    assert r.status_code == 503 and "The catalog cannot be read" in r.text and "is not valid JSON" in r.text
    assert "is not valid JSON" in client.get("/").text  # the row says so; the list still renders
    claim.write_bytes(good)
    assert client.get("/a/d/v/1").status_code == 200  # same server, repaired catalog
    nodriver = TestClient(create_app("nosuchscheme://bucket/x"))
    r = nodriver.get("/")
    assert r.status_code == 503 and "no installed tether driver serves nosuchscheme://" in r.text
    assert nodriver.get("/api/artifacts").json()["status"] == 503
    shutil.rmtree(root / "artifacts/d/manifests")
    assert "is missing" in client.get("/a/d/v/1").text


def test_import_tether_does_not_import_the_web_stack() -> None:
    code = ("import sys, tether, tether.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'jinja2', 'uvicorn')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ui_command_binds_loopback_by_default_and_warns_for_another_host(monkeypatch: pytest.MonkeyPatch,
                                                                        ui_catalog: str) -> None:
    from tether.ui import server

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(server, "serve", lambda root, host, port, **kw: calls.append((host, port)))
    r = CliRunner().invoke(cli, ["ui", "--catalog", ui_catalog])
    assert r.exit_code == 0 and calls[-1] == ("127.0.0.1", 0) and "warning" not in r.output
    r = CliRunner().invoke(cli, ["ui", "--catalog", ui_catalog, "--host", "0.0.0.0", "--port", "8123"])
    assert calls[-1] == ("0.0.0.0", 8123)
    assert "tether: warning: serving on 0.0.0.0, not on this machine only" in r.output
    assert server.is_loopback("::1") and server.is_loopback("localhost") and not server.is_loopback("10.1.2.3")
    r = CliRunner().invoke(cli, ["ui", "--catalog", "nosuchscheme://x"])
    assert r.exit_code == 1 and "no installed tether driver" in str(r.exception or r.output)


def test_uvicorn_serves_the_app_on_a_free_loopback_port(ui_catalog: str) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tether.cli", "ui", "--catalog", ui_catalog],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        url = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url
        import urllib.request

        with urllib.request.urlopen(url + "api/artifacts", timeout=30) as resp:
            assert resp.status == 200 and b'"images"' in resp.read()
    finally:
        proc.terminate()
        proc.wait(30)
