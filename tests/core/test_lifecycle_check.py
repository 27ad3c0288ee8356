"""``tether check`` / ``version.check()`` on local files (issue 16): per asset ok / gone /
changed from metadata, exit 1 on any problem; local references raise no log-time warning."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import tether


def tether_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True, text=True, timeout=120)


def test_check_reports_ok_gone_changed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a", "b", "c"):
        (data / name).write_text(f"{name} bytes")
    art = tether.Artifact("ds")
    art.add_remote(str(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tether.LinkOnlyWarning)
        art.add_remote("nodriver-scheme://host/readme")  # link only: nothing to check
        v = tether.Catalog().log(art)
    assert v.check().ok
    (data / "b").unlink()
    (data / "c").write_text("c bytes, edited")
    result = v.check(workers=2)
    assert not result.ok
    by = {o.logical_path: o for o in result.outcomes}
    assert by["a"].status == "ok" and by["b"].status == "gone" and by["c"].status == "changed"
    assert "size" in (by["c"].detail or "") and by["readme"].status == "skipped"
    assert result.counts() == {"ok": 1, "gone": 1, "changed": 1, "skipped": 1}
    r = tether_cli("check", "ds")
    assert r.returncode == 1 and "gone" in r.stdout and "changed" in r.stdout
    doc = json.loads(tether_cli("check", "ds:1", "--json").stdout)
    assert doc["ok"] is False and {o["status"] for o in doc["outcomes"]} == {"ok", "gone", "changed", "skipped"}
    (data / "c").write_text("c BYTES")  # same size, other bytes: the checksum says so
    (data / "b").write_text("b bytes")
    assert [o.status for o in v.check().outcomes if o.logical_path == "c"] == ["changed"]


def test_check_of_uploads_and_no_warning_for_local_references(tmp_path: Path) -> None:
    f = tmp_path / "model.bin"
    f.write_bytes(b"weights")
    art = tether.Artifact("model")
    art.add(str(f))
    art.add_remote(str(f), "ref/model.bin")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither the upload nor the local reference warns of a risk ...
        warnings.simplefilter("ignore", tether.InPlaceWarning)  # ... beyond saying it is tracked in place
        v = tether.Catalog().log(art, aliases=["prod"])
    r = tether_cli("check", "model@prod")
    assert r.returncode == 0 and r.stdout.strip().endswith("model:v1: 2 ok")
    assert tether_cli("check", "model@prod", "--strict").returncode == 0
    doc = tether.Catalog().check("model@prod").to_dict()
    assert doc["risks"][0]["status"] == "unchecked"  # a local disk is never called safe
    assert v.check(risks=False).risks == ()
