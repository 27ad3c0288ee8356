"""``ArtifactVersion``: one logged version, and ``VersionInfo``, its summary."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .. import config, transfer
from ..errors import SchemeNotAllowedError
from ..models import Asset, FrozenMap, Manifest
from ..resolver import driver_for_uri, scheme_of
from ..selection import Filter, filter_new, select
from ..uris import redact
from .status import StatusResult, status_of

if TYPE_CHECKING:
    from .core import Catalog


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
                 strict: bool = False, raise_on_error: bool = True, include: Filter = None,
                 exclude: Filter = None, shard: str | tuple[int, int] | None = None) -> transfer.DownloadResult:
        """Fetch exactly the recorded bytes into ``dest`` (see :mod:`tether.transfer`);
        only the assets ``include`` / ``exclude`` / ``shard`` choose, when given."""
        assets = self.select(include=include, exclude=exclude, shard=shard)
        check_sources_allowed(assets, self.catalog, self.ref)
        return transfer.download(assets, dest, overwrite=overwrite, workers=workers,
                                 progress=progress, strict=strict, raise_on_error=raise_on_error,
                                 driver_for=lambda a: driver_for_uri(a.uri or a.link), label=self.ref)

    def verify(self, dest: str | os.PathLike[str], *, include: Filter = None, exclude: Filter = None,
               shard: str | tuple[int, int] | None = None) -> transfer.VerifyResult:
        """Check a local copy under ``dest`` against the manifest (the chosen assets only)."""
        return transfer.verify(self.select(include=include, exclude=exclude, shard=shard), dest)

    def status(self, *, include: Filter = None, exclude: Filter = None,
               shard: str | tuple[int, int] | None = None) -> StatusResult:
        """Compare the recorded assets with the store now: one listing per source.

        With filters, only the chosen assets are compared, and an object new
        under a source is reported when the logical path it would get matches
        ``include`` / ``exclude``; a new object belongs to no shard, so with
        ``shard`` none is reported."""
        assets = self.select(include=include, exclude=exclude, shard=shard)
        check_sources_allowed(assets, self.catalog, self.ref)
        result = status_of(assets)
        if include is None and exclude is None and shard is None:
            return result
        return filter_new(result, self.assets, include=include, exclude=exclude, shard=shard)
