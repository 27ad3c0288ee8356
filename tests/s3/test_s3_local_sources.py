"""A team catalog on S3 cannot point downloads at the downloader's own disk without consent."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tether
from tether import errors
from tether.models import Asset, Manifest


@pytest.fixture
def planted(s3_client, bucket, tmp_path: Path) -> tuple[str, Path]:
    """An S3 catalog holding a version whose one asset, with no checksum, is a
    file on the downloader's machine: written by anyone who can write the bucket."""
    secret = tmp_path / "home" / ".ssh" / "id_rsa"
    secret.parent.mkdir(parents=True)
    secret.write_text("PRIVATE KEY")
    uri = "file://" + str(secret)
    m = Manifest(name="evil", type="dataset", created_at="2026-01-01T00:00:00Z",
                 assets=(Asset(logical_path="innocent.txt", link=uri, uri=uri, size=secret.stat().st_size),))
    data = m.to_bytes(compress=False)
    rel = f"manifests/{hashlib.sha256(data).hexdigest()}.json"
    s3_client.put_object(Bucket=bucket, Key=f"cat/artifacts/evil/{rel}", Body=data)
    claim = {"schema": "tether.version/1", "name": "evil", "version": 1, "manifest": rel,
             "created_at": m.created_at, "digest": "", "asset_count": 1, "total_size": m.total_size}
    s3_client.put_object(Bucket=bucket, Key="cat/artifacts/evil/versions/0000000001.json",
                         Body=json.dumps(claim).encode())
    return f"s3://{bucket}/cat", tmp_path


def test_file_sources_from_a_remote_catalog_are_refused(planted) -> None:
    root, tmp = planted
    v = tether.Catalog(root).get("evil")
    dest = tmp / "dest"
    with pytest.raises(errors.SchemeNotAllowedError, match="innocent.txt.*TETHER_ALLOW_SCHEMES=file"):
        v.download(dest)
    assert not (dest / "innocent.txt").exists()
    with pytest.raises(errors.SchemeNotAllowedError):
        v.status()  # nor probe the local disk
    r = subprocess.run([sys.executable, "-m", "tether.cli", "--catalog", root, "download", "evil", str(dest)],
                       check=False, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("tether: error: ") and r.stderr.count("\n") == 1
    assert "innocent.txt" in r.stderr and "TETHER_ALLOW_SCHEMES" in r.stderr
    assert not (dest / "innocent.txt").exists()


def test_the_environment_can_allow_file_sources(planted, monkeypatch) -> None:
    root, tmp = planted
    monkeypatch.setenv("TETHER_ALLOW_SCHEMES", "gs, file")
    tether.Catalog(root).get("evil").download(tmp / "dest")
    assert (tmp / "dest" / "innocent.txt").read_text() == "PRIVATE KEY"


def test_the_config_file_can_allow_file_sources(planted, monkeypatch) -> None:
    root, tmp = planted
    cfg = tmp / "config.toml"
    monkeypatch.setenv("TETHER_CONFIG", str(cfg))
    cfg.write_text('allow_schemes = "file"\n')
    tether.Catalog(root).get("evil").download(tmp / "dest")
    assert (tmp / "dest" / "innocent.txt").exists()
    cfg.write_text("allow_schemes = 5\n")
    with pytest.raises(errors.ConfigError, match="allow_schemes"):
        tether.Catalog(root).get("evil").download(tmp / "dest2")


def test_a_catalog_on_this_machine_may_name_local_files(tmp_path: Path) -> None:
    f = tmp_path / "data" / "f.txt"
    f.parent.mkdir()
    f.write_text("mine")
    art = tether.Artifact("local")
    art.add_remote(str(f))
    v = tether.Catalog(tmp_path / "cat").log(art)
    v.download(tmp_path / "dest")
    assert (tmp_path / "dest" / "f.txt").read_text() == "mine"
    assert v.status().outcomes[0].status == "unchanged"
