"""``ArtifactVersion``: one logged version, and ``VersionInfo``, its summary."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .. import transfer
from ..models import Asset, FrozenMap, Manifest
from ..resolver import driver_for_uri
from .status import StatusResult, status_of

if TYPE_CHECKING:
    from .core import Catalog


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

    def download(self, dest: str | os.PathLike[str], overwrite: transfer.Overwrite = "fail",
                 workers: int | None = None, progress: transfer.Progress | None = None, *,
                 strict: bool = False, raise_on_error: bool = True,
                 require_verified: bool = False) -> transfer.DownloadResult:
        """Fetch exactly the recorded bytes into ``dest`` (see :mod:`tether.transfer`).

        ``require_verified=True``: refuse (``UnverifiedAssetError``, nothing
        written) when any asset's ``verification`` is ``size-only``."""
        return transfer.download(self.assets, dest, overwrite=overwrite, workers=workers,
                                 progress=progress, strict=strict, raise_on_error=raise_on_error,
                                 driver_for=lambda a: driver_for_uri(a.uri or a.link), label=self.ref,
                                 require_verified=require_verified)

    def verify(self, dest: str | os.PathLike[str]) -> transfer.VerifyResult:
        """Check a local copy under ``dest`` against the manifest."""
        return transfer.verify(self.assets, dest)

    def status(self) -> StatusResult:
        """Compare the recorded assets with the store now: one listing per source."""
        return status_of(self.assets)
