"""What S3 says about keeping objects, and the calls ``gc``, ``check`` and holds need.

* :func:`reference_risks` – GetBucketVersioning and
  GetBucketLifecycleConfiguration, once per bucket per process: versioning
  off or suspended, and every enabled rule whose filter covers a referenced
  key and that expires objects, expires noncurrent versions, or moves them to
  an archive class (GLACIER, DEEP_ARCHIVE: a download then needs a restore).
  A bucket whose settings the credentials may not read is ``unchecked``.
* :func:`inventory` – ListObjectVersions (every version) on a versioned
  bucket, ListObjectsV2 otherwise; ``delete_exact`` (the object-store base)
  deletes with the VersionId, so gc removes exactly the version it judged and
  never another one written since.
* :func:`set_hold` – PutObjectLegalHold on the pinned VersionId; a bucket
  without Object Lock cannot hold, and says so.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tether.driverkit import RiskReport, StoredObject, epoch_of, redact
from tether.errors import AccessDeniedError, HoldNotSupportedError
from tether.models import Asset

if TYPE_CHECKING:
    from . import S3Driver

_ARCHIVES = ("GLACIER", "DEEP_ARCHIVE")


# ------------------------------------------------------------------ insurance
def _bucket_settings(drv: S3Driver, bucket: str) -> dict[str, Any]:
    """Versioning status and lifecycle rules, or why they could not be read."""
    from . import _error_code

    out: dict[str, Any] = {"versioning": None, "rules": None, "error": None}
    try:
        out["versioning"] = drv._call(bucket, "get_bucket_versioning").get("Status") or "Off"
        try:
            out["rules"] = drv._call(bucket, "get_bucket_lifecycle_configuration").get("Rules", [])
        except Exception as exc:  # no configuration is the common answer
            if _error_code(exc)[0] != "NoSuchLifecycleConfiguration":
                raise
            out["rules"] = []
    except Exception as exc:  # noqa: BLE001 - becomes the reason this bucket is unchecked
        err = drv.translate_error(exc, f"s3://{bucket}/")
        what = ("the credentials may not read its versioning or lifecycle rules "
                "(s3:GetBucketVersioning, s3:GetLifecycleConfiguration)" if isinstance(err, AccessDeniedError)
                else str(err))
        out["error"] = what
    return out


def _filter(rule: dict[str, Any]) -> tuple[str, str]:
    """The rule's key prefix, and a note on conditions tether does not evaluate (tags, sizes)."""
    flt = rule.get("Filter") or {}
    both = flt.get("And") or {}
    prefix = flt.get("Prefix", both.get("Prefix", rule.get("Prefix", ""))) or ""
    notes = []
    tags = [flt["Tag"]] if "Tag" in flt else list(both.get("Tags", []))
    if tags:
        notes.append("objects tagged " + ", ".join(f"{t.get('Key')}={t.get('Value')}" for t in tags))
    for field, word in (("ObjectSizeGreaterThan", "over"), ("ObjectSizeLessThan", "under")):
        size = flt.get(field, both.get(field))
        if size is not None:
            notes.append(f"objects {word} {size} bytes")
    return prefix, f" ({'; '.join(notes)})" if notes else ""


def rule_risks(bucket: str, keys: set[str], rules: list[dict[str, Any]], versioned: bool) -> list[str]:
    """Sentences for the enabled ``rules`` that can make one of ``keys`` undownloadable."""
    out = []
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        prefix, cond = _filter(rule)
        hit = sorted(k for k in keys if k.startswith(prefix))
        if not hit:
            continue
        common = os.path.commonprefix(hit)
        scope = f"s3://{bucket}/{common[:common.rfind('/') + 1] if '/' in common else ''}"
        name = f"lifecycle rule {rule.get('ID')!r}" if rule.get("ID") else "a lifecycle rule"
        exp = rule.get("Expiration") or {}
        if not versioned and ("Days" in exp or "Date" in exp):
            when = f"{exp['Days']} days after they are written" if "Days" in exp else f"on {exp['Date']}"
            out.append(f"objects under {scope} are deleted {when}{cond} ({name}): this version may become "
                       "undownloadable")
        nce = rule.get("NoncurrentVersionExpiration") or {}
        if versioned and ("NoncurrentDays" in nce or "NewerNoncurrentVersions" in nce):
            keep = (f", the newest {nce['NewerNoncurrentVersions']} kept" if nce.get("NewerNoncurrentVersions")
                    else "")
            out.append(f"versions of {scope} can expire after {nce.get('NoncurrentDays', 0)} days once "
                       f"replaced{keep}{cond} ({name}): this version may become undownloadable")
        for field, whose in (("Transitions", "objects under"), ("NoncurrentVersionTransitions", "versions of")):
            for t in rule.get(field) or [] if versioned or field == "Transitions" else []:
                if t.get("StorageClass") in _ARCHIVES:
                    days = t.get("Days", t.get("NoncurrentDays"))
                    when = f"after {days} days" if days is not None else f"on {t.get('Date')}"
                    out.append(f"{whose} {scope} move to {t['StorageClass']} {when}{cond} ({name}): downloading "
                               "this version then needs an S3 restore first")
    return out


def reference_risks(drv: S3Driver, uris: list[str]) -> list[RiskReport]:
    # Grouped by plain string cuts: a version of a million assets names a
    # handful of buckets, so each bucket's URI is checked by path_of once
    # (credentials in it, a missing bucket) instead of every asset's.
    by_bucket: dict[str, set[str]] = {}
    checked: dict[str, str] = {}
    for u in uris:
        scheme_end = u.find("://")
        head, _, key = u[scheme_end + 3:].partition("/")
        bucket = checked.get(u[:scheme_end + 3] + head)
        if bucket is None:
            bucket = checked[u[:scheme_end + 3] + head] = drv.split(drv.path_of(u[:scheme_end + 3] + head + "/"))[0]
        by_bucket.setdefault(bucket, set()).add(key.split("?versionId=", 1)[0])
    out = []
    for bucket, keys in sorted(by_bucket.items()):
        facts = drv._fact(bucket, "insurance", lambda b=bucket: _bucket_settings(drv, b))
        scope = redact(f"s3://{bucket}/")
        if facts["error"] is not None:
            out.append(RiskReport(scope, reason=facts["error"]))
            continue
        versioned = facts["versioning"] == "Enabled"
        out.append(RiskReport(scope, versioned=versioned,
                              risks=tuple(rule_risks(bucket, keys, facts["rules"], versioned))))
    return out


# ------------------------------------------------------------ gc and check
def inventory(drv: S3Driver, uri: str) -> list[StoredObject]:
    bucket, prefix = drv.split(drv.path_of(uri))
    out = []
    with drv.translating(uri):
        versioned = drv.versioned(bucket)
        op, rows = ("list_object_versions", "Versions") if versioned else ("list_objects_v2", "Contents")
        for page in drv._pages(bucket, op, Prefix=prefix):
            for row in page.get(rows, []):
                key = row["Key"]
                if key.endswith("/"):
                    continue
                out.append(StoredObject(drv.uri_of(f"{bucket}/{key}"), f"{bucket}/{key}", int(row.get("Size", 0)),
                                        epoch_of(row.get("LastModified")),
                                        row.get("VersionId") if versioned else None,
                                        bool(row.get("IsLatest", True))))
    return sorted(out, key=lambda o: (o.path, not o.latest))


# ------------------------------------------------------------------- holds
def set_hold(drv: S3Driver, asset: Asset, on: bool) -> None:
    from . import _error_code

    assert asset.uri is not None
    bucket, key = drv.split(drv.path_of(asset.uri))
    kw: dict[str, Any] = {"Key": key, "LegalHold": {"Status": "ON" if on else "OFF"}}
    if asset.version_id:
        kw["VersionId"] = asset.version_id
    try:
        drv._call(bucket, "put_object_legal_hold", **kw)
    except Exception as exc:  # noqa: BLE001 - becomes a tether error naming the object
        code, _ = _error_code(exc)
        if code in ("InvalidRequest", "ObjectLockConfigurationNotFoundError", "NotImplemented"):
            raise HoldNotSupportedError(
                f"{redact(asset.uri)}: s3://{bucket} has no Object Lock, so S3 cannot hold this object version "
                "(holds need a bucket created with Object Lock enabled)") from None
        raise drv.translate_error(exc, asset.uri, asset=asset) from None
