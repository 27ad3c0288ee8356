"""Protected aliases and immutable tags (issue 16): moves need force, tags never silently move or return."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from tether.errors import (
    HoldNotSupportedError,
    ImmutableTagError,
    InvalidNameError,
    ProtectedAliasError,
    UnknownAliasError,
)


def tether_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True, text=True, timeout=120)


def log_versions(tmp_path: Path, n: int, name: str = "ds") -> tether.Catalog:
    cat = tether.Catalog()
    for i in range(n):
        f = tmp_path / f"{name}{i}.txt"
        f.write_text(f"{name} {i}")
        art = tether.Artifact(name)
        art.add(str(f))
        cat.log(art)
    return cat


def test_protected_alias_moves_and_goes_only_with_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_USER", "ops")
    cat = log_versions(tmp_path, 3)
    cat.set_alias("ds", "prod", 2)
    p = cat.protect_alias("ds", "prod")
    assert (p.version, p.protected_by, p.hold) == (2, "ops", False)
    with pytest.raises(ProtectedAliasError, match=r"alias 'prod' of 'ds' is protected .*moving it to v3 needs force"):
        cat.set_alias("ds", "prod", 3)
    with pytest.raises(ProtectedAliasError, match="removing it needs force"):
        cat.remove_alias("ds", "prod")
    cat.set_alias("ds", "prod", 2)  # pointing it where it points is no move
    assert cat.aliases("ds")["prod"] == 2
    cat.set_alias("ds", "prod", 3, force=True)
    assert cat.aliases("ds")["prod"] == 3
    assert [q.version for q in cat.protected_aliases("ds")] == [3]
    cat.remove_alias("ds", "prod", force=True)
    assert "prod" not in cat.aliases("ds") and cat.protected_aliases("ds") == []
    cat.set_alias("ds", "prod", 1)  # a new alias of that name is not protected
    cat.set_alias("ds", "prod", 2)
    with pytest.raises(UnknownAliasError):
        cat.protect_alias("ds", "nope")
    with pytest.raises(UnknownAliasError, match="not protected"):
        cat.unprotect_alias("ds", "prod")


def test_hold_on_a_store_that_cannot_hold_says_so(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 1)
    cat.set_alias("ds", "prod", 1)
    with pytest.raises(HoldNotSupportedError, match="file:// stores cannot hold"):
        cat.protect_alias("ds", "prod", hold=True)
    assert cat.protected_aliases("ds") == []  # all or nothing


def test_alias_protect_cli(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 2)
    cat.set_alias("ds", "prod", 1)
    r = tether_cli("alias", "protect", "ds", "prod", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["version"] == 1
    r = tether_cli("alias", "set", "ds", "prod", "2")
    assert r.returncode == 1 and r.stderr.startswith("tether: error: alias 'prod' of 'ds' is protected")
    assert r.stderr.count("\n") == 1 and "--force" in r.stderr
    assert tether_cli("alias", "set", "ds", "prod", "2", "--force").returncode == 0
    assert json.loads(tether_cli("alias", "protected", "ds", "--json").stdout)[0]["version"] == 2
    assert tether_cli("alias", "rm", "ds", "prod").returncode == 1
    r = tether_cli("alias", "unprotect", "ds", "prod", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["alias"] == "prod"
    assert tether_cli("alias", "rm", "ds", "prod").returncode == 0
    r = tether_cli("alias", "protect", "ds", "prod", "--hold")
    assert r.returncode == 1 and "no alias 'prod'" in r.stderr


def test_immutable_tag_never_moves_nor_returns_without_force(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 3)
    cat.add_tags("ds", 1, "v1.0", "nightly")
    cat.add_tags("ds", 2, "nightly")
    assert cat.protect_tags("ds", "v*") == ["v1.0"]
    with pytest.raises(ImmutableTagError, match=r"tag 'v1.0' of 'ds' is immutable: it was set on v1"):
        cat.add_tags("ds", 2, "v1.0")
    cat.add_tags("ds", 1, "v1.0")  # where it is: fine
    cat.add_tags("ds", 3, "nightly")  # not immutable: tags many versions
    with pytest.raises(ImmutableTagError, match="removing it from v1 needs force"):
        cat.remove_tags("ds", 1, "v1.0")
    cat.remove_tags("ds", 1, "v1.0", force=True)
    assert "v1.0" not in cat.tags("ds", 1)
    with pytest.raises(ImmutableTagError, match="removed from v1 .* its name is not reused"):
        cat.add_tags("ds", 3, "v1.0")
    with pytest.raises(ImmutableTagError, match="removed from v1"):
        cat.add_tags("ds", 1, "v1.0")  # not even on the same version, silently
    cat.add_tags("ds", 3, "v1.0", force=True)
    assert "v1.0" in cat.tags("ds", 3)
    # A tag matching the pattern, first set after the protection, is claimed on first use.
    cat.add_tags("ds", 2, "v2.0")
    with pytest.raises(ImmutableTagError):
        cat.add_tags("ds", 3, "v2.0")
    # Through log too: log(tags=...) cannot reuse it.
    f = tmp_path / "new.txt"
    f.write_text("new")
    art = tether.Artifact("ds")
    art.add(str(f))
    with pytest.raises(ImmutableTagError):
        cat.log(art, tags=["v2.0"])
    # A forced move takes the tag off its old version.
    cat.add_tags("ds", 1, "v2.0", force=True)
    assert "v2.0" not in cat.tags("ds", 2) and "v2.0" in cat.tags("ds", 1)


def test_protecting_tags_set_on_two_versions_is_refused(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 2)
    cat.add_tags("ds", 1, "release")
    cat.add_tags("ds", 2, "release")
    with pytest.raises(ImmutableTagError, match="release on v1, v2"):
        cat.protect_tags("ds", "release")
    assert cat.immutable_tag_patterns("ds") == []
    with pytest.raises(InvalidNameError):
        cat.protect_tags("ds", "../x")
    cat.remove_tags("ds", 1, "release")
    cat.protect_tags("ds", "release")
    cat.unprotect_tags("ds", "release")
    cat.add_tags("ds", 1, "release")  # mutable again


def test_tag_protect_cli(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 2)
    cat.add_tags("ds", 1, "v1")
    r = tether_cli("tag", "protect", "ds", "v*", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["tags"] == ["v1"]
    r = tether_cli("tag", "add", "ds:2", "v1")
    assert r.returncode == 1 and "immutable" in r.stderr and r.stderr.count("\n") == 1
    assert tether_cli("tag", "rm", "ds:1", "v1").returncode == 1
    assert tether_cli("tag", "rm", "ds:1", "v1", "--force").returncode == 0
    assert tether_cli("tag", "add", "ds:2", "v1").returncode == 1
    assert tether_cli("tag", "add", "ds:2", "v1", "--force").returncode == 0
    r = tether_cli("tag", "unprotect", "ds", "v*", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["immutable"] == []
