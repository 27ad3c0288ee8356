"""Runs on the local catalog: what a run records, what it attaches, how it ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tether
from tether import errors
from tether.catalog.runs import RunStore

from ..runs_helpers import CountingDriver, check_racing_runs, check_run_scenario, fake_runs


@pytest.fixture
def cat(tmp_path: Path) -> tether.Catalog:
    return tether.Catalog(tmp_path / "catalog")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    d = tmp_path / "files"
    d.mkdir()
    for name in ("raw.csv", "clean.csv", "model.pt", "config.yaml"):
        (d / name).write_text(f"contents of {name}")
    return d


def _art(name: str, path: Path, type_: str = "dataset") -> tether.Artifact:
    art = tether.Artifact(name, type=type_)
    art.add(path)
    return art


def test_a_run_records_inputs_as_asked_outputs_and_the_producer(cat: tether.Catalog, files: Path) -> None:
    raw = cat.log(_art("raw", files / "raw.csv"), aliases=["prod"])
    assert raw.created_by_run is None and raw.run_id is None  # logged outside any run
    with tether.Run("train", params={"lr": 0.1, "layers": [1, 2]}, catalog=cat,
                    external={"mlflow": "abc123"}) as run:
        data = run.use("raw@prod")
        same = run.use("raw:1")  # the same version under a second reference: both kept
        model = run.log(_art("model", files / "model.pt", "model"), aliases=["candidate"])
        run.summary["accuracy"] = 0.93
        assert run.status == "running"
    assert data.version == same.version == 1 and run.status == "finished"
    assert model.run_id == run.id == model.created_by_run

    rec = cat.run(run.id)
    assert (rec.name, rec.status, rec.error) == ("train", "finished", None)
    assert dict(rec.params) == {"lr": 0.1, "layers": [1, 2]} and dict(rec.summary) == {"accuracy": 0.93}
    assert dict(rec.external) == {"mlflow": "abc123"}
    assert rec.started_at <= rec.ended_at and rec.host and rec.pid == os.getpid()
    assert sorted((e.ref, e.alias, e.version_ref) for e in rec.inputs) == [
        ("raw:1", None, "raw:v1"), ("raw@prod", "prod", "raw:v1")]
    assert [(e.version_ref, e.created) for e in rec.outputs] == [("model:v1", True)]
    # The version names its run in the manifest and in its claim; a reload sees it.
    assert cat.get("model:1").created_by_run == run.id
    root = Path(cat._driver.path_of(cat.root))
    manifest = json.loads(next((root / "artifacts/model/manifests").iterdir()).read_text())
    assert manifest["created_by_run"] == run.id
    assert json.loads((root / "artifacts/model/versions/0000000001.json").read_text())["created_by_run"] == run.id
    raw_manifest = json.loads(next((root / "artifacts/raw/manifests").iterdir()).read_text())
    assert "created_by_run" not in raw_manifest  # versions outside runs: the former manifest, byte for byte
    lin = cat.lineage("raw@prod")
    assert [r.id for r in lin.consumers_of("raw:v1")] == [run.id]
    assert [r.id for r in lin.producers_of("raw:v1")] == []
    assert [r.id for r in cat.lineage("model:1").producers_of("model:v1")] == [run.id]


def test_unchanged_content_in_a_run_is_a_second_producer_not_a_new_version(cat: tether.Catalog,
                                                                            files: Path) -> None:
    with tether.Run("first", catalog=cat) as first:
        v1 = first.log(_art("model", files / "model.pt"))
    with tether.Run("second", catalog=cat) as second:
        again = second.log(_art("model", files / "model.pt"))
    assert again.version == v1.version == 1 and [i.version for i in cat.versions("model")] == [1]
    assert again.run_id == second.id and again.created_by_run == first.id
    assert [(e.version_ref, e.created) for e in cat.run(second.id).outputs] == [("model:v1", False)]
    lin = cat.lineage("model:1")
    assert {r.id for r in lin.producers_of("model:v1")} == {first.id, second.id}


def test_an_exception_in_the_block_marks_the_run_failed_and_goes_on(cat: tether.Catalog) -> None:
    with pytest.raises(ZeroDivisionError), tether.Run("boom", catalog=cat) as run:
        run.summary["step"] = 3
        run.summary["rate"] = run.summary["step"] / 0
    rec = cat.run(run.id)
    assert (rec.status, rec.error, dict(rec.summary)) == ("failed", "ZeroDivisionError", {"step": 3})
    assert run.status == "failed" and rec.ended_at


def test_versions_are_attached_only_while_the_run_runs(cat: tether.Catalog, files: Path) -> None:
    with tether.Run("scoped", catalog=cat) as run:
        assert os.environ["TETHER_RUN_ID"] == run.id  # children of the block inherit it
        cat.log(_art("inside", files / "raw.csv"))  # a plain Catalog call in the block attaches too
    assert "TETHER_RUN_ID" not in os.environ
    outside = cat.log(_art("outside", files / "clean.csv"))
    cat.get("inside")
    assert outside.created_by_run is None
    rec = cat.run(run.id)
    assert [e.version_ref for e in rec.outputs] == ["inside:v1"] and rec.inputs == ()
    other = tether.Catalog(files.parent / "elsewhere")  # another catalog during the run: not attached
    with tether.Run("scoped2", catalog=cat):
        assert other.log(_art("x", files / "raw.csv")).created_by_run is None


@pytest.mark.parametrize("bad,needle", [
    ({"f": object()}, "not JSON"),
    ({"loss": float("nan")}, "not JSON"),
    ({1: "x"}, "not a string"),
    ({"big": "x" * 70_000}, "more than the 65536 allowed"),
])
def test_params_metadata_and_summary_are_json_and_bounded(cat: tether.Catalog, bad, needle) -> None:
    with pytest.raises(errors.RunDataError, match=needle):
        tether.Run("r", params=bad, catalog=cat)
    with tether.Run("r", catalog=cat) as run:
        key, value = next(iter(bad.items()))
        with pytest.raises(errors.RunDataError, match=needle):
            run.summary[key] = value
        with pytest.raises(errors.RunDataError, match=needle):
            run.metadata.update(bad)
        assert dict(run.summary) == {} and dict(run.metadata) == {}
    assert cat.run(run.id).status == "finished"


def test_nothing_is_recorded_from_the_environment(cat: tether.Catalog, files: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-from-the-environment")
    monkeypatch.setenv("TETHER_TEST_TOKEN", "t0ken-from-the-environment")
    with tether.Run("quiet", params={"lr": 1}, catalog=cat) as run:
        run.log(_art("m", files / "model.pt"))
    root = Path(cat._driver.path_of(cat.root))
    everything = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
    assert b"s3cr3t" not in everything and b"t0ken" not in everything
    assert run.id.encode() in everything


def test_runs_lists_newest_first_by_name_and_status_without_reading_manifests(cat: tether.Catalog,
                                                                              files: Path) -> None:
    ids = []
    for i in range(4):
        with tether.Run("even" if i % 2 == 0 else "odd", catalog=cat) as run:
            run.log(_art("m", files / "model.pt"))
        ids.append(run.id)
    with pytest.raises(RuntimeError), tether.Run("odd", catalog=cat) as failed:
        raise RuntimeError
    counting = CountingDriver.install(cat)
    assert [r.id for r in cat.runs()] == [failed.id, *ids[::-1]]
    assert not [u for u in counting.uris if "/manifests/" in u or "/artifacts/" in u]
    assert all(r.inputs is None for r in cat.runs())  # records only
    assert [r.id for r in cat.runs(name="odd")] == [failed.id, ids[3], ids[1]]
    assert [r.id for r in cat.runs(status="failed")] == [failed.id]
    assert [r.id for r in cat.runs(name="even", limit=1)] == [ids[2]]
    counting.reset()
    assert len(cat.runs(limit=2)) == 2
    assert counting.calls["read_bytes"] == 2  # the newest two records, nothing else
    with pytest.raises(errors.RunDataError, match="unknown run status"):
        cat.runs(status="done")
    with pytest.raises(errors.UnknownRunError):
        cat.run("20260101T000000.000Z-000000000000")
    with pytest.raises(errors.UnknownRunError, match="not a run id"):
        cat.run("../../etc")


def test_lineage_walks_levels_and_its_cost_does_not_grow_with_the_number_of_runs(cat: tether.Catalog,
                                                                                  files: Path) -> None:
    with tether.Run("prepare", catalog=cat) as prep:
        prep.use(cat.log(_art("raw", files / "raw.csv")).ref)
        prep.log(_art("clean", files / "clean.csv"), aliases=["prod"])
    with tether.Run("train", catalog=cat) as train:
        train.use("clean@prod")
        train.log(_art("model", files / "model.pt", "model"))
    with tether.Run("evaluate", catalog=cat) as ev:
        ev.use("model")
    lin = cat.lineage("model:1", upstream=2, downstream=1)
    assert set(lin.versions) == {"model:v1", "clean:v1", "raw:v1"}
    assert {r.name for r in lin.runs.values()} == {"prepare", "train", "evaluate"}
    shallow = cat.lineage("model:1", upstream=1, downstream=0)
    assert {r.name for r in shallow.runs.values()} == {"train"} and "raw:v1" not in shallow.versions
    text = cat.lineage("model:1", upstream=2).to_text()
    assert "produced by run train" in text and "used clean:v1 (asked clean@prod)" in text
    assert "produced by run prepare" in text and "used by run evaluate" in text
    mermaid = lin.to_mermaid()
    assert mermaid.startswith("flowchart LR") and '-- "@prod" -->' in mermaid
    dot = lin.to_dot()
    assert dot.startswith("digraph lineage {") and '"clean:v1" -> "run:' + train.id + '" [label="@prod"];' in dot

    counting = CountingDriver.install(cat)
    cat.lineage("model:1", upstream=2, downstream=1)
    few = dict(counting.calls)
    fake_runs(cat, 300)  # 300 unrelated runs: the same requests, not one more
    counting.reset()
    again = cat.lineage("model:1", upstream=2, downstream=1)
    assert dict(counting.calls) == few and set(again.runs) == set(lin.runs)
    assert len(RunStore(cat).ids()) == 303


def test_set_artifacts_uri_puts_the_runs_uploads_under_its_id(cat: tether.Catalog, files: Path,
                                                               tmp_path: Path) -> None:
    target = tmp_path / "run-files"
    with tether.Run("up", catalog=cat) as run:
        run.set_artifacts_uri(target.as_uri() + "/")
        v = run.log_artifact(files / "config.yaml", name="run-config")
        w = run.log_artifact(files / "model.pt")
    assert (v.name, w.name, v.type) == ("run-config", "model.pt", "file")
    for a in (*v.assets, *w.assets):
        assert a.uri.startswith(f"{target.as_uri()}/{run.id}/"), a.uri
    assert cat.run(run.id).artifacts_uri == target.as_uri() + "/"
    with pytest.raises(errors.NoDriverError):
        run.set_artifacts_uri("nosuchscheme://x")


def test_a_run_resumed_elsewhere_attaches_and_ends(cat: tether.Catalog, files: Path) -> None:
    run = tether.Run("long", catalog=cat, external={"mlflow": "m-1"}).start()
    code = ("import sys, tether\n"
            "cat = tether.Catalog(sys.argv[1])\n"
            "with tether.Run.resume(sys.argv[2], catalog=cat) as r:\n"
            "    a = tether.Artifact('late'); a.add(sys.argv[3]); v = r.log(a)\n"
            "    assert v.run_id == r.id == sys.argv[2] and r.external == {'mlflow': 'm-1'}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_RUN")}
    subprocess.run([sys.executable, "-c", code, cat.root, run.id, str(files / "raw.csv")], check=True, env=env,
                   timeout=120)
    assert cat.run(run.id).status == "finished"  # the resumed block ended it
    run.end("failed", error="Stopped")
    rec = cat.run(run.id)
    assert (rec.status, rec.error, [e.version_ref for e in rec.outputs]) == ("failed", "Stopped", ["late:v1"])
    with pytest.raises(errors.UnknownRunError):
        tether.Run.resume("20260101T000000.000Z-000000000000", catalog=cat)


def test_tether_run_id_in_the_environment_attaches_catalog_log_and_get(cat: tether.Catalog,
                                                                       files: Path) -> None:
    cat.log(_art("input", files / "raw.csv"), aliases=["prod"])
    run = tether.Run("outer", catalog=cat).start()
    code = ("import sys, tether\n"
            "cat = tether.Catalog(sys.argv[1])\n"
            "cat.get('input@prod')\n"
            "a = tether.Artifact('made'); a.add(sys.argv[2]); v = cat.log(a)\n"
            "print(v.run_id)\n")
    out = subprocess.run([sys.executable, "-c", code, cat.root, str(files / "model.pt")], check=True,
                         capture_output=True, text=True, timeout=120).stdout  # inherits TETHER_RUN_ID
    run.end()
    assert out.strip() == run.id
    rec = cat.run(run.id)
    assert [(e.version_ref, e.ref) for e in rec.inputs] == [("input:v1", "input@prod")]
    assert [e.version_ref for e in rec.outputs] == ["made:v1"]
    # A run id this catalog does not hold: a warning, and the versions are logged unattached.
    env = {**os.environ, "TETHER_RUN_ID": "20260101T000000.000Z-000000000000"}
    env.pop("TETHER_RUN_CATALOG", None)
    r = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code, cat.root, str(files / "clean.csv")],
                       capture_output=True, text=True, timeout=120, env=env, check=False)
    assert r.returncode != 0 and "is not a run of this catalog" in r.stderr
    r = subprocess.run([sys.executable, "-c", code, cat.root, str(files / "clean.csv")],
                       capture_output=True, text=True, timeout=120, env=env, check=False)
    assert r.returncode == 0 and r.stdout.strip() == "None" and r.stderr.count("RunNotAttachedWarning") == 1


def test_the_heartbeat_rewrites_the_record_and_a_dead_run_stays_running(cat: tether.Catalog,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_RUN_HEARTBEAT", "0.05")
    with tether.Run("beating", catalog=cat) as run:
        first = cat.run(run.id).heartbeat_at
        run.summary["epoch"] = 1
        deadline = time.monotonic() + 60
        while cat.run(run.id).heartbeat_at == first and time.monotonic() < deadline:
            time.sleep(0.05)
        rec = cat.run(run.id)
        assert rec.heartbeat_at != first and rec.status == "running" and dict(rec.summary) == {"epoch": 1}
    assert cat.run(run.id).status == "finished"
    # A process that dies mid-run: its run stays running; readers say how long ago it wrote.
    code = ("import os, sys, tether\n"
            "r = tether.Run('doomed', catalog=sys.argv[1]).start(); print(r.id, flush=True); os._exit(9)\n")
    out = subprocess.run([sys.executable, "-c", code, cat.root], capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 9
    dead = cat.run(out.stdout.strip())
    assert dead.status == "running" and dead.ended_at is None
    assert dead.seconds_since_write() is not None and dead.seconds_since_write() >= 0


def test_code_records_the_git_commit_and_dirty_flag_only_in_a_repository(cat: tether.Catalog, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "add", "train.py"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=repo, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()
    monkeypatch.chdir(repo)
    with tether.Run("clean", catalog=cat) as clean:
        pass
    (repo / "train.py").write_text("print(2)\n")
    with tether.Run("dirty", catalog=cat) as dirty:
        pass
    assert dict(cat.run(clean.id).code) == {"git_commit": head, "git_dirty": False}
    assert dict(cat.run(dirty.id).code) == {"git_commit": head, "git_dirty": True}
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with tether.Run("nowhere", catalog=cat) as nowhere:
        pass
    assert cat.run(nowhere.id).code is None


def test_run_names_and_states_are_checked(cat: tether.Catalog) -> None:
    with pytest.raises(errors.InvalidNameError):
        tether.Run("../escape", catalog=cat)
    run = tether.Run("later", catalog=cat)
    with pytest.raises(errors.RunDataError, match="has not started"):
        run.use("anything")
    run.start()
    with pytest.raises(errors.RunDataError, match="started already"):
        run.start()
    with pytest.raises(errors.RunDataError, match="finished or failed"):
        run.end("done")
    run.end()


@pytest.mark.parametrize("where", ["local", "memory"])
def test_the_same_scenario_on_any_driver(where: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The example plugin has only fsspec's defaults and the base class's conditional overwrite."""
    root = (tmp_path / "catalog").as_uri() if where == "local" else request.getfixturevalue("memory_uri") + "/cat"
    work = tmp_path / "work"
    work.mkdir()
    check_run_scenario(root, work)


def test_racing_processes_each_using_and_logging_on_a_local_catalog(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    check_racing_runs((tmp_path / "catalog").as_uri(), work, 8, env={"TETHER_RUN_HEARTBEAT": "0.1"})
