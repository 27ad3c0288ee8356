"""Reference insurance: will the bytes a version points at still be there?

A version of a *reference* is only as durable as the bucket it points into.
Two things make it undownloadable without anyone touching tether: the bucket
keeps no old versions (an overwrite or delete of the object is final), or a
lifecycle rule expires (or archives) the objects or their noncurrent
versions. So:

* at log time, :func:`insure_references` asks each driver once per bucket per
  process (:meth:`Driver.reference_risks`: S3 GetBucketVersioning and
  GetBucketLifecycleConfiguration; GCS bucket metadata) and warns with the
  consequence; ``strict`` (``Artifact(strict=True)``, ``tether log --strict``)
  refuses instead, before anything is recorded. A bucket the credentials
  cannot inspect is reported as unchecked, never as safe. Objects tether
  uploaded into the catalog's own storage are content-addressed and never
  overwritten, so only lifecycle rules matter for them.
  ``TETHER_REFERENCE_CHECKS=off`` skips the check (for catalogs whose buckets
  are known to be fine).
* :func:`check_version` (``tether check``, ``version.check()``) asks the store
  for the metadata of every pinned object version (a HEAD each, bounded
  concurrency, no byte downloaded) and reports ``ok`` / ``gone`` /
  ``changed`` per asset: a nightly job that notices before a user does.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ..checksums import kinds as checksum_kinds
from ..driver import Driver, RiskReport
from ..errors import (
    AccessDeniedError,
    NoDriverError,
    ObjectNotFoundError,
    ReferenceRiskError,
    TetherError,
)
from ..models import Asset, RemoteObject
from ..parallel import parallel_map
from ..resolver import driver_for_uri
from ..uris import redact

if TYPE_CHECKING:
    from .core import Catalog
    from .version import ArtifactVersion


class ReferenceRiskWarning(UserWarning):
    """A logged version points at objects its store may not keep."""


_WARNED: set[str] = set()
_LOCK = threading.Lock()


def enabled() -> bool:
    return os.environ.get("TETHER_REFERENCE_CHECKS", "").strip().lower() not in ("0", "off", "false", "no")


def reference_risks(catalog: Catalog | None, assets: Iterable[Asset]) -> list[RiskReport]:
    """One report per bucket (or store) the synced ``assets`` point into."""
    storage = catalog.storage_uri + "/" if catalog is not None else None
    groups: dict[tuple[int, bool], tuple[Driver, list[str]]] = {}
    by_scheme: dict[str, Driver | None] = {}  # one registry lookup per scheme, not per asset
    for a in assets:
        if not a.synced or not a.uri:
            continue
        cut = a.uri.find("://")
        scheme = a.uri[:cut] if cut > 0 else ""
        if scheme in by_scheme:
            driver = by_scheme[scheme]
        else:
            try:
                driver = driver_for_uri(a.uri)
            except NoDriverError:
                driver = None
            if scheme:  # a plain path is not memoised: nothing to key it on
                by_scheme[scheme] = driver
        if driver is None:
            continue
        ours = storage is not None and a.uri.startswith(storage)
        groups.setdefault((id(driver), ours), (driver, []))[1].append(a.uri)
    out: list[RiskReport] = []
    for (_, ours), (driver, uris) in sorted(groups.items(), key=lambda kv: kv[0][1]):
        for r in driver.reference_risks(sorted(set(uris))):
            # Content-addressed uploads are never overwritten: versioning does not matter there.
            out.append(attrs.evolve(r, versioned=None) if ours else r)
    return out


def problems(reports: Iterable[RiskReport]) -> list[RiskReport]:
    """Reports worth telling at log time: risks, and buckets that could not be inspected."""
    return [r for r in reports if r.status == "at-risk" or (r.status == "unchecked" and r.inspectable)]


def insure_references(catalog: Catalog, assets: tuple[Asset, ...], *, strict: bool = False) -> list[RiskReport]:
    """The log-time check: warn (once per process per message) or, ``strict``, refuse."""
    if not enabled():
        return []
    found = problems(reference_risks(catalog, assets))
    if strict and found:
        said = "; ".join(m for r in found for m in r.messages)
        raise ReferenceRiskError(f"{said} (strict: nothing was logged; set versioning / lifecycle rules, or log "
                                 "without --strict to record it with a warning)")
    for r in found:
        for m in r.messages:
            with _LOCK:
                if m in _WARNED:
                    continue
                _WARNED.add(m)
            warnings.warn(m, ReferenceRiskWarning, stacklevel=3)  # the caller of log()
    return found


# -------------------------------------------------------------------- check
@attrs.frozen
class AssetCheck:
    logical_path: str
    status: str  # ok | gone | changed | unchecked | skipped
    uri: str | None = None
    detail: str | None = None


@attrs.frozen
class CheckResult:
    """``tether check``: every pinned object version, by metadata alone."""

    ref: str
    outcomes: tuple[AssetCheck, ...]
    risks: tuple[RiskReport, ...] = ()

    @property
    def ok(self) -> bool:
        return all(o.status in ("ok", "skipped") for o in self.outcomes)

    def with_status(self, status: str) -> list[AssetCheck]:
        return [o for o in self.outcomes if o.status == status]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "ok": self.ok, "counts": self.counts(),
                "outcomes": [attrs.asdict(o) for o in self.outcomes],
                "risks": [{"scope": r.scope, "status": r.status, "versioned": r.versioned,
                           "messages": r.messages} for r in self.risks]}


def compare(asset: Asset, obj: RemoteObject) -> str | None:
    """Why ``obj`` is not the recorded object version, or None when it is."""
    if asset.version_id and obj.version_id and asset.version_id != obj.version_id:
        return f"version {obj.version_id}, recorded {asset.version_id}"
    if asset.size is not None and obj.size != asset.size:
        return f"size {obj.size}, recorded {asset.size}"
    # Content checksums when both sides have one; the ETag only otherwise (a
    # GCS ETag also changes with metadata, a hold for instance).
    kinds = [k for k in checksum_kinds().ranked if k in asset.checksums and k in obj.checksums] or \
        [k for k in ("etag",) if k in asset.checksums and k in obj.checksums]
    for kind in kinds:
        if obj.checksums[kind] != asset.checksums[kind]:
            return f"{kind} {obj.checksums[kind]}, recorded {asset.checksums[kind]}"
    return None


def check_asset(asset: Asset) -> AssetCheck:
    if not asset.synced or not asset.uri:
        return AssetCheck(asset.logical_path, "skipped", asset.link, "link only: nothing pinned to check")
    shown = redact(asset.uri)
    try:
        obj = driver_for_uri(asset.uri).stat_version(asset)
    except ObjectNotFoundError:  # VersionGoneError included
        obj = None
    except AccessDeniedError as exc:
        return AssetCheck(asset.logical_path, "unchecked", shown, str(exc))
    except (TetherError, OSError) as exc:
        return AssetCheck(asset.logical_path, "unchecked", shown, f"{type(exc).__name__}: {exc}")
    if obj is None:
        pin = f" (version {asset.version_id})" if asset.version_id else ""
        return AssetCheck(asset.logical_path, "gone", shown, f"the recorded object{pin} no longer exists")
    why = compare(asset, obj)
    return AssetCheck(asset.logical_path, "changed" if why else "ok", shown, why)


def check_version(version: ArtifactVersion, *, workers: int | None = None, risks: bool = True) -> CheckResult:
    """HEAD every pinned object version of ``version``; ``risks`` adds the
    reference-insurance reports of the buckets involved."""
    from .version import check_sources_allowed

    check_sources_allowed(version.assets, version.catalog, version.ref)
    outcomes = parallel_map(check_asset, list(version.assets), workers or 16)
    reports = tuple(reference_risks(version.catalog, version.assets)) if risks else ()
    return CheckResult(version.ref, tuple(outcomes), reports)
