"""Retention (issue 16): keep rules, dry runs that delete nothing, stored policies, the runs rule."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from tether.catalog.retention import RetentionPolicy
from tether.errors import InvalidArgumentError, VersionDeletedError


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


def live(cat: tether.Catalog, name: str = "ds") -> list[int]:
    return [v.version for v in cat.versions(name)]


def test_keep_last_aliased_tagged_dry_run_then_real(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 8)
    cat.set_alias("ds", "prod", 2)
    cat.add_tags("ds", 4, "paper")
    plan = cat.retain("ds", keep_last=3)  # dry_run is the default in Python
    assert plan.dry_run and plan.deleted == [1, 3, 5]
    assert live(cat) == list(range(1, 9))  # nothing deleted
    reasons = {d.version: d.reasons for d in plan.decisions}
    assert reasons[2] == ("aliased (prod)",) and reasons[4] == ("tagged (paper)",)
    assert reasons[8] == ("one of the last 3",)
    done = cat.retain("ds", keep_last=3, dry_run=False)
    assert done.deleted == [1, 3, 5] and live(cat) == [2, 4, 6, 7, 8]
    t = cat.tombstone("ds", 1)
    assert t is not None and t.reason == "retention: keep-last 3, keep-aliased, keep-tagged"
    # Without the alias and tag rules, the aliased version is blocked (never deleted), the tagged one goes.
    r = cat.retain("ds", keep_last=2, keep_aliased=False, keep_tagged=False, dry_run=False)
    assert r.deleted == [4, 6] and [d.version for d in r.with_action("blocked")] == [2]
    assert live(cat) == [2, 7, 8]


def test_keep_younger_than(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 3)
    assert cat.retain("ds", keep_younger_than="1h").deleted == []
    assert cat.retain("ds", keep_younger_than=0, keep_last=1).deleted == [1, 2]
    assert cat.retain("ds", keep_younger_than=dt.timedelta(days=30)).deleted == []


def test_a_policy_needs_a_count_age_or_runs_rule(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 2)
    with pytest.raises(InvalidArgumentError, match="no retention rule given"):
        cat.retain("ds")
    for bad in ({"keep_last": -1}, {"keep_younger_than": "soon"}, {"keep_younger_than": "-3d"}):
        with pytest.raises(InvalidArgumentError):
            RetentionPolicy.build(**bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="would delete every"):
        RetentionPolicy.build(keep_aliased=True)


def test_runs_rule_asks_the_provider(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 5)
    asked = []

    def runs(name: str, since: dt.datetime) -> set[int]:
        asked.append((name, since))
        return {2}

    r = cat.retain("ds", keep_last=1, keep_used_by_runs_younger_than="7d", runs=runs)
    assert r.deleted == [1, 3, 4]
    assert ("used or produced by a recent run",) == {d.version: d.reasons for d in r.decisions}[2]
    name, since = asked[0]
    assert name == "ds" and dt.timedelta(days=6.9) < dt.datetime.now(dt.UTC) - since < dt.timedelta(days=7.1)


def test_runs_rule_without_runs_is_refused_not_ignored() -> None:
    """A catalog that cannot read runs refuses the rule: keeping nothing by it would delete silently."""
    from types import SimpleNamespace

    from tether.catalog.retention import catalog_runs

    with pytest.raises(InvalidArgumentError, match="needs run records"):
        catalog_runs(SimpleNamespace())  # type: ignore[arg-type]


def test_runs_rule_reads_run_records_through_the_catalog_interface(tmp_path: Path) -> None:
    """The default provider: ``catalog.runs()`` and ``catalog.run(id)`` (issue 13's interface)."""
    from types import SimpleNamespace

    from tether.catalog.retention import catalog_runs

    now = dt.datetime.now(dt.UTC)
    recent, old = (now - dt.timedelta(days=1)).isoformat(), (now - dt.timedelta(days=40)).isoformat()
    records = {"r1": SimpleNamespace(id="r1", started_at=recent, ended_at=recent, heartbeat_at=None,
                                     inputs=(SimpleNamespace(name="ds", version=2),),
                                     outputs=(SimpleNamespace(name="other", version=9),)),
               "r2": SimpleNamespace(id="r2", started_at=old, ended_at=old, heartbeat_at=None,
                                     inputs=(SimpleNamespace(name="ds", version=1),), outputs=())}
    fake = SimpleNamespace(runs=lambda limit=50: list(records.values()), run=lambda run_id: records[run_id])
    provider = catalog_runs(fake)  # type: ignore[arg-type]
    assert provider("ds", now - dt.timedelta(days=7)) == {2}
    assert provider("ds", now - dt.timedelta(days=60)) == {1, 2}


def test_stored_policies_and_retain_all(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 4, "a")
    log_versions(tmp_path, 4, "b")
    log_versions(tmp_path, 4, "c")
    cat.set_retention_policy(None, RetentionPolicy.build(keep_last=3))
    cat.set_retention_policy("b", RetentionPolicy.build(keep_last=1))
    assert cat.retention_policy("b") == RetentionPolicy.build(keep_last=1)
    plans = {r.name: r.deleted for r in cat.retain_all()}
    assert plans == {"a": [1], "b": [1, 2, 3], "c": [1]} and live(cat, "b") == [1, 2, 3, 4]
    assert cat.retain("b").deleted == [1, 2, 3]  # no rule given: the stored policy
    cat.retain_all(dry_run=False)
    assert (live(cat, "a"), live(cat, "b"), live(cat, "c")) == ([2, 3, 4], [4], [2, 3, 4])
    with pytest.raises(VersionDeletedError):
        cat.get("b:3")
    cat.remove_retention_policy("b")
    assert cat.retention_policy("b") is None
    with pytest.raises(InvalidArgumentError):
        cat.remove_retention_policy("b")


def test_retain_and_policy_cli(tmp_path: Path) -> None:
    cat = log_versions(tmp_path, 6)
    cat.set_alias("ds", "prod", 1)
    r = tether_cli("retain", "ds", "--keep-last", "2", "--keep-aliased", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "would delete 3" in r.stdout and "v1" in r.stdout and "aliased (prod)" in r.stdout
    assert live(cat) == [1, 2, 3, 4, 5, 6]
    r = tether_cli("retain", "ds", "--keep-last", "2", "--json", "--dry-run")
    assert json.loads(r.stdout)["delete"] == [2, 3, 4]
    r = tether_cli("retain", "ds", "--keep-last", "2")
    assert r.returncode == 0 and "deleted 3" in r.stdout and live(cat) == [1, 5, 6]
    r = tether_cli("retain", "ds", "--keep-younger-than", "soon")
    assert r.returncode == 2 and "invalid duration" in r.stderr
    assert tether_cli("retain", "ds").returncode == 1
    r = tether_cli("policy", "set", "ds", "--keep-last", "1", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["policy"]["keep_last"] == 1
    assert json.loads(tether_cli("policy", "show", "ds", "--json").stdout)["policy"]["keep_last"] == 1
    r = tether_cli("retain", "--all", "--dry-run", "--json")
    assert [(d["name"], d["delete"]) for d in json.loads(r.stdout)] == [("ds", [5])]
    assert tether_cli("retain", "--all").returncode == 0 and live(cat) == [1, 6]
    r = tether_cli("policy", "rm", "ds", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["policy"]["keep_last"] == 1
    assert "no policy" in tether_cli("policy", "show", "ds").stdout
