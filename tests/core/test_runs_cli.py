"""The run commands as a user runs them: real subprocesses, exit codes, attached versions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tether

SCRIPT = r'''
import os, signal, subprocess, sys
tether = [sys.executable, "-m", "tether.cli"]
here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([*tether, "download", "raw@prod", os.path.join(here, "got")], check=True)
subprocess.run([*tether, "log", "model", "--upload", os.path.join(here, "model.pt"), "--type", "model"], check=True)
how = sys.argv[1]
if how == "signal":
    os.kill(os.getpid(), signal.SIGTERM)
sys.exit(int(how))
'''


def tether_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    d = tmp_path / "project"
    d.mkdir()
    (d / "script.py").write_text(SCRIPT)
    (d / "model.pt").write_bytes(b"weights")
    (d / "raw.csv").write_text("a,b\n1,2\n")
    return d


@pytest.mark.parametrize("how,code,status", [("0", 0, "finished"), ("3", 3, "failed"), ("signal", 143, "failed")])
def test_tether_run_passes_the_exit_code_on_and_attaches_what_the_script_logs(project: Path, tmp_path: Path,
                                                                            how: str, code: int, status: str) -> None:
    catalog = str(tmp_path / "team-catalog")  # not the default: the child's `tether` must follow
    assert tether_cli("--catalog", catalog, "log", "raw", "--upload", str(project / "raw.csv"),
                      "--alias", "prod").returncode == 0
    r = tether_cli("--catalog", catalog, "run", "--param", "lr=0.1", "--external", "mlflow=ml-42", "--",
                   sys.executable, "script.py", how, cwd=project)
    assert r.returncode == code, r.stderr
    assert f"{status} (exit code {code})" in r.stderr.splitlines()[-1]
    (run,) = tether.Catalog(catalog).runs()
    rec = tether.Catalog(catalog).run(run.id)
    assert (rec.name, rec.status, rec.exit_code) == ("script.py", status, code)
    assert dict(rec.params) == {"lr": 0.1} and dict(rec.external) == {"mlflow": "ml-42"}
    assert [(e.version_ref, e.ref) for e in rec.inputs] == [("raw:v1", "raw@prod")]
    assert [e.version_ref for e in rec.outputs] == ["model:v1"]
    shown = tether_cli("--catalog", catalog, "show", "model:1")
    assert f"by run {run.id}" in shown.stdout.splitlines()[0]
    assert json.loads(tether_cli("--catalog", catalog, "show", "model:1", "--json").stdout)["created_by_run"] == run.id


def test_a_command_that_cannot_start_fails_the_run_with_the_shells_code(tmp_path: Path) -> None:
    r = tether_cli("run", "--", str(tmp_path / "no-such-program"))
    assert r.returncode == 127 and r.stderr.count("tether: error: cannot run") == 1
    (run,) = tether.Catalog().runs()
    assert (run.status, run.exit_code) == ("failed", 127)
    assert tether_cli("run").returncode == 2  # no command: a usage error


def test_the_recorded_command_masks_secret_looking_values(project: Path) -> None:
    r = tether_cli("run", "--name", "masked", "--", sys.executable, "-c", "pass", "--token", "tok-123",
                   "--api-key=key-456", "PASSWORD=pw-789", "https://user:pw-000@example.com/x", cwd=project)
    assert r.returncode == 0, r.stderr
    (run,) = tether.Catalog().runs()
    assert run.command[3:] == ("--token", "***", "--api-key=***", "PASSWORD=***", "https://***@example.com/x")
    shown = tether_cli("runs", "show", run.id).stdout
    for secret in ("tok-123", "key-456", "pw-789", "pw-000"):
        assert secret not in shown


def test_runs_runs_show_and_lineage_commands(project: Path) -> None:
    assert tether_cli("log", "raw", "--upload", str(project / "raw.csv"), "--alias", "prod").returncode == 0
    assert tether_cli("run", "--name", "train", "--external", "mlflow=ml-7", "--", sys.executable, "script.py",
                      "0", cwd=project).returncode == 0
    assert tether_cli("run", "--name", "broken", "--", sys.executable, "-c", "raise SystemExit(5)").returncode == 5
    listed = tether_cli("runs").stdout.splitlines()
    assert len(listed) == 2 and "broken" in listed[0] and "failed (exit code 5)" in listed[0]
    assert "train" in listed[1] and "finished" in listed[1] and "mlflow=ml-7" in listed[1]
    as_json = json.loads(tether_cli("runs", "--status", "finished", "--json").stdout)
    assert [r["name"] for r in as_json] == ["train"] and as_json[0]["external"] == {"mlflow": "ml-7"}
    assert tether_cli("runs", "--name", "nope").stdout == ""
    run_id = as_json[0]["id"]
    shown = tether_cli("runs", "show", run_id).stdout
    assert "input  raw:v1  (asked raw@prod)" in shown and "output model:v1" in shown and "mlflow" in shown
    assert json.loads(tether_cli("runs", "show", run_id, "--json").stdout)["outputs"][0]["name"] == "model"
    text = tether_cli("lineage", "raw@prod").stdout
    assert text.startswith("raw:v1\n") and f"used by run train {run_id}" in text and "mlflow=ml-7" in text
    assert "produced model:v1" in text
    mermaid = tether_cli("lineage", "model", "--format", "mermaid", "--upstream", "2").stdout
    assert mermaid.startswith("flowchart LR") and "ml-7" in mermaid
    assert tether_cli("lineage", "model", "--format", "dot").stdout.startswith("digraph lineage {")
    assert json.loads(tether_cli("lineage", "model", "--format", "json").stdout)["root"] == "model:v1"
    events = [json.loads(x) for x in tether_cli("lineage", "model", "--format", "openlineage").stdout.splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for args, needle in ((("runs", "show", "20260101T000000.000Z-000000000000"), "no run"),
                         (("runs", "show", "nonsense"), "not a run id"),
                         (("lineage", "missing"), "no artifact named 'missing'"),
                         (("runs", "--status", "done"), "Invalid value")):
        r = tether_cli(*args)
        assert r.returncode in (1, 2) and needle in r.stderr and "Traceback" not in r.stderr
