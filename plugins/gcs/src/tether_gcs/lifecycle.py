"""What GCS says about keeping objects, and the calls ``gc``, ``check`` and holds need.

* :func:`reference_risks` – the bucket's metadata (one ``buckets.get``, once
  per bucket per process): ``versioning.enabled`` and every ``Delete``
  lifecycle rule whose ``matchesPrefix`` / ``matchesSuffix`` covers a
  referenced object and that can delete noncurrent versions (``isLive:
  false``, ``numNewerVersions``, ``daysSinceNoncurrentTime``,
  ``noncurrentTimeBefore``, or an age rule not limited to live objects), or
  live objects of an unversioned bucket. ``SetStorageClass`` rules are not
  risks: every GCS class is read without a restore. Metadata the credentials
  may not read leaves the bucket ``unchecked``.
* :func:`inventory` – objects.list (with
  ``versions=true`` on a versioned bucket); ``delete_exact`` (the object-store
  base) deletes exactly the generation judged, so gc never removes a generation written since.
* :func:`set_hold` – a temporary hold on the pinned generation
  (``objects.patch`` with ``temporaryHold``), checked in the answer: a store
  that accepts the request without holding (fake-gcs-server does) is
  reported as unable to hold.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from tether.driverkit import RiskReport, StoredObject, epoch_of, redact
from tether.errors import AccessDeniedError, HoldNotSupportedError, ObjectNotFoundError
from tether.models import Asset

if TYPE_CHECKING:
    from . import GCSDriver

_LOCK = threading.Lock()


def _settings(drv: GCSDriver, bucket: str) -> dict[str, Any]:
    cache: dict[str, dict[str, Any]] = drv.__dict__.setdefault("_insurance", {})
    with _LOCK:
        if bucket in cache:
            return cache[bucket]
    try:
        with drv.translating(f"gs://{bucket}/"):
            meta = drv._json(bucket, "GET", "b/{}", bucket)
        out = {"versioned": bool((meta.get("versioning") or {}).get("enabled")),
               "rules": list((meta.get("lifecycle") or {}).get("rule") or []), "error": None}
    except AccessDeniedError:
        out = {"error": "the credentials may not read its metadata (storage.buckets.get): versioning and "
                        "lifecycle rules unknown"}
    except Exception as exc:  # noqa: BLE001 - any other failure also leaves the bucket unchecked
        out = {"error": f"reading its metadata failed ({exc})"}
    with _LOCK:
        cache[bucket] = out
    return out


def _noncurrent(cond: dict[str, Any]) -> bool:
    return cond.get("isLive") is False or any(k in cond for k in (
        "numNewerVersions", "daysSinceNoncurrentTime", "noncurrentTimeBefore"))


def _when(cond: dict[str, Any]) -> str:
    parts = []
    if "age" in cond:
        parts.append(f"{cond['age']} days after they were written")
    if "createdBefore" in cond:
        parts.append(f"if created before {cond['createdBefore']}")
    if "daysSinceNoncurrentTime" in cond:
        parts.append(f"{cond['daysSinceNoncurrentTime']} days after they are replaced")
    if "numNewerVersions" in cond:
        parts.append(f"once {cond['numNewerVersions']} newer versions exist")
    if "noncurrentTimeBefore" in cond:
        parts.append(f"if replaced before {cond['noncurrentTimeBefore']}")
    if "daysSinceCustomTime" in cond:
        parts.append(f"{cond['daysSinceCustomTime']} days after their custom time")
    return ", ".join(parts) or "under a lifecycle rule"


def rule_risks(bucket: str, names: set[str], rules: list[dict[str, Any]], versioned: bool) -> list[str]:
    """Sentences for the ``Delete`` rules that can make one of ``names`` undownloadable."""
    out = []
    for rule in rules:
        if (rule.get("action") or {}).get("type") != "Delete":
            continue
        cond = rule.get("condition") or {}
        prefixes, suffixes = cond.get("matchesPrefix") or [""], cond.get("matchesSuffix") or [""]
        hit = sorted(n for n in names if any(n.startswith(p) for p in prefixes)
                     and any(n.endswith(s) for s in suffixes))
        if not hit:
            continue
        common = os.path.commonprefix(hit)
        scope = f"gs://{bucket}/{common[:common.rfind('/') + 1] if '/' in common else ''}"
        if _noncurrent(cond) or (versioned and cond.get("isLive") is not True):
            out.append(f"versions of {scope} can be deleted {_when(cond)} (bucket lifecycle rule): this version "
                       "may become undownloadable")
        elif not versioned:
            out.append(f"objects under {scope} are deleted {_when(cond)} (bucket lifecycle rule): this version "
                       "may become undownloadable")
    return out


def reference_risks(drv: GCSDriver, uris: list[str]) -> list[RiskReport]:
    by_bucket: dict[str, set[str]] = {}
    for u in uris:
        bucket, name = drv.split(drv.path_of(u))
        by_bucket.setdefault(bucket, set()).add(name)
    out = []
    for bucket, names in sorted(by_bucket.items()):
        facts = _settings(drv, bucket)
        scope = redact(f"gs://{bucket}/")
        if facts["error"] is not None:
            out.append(RiskReport(scope, reason=facts["error"]))
        else:
            out.append(RiskReport(scope, versioned=facts["versioned"],
                                  risks=tuple(rule_risks(bucket, names, facts["rules"], facts["versioned"]))))
    return out


# ------------------------------------------------------------ gc and check
def inventory(drv: GCSDriver, uri: str) -> list[StoredObject]:
    bucket, prefix = drv.split(drv.path_of(uri))
    params: dict[str, Any] = {"prefix": prefix}
    if drv.versioned(bucket):
        params["versions"] = "true"
    out = []
    try:
        with drv.translating(uri):
            for page in drv._pages(bucket, **params):
                for item in page.get("items", []):
                    name = item["name"]
                    if name.endswith("/"):
                        continue
                    out.append(StoredObject(drv.uri_of(f"{bucket}/{name}"), f"{bucket}/{name}",
                                            int(item.get("size", 0)), epoch_of(item.get("updated")),
                                            str(item["generation"]) if item.get("generation") else None,
                                            not item.get("timeDeleted")))
    except ObjectNotFoundError:
        return []
    return sorted(out, key=lambda o: (o.path, not o.latest))


def set_hold(drv: GCSDriver, asset: Asset, on: bool) -> None:
    assert asset.uri is not None
    bucket, name = drv.split(drv.path_of(asset.uri))
    params = {"generation": asset.version_id} if asset.version_id else {}
    with drv.translating(asset.uri, asset=asset):
        item = drv._json(bucket, "PATCH", "b/{}/o/{}", bucket, name, json={"temporaryHold": on}, **params)
    if bool(item.get("temporaryHold")) != on:
        raise HoldNotSupportedError(f"{redact(asset.uri)}: the store accepted a temporary hold but does not report "
                                    "one on the object, so it cannot be relied on to hold it (emulators such as "
                                    "fake-gcs-server ignore holds)")
