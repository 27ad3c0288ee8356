"""``tether ui`` runs pages and the version page's lineage section (Starlette's TestClient)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tether
from starlette.testclient import TestClient
from tether.ui.app import create_app

from .catalogs import ATTR, IMG, JS_LINK, SCRIPT, write_files

pytestmark = pytest.mark.ui


def _art(name: str, folder: Path, data: bytes, type_: str = "dataset") -> tether.Artifact:
    art = tether.Artifact(name, type=type_)
    art.add(write_files(folder / name, {f"{name}.bin": data}) / f"{name}.bin")
    return art


@pytest.fixture(scope="module")
def runs_catalog(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """raw@prod → prepare → features; features → train → model; model → evaluate → report (deleted);
    plus a run whose record was rewritten to hold script in its name, params and external ids."""
    base = tmp_path_factory.mktemp("ui-runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TETHER_HOME", str(base / "home"))
        mp.setenv("TETHER_CACHE_DIR", str(base / "cache"))
        root = str(base / "catalog")
        cat = tether.Catalog(root)
        cat.log(_art("raw", base, b"raw rows"), aliases=["prod"])
        with tether.Run("prepare", params={"split": 0.8}, catalog=cat) as prepare:
            prepare.use("raw@prod")
            prepare.log(_art("features", base, b"features"))
        with tether.Run("train", params={"lr": 0.1}, catalog=cat, external={"mlflow": "ml-42"}) as train:
            train.use("features")
            train.log(_art("model", base, b"weights", "model"))
            train.summary["accuracy"] = 0.93
        with tether.Run("evaluate", catalog=cat) as evaluate:
            evaluate.use("model:1")
            evaluate.log(_art("report", base, b"report"))
        cat.delete("report", 1, reason="wrong metric")
        with tether.Run("hostile-run", params={SCRIPT: IMG, "link": JS_LINK}, catalog=cat,
                        external={"tracker": SCRIPT}) as bad:
            bad.use("raw:1")
            bad.summary[ATTR] = SCRIPT
        record = Path(root) / "runs" / bad.id / "run.json"
        doc = json.loads(record.read_text())
        doc["name"] = SCRIPT  # a record written by whoever can write the bucket
        record.write_text(json.dumps(doc))
    return {"root": root, "prepare": prepare.id, "train": train.id, "evaluate": evaluate.id, "bad": bad.id}


@pytest.fixture
def client(runs_catalog: dict[str, str]) -> TestClient:
    return TestClient(create_app(runs_catalog["root"]))


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_runs_list_is_newest_first_and_filters(client: TestClient, runs_catalog: dict[str, str]) -> None:
    ids = [runs_catalog[k] for k in ("bad", "evaluate", "train", "prepare")]
    doc = client.get("/api/runs").json()
    assert [r["id"] for r in doc["runs"]] == ids
    assert [r["name"] for r in client.get("/api/runs", params={"name": "train"}).json()["runs"]] == ["train"]
    assert [r["status"] for r in client.get("/api/runs", params={"status": "finished"}).json()["runs"]] == [
        "finished"] * 4
    assert client.get("/api/runs", params={"status": "failed"}).json()["runs"] == []
    assert client.get("/api/runs", params={"limit": "2"}).json()["runs"][1]["id"] == ids[1]
    html = client.get("/runs").text
    for run_id in ids:
        assert f'href="/runs/{run_id}"' in html
    assert client.get("/runs", params={"status": "bogus"}).status_code == 400
    assert client.get("/api/runs", params={"limit": "x"}).status_code == 400


def test_run_page_shows_inputs_as_asked_and_resolved_outputs_and_records(
        client: TestClient, runs_catalog: dict[str, str]) -> None:
    run_id = runs_catalog["train"]
    doc = client.get(f"/api/runs/{run_id}").json()
    assert (doc["name"], doc["status"], doc["params"], doc["summary"], doc["external"]) == (
        "train", "finished", {"lr": 0.1}, {"accuracy": 0.93}, {"mlflow": "ml-42"})
    assert [(e["asked"], e["ref"], e["url"]) for e in doc["inputs"]] == [("features", "features:v1",
                                                                          "/a/features/v/1")]
    assert [(e["ref"], e["url"], e["created"]) for e in doc["outputs"]] == [("model:v1", "/a/model/v/1", True)]
    html = client.get(f"/runs/{run_id}").text
    assert 'href="/a/features/v/1"' in html and 'href="/a/model/v/1"' in html
    assert "ml-42" in html and "accuracy" in html and "lr" in html
    for href in _hrefs(html):  # every link on the page resolves
        if href.startswith("/") and not href.startswith("/static"):
            assert client.get(href).status_code == 200, href
    # The deleted output is named, never linked.
    html = client.get(f"/runs/{runs_catalog['evaluate']}").text
    assert "report:v1 (deleted version)" in html and 'href="/a/report/v/1"' not in html


def test_version_page_shows_producers_and_consumers_with_a_graph(
        client: TestClient, runs_catalog: dict[str, str]) -> None:
    html = client.get("/a/model/v/1").text
    section = html[html.index('id="section-lineage"'):]
    assert "Produced by / used by" in html
    assert f'href="/runs/{runs_catalog["train"]}"' in section
    assert f'href="/runs/{runs_catalog["evaluate"]}"' in section
    assert 'href="/a/features/v/1"' in section and "report:v1 (deleted version)" in section
    assert 'href="/a/report/v/1"' not in section
    svg = section[section.index("<svg"):section.index("</svg>")]
    assert svg.count("<rect") == 5 and svg.count("<line") == 4 and "deleted version" in svg
    for href in _hrefs(section):
        assert client.get(href).status_code == 200, href
    data = next(s for s in client.get("/api/a/model/v/1").json()["sections"] if s["key"] == "lineage")["data"]
    assert [r["id"] for r in data["produced_by"]] == [runs_catalog["train"]]
    assert [r["id"] for r in data["used_by"]] == [runs_catalog["evaluate"]]
    assert data["used_by"][0]["versions"][0]["deleted"] is True
    # raw was logged outside a run: used by prepare and the hostile run, produced by none.
    raw = client.get("/a/raw/v/1").text
    assert "Produced by</h3>" not in raw and f'href="/runs/{runs_catalog["prepare"]}"' in raw


def test_a_version_without_runs_has_no_lineage_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "home"))
    root = str(tmp_path / "catalog")
    tether.Catalog(root).log(_art("lonely", tmp_path, b"x"))
    client = TestClient(create_app(root))
    assert 'id="section-lineage"' not in client.get("/a/lonely/v/1").text


def test_hostile_run_names_params_and_external_ids_are_escaped(
        client: TestClient, runs_catalog: dict[str, str]) -> None:
    pages = [client.get("/runs").text, client.get(f"/runs/{runs_catalog['bad']}").text,
             client.get("/a/raw/v/1").text]
    for html in pages:
        assert SCRIPT in json.dumps(client.get("/api/runs").json())  # the data is there ...
        assert "<script>window" not in html and "<img src=x" not in html  # ... never as markup
        assert "&lt;script&gt;" in html
        assert 'href="javascript:' not in html and 'onmouseover="' not in html
    run_html = pages[1]
    assert "&lt;img src=x onerror=" in run_html and JS_LINK in run_html  # shown as text
    assert client.get(f"/api/runs/{runs_catalog['bad']}").json()["external"] == {"tracker": SCRIPT}


def test_an_unknown_run_is_a_404(client: TestClient) -> None:
    for path in ("/runs/20261127T103000.123Z-3f9a1c2b7d4e", "/runs/not-a-run-id", "/runs/%3Cscript%3E"):
        page = client.get(path)
        assert page.status_code == 404 and "<script>" not in page.text
        assert client.get("/api" + path).status_code == 404


def test_a_running_run_says_when_it_last_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "home"))
    root = str(tmp_path / "catalog")
    with tether.Run("stuck", catalog=tether.Catalog(root)) as run:
        pass
    record = Path(root) / "runs" / run.id / "run.json"
    doc = json.loads(record.read_text())
    doc.update(status="running", ended_at=None, heartbeat_at="2020-01-01T00:00:00.000Z")  # a run that died
    record.write_text(json.dumps(doc))
    client = TestClient(create_app(root))
    row = client.get("/api/runs", params={"status": "running"}).json()["runs"][0]
    assert (row["id"], row["last_write"]) == (run.id, "2020-01-01T00:00:00.000Z") and row["ago"].endswith(" d")
    for html in (client.get("/runs").text, client.get(f"/runs/{run.id}").text):
        assert f"last wrote {row['ago']} ago" in html
