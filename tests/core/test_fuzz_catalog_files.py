"""Property tests: whatever bytes sit in a claim or alias file, reads fail cleanly or skip it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tether
from tether import errors
from tether.cli import main

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)
claims = st.fixed_dictionaries(
    {"schema": st.one_of(st.just("tether.version/1"), json_values)},
    optional={k: json_values for k in ("name", "version", "manifest", "created_at", "digest", "asset_count",
                                       "total_size", "log_id")})
nested = st.integers(1, 50_000).map(lambda n: b'{"version": ' + b"[" * n + b"]" * n + b"}")
alias_bytes = st.one_of(st.binary(max_size=64), nested,
                        json_values.map(lambda v: json.dumps({"version": v}).encode()),
                        json_values.map(lambda v: json.dumps(v).encode()))


@pytest.fixture(scope="module")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    home = tmp_path_factory.mktemp("fuzz-home")
    data = home.parent / "fuzz-data"
    data.mkdir(exist_ok=True)
    (data / "f.txt").write_text("x")
    art = tether.Artifact("ds")
    art.add_remote(str(data))
    tether.Catalog(home).log(art, aliases="prod")
    return home, home / "artifacts" / "ds"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims)
def test_any_claim_lists_or_fails_with_one_line(artifact_dir, monkeypatch, capsys, claim) -> None:
    home, art = artifact_dir
    monkeypatch.setenv("TETHER_HOME", str(home))
    (art / "versions" / "0000000002.json").write_text(json.dumps(claim))
    try:
        for info in tether.Catalog().versions("ds"):
            assert isinstance(info.asset_count, int) and isinstance(info.created_at, str)
    except errors.ManifestError as exc:
        assert "0000000002.json" in str(exc)
    for argv in (["list", "ds"], ["list", "ds", "--json"], ["show", "ds:2"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        out, err = capsys.readouterr()
        assert exc.value.code in (0, 1, None), (argv, err)
        assert "Traceback" not in err
        if exc.value.code == 1:
            assert err.startswith("tether: error: ") and err.count("\n") == 1, err


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(alias_bytes)
def test_any_alias_file_is_read_or_skipped(artifact_dir, monkeypatch, content: bytes) -> None:
    home, art = artifact_dir
    monkeypatch.setenv("TETHER_HOME", str(home))
    (art / "versions" / "0000000002.json").unlink(missing_ok=True)
    (art / "aliases" / "other.json").write_bytes(content)
    aliases = tether.Catalog().aliases("ds")
    assert aliases["prod"] == 1
    assert all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in aliases.values())
    assert tether.Catalog().get("ds@prod").version == 1
