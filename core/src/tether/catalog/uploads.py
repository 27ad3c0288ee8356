"""Uploading the local files of ``Artifact.add`` into content-addressed storage.

Files land at ``<storage>/sha256/<ab>/<digest>``: the same bytes logged twice,
by any artifact, are stored once. An address is trusted only for what the
store can prove about it: an object already there is used only when
:meth:`Driver.holds` verifies it holds the file (the same size is not
enough), otherwise the file is uploaded over it, so a store holding wrong
bytes at an address heals on the next upload of the right ones. Uploads
themselves keep the :meth:`Driver.upload` contract: the bytes at the address
are the bytes its digest names, or the log fails (a file changed while it was
logged is a :class:`~tether.errors.SourceChangedError` naming it) and records
nothing.
"""

from __future__ import annotations

from .. import operations, progress
from ..artifact import Artifact
from ..driver import Driver
from ..errors import TetherError
from ..models import Asset, RemoteObject
from ..parallel import parallel_map
from ..resolver import driver_for_uri
from .intents import announce


def content_uri(root: str, sha256: str) -> str:
    return f"{root}/sha256/{sha256[:2]}/{sha256}"


def upload_pending(artifact: Artifact, storage_uri: str, workers: int | None) -> list[Asset]:
    """Upload files from Artifact.add (skipping ones already there) and return
    their assets, one per pending file, in order."""
    target_root = (artifact.artifacts_uri or storage_uri).rstrip("/")
    store = driver_for_uri(target_root)
    local = driver_for_uri("file:///")
    pending = artifact.pending_files
    hashed = local.enrich([RemoteObject(uri="file://" + p.local_path, path=p.local_path, size=0)
                           for p in pending])
    # One store operation per distinct content: identical files share an
    # address, and two uploads racing for it within one log help nobody.
    todo: dict[str, tuple[str, int]] = {}
    for pf, obj in zip(pending, hashed):
        todo.setdefault(obj.checksums["sha256"], (pf.local_path, obj.size))
    progress.expect("uploading", sum(size for _, size in todo.values()))

    def one(item: tuple[str, tuple[str, int]]) -> tuple[RemoteObject, bool]:
        sha, (path, size) = item
        uri = content_uri(target_root, sha)
        existing = store.stat_path(store.path_of(uri))
        if existing is not None and existing.size == size and store.holds(existing, path, sha256=sha):
            progress.advance("uploading", size)  # already stored: nothing left to send
            return existing, False
        return operations.upload(store, path, uri, sha256=sha), True

    if target_root == storage_uri.rstrip("/"):
        announce(store, target_root, todo)  # before looking at any address: see .intents (gc)
    done = parallel_map(one, list(todo.items()), workers or store.default_workers)
    stored = dict(zip(todo, done))
    _sweep(store, {content_uri(target_root, sha).rsplit("/", 1)[0] for sha, (_, up) in stored.items() if up})
    assets = []
    for pf, obj in zip(pending, hashed):
        sha = obj.checksums["sha256"]
        got = stored[sha][0]
        sums = dict(got.checksums)
        sums["sha256"] = sha  # verified: by upload() or by holds()
        assets.append(Asset(logical_path=pf.logical_path, link=got.uri, uri=got.uri, size=got.size,
                            checksums=sums, version_id=got.version_id, last_modified=got.last_modified,
                            metadata=pf.metadata))
    return assets


def _sweep(store: Driver, folders: set[str]) -> None:
    """Remove what uploads killed mid-way left, a day later, in the folders
    this pass wrote to (see :mod:`tether.staging`). Housekeeping only: a
    store that refuses (no permission to list uploads ...) fails no log."""
    for folder in sorted(folders):
        try:
            store.remove_stale_uploads(folder)
        except (TetherError, OSError):
            continue
