"""Every public entry point validates names: none reaches a file outside a local catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tether
from tether import errors

ESCAPE = "../../victim"  # from <cat>/artifacts/, this is a folder beside the catalog


def _snapshot(root: Path, skip: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        if skip in p.parents or p == skip:
            continue
        out[str(p.relative_to(root))] = p.read_bytes() if p.is_file() else None
    return out


@pytest.fixture
def setting(tmp_path: Path) -> tuple[tether.Catalog, Path]:
    """A local catalog with one real version, and beside it a folder shaped like an artifact."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "f.txt").write_text("x")
    cat = tether.Catalog(tmp_path / "cat")
    art = tether.Artifact("real")
    art.add_remote(str(data))
    cat.log(art)
    victim = tmp_path / "victim"
    (victim / "versions").mkdir(parents=True)
    (victim / "versions" / "0000000001.json").write_bytes(
        (tmp_path / "cat" / "artifacts" / "real" / "versions" / "0000000001.json").read_bytes())
    (victim / "aliases").mkdir()
    (victim / "aliases" / "prod.json").write_text(json.dumps({"version": 1}))
    (victim / "tags" / "1").mkdir(parents=True)
    (victim / "tags" / "1" / "keep").write_bytes(b"")
    return cat, tmp_path


CALLS = {
    "set_alias": lambda c: c.set_alias(ESCAPE, "prod2", 1),
    "remove_alias": lambda c: c.remove_alias(ESCAPE, "prod"),
    "add_tags": lambda c: c.add_tags(ESCAPE, 1, "planted"),
    "remove_tags": lambda c: c.remove_tags(ESCAPE, 1, "keep"),
    "aliases": lambda c: c.aliases(ESCAPE),
    "tags": lambda c: c.tags(ESCAPE, 1),
    "versions": lambda c: c.versions(ESCAPE),
    "latest_version": lambda c: c.latest_version(ESCAPE),
    "get": lambda c: c.get(ESCAPE, 1),
    "get by alias": lambda c: c.get(ESCAPE + "@prod"),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_name_that_climbs_out_is_refused_and_nothing_outside_changes(setting, call: str) -> None:
    cat, root = setting
    before = _snapshot(root, root / "cat")
    with pytest.raises(errors.InvalidNameError, match="invalid artifact name"):
        CALLS[call](cat)
    assert _snapshot(root, root / "cat") == before


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("argv", [["alias", "set", ESCAPE, "prod2", "1"], ["alias", "rm", ESCAPE, "prod"],
                                  ["tag", "add", ESCAPE + ":1", "planted"], ["tag", "rm", ESCAPE + ":1", "keep"]],
                         ids=lambda a: " ".join(a[:2]))
def test_cli_alias_and_tag_commands_refuse_a_climbing_name(setting, argv: list[str]) -> None:
    _, root = setting
    before = _snapshot(root, root / "cat")
    r = _cli("--catalog", str(root / "cat"), *argv)
    assert r.returncode == 1 and r.stderr.startswith("tether: error: invalid artifact name"), r.stderr
    assert r.stderr.count("\n") == 1
    assert _snapshot(root, root / "cat") == before


def test_an_artifact_renamed_after_building_is_checked_again_at_log(setting) -> None:
    cat, root = setting
    art = tether.Artifact("ok")
    art.add_remote(str(root / "data"))
    art.name = ESCAPE
    with pytest.raises(errors.InvalidNameError):
        cat.log(art)
    assert not (root / "victim" / "versions" / "0000000002.json").exists()
