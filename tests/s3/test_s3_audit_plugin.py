"""The documented audit plugin (docs/example-audit-plugin), built and installed with
real entry-point metadata, wrapping a log and a download on S3 (moto)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tether
from tether import plugins

PLUGIN = Path(__file__).parents[2] / "docs" / "example-audit-plugin"


@pytest.fixture(scope="module")
def audit_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip builds the plugin's wheel (hatchling, no index) and installs it into a folder."""
    site = tmp_path_factory.mktemp("audit-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(site), str(PLUGIN)],
                   check=True, capture_output=True)
    return site


@pytest.fixture
def audit_log(audit_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(audit_site))
    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv("TETHER_AUDIT_LOG", str(log))
    old = plugins.set_registry(None)
    yield log
    plugins.set_registry(old)
    sys.modules.pop("tether_example_audit", None)


def test_audit_plugin_writes_one_redacted_line_per_operation(audit_log: Path, bucket: str, s3_client,
                                                             tmp_path: Path) -> None:
    info = {p.name: p for p in plugins.get_registry().plugins}
    assert info["audit"].distribution == "tether-example-audit"
    assert info["audit"].hooks == ("tether_checksum", "tether_download", "tether_list", "tether_resolve",
                                   "tether_upload")
    s3_client.put_object(Bucket=bucket, Key="data/a.csv", Body=b"a,b\n1,2\n")
    s3_client.put_object(Bucket=bucket, Key="data/b.csv", Body=b"c\n3\n")
    local = tmp_path / "notes.txt"
    local.write_bytes(b"uploaded by the log")
    art = tether.Artifact("audited", artifacts_uri=f"s3://{bucket}/store")
    art.add_remote(f"s3://{bucket}/data")
    art.add(str(local))
    v = tether.Catalog().log(art)
    v.download(tmp_path / "out")
    assert (tmp_path / "out" / "a.csv").read_bytes() == b"a,b\n1,2\n"

    lines = [json.loads(x) for x in audit_log.read_text().splitlines()]
    ops = [(x["op"], x["uri"]) for x in lines]
    assert ("list", f"s3://{bucket}/data/") in ops
    assert ("resolve", f"s3://{bucket}/data") in ops
    uploads = [x for x in lines if x["op"] == "upload"]
    assert len(uploads) == 1 and uploads[0]["uri"].startswith(f"s3://{bucket}/store/sha256/")
    assert uploads[0]["bytes"] == len(b"uploaded by the log")
    downloads = sorted(x["uri"] for x in lines if x["op"] == "download")
    assert downloads[:2] == [f"s3://{bucket}/data/a.csv", f"s3://{bucket}/data/b.csv"]
    assert len(downloads) == 3 and all(x["ok"] for x in lines) and {x["scheme"] for x in lines} == {"s3"}
    assert not [x for x in lines if x["op"] == "checksum"]  # S3 listings carry checksums: no reads


def test_audit_lines_redact_credentials_and_record_failures(audit_log: Path, bucket: str) -> None:
    secret = "https://user:hunter2@example.invalid/data.bin?X-Amz-Signature=abcdef&X-Amz-Credential=k"
    with pytest.raises(tether.errors.TetherError):
        tether.Artifact("a", strict=True).add_remote(f"s3://{bucket}/missing")
    art = tether.Artifact("b")
    with pytest.warns(Warning):
        art.add_remote(secret)  # link-only or a failed HEAD: whatever happens, nothing secret is logged
    text = audit_log.read_text()
    assert "hunter2" not in text and "abcdef" not in text
    failed = [json.loads(x) for x in text.splitlines() if not json.loads(x)["ok"]]
    assert ("resolve", f"s3://{bucket}/missing", "ObjectNotFoundError") in {
        (x["op"], x["uri"], x["error"]) for x in failed}
