"""Lifecycle on GCS (fake-gcs-server, issue 16): reference insurance from bucket metadata,
``check`` by metadata, holds (which the emulator does not keep: reported, not trusted),
``gc`` of a GCS catalog with logs running at the same time, and the CLI.

Not testable on fake-gcs-server, so covered by :func:`rule_risks` on the JSON API's
documented rule shapes only: bucket lifecycle rules (the emulator neither stores nor
returns them), holds, deleting one generation of a versioned object (the emulator
deletes the live object whatever generation is named), so gc on a versioned GCS
catalog bucket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import tether
from tether.catalog.insurance import ReferenceRiskWarning
from tether.errors import HoldNotSupportedError, ReferenceRiskError
from tether_gcs.lifecycle import rule_risks

from ..faults import FaultProxy
from ..lifecycle_workers import (
    SHARED,
    digest,
    race_logs_and_gc,
)

pytestmark = pytest.mark.gcs


def tether_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def risk_warnings(fn) -> list[str]:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in seen if issubclass(w.category, ReferenceRiskWarning)]


def log_prefix(cat: tether.Catalog, name: str, uri: str, *, strict: bool = False, **kw: object) -> tether.ArtifactVersion:
    art = tether.Artifact(name, strict=strict)
    art.add_remote(uri)
    return cat.log(art, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------ reference insurance
def test_unversioned_bucket_warns_versioned_one_is_ok(gcs_admin, gcs_bucket, gcs_versioned_bucket) -> None:
    for b in (gcs_bucket, gcs_versioned_bucket):
        gcs_admin.put(b, "d/a", b"a")
    cat = tether.Catalog(f"gs://{gcs_bucket}/catalog")
    said = risk_warnings(lambda: log_prefix(cat, "plain", f"gs://{gcs_bucket}/d/"))
    assert said == [(f"gs://{gcs_bucket}/ keeps no old versions (versioning is off): overwriting or deleting a "
                     "referenced object makes this version undownloadable")]
    with pytest.raises(ReferenceRiskError):
        log_prefix(cat, "strict", f"gs://{gcs_bucket}/d/", strict=True)
    assert risk_warnings(lambda: log_prefix(cat, "pinned", f"gs://{gcs_versioned_bucket}/d/", strict=True)) == []
    assert [r.status for r in cat.reference_risks("pinned")] == ["ok"]


def test_lifecycle_rule_shapes() -> None:
    """GCS's documented rule shapes (the emulator keeps no lifecycle configuration)."""
    names = {"data/train/a", "data/train/b", "other/c"}
    rules = [
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30, "matchesPrefix": ["data/"]}},
        {"action": {"type": "Delete"}, "condition": {"numNewerVersions": 3, "matchesPrefix": ["logs/"]}},
        {"action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"}, "condition": {"age": 10}},
        {"action": {"type": "Delete"}, "condition": {"age": 365, "isLive": True}},
    ]
    assert rule_risks("b", names, rules, versioned=True) == [(
        "versions of gs://b/data/train/ can be deleted 30 days after they are replaced (bucket lifecycle rule): "
        "this version may become undownloadable")]
    # Unversioned: the age rule deletes the only copy.
    assert rule_risks("b", names, rules, versioned=False)[1] == (
        "objects under gs://b/ are deleted 365 days after they were written (bucket lifecycle rule): this version "
        "may become undownloadable")
    # An age rule not limited to live objects also deletes old noncurrent versions.
    assert rule_risks("b", {"x"}, [{"action": {"type": "Delete"}, "condition": {"age": 7}}], versioned=True) == [(
        "versions of gs://b/ can be deleted 7 days after they were written (bucket lifecycle rule): this version "
        "may become undownloadable")]


class DenyingProxy(FaultProxy):
    """fake-gcs-server behind a proxy that refuses bucket metadata, as IAM would."""

    def __init__(self, upstream_port: int, bucket: str) -> None:
        super().__init__(upstream_port, rates={})
        self.bucket = bucket

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        if h.command == "GET" and h.path.partition("?")[0].rstrip("/") == f"/storage/v1/b/{self.bucket}":
            payload = json.dumps({"error": {"code": 403, "message": "Forbidden"}}).encode()
            h.send_response(403)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        super()._serve(h)


def test_bucket_metadata_the_credentials_cannot_read_is_unchecked(gcs_admin, gcs_server, gcs_bucket) -> None:
    gcs_admin.put(gcs_bucket, "d/a", b"a")
    proxy = DenyingProxy(gcs_server.port, gcs_bucket)
    try:
        tether.configure("gs", bucket=gcs_bucket, endpoint_url=proxy.url)
        cat = tether.Catalog(f"gs://{gcs_bucket}/catalog")
        said = risk_warnings(lambda: log_prefix(cat, "denied", f"gs://{gcs_bucket}/d/"))
        assert said == [(f"could not check gs://{gcs_bucket}/: the credentials may not read its metadata "
                         "(storage.buckets.get): versioning and lifecycle rules unknown")]
        with pytest.raises(ReferenceRiskError, match="could not check"):
            log_prefix(cat, "denied2", f"gs://{gcs_bucket}/d/", strict=True)
    finally:
        tether.configure("gs", bucket=gcs_bucket, endpoint_url=None)
        proxy.stop()


# ------------------------------------------------------------------------- check
def test_check_by_metadata(gcs_admin, gcs_bucket, gcs_versioned_bucket) -> None:
    cat = tether.Catalog(f"gs://{gcs_bucket}/catalog")
    for b in (gcs_bucket, gcs_versioned_bucket):
        for k in ("a", "b", "c"):
            gcs_admin.put(b, f"d/{k}", f"{k} bytes".encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReferenceRiskWarning)
        plain = log_prefix(cat, "plain", f"gs://{gcs_bucket}/d/")
    pinned = log_prefix(cat, "pinned", f"gs://{gcs_versioned_bucket}/d/")
    assert plain.check().ok and pinned.check().ok
    for b in (gcs_bucket, gcs_versioned_bucket):
        gcs_admin.put(b, "d/b", b"b bytes, rewritten")
        gcs_admin.delete(b, "d/c")
    assert pinned.check().ok  # the recorded generations are still there
    assert {o.logical_path: o.status for o in plain.check().outcomes} == {"a": "ok", "b": "gone", "c": "gone"}
    r = tether_cli("--catalog", f"gs://{gcs_bucket}/catalog", "check", "plain", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["counts"] == {"ok": 1, "gone": 2}
    assert tether_cli("--catalog", f"gs://{gcs_bucket}/catalog", "check", "pinned").returncode == 0


# ------------------------------------------------------------------------- holds
def test_a_hold_the_store_does_not_keep_is_reported_not_trusted(gcs_admin, gcs_bucket, gcs_versioned_bucket) -> None:
    cat = tether.Catalog(f"gs://{gcs_bucket}/catalog")
    gcs_admin.put(gcs_versioned_bucket, "m/w", b"weights")
    log_prefix(cat, "model", f"gs://{gcs_versioned_bucket}/m/", aliases=["prod"])
    with pytest.raises(HoldNotSupportedError, match="does not report one"):
        cat.protect_alias("model", "prod", hold=True)
    assert cat.protected_aliases("model") == []
    cat.protect_alias("model", "prod")  # protection without a hold works anywhere
    r = tether_cli("--catalog", f"gs://{gcs_bucket}/catalog", "alias", "protected", "model", "--json")
    assert json.loads(r.stdout)[0]["hold"] is False


# ---------------------------------------------------------------------------- gc
def test_gc_rm_retain_on_a_gcs_catalog(gcs_bucket, tmp_path: Path) -> None:
    root = f"gs://{gcs_bucket}/cat"
    cat = tether.Catalog(root)
    for i in range(4):
        d = tmp_path / f"v{i}"
        d.mkdir()
        (d / "f").write_bytes(f"version {i}".encode())
        art = tether.Artifact("ds")
        art.add(str(d))
        cat.log(art)
    r = tether_cli("--catalog", root, "retain", "ds", "--keep-last", "2", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["delete"] == [1, 2]
    r = tether_cli("--catalog", root, "rm", "ds:3", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["version"] == 3
    r = tether_cli("--catalog", root, "gc", "--grace", "0", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["object_bytes"] == 3 * len(b"version 0") and len(doc["manifests"]) == 3
    assert [v.version for v in cat.versions("ds")] == [4]
    assert cat.get("ds").download(tmp_path / "out").ok
    for i in range(3):
        d = digest(f"version {i}".encode())
        assert not cat._driver.exists(f"{root}/objects/sha256/{d[:2]}/{d}")


@pytest.mark.slow
def test_concurrent_logs_and_gc_on_gcs_never_lose_a_finished_version(gcs_bucket, tmp_path: Path) -> None:
    root = f"gs://{gcs_bucket}/catalog"
    cat, unused = race_logs_and_gc(root, tmp_path, loggers=2, rounds=4, reused=3, unused=2, pause=1.0)
    for data in unused:
        d = digest(data)
        assert not cat._driver.exists(f"{root}/objects/sha256/{d[:2]}/{d}")
    d = digest(SHARED)
    assert cat._driver.exists(f"{root}/objects/sha256/{d[:2]}/{d}")



def test_an_upload_finding_the_same_bytes_just_written_keeps_them(gcs_bucket, tmp_path: Path) -> None:
    """Two logs of the same new bytes: both looked, found nothing, and upload. The
    second must not replace the first's object: on an unversioned bucket that
    destroys the generation the first one's version pins (the concurrent gc test
    above found this). Deterministic form: upload once, then upload again."""
    from tether.resolver import driver_for_uri

    f = tmp_path / "same.bin"
    f.write_bytes(b"the same new bytes")
    uri = f"gs://{gcs_bucket}/objects/sha256/ab/{digest(b'the same new bytes')}"
    drv = driver_for_uri(uri)
    first = drv.upload(str(f), uri, sha256=digest(b"the same new bytes"))
    second = drv.upload(str(f), uri, sha256=digest(b"the same new bytes"))
    assert second.version_id == first.version_id
    assert drv.stat_path(drv.path_of(uri)).version_id == first.version_id
