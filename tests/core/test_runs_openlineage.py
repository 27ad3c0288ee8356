"""OpenLineage: events that validate against the spec, sent to a receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import sys
import threading
import uuid
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
import tether
import tether.openlineage as ol

# The RunEvent schema of the OpenLineage spec 2-0-2 (OpenLineage.json, whose $id is
# https://openlineage.io/spec/2-0-2/OpenLineage.json) and of the version facet
# (facets/1-0-1/DatasetVersionDatasetFacet.json), written out here from the spec:
# the openlineage-python package carries the generated model, not the JSON files,
# and the tests cannot download them. The required fields, types and enums are
# the spec's; the formats jsonschema cannot check without more packages (uri,
# date-time) are checked by hand in _validate.
_FACET = {"type": "object", "properties": {"_producer": {"type": "string"}, "_schemaURL": {"type": "string"}},
          "required": ["_producer", "_schemaURL"], "additionalProperties": True}
SPEC = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "BaseFacet": _FACET,
        "RunFacet": {"allOf": [{"$ref": "#/$defs/BaseFacet"}]},
        "JobFacet": {"allOf": [{"$ref": "#/$defs/BaseFacet"}]},
        "DatasetFacet": {"allOf": [{"$ref": "#/$defs/BaseFacet"},
                                   {"type": "object", "properties": {"_deleted": {"type": "boolean"}}}]},
        "InputDatasetFacet": {"allOf": [{"$ref": "#/$defs/BaseFacet"}]},
        "OutputDatasetFacet": {"allOf": [{"$ref": "#/$defs/BaseFacet"}]},
        "DatasetVersionDatasetFacet": {"allOf": [
            {"$ref": "#/$defs/DatasetFacet"},
            {"type": "object", "properties": {"datasetVersion": {"type": "string"}},
             "required": ["datasetVersion"]}]},
        "BaseEvent": {"type": "object", "properties": {
            "eventTime": {"type": "string", "format": "date-time"},
            "producer": {"type": "string", "format": "uri"},
            "schemaURL": {"type": "string", "format": "uri"}},
            "required": ["eventTime", "producer", "schemaURL"]},
        "Run": {"type": "object", "properties": {
            "runId": {"type": "string", "format": "uuid"},
            "facets": {"type": "object", "additionalProperties": {"$ref": "#/$defs/RunFacet"}}},
            "required": ["runId"]},
        "Job": {"type": "object", "properties": {
            "namespace": {"type": "string"}, "name": {"type": "string"},
            "facets": {"type": "object", "additionalProperties": {"$ref": "#/$defs/JobFacet"}}},
            "required": ["namespace", "name"]},
        "Dataset": {"type": "object", "properties": {
            "namespace": {"type": "string"}, "name": {"type": "string"},
            "facets": {"type": "object", "properties": {"version": {"$ref": "#/$defs/DatasetVersionDatasetFacet"}},
                       "additionalProperties": {"$ref": "#/$defs/DatasetFacet"}}},
            "required": ["namespace", "name"]},
        "InputDataset": {"allOf": [{"$ref": "#/$defs/Dataset"}, {"type": "object", "properties": {
            "inputFacets": {"type": "object", "additionalProperties": {"$ref": "#/$defs/InputDatasetFacet"}}}}]},
        "OutputDataset": {"allOf": [{"$ref": "#/$defs/Dataset"}, {"type": "object", "properties": {
            "outputFacets": {"type": "object", "additionalProperties": {"$ref": "#/$defs/OutputDatasetFacet"}}}}]},
        "RunEvent": {"allOf": [{"$ref": "#/$defs/BaseEvent"}, {"type": "object", "properties": {
            "eventType": {"type": "string", "enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
            "run": {"$ref": "#/$defs/Run"}, "job": {"$ref": "#/$defs/Job"},
            "inputs": {"type": "array", "items": {"$ref": "#/$defs/InputDataset"}},
            "outputs": {"type": "array", "items": {"$ref": "#/$defs/OutputDataset"}}},
            "required": ["run", "job"]}]},
    },
    "$ref": "#/$defs/RunEvent",
}


def _validate(event: dict) -> None:
    jsonschema.Draft202012Validator(SPEC, format_checker=jsonschema.FormatChecker()).validate(event)
    _dt.datetime.fromisoformat(event["eventTime"])  # date-time
    assert uuid.UUID(event["run"]["runId"]).version == 7
    for uri in [event["producer"], event["schemaURL"]] + [
            f["_schemaURL"] for f in _facets(event)] + [f["_producer"] for f in _facets(event)]:
        assert urlparse(uri).scheme in ("http", "https") and urlparse(uri).netloc, uri


def _facets(event: dict) -> list[dict]:
    out = list(event["run"].get("facets", {}).values()) + list(event["job"].get("facets", {}).values())
    for d in event.get("inputs", []) + event.get("outputs", []):
        out += list(d.get("facets", {}).values()) + list(d.get("inputFacets", {}).values())
        out += list(d.get("outputFacets", {}).values())
    return out


class Receiver:
    """An OpenLineage HTTP endpoint on 127.0.0.1 that keeps what it is sent."""

    def __init__(self, status: int = 200) -> None:
        received: list[tuple[str, dict[str, str], dict]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    ol._warned.clear()
    yield
    ol._warned.clear()


@pytest.fixture
def cat(tmp_path: Path) -> tether.Catalog:
    return tether.Catalog(tmp_path / "catalog")


def _art(name: str, path: Path) -> tether.Artifact:
    art = tether.Artifact(name)
    art.add(path)
    return art


def test_events_validate_against_the_spec_and_name_datasets_by_catalog_and_version(
        cat: tether.Catalog, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("1")
    cat.log(_art("data", tmp_path / "f"), aliases=["prod"])
    with tether.Run("train", params={"lr": 0.1}, catalog=cat, external={"mlflow": "ml-1"}) as run:
        run.use("data@prod")
        run.log(_art("model", tmp_path / "f"))
    with pytest.raises(KeyError), tether.Run("evaluate", catalog=cat) as failed:
        run2_input = failed.use("model")
        raise KeyError(run2_input.ref)
    lines = ol.lineage_events(cat.lineage("model:1"))
    events = [json.loads(x) for x in lines]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "START", "FAIL"]
    for e in events:
        _validate(e)
        assert e["job"]["namespace"] == cat.root
    start, complete, _, fail = events
    assert start["run"]["runId"] == complete["run"]["runId"] == ol.openlineage_run_id(run.id)
    assert start["job"]["name"] == "train" and start["inputs"] == [] and start["outputs"] == []
    (inp,) = complete["inputs"]
    assert (inp["namespace"], inp["name"], inp["facets"]["version"]["datasetVersion"]) == (cat.root, "data:v1", "1")
    assert inp["inputFacets"]["tetherReference"]["ref"] == "data@prod"
    (out,) = complete["outputs"]
    assert (out["name"], out["facets"]["version"]["datasetVersion"]) == ("model:v1", "1")
    facet = complete["run"]["facets"]["tether"]
    assert facet["runId"] == run.id and facet["params"] == {"lr": 0.1} and facet["external"] == {"mlflow": "ml-1"}
    assert fail["run"]["facets"]["errorMessage"]["message"] == "KeyError"
    with pytest.raises(jsonschema.ValidationError):  # the check can fail
        _validate({k: v for k, v in complete.items() if k != "job"})


def test_runs_send_their_events_as_they_start_and_end(cat: tether.Catalog, tmp_path: Path, receiver: Receiver,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_OPENLINEAGE_URL", receiver.url)
    monkeypatch.setenv("TETHER_OPENLINEAGE_API_KEY", "ol-key")
    (tmp_path / "f").write_text("1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tether.Run("train", catalog=cat) as run:
            assert [b["eventType"] for _, _, b in receiver.received] == ["START"]  # sent as it started
            run.log(_art("model", tmp_path / "f"))
    assert [b["eventType"] for _, _, b in receiver.received] == ["START", "COMPLETE"]
    for path, headers, body in receiver.received:
        assert path == "/api/v1/lineage" and headers["Authorization"] == "Bearer ol-key"
        _validate(body)
        assert body["run"]["runId"] == ol.openlineage_run_id(run.id)
    assert [o["name"] for o in receiver.received[1][2]["outputs"]] == ["model:v1"]


def test_tether_run_sends_fail_with_the_exit_code(tmp_path: Path, receiver: Receiver) -> None:
    env = {**__import__("os").environ, "TETHER_OPENLINEAGE_URL": receiver.url + "/",
           "TETHER_OPENLINEAGE_ENDPOINT": "custom/path"}
    r = subprocess.run([sys.executable, "-m", "tether.cli", "run", "--name", "job", "--", sys.executable, "-c",
                        "raise SystemExit(4)"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert r.returncode == 4
    assert [(p, b["eventType"]) for p, _, b in receiver.received] == [("/custom/path", "START"),
                                                                      ("/custom/path", "FAIL")]
    fail = receiver.received[1][2]
    _validate(fail)
    assert fail["run"]["facets"]["errorMessage"]["message"] == "exit code 4"


@pytest.mark.parametrize("endpoint", ["refusing", "closed", "no-extra"])
def test_a_failing_endpoint_never_fails_the_run_and_warns_once(cat: tether.Catalog, tmp_path: Path, endpoint: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    server = Receiver(status=500) if endpoint == "refusing" else None
    if endpoint == "closed":
        dead = Receiver()
        url = dead.url
        dead.close()  # nothing listens there any more
    elif endpoint == "no-extra":
        url = "http://127.0.0.1:9"
        monkeypatch.setitem(sys.modules, "openlineage.client.generated", None)  # as if not installed
    else:
        url = server.url
    monkeypatch.setenv("TETHER_OPENLINEAGE_URL", url)
    monkeypatch.setenv("TETHER_OPENLINEAGE_TIMEOUT", "2")
    (tmp_path / "f").write_text("1")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(2):
                with tether.Run(f"r{i}", catalog=cat) as run:
                    run.log(_art("m", tmp_path / "f"))
    finally:
        if server:
            server.close()
    sent = [w for w in caught if issubclass(w.category, ol.OpenLineageWarning)]
    assert len(sent) == 1, [str(w.message) for w in caught]
    assert "the run goes on" in str(sent[0].message)
    if endpoint == "no-extra":
        assert "pip install 'tether[openlineage]'" in str(sent[0].message)
    assert [r.status for r in cat.runs()] == ["finished", "finished"]
    if server:
        assert len(server.received) == 4  # every event was still tried
