"""Checksum kinds are extensible by plugins (issue 15, section 2).

Core's kinds come through the same hook as a plugin's; the documented example
plugin (docs/example-checksum-plugin, BLAKE3) is installed with pip through real
entry-point metadata and is the only strong checksum of an asset; a kind no
installed plugin registers is read from a hostile manifest, shown, kept on
rewrite and never trusted; two plugins registering one name is an explicit
conflict; the CRC-64 kinds of tether-s3 and tether-azure match their stores'
published check values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
import tether
from tether import checksums, errors, plugins, transfer
from tether.models import Asset, Manifest

from .conftest import install_fake_distribution

PLUGIN = Path(__file__).parents[2] / "docs" / "example-checksum-plugin"


@pytest.fixture(scope="module")
def blake3_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip builds the example plugin's wheel (hatchling, no index) and installs it into a folder."""
    site = tmp_path_factory.mktemp("blake3-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(site), str(PLUGIN)],
                   check=True, capture_output=True)
    return site


@pytest.fixture
def blake3_plugin(blake3_site: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(blake3_site))
    old = plugins.set_registry(None)
    yield
    plugins.set_registry(old)
    sys.modules.pop("tether_example_blake3", None)


@pytest.fixture
def fresh_registry():
    old = plugins.set_registry(None)
    yield
    plugins.set_registry(old)


def _blake3(data: bytes) -> str:
    import blake3

    return blake3.blake3(data).hexdigest()


def _local_asset(tmp_path: Path, data: bytes, sums: dict[str, str]) -> Asset:
    src = tmp_path / "store" / "model.bin"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    (a,) = tether.Artifact("m").add_remote(str(src))
    return attrs.evolve(a, checksums=sums)


def _download(assets: tuple[Asset, ...], dest: Path, **kw: object) -> transfer.DownloadResult:
    return transfer.download(assets, dest, driver_for=lambda a: tether.get_driver("file"), label="m:v1", **kw)


def test_core_kinds_are_registered_through_the_same_hook_as_plugins(fresh_registry) -> None:
    reg = plugins.get_registry()
    table = reg.checksum_kinds()
    assert {n for n, p in table.plugin_of.items() if p == "tether.checksums"} == \
        {"sha256", "sha512", "sha1", "md5", "crc32c", "crc32", "etag"}
    impls = {i.plugin_name for i in reg.hook.tether_register_checksums.get_hookimpls()}
    assert {"tether.checksums", "s3", "az"} <= impls
    assert table.plugin_of["crc64nvme"] == "s3" and table.plugin_of["crc64"] == "az"
    info = {p.name: p for p in reg.plugins}
    assert info["s3"].checksums == ("crc64nvme",) and info["az"].checksums == ("crc64",)
    assert "tether_register_checksums" in info["s3"].hooks
    # a plugin kind takes its place by rank: the CRC-64s above crc32c, below a multipart ETag
    order = checksums.strengths()
    assert order.index("multipart-etag") < order.index("crc64nvme") < order.index("crc32c")


def test_a_plugin_kind_alone_verifies_downloads_and_a_flipped_byte_is_named(blake3_plugin, tmp_path: Path) -> None:
    info = {p.name: p for p in plugins.get_registry().plugins}
    assert info["blake3"].distribution == "tether-example-blake3" and info["blake3"].checksums == ("blake3",)
    data = os.urandom(300_000)
    a = _local_asset(tmp_path, data, {"blake3": _blake3(data)})
    assert a.verification == "blake3"
    # recorded and read back like a built-in kind
    m = Manifest(name="m", type="model", assets=(a,), created_at="2026-01-01T00:00:00Z")
    (back,) = Manifest.from_bytes(m.to_bytes(compress=False), where="test").assets
    assert dict(back.checksums) == {"blake3": _blake3(data)} and back.verification == "blake3"
    assert json.loads(m.to_bytes(compress=False).splitlines()[1].rstrip(b","))["verification"] == "blake3"

    assert _download((back,), tmp_path / "ok", require_verified=True).counts() == {"downloaded": 1}
    (outcome,) = transfer.verify((back,), tmp_path / "ok").outcomes
    assert outcome.status == "ok"

    src = Path(back.uri.removeprefix("file://"))
    flipped = bytearray(data)
    flipped[123_456] ^= 0x01
    src.write_bytes(bytes(flipped))  # same size: only the checksum can tell
    result = _download((back,), tmp_path / "bad", raise_on_error=False)
    (failed,) = result.with_status("failed")
    assert "model.bin" in (failed.error or "") and "blake3" in (failed.error or "")
    assert not (tmp_path / "bad" / "model.bin").exists()
    with pytest.raises(errors.DownloadError, match=r"asset 'model.bin': blake3 of the fetched bytes is [0-9a-f]{64}, "
                                                   r"recorded " + _blake3(data)):
        _download((back,), tmp_path / "bad2")
    from tether import hashing

    with pytest.raises(errors.ChecksumMismatchError, match="model.bin.*blake3"):
        # hashing at log time checks the read against the recorded blake3 before recording a sha256
        hashing.hash_assets([back], tether.get_driver("file"), retry=transfer.RetryPolicy(attempts=1))
    # the local copy made earlier no longer verifies against a flipped one either
    (tmp_path / "ok" / "model.bin").write_bytes(bytes(flipped))
    (outcome,) = transfer.verify((back,), tmp_path / "ok").outcomes
    assert outcome.status != "ok" and "blake3" in (outcome.detail or "")


def _hostile_manifest(uri: str, size: int, sums: dict[str, str]) -> bytes:
    header = {"schema": "tether.manifest/1", "name": "h", "type": "model", "created_at": "2026-01-01T00:00:00Z",
              "sources": []}
    return json.dumps({**header, "assets": [{"path": "model.bin", "uri": uri, "size": size, "checksums": sums,
                                             "verification": "sha256"}]}).encode()


def test_an_unknown_kind_is_read_shown_kept_and_never_trusted(tmp_path: Path, fresh_registry) -> None:
    """A manifest written where some plugin was installed (or by an attacker):
    whirlpool is no kind here, so the asset is size-only and never verified."""
    data = b"the bytes a hostile manifest vouches for"
    src = tmp_path / "store" / "model.bin"
    src.parent.mkdir(parents=True)
    src.write_bytes(data)
    sums = {"whirlpool": hashlib.sha512(data).hexdigest(), "etag": "abc"}
    (a,) = Manifest.from_bytes(_hostile_manifest(src.as_uri(), len(data), sums), where="test").assets
    assert dict(a.checksums) == sums and a.verification == "size-only"
    # kept when the manifest is written again
    again = Manifest(name="h", type="model", assets=(a,), created_at="2026-01-01T00:00:00Z").to_bytes(compress=True)
    (b,) = Manifest.from_bytes(again, where="test").assets
    assert dict(b.checksums) == sums and b.verification == "size-only"
    # never "verified": refused under require_verified, "unverifiable" to verify
    with pytest.raises(errors.UnverifiedAssetError, match="model.bin"):
        _download((b,), tmp_path / "dest", require_verified=True)
    assert _download((b,), tmp_path / "dest").counts() == {"downloaded": 1}
    (outcome,) = transfer.verify((b,), tmp_path / "dest").outcomes
    assert outcome.status == "unverifiable"
    with pytest.raises(ValueError, match="whirlpool"):
        checksums.new_hasher("whirlpool")


def test_tether_show_lists_an_unknown_kind_and_its_json_keeps_it(tmp_path: Path, _isolated_home: Path) -> None:
    from tether.models import VERSION_SCHEMA

    manifest = _hostile_manifest("s3://bucket/model.bin", 3, {"whirlpool": "ab" * 64})
    sha = hashlib.sha256(manifest).hexdigest()
    art = _isolated_home / "artifacts" / "h"
    (art / "manifests").mkdir(parents=True)
    (art / "manifests" / f"{sha}.json").write_bytes(manifest)
    (art / "versions").mkdir()
    (art / "versions" / "0000000001.json").write_text(json.dumps({
        "schema": VERSION_SCHEMA, "name": "h", "version": 1, "manifest": f"manifests/{sha}.json",
        "created_at": "2026-01-01T00:00:00Z", "digest": "sha256:00", "asset_count": 1, "total_size": 3}))
    run = [sys.executable, "-m", "tether.cli", "show", "h:v1"]
    text = subprocess.run(run, check=True, capture_output=True, text=True).stdout
    assert "size-only" in text and "not verifiable here: whirlpool" in text
    doc = json.loads(subprocess.run([*run, "--json"], check=True, capture_output=True, text=True).stdout)
    (row,) = doc["assets"]
    assert row["checksums"] == {"whirlpool": "ab" * 64} and row["verification"] == "size-only"


def test_a_kind_claimed_by_an_uninstalled_plugin_is_not_trusted(tmp_path: Path, monkeypatch) -> None:
    """crc64nvme is tether-s3's: with that plugin disabled, its values verify nothing."""
    data = b"x" * 100
    crc = checksums.new_hasher("crc64nvme")
    crc.update(data)
    value = crc.hexdigest()
    monkeypatch.setenv("TETHER_DISABLE_PLUGINS", "s3")
    old = plugins.set_registry(None)
    try:
        (a,) = Manifest.from_bytes(_hostile_manifest("s3://b/model.bin", 100, {"crc64nvme": value}),
                                   where="test").assets
        assert a.verification == "size-only"
    finally:
        plugins.set_registry(old)
    assert a.verification == "crc64nvme"  # with tether-s3 installed, the same row is verified


def test_two_plugins_registering_one_kind_is_an_explicit_conflict(site_dir: Path, monkeypatch) -> None:
    for mod in ("kind_one", "kind_two"):
        (site_dir / f"{mod}.py").write_text(
            "import hashlib, tether\nfrom tether.checksum_kinds import ChecksumKind, hex_text\n"
            "@tether.hookimpl\ndef tether_register_checksums():\n"
            "    return [ChecksumKind('b2', 350, lambda: hashlib.blake2b(digest_size=32), hex_text(32), 'b2')]\n")
    install_fake_distribution(site_dir, "tether-kinds", {"one": "kind_one", "two": "kind_two"})
    (site_dir / "bad_kind.py").write_text(
        "import hashlib, tether\nfrom tether.checksum_kinds import ChecksumKind, hex_text\n"
        "@tether.hookimpl\ndef tether_register_checksums():\n"
        "    return [ChecksumKind('sha256', 999, lambda: hashlib.md5(), hex_text(16), 'a weaker sha256')]\n")
    install_fake_distribution(site_dir, "tether-bad-kind", {"badkind": "bad_kind"})
    try:
        reg = plugins.get_registry()
        with pytest.warns(plugins.PluginLoadWarning, match="sha256"):
            reg.load()
        info = {p.name: p for p in reg.plugins}
        assert "built into tether" in (info["badkind"].error or "")  # a plugin cannot redefine sha256
        assert checksums.verification_strength({"sha256": "0" * 64}) == "sha256"
        assert reg.checksum_kinds().conflicts == {"b2": ["one", "two"]}
        with pytest.raises(errors.ChecksumKindConflictError, match=r"'one', 'two'.*'b2'.*TETHER_CHECKSUM_B2"):
            checksums.verification_strength({"b2": "0" * 64})
        with pytest.raises(errors.ChecksumKindConflictError):
            checksums.new_hasher("b2")
        out = subprocess.run([sys.executable, "-m", "tether.cli", "plugins", "--json"], check=True,
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(site_dir)}).stdout
        assert json.loads(out)["checksum_conflicts"] == {"b2": ["one", "two"]}
        monkeypatch.setenv("TETHER_CHECKSUM_B2", "two")
        plugins.set_registry(None)
        with pytest.warns(plugins.PluginLoadWarning, match="sha256"):
            assert plugins.get_registry().checksum_kinds().plugin_of["b2"] == "two"
        assert checksums.verification_strength({"b2": "0" * 64}) == "b2"
    finally:
        for mod in ("kind_one", "kind_two", "bad_kind"):
            sys.modules.pop(mod, None)


def test_the_crc64_kinds_match_their_stores_check_values(fresh_registry) -> None:
    """S3's CRC64NVME (big-endian) and Azure's x-ms-content-crc64 (little-endian)
    are one CRC: the catalogue's check value, and the Azure SDK's own test vector."""
    def digest(kind: str, *pieces: bytes) -> str:
        h = checksums.new_hasher(kind)
        for p in pieces:
            h.update(memoryview(p))
        return h.hexdigest()

    assert digest("crc64nvme", b"1234", b"56789") == "ae8b14860a799888"
    assert digest("crc64", b"Hello ", b"Azure!") == base64.b64decode("DtjZpL9/o8c=").hex()
    assert digest("crc64", b"") == base64.b64decode("AAAAAAAAAAA=").hex()
    from tether.crc64 import crc64nvme_py

    assert crc64nvme_py(b"56789", crc64nvme_py(b"1234")) == 0xAE8B14860A799888  # the fallback agrees
