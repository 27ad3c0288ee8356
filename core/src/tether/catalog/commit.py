"""Logging a version: the :meth:`~tether.catalog.Catalog.log` method and the claim protocol.

``log`` uploads pending files, checks references, skips content identical to
the latest version, writes the content-addressed manifest, then claims the next
version number with a create-if-absent write (see :mod:`.core` for the layout
and the protocol, and :mod:`.claims` for the claim document). This is the
write path benchmarked with large versions: keep it lean.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from ..artifact import Artifact, check_artifact, check_name, warn_in_place
from ..errors import AlreadyExistsError, ManifestError, TetherError, UnknownVersionError
from ..models import Manifest, content_digest
from ..paths import check_file_folder_clash
from ..progress import Progress, reporting
from ..rows import materialise
from .active import active_run_id, record_edge
from .claims import is_ours, make_claim, new_log_id
from .insurance import insure_references
from .intents import release_intents
from .refs import check_tag, names
from .uploads import upload_pending
from .version import ArtifactVersion

if TYPE_CHECKING:
    from .core import Catalog

COMPRESS_OVER_ASSETS = 1000
_logical_path = operator.attrgetter("logical_path")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CommitMixin:
    """``log``, and the manifest write and version claim behind it."""

    def log(self: Catalog, artifact: Artifact, aliases: Iterable[str] = (), tags: Iterable[str] = (),
            *, workers: int | None = None, progress: Progress | None = None) -> ArtifactVersion:
        """Log ``artifact`` as the next version of its name.

        Content identical to the latest version (same assets, checksums and
        version ids) returns that version instead of creating a new one; the
        aliases and tags given are applied to it, and its ``is_new`` is False
        (True for a version this call created). One string is one alias or
        tag: ``aliases="prod"`` is ``aliases=["prod"]``.

        Files from :meth:`Artifact.add` are uploaded first (``progress`` receives
        their hashing and uploading). Local files from :meth:`Artifact.add_remote`
        are recorded in place, with one :class:`~tether.artifact.InPlaceWarning`."""
        check_artifact(artifact)
        aliases, tags = names(aliases, "aliases"), names(tags, "tags")
        run_id = active_run_id(self)  # inside a run: the version is its output
        for a in aliases:
            check_name(a, "alias")
        for t in tags:
            check_tag(t)
        # As held: folder listings are still rows (tether.rows), built into assets
        # only if a manifest is written; an unchanged re-log never builds them.
        assets: list = list(artifact._recorded())
        check_file_folder_clash([*(a.logical_path for a in assets),
                                 *(p.logical_path for p in artifact.pending_files)], label=f"artifact {artifact.name!r}")
        if artifact.pending_files:
            with reporting(progress):
                assets.extend(upload_pending(artifact, self.storage_uri, workers))
        if not assets:
            raise TetherError(f"artifact {artifact.name!r} has no assets to log")
        assets.sort(key=_logical_path)
        frozen = tuple(assets)
        insure_references(self, frozen, strict=artifact.strict)
        digest = content_digest(artifact.type, frozen)
        name = artifact.name
        latest = self.latest_version(name)
        manifest: Manifest | None = None
        if latest is not None and self._latest_digest(name, latest) == digest:
            number = latest
        else:
            frozen = materialise(frozen)
            manifest = Manifest(name=name, type=artifact.type, assets=frozen, created_at=_now(),
                                metadata=artifact.metadata, digest=digest, created_by_run=run_id)
            number = self._commit(manifest, latest)
        release_intents()  # the claim now references the uploads (see .intents)
        for a in aliases:
            self.set_alias(name, a, number)
        if tags:
            self.add_tags(name, number, *tags)
        if run_id is not None:  # also for unchanged content: the run is a second producer
            record_edge(self, run_id, "output", name, number, created=manifest is not None)
        warn_in_place(f"{name}:v{number}", artifact._recorded())
        if manifest is None:
            # Same content as the latest version (same type: the digest covers it).
            return attrs.evolve(self._load(name, number, lazy_type=artifact.type), run_id=run_id)
        # A version just written: no need to read back what is in memory. It is
        # new, so its only aliases and tags are the ones just given.
        return ArtifactVersion(name=name, version=number, type=manifest.type, created_at=manifest.created_at,
                               digest=digest, assets=frozen, metadata=manifest.metadata,
                               aliases=tuple(sorted(set(aliases))), tags=tuple(sorted(set(tags))), catalog=self,
                               created_by_run=run_id, run_id=run_id, is_new=True)

    def _latest_digest(self: Catalog, name: str, latest: int) -> str | None:
        # Only a shortcut: a damaged latest claim must not block logging a new version.
        try:
            return self._read_claim(name, latest).get("digest")
        except (ManifestError, UnknownVersionError):
            return None

    def _commit(self: Catalog, manifest: Manifest, latest: int | None) -> int:
        compress = len(manifest.assets) > COMPRESS_OVER_ASSETS
        data = manifest.to_bytes(compress=compress)
        sha = hashlib.sha256(data).hexdigest()
        rel = f"manifests/{sha}.json" + (".gz" if compress else "")
        uri = self._uri("artifacts", manifest.name, rel)
        if not self._driver.exists(uri):
            try:
                self._driver.write_bytes(uri, data, if_absent=True)
            except AlreadyExistsError:
                pass  # same content, written by a concurrent logger
        number = (latest or 0) + 1
        log_id = new_log_id()
        for _ in range(10_000):
            claim = make_claim(name=manifest.name, version=number, manifest=rel, created_at=manifest.created_at,
                               digest=manifest.digest, asset_count=len(manifest.assets),
                               total_size=manifest.total_size, log_id=log_id,
                               created_by_run=manifest.created_by_run)
            try:
                self._driver.write_bytes(self._uri("artifacts", manifest.name, "versions", f"{number:010d}.json"),
                                         claim, if_absent=True)
                return number
            except AlreadyExistsError:
                if self._claimed_by(manifest.name, number, rel, log_id):
                    return number  # our own write, retried after its answer was lost
                newest = max(self._claimed_numbers(manifest.name), default=number)
                number = max(number, newest) + 1
        raise TetherError(f"could not claim a version number for {manifest.name!r}")

    def _claimed_by(self: Catalog, name: str, number: int, rel: str, log_id: str) -> bool:
        try:
            return is_ours(self._read_claim(name, number), rel, log_id)
        except (ManifestError, UnknownVersionError):
            return False  # damaged or gone: not a claim this log wrote
