"""Deleting versions (issue 16): gone from versions/get/latest, numbers never reused,
tombstones saying who/when/why, aliases refusing, `tether rm` and its --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from tether.errors import (
    UnknownArtifactError,
    UnknownVersionError,
    VersionDeletedError,
    VersionInUseError,
)


def tether_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True, text=True, timeout=120)


def log_text(cat: tether.Catalog, tmp_path: Path, name: str, text: str, **kw: object) -> tether.ArtifactVersion:
    f = tmp_path / f"{name}-{abs(hash(text))}.txt"
    f.write_text(text)
    art = tether.Artifact(name)
    art.add(str(f))
    return cat.log(art, **kw)  # type: ignore[arg-type]


@pytest.fixture
def cat() -> tether.Catalog:
    return tether.Catalog()


def test_deleted_version_disappears_and_its_number_is_never_reused(cat: tether.Catalog, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_USER", "alice")
    for i in range(3):
        log_text(cat, tmp_path, "ds", f"v{i}")
    [t] = cat.delete("ds", 3, reason="uploaded by mistake")
    assert t.ref == "ds:v3" and t.deleted_by == "alice" and t.reason == "uploaded by mistake"
    assert [v.version for v in cat.versions("ds")] == [1, 2]
    assert cat.latest_version("ds") == 2 and cat.get("ds").version == 2 and cat.get("ds:latest").version == 2
    with pytest.raises(VersionDeletedError) as err:
        cat.get("ds:3")
    assert "ds:v3 was deleted" in str(err.value) and "alice" in str(err.value) and "by mistake" in str(err.value)
    assert isinstance(err.value, UnknownVersionError) and err.value.tombstone.version == 3
    assert cat.is_deleted("ds", 3) and not cat.is_deleted("ds", 2)
    info = cat.tombstone("ds", "v3")
    assert info is not None and info.digest and info.asset_count == 1 and info.total_size == 2
    # The next log takes 4: the deleted number stays claimed.
    assert log_text(cat, tmp_path, "ds", "fresh").version == 4
    # Identical content to a deleted version is a new version, not the deleted one back.
    assert log_text(cat, tmp_path, "ds", "v2").version == 5
    assert [v.version for v in cat.versions("ds")] == [1, 2, 4, 5]


def test_alias_on_the_version_refuses_deletion_naming_it(cat: tether.Catalog, tmp_path: Path) -> None:
    log_text(cat, tmp_path, "ds", "a", aliases=["prod"])
    log_text(cat, tmp_path, "ds", "b", aliases=["staging"])
    cat.protect_alias("ds", "prod")
    with pytest.raises(VersionInUseError, match=r"ds@prod -> v1 \(protected\)"):
        cat.delete("ds", 1)
    with pytest.raises(VersionInUseError) as err:
        cat.delete("ds")
    assert "ds@prod -> v1 (protected)" in str(err.value) and "ds@staging -> v2" in str(err.value)
    assert [v.version for v in cat.versions("ds")] == [1, 2]  # nothing deleted
    cat.remove_alias("ds", "staging")
    cat.delete("ds", 2)
    with pytest.raises(VersionDeletedError):
        cat.set_alias("ds", "staging", 2)  # an alias cannot be pointed at a deleted version
    with pytest.raises(VersionDeletedError):
        cat.add_tags("ds", 2, "late")


def test_delete_all_then_get_says_deleted(cat: tether.Catalog, tmp_path: Path) -> None:
    for i in range(3):
        log_text(cat, tmp_path, "ds", str(i))
    gone = cat.delete("ds", reason="cleanup")
    assert [t.version for t in gone] == [1, 2, 3]
    assert cat.versions("ds") == [] and cat.latest_version("ds") is None
    with pytest.raises(VersionDeletedError, match="every version of artifact 'ds' was deleted"):
        cat.get("ds")
    with pytest.raises(VersionDeletedError, match="ds:v2 was deleted"):
        cat.get("ds", version=2)
    with pytest.raises(VersionDeletedError, match="already deleted"):
        cat.delete("ds")
    with pytest.raises(UnknownArtifactError):
        cat.delete("never-logged")
    with pytest.raises(UnknownVersionError):
        cat.delete("ds", 9)
    assert [t.version for t in cat.deleted_versions("ds")] == [1, 2, 3]
    assert log_text(cat, tmp_path, "ds", "again").version == 4


def test_rm_cli(tmp_path: Path) -> None:
    cat = tether.Catalog()
    for i in range(4):
        log_text(cat, tmp_path, "ds", str(i))
    cat.set_alias("ds", "prod", 4)
    r = tether_cli("rm", "ds:1", "ds:v2", "--reason", "old", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [(d["version"], d["reason"]) for d in doc] == [(1, "old"), (2, "old")]
    r = tether_cli("rm", "ds", "--all")
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert r.stderr.startswith("tether: error: cannot delete") and "ds@prod -> v4" in r.stderr
    r = tether_cli("rm", "ds")
    assert r.returncode == 2 and "NAME --all" in r.stderr
    r = tether_cli("show", "ds:1")
    assert r.returncode == 1 and "ds:v1 was deleted" in r.stderr and "Traceback" not in r.stderr
    r = tether_cli("list", "ds", "--json")
    assert [v["version"] for v in json.loads(r.stdout)] == [3, 4]
    assert tether_cli("alias", "rm", "ds", "prod").returncode == 0
    r = tether_cli("rm", "ds", "--all")
    assert r.returncode == 0 and r.stdout.split("\n")[:2] == ["deleted ds:v3", "deleted ds:v4"]


def test_alias_set_while_deleting_never_leaves_an_alias_on_a_deleted_version(cat: tether.Catalog,
                                                                              tmp_path: Path) -> None:
    """Both sides check after writing: an alias that lands on a version being
    deleted is either refused or makes the deletion roll back."""
    from tether.racing import race

    for round_ in range(3):
        v = log_text(cat, tmp_path, f"race{round_}", "x")
        log_text(cat, tmp_path, f"race{round_}", "y")
        results = race(_delete_or_alias, [(cat.root, v.name, "delete"), (cat.root, v.name, "alias")],
                       processes=True)
        aliases = cat.aliases(v.name)
        deleted = cat.is_deleted(v.name, 1)
        assert not (deleted and aliases.get("pinned") == 1), results
        # Each side's answer is the truth: what said "ok" happened, what was
        # refused did not. Both may be refused when they overlap (each saw the
        # other and stood back, as two git pushes to one ref can both fail).
        delete_said, alias_said = results
        assert deleted == (delete_said == "ok"), results
        assert (aliases.get("pinned") == 1) == (alias_said == "ok"), results


def _delete_or_alias(root: str, name: str, what: str) -> str:
    cat = tether.Catalog(root)
    try:
        if what == "delete":
            cat.delete(name, 1)
        else:
            cat.set_alias(name, "pinned", 1)
    except (VersionInUseError, VersionDeletedError):
        return "refused"
    return "ok"
