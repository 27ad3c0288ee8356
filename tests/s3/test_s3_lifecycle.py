"""Lifecycle on S3 (moto, issue 16): reference insurance from the bucket's versioning and
lifecycle rules, ``check`` by HEAD, Object Lock legal holds for protected aliases,
``gc`` of an S3 catalog (versioned too) with logs running at the same time, and the CLI."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import uuid
import warnings
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import tether
from tether.catalog.insurance import ReferenceRiskWarning
from tether.errors import HoldNotSupportedError, ProtectedAliasError, ReferenceRiskError, UnknownArtifactError

from ..faults import FaultProxy
from ..lifecycle_workers import (
    SHARED,
    digest,
    race_logs_and_gc,
)

pytestmark = pytest.mark.s3


def tether_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def risk_warnings(fn) -> list[str]:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in seen if issubclass(w.category, ReferenceRiskWarning)]


def log_prefix(cat: tether.Catalog, name: str, uri: str, **kw: object) -> tether.ArtifactVersion:
    art = tether.Artifact(name, strict=bool(kw.pop("strict", False)))
    art.add_remote(uri)
    return cat.log(art, **kw)  # type: ignore[arg-type]


@pytest.fixture
def lock_bucket(s3_client) -> str:
    name = f"l-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


# ------------------------------------------------------------ reference insurance
def test_versioning_off_and_expiring_versions_warn_with_the_consequence(s3_client, bucket, versioned_bucket) -> None:
    cat = tether.Catalog(f"s3://{bucket}/catalog")
    s3_client.put_object(Bucket=bucket, Key="plain/a", Body=b"a")
    said = risk_warnings(lambda: log_prefix(cat, "plain", f"s3://{bucket}/plain/"))
    assert said == [(f"s3://{bucket}/ keeps no old versions (versioning is off): overwriting or deleting a "
                     "referenced object makes this version undownloadable")]
    s3_client.put_bucket_lifecycle_configuration(Bucket=versioned_bucket, LifecycleConfiguration={"Rules": [
        {"ID": "trim", "Status": "Enabled", "Filter": {"Prefix": "data/"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
        {"ID": "other", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 1}},
        {"ID": "cold", "Status": "Enabled", "Filter": {"Prefix": "data/raw/"},
         "Transitions": [{"Days": 90, "StorageClass": "DEEP_ARCHIVE"}]},
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    ]})
    s3_client.put_object(Bucket=versioned_bucket, Key="data/raw/x", Body=b"x")
    s3_client.put_object(Bucket=versioned_bucket, Key="data/clean/y", Body=b"y")
    said = risk_warnings(lambda: log_prefix(cat, "vds", f"s3://{versioned_bucket}/data/"))
    assert said == [(f"versions of s3://{versioned_bucket}/data/ can expire after 30 days once replaced "
                     "(lifecycle rule 'trim'): this version may become undownloadable"),
                    (f"objects under s3://{versioned_bucket}/data/raw/ move to DEEP_ARCHIVE after 90 days "
                     "(lifecycle rule 'cold'): downloading this version then needs an S3 restore first")]
    # Once per process: a second log of the same buckets says nothing new.
    s3_client.put_object(Bucket=versioned_bucket, Key="data/clean/z", Body=b"z")
    assert risk_warnings(lambda: log_prefix(cat, "vds", f"s3://{versioned_bucket}/data/")) == []
    # strict: an error, and nothing logged.
    with pytest.raises(ReferenceRiskError, match="can expire after 30 days"):
        log_prefix(cat, "strict-ds", f"s3://{versioned_bucket}/data/", strict=True)
    with pytest.raises(UnknownArtifactError):
        cat.versions("strict-ds")


def test_a_versioned_bucket_without_rules_is_ok_and_uploads_ignore_versioning(s3_client, bucket, versioned_bucket,
                                                                            tmp_path: Path) -> None:
    s3_client.put_object(Bucket=versioned_bucket, Key="k/a", Body=b"a")
    cat = tether.Catalog(f"s3://{bucket}/catalog")  # an unversioned catalog bucket
    f = tmp_path / "model.bin"
    f.write_bytes(b"weights")

    def log_both() -> None:
        art = tether.Artifact("m", strict=True)
        art.add_remote(f"s3://{versioned_bucket}/k/")
        art.add(str(f))  # uploads: content-addressed, never overwritten
        cat.log(art)

    assert risk_warnings(log_both) == []
    [r1, r2] = cat.reference_risks("m")
    assert {r1.status, r2.status} == {"ok"}


class DenyingProxy(FaultProxy):
    """moto behind a proxy that refuses bucket-settings reads, as an IAM policy would."""

    def __init__(self, upstream_port: int) -> None:
        super().__init__(upstream_port, rates={})
        self.settings_reads = 0

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        query = h.path.partition("?")[2]
        if h.command == "GET" and any(q.split("=")[0] in ("versioning", "lifecycle") for q in query.split("&")):
            with self._lock:
                self.settings_reads += 1
            length = int(h.headers.get("Content-Length", 0) or 0)
            if length:
                h.rfile.read(length)
            payload = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            h.send_response(403)
            h.send_header("Content-Type", "application/xml")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        if h.command == "HEAD":  # FaultProxy re-counts the (empty) body; a HEAD keeps the object's length
            conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
            try:
                conn.request("HEAD", h.path, headers=dict(h.headers.items()))
                resp = conn.getresponse()
                resp.read()
                h.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding"):
                        h.send_header(k, v)
                h.end_headers()
            finally:
                conn.close()
            return
        super()._serve(h)


def test_a_bucket_the_credentials_cannot_inspect_is_unchecked_not_safe(s3_client, bucket, moto_server) -> None:
    s3_client.put_object(Bucket=bucket, Key="p/a", Body=b"a")
    proxy = DenyingProxy(moto_server.port)
    try:
        tether.configure("s3", bucket=bucket, endpoint_url=proxy.url)
        cat = tether.Catalog(tmp_catalog := f"s3://{bucket}/catalog")
        said = risk_warnings(lambda: log_prefix(cat, "denied", f"s3://{bucket}/p/"))
        assert said == [(f"could not check s3://{bucket}/: the credentials may not read its versioning or "
                         "lifecycle rules (s3:GetBucketVersioning, s3:GetLifecycleConfiguration)")]
        [report] = cat.reference_risks("denied")
        assert report.status == "unchecked" and report.inspectable
        with pytest.raises(ReferenceRiskError, match="could not check"):
            log_prefix(cat, "denied2", f"s3://{bucket}/p/", strict=True)
        # Asked once per bucket per process, however many logs.
        reads = proxy.settings_reads
        log_prefix(cat, "denied3", f"s3://{bucket}/p/")
        assert proxy.settings_reads == reads and reads >= 1
        r = tether_cli("--catalog", tmp_catalog, "check", "denied", "--json",
                       env={"TETHER_S3_ENDPOINT_URL": proxy.url})
        assert r.returncode == 0, r.stdout
        assert json.loads(r.stdout)["risks"][0]["status"] == "unchecked"
    finally:
        tether.configure("s3", bucket=bucket, endpoint_url=None)
        proxy.stop()


def test_reference_checks_can_be_switched_off(s3_client, bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    s3_client.put_object(Bucket=bucket, Key="off/a", Body=b"a")
    monkeypatch.setenv("TETHER_REFERENCE_CHECKS", "off")
    cat = tether.Catalog(f"s3://{bucket}/catalog")
    assert risk_warnings(lambda: log_prefix(cat, "off", f"s3://{bucket}/off/", strict=True)) == []


def test_log_strict_cli(s3_client, bucket) -> None:
    s3_client.put_object(Bucket=bucket, Key="d/a", Body=b"a")
    r = tether_cli("--catalog", f"s3://{bucket}/cat", "log", "ds", f"s3://{bucket}/d/", "--strict")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "keeps no old versions" in r.stderr
    r = tether_cli("--catalog", f"s3://{bucket}/cat", "log", "ds", f"s3://{bucket}/d/")
    assert r.returncode == 0 and "tether: warning: " in r.stderr and "keeps no old versions" in r.stderr


# ------------------------------------------------------------------------- check
def test_check_by_head_on_versioned_and_unversioned_buckets(s3_client, bucket, versioned_bucket) -> None:
    cat = tether.Catalog(f"s3://{bucket}/catalog")
    for b in (bucket, versioned_bucket):
        for k in ("a", "b", "c"):
            s3_client.put_object(Bucket=b, Key=f"d/{k}", Body=f"{k} bytes".encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReferenceRiskWarning)
        plain = log_prefix(cat, "plain", f"s3://{bucket}/d/")
    pinned = log_prefix(cat, "pinned", f"s3://{versioned_bucket}/d/")
    assert plain.check().ok and pinned.check().ok
    for b in (bucket, versioned_bucket):
        s3_client.put_object(Bucket=b, Key="d/b", Body=b"b bytes, new")
        s3_client.delete_object(Bucket=b, Key="d/c")
    # A pinned version survives overwrites and deletes of the key.
    assert pinned.check().ok
    by = {o.logical_path: o.status for o in plain.check().outcomes}
    assert by == {"a": "ok", "b": "changed", "c": "gone"}
    vid = pinned.asset("b").version_id
    s3_client.delete_object(Bucket=versioned_bucket, Key="d/b", VersionId=vid)
    result = pinned.check()
    assert {o.logical_path: o.status for o in result.outcomes} == {"a": "ok", "b": "gone", "c": "ok"}
    r = tether_cli("--catalog", f"s3://{bucket}/catalog", "check", "pinned", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["counts"] == {"ok": 2, "gone": 1}


# ------------------------------------------------------------------------- holds
def legal_hold(s3_client, bucket: str, key: str, vid: str) -> str:
    try:
        return s3_client.get_object_legal_hold(Bucket=bucket, Key=key, VersionId=vid)["LegalHold"].get("Status", "OFF")
    except s3_client.exceptions.ClientError:
        return "OFF"


def test_hold_follows_a_protected_alias_and_is_released(s3_client, bucket, lock_bucket) -> None:
    cat = tether.Catalog(f"s3://{bucket}/catalog")
    s3_client.put_object(Bucket=lock_bucket, Key="m/w.bin", Body=b"v1 weights")
    v1 = log_prefix(cat, "model", f"s3://{lock_bucket}/m/", aliases=["prod"])
    s3_client.put_object(Bucket=lock_bucket, Key="m/w.bin", Body=b"v2 weights")
    v2 = log_prefix(cat, "model", f"s3://{lock_bucket}/m/")
    vid1, vid2 = v1.asset("w.bin").version_id, v2.asset("w.bin").version_id
    p = cat.protect_alias("model", "prod", hold=True)
    assert p.held == ((f"s3://{lock_bucket}/m/w.bin", vid1),)
    assert (legal_hold(s3_client, lock_bucket, "m/w.bin", vid1), legal_hold(s3_client, lock_bucket, "m/w.bin", vid2)) \
        == ("ON", "OFF")
    # The store itself now refuses to delete exactly that version.
    with pytest.raises(s3_client.exceptions.ClientError):
        s3_client.delete_object(Bucket=lock_bucket, Key="m/w.bin", VersionId=vid1)
    # A second protected alias on the same version: releasing one keeps the hold.
    cat.set_alias("model", "backup", 1)
    cat.protect_alias("model", "backup", hold=True)
    with pytest.raises(ProtectedAliasError):
        cat.set_alias("model", "prod", 2)
    cat.set_alias("model", "prod", 2, force=True)
    assert legal_hold(s3_client, lock_bucket, "m/w.bin", vid2) == "ON"
    assert legal_hold(s3_client, lock_bucket, "m/w.bin", vid1) == "ON"  # still needed by backup
    cat.unprotect_alias("model", "backup")
    assert legal_hold(s3_client, lock_bucket, "m/w.bin", vid1) == "OFF"
    r = tether_cli("--catalog", f"s3://{bucket}/catalog", "alias", "unprotect", "model", "prod", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["hold"] is True
    assert legal_hold(s3_client, lock_bucket, "m/w.bin", vid2) == "OFF"
    s3_client.delete_object(Bucket=lock_bucket, Key="m/w.bin", VersionId=vid1)  # released: deletable


def test_hold_without_object_lock_says_the_store_cannot(s3_client, bucket, versioned_bucket) -> None:
    cat = tether.Catalog(f"s3://{bucket}/catalog")
    s3_client.put_object(Bucket=versioned_bucket, Key="m/w", Body=b"w")
    log_prefix(cat, "model", f"s3://{versioned_bucket}/m/", aliases=["prod"])
    with pytest.raises(HoldNotSupportedError, match=f"s3://{versioned_bucket} has no Object Lock"):
        cat.protect_alias("model", "prod", hold=True)
    assert cat.protected_aliases("model") == []
    r = tether_cli("--catalog", f"s3://{bucket}/catalog", "alias", "protect", "model", "prod", "--hold")
    assert r.returncode == 1 and "has no Object Lock" in r.stderr and r.stderr.count("\n") == 1


# ---------------------------------------------------------------------------- gc
def content_key(prefix: str, data: bytes) -> str:
    d = digest(data)
    return f"{prefix}/objects/sha256/{d[:2]}/{d}"


def test_gc_of_an_s3_catalog_and_the_cli(s3_client, bucket, tmp_path: Path) -> None:
    root = f"s3://{bucket}/cat"
    cat = tether.Catalog(root)
    for name, data in (("keep", b"kept"), ("drop", b"dropped!")):
        d = tmp_path / name
        d.mkdir()
        (d / "f").write_bytes(data)
        art = tether.Artifact(name)
        art.add(str(d))
        cat.log(art)
    s3_client.put_object(Bucket=bucket, Key="users/own.csv", Body=b"1,2")
    r = tether_cli("--catalog", root, "rm", "drop", "--all", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["version"] == 1
    r = tether_cli("--catalog", root, "gc", "--dry-run", "--grace", "0", "--json")
    assert json.loads(r.stdout)["object_bytes"] == len(b"dropped!")
    r = tether_cli("--catalog", root, "gc", "--grace", "0", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["objects"] == [f"s3://{bucket}/{content_key('cat', b'dropped!')}"]
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert content_key("cat", b"kept") in keys and "users/own.csv" in keys
    assert content_key("cat", b"dropped!") not in keys
    assert not any("/intents/" in k or "/gc-pending/" in k for k in keys)


def test_gc_on_a_versioned_catalog_bucket_removes_exactly_the_unneeded_versions(s3_client, versioned_bucket,
                                                                               tmp_path: Path) -> None:
    root = f"s3://{versioned_bucket}/cat"
    cat = tether.Catalog(root)
    d = tmp_path / "d"
    d.mkdir()
    (d / "f").write_bytes(b"content")
    art = tether.Artifact("ds")
    art.add(str(d))
    v1 = cat.log(art)
    key = content_key("cat", b"content")
    # Another tool rewrote the address (same bytes): a second, unreferenced version.
    s3_client.put_object(Bucket=versioned_bucket, Key=key, Body=b"content")
    versions = s3_client.list_object_versions(Bucket=versioned_bucket, Prefix=key)["Versions"]
    assert len(versions) == 2
    report = cat.gc(0)
    # The pinned version stays; the current one stays (a reference without a pin would read it).
    assert report.objects == () and v1.download(tmp_path / "o1").ok
    cat.delete("ds")
    report = cat.gc(0)
    assert len(report.objects) == 2 and report.object_bytes == 2 * len(b"content")
    assert "Versions" not in s3_client.list_object_versions(Bucket=versioned_bucket, Prefix=key)


@pytest.mark.slow
def test_concurrent_logs_and_gc_on_s3_never_lose_a_finished_version(bucket, tmp_path: Path) -> None:
    """Separate processes on an S3 catalog: 2 loggers, a churner and a gc with no grace period."""
    root = f"s3://{bucket}/catalog"
    cat, unused = race_logs_and_gc(root, tmp_path, loggers=2, rounds=6, reused=3, unused=2, pause=1.0)
    for data in unused:
        assert not cat._driver.exists(f"s3://{bucket}/{content_key('catalog', data)}")
    assert cat._driver.exists(f"s3://{bucket}/{content_key('catalog', SHARED)}")

