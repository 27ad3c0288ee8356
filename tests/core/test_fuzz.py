"""Property tests: malformed manifests and bad CLI arguments fail cleanly, never with a traceback."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether import errors
from tether.cli import main
from tether.models import Manifest
from tether.paths import check_logical_path

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**12), st.text(max_size=20),
                         st.floats(allow_nan=False))
paths = st.one_of(st.text(max_size=30), st.sampled_from(["a", "../a", "/abs", "a/./b", "C:/x", "a\\b", "ok/x.bin"]))
asset = st.fixed_dictionaries(
    {"path": st.one_of(paths, json_scalars)},
    optional={"uri": st.one_of(st.text(max_size=20), json_scalars), "size": json_scalars,
              "checksums": st.one_of(st.dictionaries(st.sampled_from(["sha256", "md5", "crc32c", "etag", "whirl"]),
                                                     st.one_of(st.text(max_size=8), json_scalars), max_size=3),
                                     json_scalars),
              "version_id": json_scalars, "synced": st.booleans(), "link": json_scalars,
              "source": json_scalars, "metadata": st.one_of(st.dictionaries(st.text(max_size=5), json_scalars), json_scalars)})
manifests = st.fixed_dictionaries(
    {"schema": st.sampled_from(["tether.manifest/1", "tether.manifest/2", None]),
     "name": st.one_of(st.text(max_size=10), json_scalars), "type": st.one_of(st.just("dataset"), json_scalars),
     "assets": st.one_of(st.lists(asset, max_size=5), json_scalars)},
    optional={"sources": st.one_of(st.lists(st.text(max_size=10), max_size=2), json_scalars),
              "metadata": st.one_of(st.dictionaries(st.text(max_size=5), json_scalars), json_scalars)})


@settings(max_examples=500, deadline=None)
@given(manifests)
def test_any_manifest_is_either_rejected_cleanly_or_safe(doc) -> None:
    try:
        m = Manifest.from_dict(doc, where="fuzz")
    except errors.ManifestError:
        return
    for a in m.assets:
        check_logical_path(a.logical_path)
        if a.synced:
            assert isinstance(a.size, int) and a.size >= 0 and a.uri
    # whatever is accepted survives tether's own line-per-asset writer and reader, both ways
    for compress in (False, True):
        assert Manifest.from_bytes(m.to_bytes(compress=compress), where="rt").assets == m.assets
    pretty = json.dumps(m.to_dict(), indent=2).encode()  # another layout: the whole-document parser
    assert Manifest.from_bytes(pretty, where="pretty").assets == m.assets


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_rejected_as_a_manifest_error(data: bytes) -> None:
    try:
        Manifest.from_bytes(data, where="fuzz")
    except errors.ManifestError:
        pass


words = st.sampled_from(["log", "download", "show", "list", "verify", "status", "plugins", "alias", "tag",
                         "set", "rm", "add", "ds", "ds:1", "ds:v0", "ds@x", "ds:-3", "x/../y", "", "--json",
                         "--overwrite", "fail", "nope", "--workers", "-1", "0", "abc", "--meta", "k", "k=v",
                         "--type", "--alias", "latest", "--tag", "bad tag", "s3x://b/k", "file://rel",
                         "/nonexistent/path", ".", "--strict", "--max-objects", "--catalog", "--help", "\x00"])


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("x")
    assert_rc = {}
    return assert_rc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(words, min_size=1, max_size=6))
def test_cli_with_bad_arguments_exits_cleanly(in_tmp, capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    assert exc.value.code in (0, 1, 2, None), (argv, exc.value.code, err)
    assert "Traceback" not in err and "Traceback" not in out, argv
    if exc.value.code == 1:
        assert err.strip().splitlines()[-1].startswith(("tether: error: ", "  failed ")) or "problem" in out


def test_json_manifest_roundtrip_of_a_logged_version(tmp_path) -> None:
    import tether

    f = tmp_path / "a b#?.txt"
    f.write_text("x")
    art = tether.Artifact("rt")
    art.add_remote(str(f))
    v = tether.Catalog().log(art)
    m = Manifest(name=v.name, type=v.type, assets=v.assets, created_at=v.created_at, digest=v.digest)
    again = Manifest.from_bytes(json.dumps(m.to_dict()).encode(), where="rt")
    assert again.assets == v.assets
