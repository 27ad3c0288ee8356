"""Bad input to Artifact and Catalog.log: a clear error when it is given, never a crash at log."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import tether
from tether import errors


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "f.txt").write_text("x")
    return d


def test_one_string_is_one_alias_and_one_tag(data: Path) -> None:
    art = tether.Artifact("ds")
    art.add_remote(str(data))
    cat = tether.Catalog()
    v = cat.log(art, aliases="prod", tags="reviewed")
    assert v.aliases == ("prod",) and v.tags == ("reviewed",)
    assert cat.aliases("ds") == {"prod": 1} and cat.tags("ds", 1) == ["reviewed"]


@pytest.mark.parametrize("type_", [None, 5, "", b"dataset"])
def test_an_artifact_type_must_be_a_string(type_) -> None:
    with pytest.raises(errors.InvalidArtifactError, match="artifact type"):
        tether.Artifact("ds", type=type_)


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


cyclic: dict = {}
cyclic["self"] = cyclic
BAD_METADATA = {
    "object": {"o": object()},
    "set": {"s": {1, 2}},
    "nan": {"loss": math.nan},
    "infinity": {"lr": [math.inf]},
    "int key": {1: "one"},
    "bytes": {"b": b"raw"},
    "lone surrogate": {"t": "\ud800"},
    "cyclic": cyclic,
    "too deep": {"d": _nested(100)},
    "not a mapping": ["a", "b"],
}


@pytest.mark.parametrize("kind", sorted(BAD_METADATA))
def test_metadata_that_is_not_json_is_refused_where_it_is_given(kind: str, data: Path) -> None:
    bad = BAD_METADATA[kind]
    with pytest.raises(errors.InvalidArtifactError, match="metadata"):
        tether.Artifact("ds", metadata=bad)
    art = tether.Artifact("ds")
    with pytest.raises(errors.InvalidArtifactError, match="metadata"):
        art.add(str(data), metadata=bad)
    with pytest.raises(errors.InvalidArtifactError, match="metadata"):
        art.add_remote(str(data), metadata=bad)
    assert art.assets == () and art.pending_files == ()


def test_good_metadata_round_trips(data: Path) -> None:
    meta = {"lr": 0.1, "layers": [1, 2, {"k": None}], "ok": True, "name": "ünï"}
    art = tether.Artifact("ds", metadata=meta)
    art.add_remote(str(data), metadata={"split": "train"})
    v = tether.Catalog().log(art)
    again = tether.Catalog().get("ds:1")
    assert dict(again.metadata) == meta == dict(v.metadata)
    assert dict(again.assets[0].metadata) == {"split": "train"}


def test_metadata_changed_after_building_is_checked_at_log(data: Path, _isolated_home: Path) -> None:
    art = tether.Artifact("ds")
    art.add_remote(str(data))
    art.metadata["when"] = object()
    art.type = None
    with pytest.raises(errors.InvalidArtifactError):
        tether.Catalog().log(art)
    assert not (_isolated_home / "artifacts" / "ds").exists()


def test_an_empty_path_or_uri_is_an_error(data: Path) -> None:
    art = tether.Artifact("ds")
    with pytest.raises(errors.InvalidURIError, match="empty local path"):
        art.add("")
    with pytest.raises(errors.InvalidURIError, match="empty URI"):
        art.add_remote("")
    assert art.assets == () and art.pending_files == ()


def test_cli_upload_of_an_empty_path_uploads_nothing(tmp_path: Path, _isolated_home: Path) -> None:
    # `tether log ds --upload "$UNSET"` run from a home folder
    home = tmp_path / "me"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY")
    r = subprocess.run([sys.executable, "-m", "tether.cli", "log", "ds", "--upload", ""], cwd=home,
                       check=False, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("tether: error: ") and "empty local path" in r.stderr
    assert r.stderr.count("\n") == 1
    assert not (_isolated_home / "objects").exists() and not (_isolated_home / "artifacts").exists()
