"""``ArtifactVersion``: one logged version, and ``VersionInfo``, its summary."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .. import config, transfer
from ..errors import DownloadError, SchemeNotAllowedError
from ..models import Asset, FrozenMap, Manifest
from ..progress import Progress, expect, reporting
from ..resolver import driver_for_uri, scheme_of
from ..selection import Filter, filter_new, select
from ..uris import redact
from .status import StatusResult, status_of

if TYPE_CHECKING:
    from ..diff import VersionDiff
    from .core import Catalog
    from .insurance import CheckResult


#: Schemes that read this machine's own disk.
LOCAL_SCHEMES = frozenset({"file"})


def check_sources_allowed(assets: tuple[Asset, ...], catalog: Catalog | None, ref: str) -> None:
    """Refuse sources on this machine named by a catalog that is not.

    Whoever can write to a team catalog could otherwise log ``file://`` URIs
    (``file:///home/you/.ssh/id_rsa``, with no checksum) and have everyone's
    ``download`` copy their own local files into DEST, or ``status`` probe
    them. As Icechunk asks before following virtual chunks into a container,
    such sources need the reader's consent: ``TETHER_ALLOW_SCHEMES=file`` or
    ``allow_schemes = ["file"]`` in the config file. A catalog on this machine
    (a ``file://`` root, network mounts included) is trusted like its files.
    """
    if catalog is None or scheme_of(catalog.root) in LOCAL_SCHEMES:
        return
    allowed: frozenset[str] | None = None
    for a in assets:
        if a.synced and a.uri is not None and scheme_of(a.uri) in LOCAL_SCHEMES:
            allowed = config.allowed_schemes() if allowed is None else allowed
            if scheme_of(a.uri) not in allowed:
                raise SchemeNotAllowedError(
                    f"{ref}: asset {a.logical_path!r} is a file on this machine ({redact(a.uri)}) named by "
                    f"a catalog that is not ({redact(catalog.root)}); refused. To allow it, set "
                    f"TETHER_ALLOW_SCHEMES={scheme_of(a.uri)} or allow_schemes = [\"{scheme_of(a.uri)}\"] "
                    "in the tether config file")


#: Where Artifact.add stores files: a changed file there is damage, not an edit.
_CONTENT_ADDRESS_RE = re.compile(r"/sha256/[0-9a-f]{2}/[0-9a-f]{64}$")
IN_PLACE_HINT = ("; it was tracked in place (not copied) and changed or vanished since, so these bytes "
                 "cannot come back. To keep copies, log with Artifact.add (CLI: tether log without --in-place)")


def _explain_in_place(result: transfer.DownloadResult, assets: tuple[Asset, ...]) -> transfer.DownloadResult:
    in_place = {a.logical_path for a in assets if a.synced and a.uri is not None
                and scheme_of(a.uri) == "file" and not _CONTENT_ADDRESS_RE.search(a.uri)}
    if not in_place or result.ok:
        return result
    return attrs.evolve(result, outcomes=tuple(
        attrs.evolve(o, error=f"{o.error}{IN_PLACE_HINT}")
        if o.status == "failed" and o.logical_path in in_place and o.error else o for o in result.outcomes))


@attrs.frozen
class VersionInfo:
    """A version's summary, read from its small claim object alone."""

    name: str
    version: int
    created_at: str
    digest: str
    asset_count: int
    total_size: int


@attrs.frozen
class ArtifactVersion:
    """One logged version: its manifest plus aliases and tags as read when loaded.

    Two versions are equal when they are the same version of the same name
    with the same content digest. ``assets`` and ``metadata`` may be read from
    the manifest on first use: logging content identical to the latest version
    returns that version without parsing its (possibly 100,000-row) manifest.
    """

    name: str
    version: int
    type: str
    created_at: str
    digest: str
    _assets: tuple[Asset, ...] | None = attrs.field(default=None, alias="assets", eq=False, repr=False)
    _metadata: Mapping[str, Any] | None = attrs.field(default=None, alias="metadata", eq=False, repr=False)
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    catalog: Catalog | None = attrs.field(default=None, eq=False, repr=False)
    _manifest_reader: Callable[[], Manifest] | None = attrs.field(default=None, alias="manifest_reader",
                                                                  eq=False, repr=False)
    #: The run that created this version (recorded in its manifest and claim),
    #: None for a version logged outside any run.
    created_by_run: str | None = attrs.field(default=None, eq=False)
    _run_id: str | None = attrs.field(default=None, alias="run_id", eq=False, repr=False)

    @property
    def run_id(self) -> str | None:
        """The run this version came from, as seen by whoever holds it.

        Returned by a log inside a run, it is that run, also when the content
        was unchanged and the run became a second producer of an existing
        version (``run.log(art).run_id == run.id`` always); loaded otherwise,
        it is :attr:`created_by_run`. All producers: ``catalog.lineage(ref)``."""
        return self._run_id or self.created_by_run

    #: True on the version a :meth:`Catalog.log` call just created; False when the
    #: log found the same content as the latest version and returned that one,
    #: and on versions read with :meth:`Catalog.get`.
    is_new: bool = attrs.field(default=False, eq=False, repr=False)

    @property
    def assets(self) -> tuple[Asset, ...]:
        if self._assets is None:
            self._fill()
        return self._assets  # type: ignore[return-value]

    @property
    def metadata(self) -> Mapping[str, Any]:
        if self._metadata is None:
            self._fill()
        return self._metadata  # type: ignore[return-value]

    def _fill(self) -> None:
        manifest = self._manifest_reader() if self._manifest_reader is not None else None
        # Frozen to callers; filled once here (idempotent, so a race only reads twice).
        object.__setattr__(self, "_assets", manifest.assets if manifest else ())
        object.__setattr__(self, "_metadata", manifest.metadata if manifest else FrozenMap())

    @property
    def ref(self) -> str:
        return f"{self.name}:v{self.version}"

    @property
    def total_size(self) -> int:
        return sum(a.size or 0 for a in self.assets)

    def asset(self, logical_path: str) -> Asset:
        for a in self.assets:
            if a.logical_path == logical_path:
                return a
        raise KeyError(logical_path)

    def select(self, *, include: Filter = None, exclude: Filter = None,
               shard: str | tuple[int, int] | None = None) -> tuple[Asset, ...]:
        """The assets ``include`` / ``exclude`` patterns and ``shard=(i, n)`` choose
        (see :mod:`tether.selection`); all of them when none is given."""
        return select(self.assets, include=include, exclude=exclude, shard=shard, label=self.ref)

    def download(self, dest: str | os.PathLike[str], overwrite: transfer.Overwrite = "fail",
                 workers: int | None = None, progress: transfer.Progress | None = None, *,
                 strict: bool = False, raise_on_error: bool = True,
                 require_verified: bool = False, include: Filter = None, exclude: Filter = None,
                 shard: str | tuple[int, int] | None = None) -> transfer.DownloadResult:
        """Fetch exactly the recorded bytes into ``dest`` (see :mod:`tether.transfer`);
        only the assets ``include`` / ``exclude`` / ``shard`` choose, when given.

        ``require_verified=True``: refuse (``UnverifiedAssetError``, nothing
        written) when any asset's ``verification`` is ``size-only``. A local
        file tracked in place that changed or vanished since it was logged
        cannot be fetched: its failure says so, and how to keep copies."""
        assets = self.select(include=include, exclude=exclude, shard=shard)
        check_sources_allowed(assets, self.catalog, self.ref)
        result = transfer.download(assets, dest, overwrite=overwrite, workers=workers,
                                   progress=progress, strict=strict, raise_on_error=False,
                                   driver_for=lambda a: driver_for_uri(a.uri or a.link), label=self.ref,
                                   require_verified=require_verified)
        result = _explain_in_place(result, assets)
        failed = result.with_status("failed")
        if failed and raise_on_error:
            raise DownloadError(f"{len(failed)} of {len(assets)} asset(s) of {self.ref} failed; first: "
                                f"{failed[0].error}", result)
        return result

    def verify(self, dest: str | os.PathLike[str], *, progress: Progress | None = None, include: Filter = None,
               exclude: Filter = None, shard: str | tuple[int, int] | None = None) -> transfer.VerifyResult:
        """Check a local copy under ``dest`` against the manifest, the chosen
        assets only (``progress``: the bytes hashed, see :mod:`tether.progress`)."""
        assets = self.select(include=include, exclude=exclude, shard=shard)
        with reporting(progress):
            if progress is not None:
                expect("hashing", sum(a.size or 0 for a in assets if a.synced))
            return transfer.verify(assets, dest)

    def check(self, *, workers: int | None = None, risks: bool = True) -> CheckResult:
        """Whether every pinned object version is still in its store, with the
        recorded size and checksums: metadata requests only, nothing downloaded
        (see :mod:`.insurance`). ``risks`` adds what the buckets say about keeping them."""
        from .insurance import check_version

        return check_version(self, workers=workers, risks=risks)

    def status(self, *, progress: Progress | None = None, include: Filter = None, exclude: Filter = None,
               shard: str | tuple[int, int] | None = None) -> StatusResult:
        """Compare the recorded assets with the store now: one listing per source
        (``progress``: the objects listed, see :mod:`tether.progress`).

        With filters, only the chosen assets are compared, and an object new
        under a source is reported when the logical path it would get matches
        ``include`` / ``exclude``; a new object belongs to no shard, so with
        ``shard`` none is reported."""
        assets = self.select(include=include, exclude=exclude, shard=shard)
        check_sources_allowed(assets, self.catalog, self.ref)
        with reporting(progress):
            result = status_of(assets)
        if include is None and exclude is None and shard is None:
            return result
        return filter_new(result, self.assets, include=include, exclude=exclude, shard=shard)

    def diff(self, other: ArtifactVersion, *, prefix: str | None = None) -> VersionDiff:
        """What changed from this version to ``other``: assets added, removed,
        modified and renamed, metadata keys, per folder (see :mod:`tether.diff`).
        ``prefix`` keeps only logical paths starting with it."""
        from ..diff import diff_versions

        return diff_versions(self, other, prefix=prefix)
