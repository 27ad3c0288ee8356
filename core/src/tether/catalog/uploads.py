"""Uploading the local files of ``Artifact.add`` into content-addressed storage.

Files land at ``<storage>/sha256/<ab>/<digest>``: the same bytes logged twice,
by any artifact, are stored once.
"""

from __future__ import annotations

from ..artifact import Artifact, PendingFile
from ..errors import TetherError
from ..models import Asset, RemoteObject
from ..parallel import parallel_map
from ..resolver import driver_for_uri, scheme_of


def upload_pending(artifact: Artifact, storage_uri: str, workers: int | None) -> list[Asset]:
    """Upload files from Artifact.add (skipping ones already there) and return
    their assets, one per pending file, in order."""
    target_root = (artifact.artifacts_uri or storage_uri).rstrip("/")
    store = driver_for_uri(target_root)
    local = driver_for_uri("file:///")
    pending = artifact.pending_files
    hashed = local.enrich([RemoteObject(uri="file://" + p.local_path, path=p.local_path, size=0)
                           for p in pending])

    def one(item: tuple[PendingFile, RemoteObject]) -> Asset:
        pf, obj = item
        sha = obj.checksums["sha256"]
        uri = f"{target_root}/sha256/{sha[:2]}/{sha}"
        existing = store.stat_path(store.path_of(uri))
        if existing is not None and existing.size == obj.size:
            stored = store.enrich([existing])[0] if scheme_of(uri) == "file" else existing
        else:
            stored = store.upload(pf.local_path, uri)
        sums = dict(stored.checksums)
        if sums.get("sha256", sha) != sha:
            raise TetherError(f"{pf.local_path} changed while it was uploaded")
        sums["sha256"] = sha
        return Asset(logical_path=pf.logical_path, link=stored.uri, uri=stored.uri, size=stored.size,
                     checksums=sums, version_id=stored.version_id, last_modified=stored.last_modified,
                     metadata=pf.metadata)

    return parallel_map(one, zip(pending, hashed), workers or store.default_workers)
