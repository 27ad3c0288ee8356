"""``status``: a version's recorded assets compared with the store now."""

from __future__ import annotations

from typing import Any

import attrs

from .. import operations
from ..errors import ObjectNotFoundError
from ..localtree import DEFAULT_EXCLUDES, Excludes
from ..models import Asset, RemoteObject
from ..resolver import driver_for_uri, scheme_of


@attrs.frozen
class AssetStatus:
    logical_path: str | None
    status: str  # unchanged | modified | deleted | new | skipped
    uri: str | None = None
    detail: str | None = None


@attrs.frozen
class StatusResult:
    outcomes: tuple[AssetStatus, ...]

    @property
    def drifted(self) -> bool:
        return any(o.status in ("modified", "deleted", "new") for o in self.outcomes)

    def with_status(self, status: str) -> list[AssetStatus]:
        return [o for o in self.outcomes if o.status == status]


# ---------------------------------------------------------------------- status
def _same(asset: Asset, obj: RemoteObject) -> tuple[bool, str | None]:
    if asset.version_id and obj.version_id:
        if asset.version_id == obj.version_id:
            return True, None
        return False, f"version {obj.version_id}, recorded {asset.version_id}"
    if obj.size != asset.size:
        return False, f"size {obj.size}, recorded {asset.size}"
    for kind in ("sha256", "md5", "crc32c", "etag"):
        if kind in asset.checksums and kind in obj.checksums:
            if asset.checksums[kind] != obj.checksums[kind]:
                return False, f"{kind} {obj.checksums[kind]}, recorded {asset.checksums[kind]}"
            return True, None
    return True, None


def status_of(assets: tuple[Asset, ...]) -> StatusResult:
    out: list[AssetStatus] = []
    by_source: dict[str | None, list[Asset]] = {}
    for a in assets:
        if not a.synced:
            out.append(AssetStatus(a.logical_path, "skipped", detail=f"link-only: {a.link}"))
        else:
            by_source.setdefault(a.source, []).append(a)
    for source, group in by_source.items():
        if source is None:
            for a in group:
                assert a.uri is not None
                obj = driver_for_uri(a.uri).stat_path(driver_for_uri(a.uri).path_of(a.uri))
                if obj is None:
                    out.append(AssetStatus(a.logical_path, "deleted", a.uri))
                    continue
                obj = driver_for_uri(a.uri).enrich([obj])[0]
                same, why = _same(a, obj)
                out.append(AssetStatus(a.logical_path, "unchanged" if same else "modified", a.uri, why))
            continue
        driver = driver_for_uri(source)
        # A local folder was logged without the default excludes' files (.git/ ...):
        # they are not "new". Patterns a user gave at log time are not recorded.
        leave_out: dict[str, Any] = ({"exclude": Excludes(DEFAULT_EXCLUDES)}
                                     if driver.lists_with_exclude and scheme_of(source) == "file" else {})
        try:
            res = operations.resolve(driver, source, max_objects=max(10_000, 2 * len(group) + 1000), **leave_out)
            current = {o.uri: o for o in res.objects}
        except ObjectNotFoundError:
            current = {}
        for a in group:
            obj = current.pop(a.uri or "", None)
            if obj is None:
                out.append(AssetStatus(a.logical_path, "deleted", a.uri))
            else:
                same, why = _same(a, obj)
                out.append(AssetStatus(a.logical_path, "unchanged" if same else "modified", a.uri, why))
        for uri in sorted(current):
            out.append(AssetStatus(None, "new", uri, f"under {source}, not in the manifest"))
    return StatusResult(tuple(out))
