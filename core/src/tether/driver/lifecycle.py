"""Optional lifecycle operations (``tether gc``, ``check``, reference insurance,
holds) and what they return. The defaults are correct for any store, if less
informed; object stores override them with what their bucket settings say.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from ..errors import HoldNotSupportedError
from ..models import Asset, RemoteObject
from ..uris import redact
from .times import epoch_of

if TYPE_CHECKING:
    from .base import Driver


@attrs.frozen
class RiskReport:
    """How long a store keeps the objects under ``scope`` (a bucket or a prefix),
    as far as tether can read it (:meth:`Driver.reference_risks`).

    ``versioned``: whether the bucket keeps old versions (None: unknown or
    irrelevant). ``risks``: what else can make a version undownloadable
    (lifecycle rules expiring or archiving objects), one sentence each.
    ``reason``: why the settings could not be read; such a bucket is
    ``unchecked``, never ``ok``. ``inspectable=False`` means the store has
    no such settings for tether to read (a local disk), rather than that
    the credentials could not read them."""

    scope: str
    versioned: bool | None = None
    risks: tuple[str, ...] = ()
    reason: str | None = None
    inspectable: bool = True

    @property
    def status(self) -> str:
        """``ok`` / ``at-risk`` / ``unchecked``."""
        if self.reason is not None:
            return "unchecked"
        return "at-risk" if self.risks or self.versioned is False else "ok"

    @property
    def messages(self) -> list[str]:
        """The consequences, as sentences a user can act on."""
        out = []
        if self.reason is not None:
            out.append(f"could not check {self.scope}: {self.reason}" if self.inspectable else
                       f"{self.scope}: {self.reason}")
        if self.versioned is False:
            out.append(f"{self.scope} keeps no old versions (versioning is off): overwriting or deleting a "
                       "referenced object makes this version undownloadable")
        out.extend(self.risks)
        return out


@attrs.frozen
class StoredObject:
    """One stored object (one version of it on a versioned store), as garbage
    collection sees it: ``modified`` is the store's time in epoch seconds,
    ``latest`` False for a noncurrent version."""

    uri: str
    path: str
    size: int
    modified: float | None = None
    version_id: str | None = None
    latest: bool = True



class LifecycleMixin:
    """Lifecycle defaults of :class:`~tether.driver.Driver` (mixed into it)."""

    def inventory(self: Driver, uri: str) -> list[StoredObject]:
        """Every object under the prefix ``uri`` as stored: hidden and staged
        names included, every version on a versioned store, no checksums
        computed. What ``tether gc`` lists; unlike :meth:`list` it never reads
        an object. This default walks the fsspec filesystem."""
        prefix = self.path_of(uri)
        fs = self.fs(prefix)
        try:
            found = fs.find(self.fs_path(prefix.rstrip("/")), detail=True, withdirs=False)
        except FileNotFoundError:
            return []
        out = []
        for info in found.values():
            path = self.from_fs_path(info["name"])
            if info.get("type") == "directory" or not path.startswith(prefix):
                continue
            modified = info.get("mtime") or info.get("LastModified") or info.get("updated") or info.get("created")
            out.append(StoredObject(self.uri_of(path), path, int(info.get("size") or 0), epoch_of(modified)))
        return sorted(out, key=lambda o: o.path)

    def delete_exact(self: Driver, obj: StoredObject) -> None:
        """Delete exactly ``obj`` (that version of it, on a versioned store).
        Stores with versions override this; the default deletes the name."""
        self.delete(obj.uri)

    def stat_version(self: Driver, asset: Asset) -> RemoteObject | None:
        """The recorded version of ``asset`` as the store describes it now
        (size, checksums), from metadata alone: one HEAD, no byte read. None
        when it is gone. This default states the name (stores without
        versions); drivers that can address a version override it."""
        assert asset.uri is not None
        return self.stat_path(self.path_of(asset.uri))

    def reference_risks(self: Driver, uris: Iterable[str]) -> list[RiskReport]:
        """Whether the store keeps the objects ``uris`` name: one report per
        bucket (or per store). Object stores override this with what their
        bucket settings say (versioning, lifecycle rules); this default knows
        nothing, so everything is ``unchecked``, never ``ok``."""
        scopes = sorted({self.uri_of(f"{self.bucket_of(self.path_of(u))}/") if self.bucketed
                         else f"{self.canonical_scheme}://" for u in uris})
        return [RiskReport(redact(s), reason=f"tether cannot read how long {self.canonical_scheme}:// keeps "
                           "objects (no versions are kept unless the store says so)", inspectable=False)
                for s in scopes]

    def set_hold(self: Driver, asset: Asset, on: bool) -> None:
        """Place (``on=True``) or release a hold on exactly the recorded version
        of ``asset``, so the store refuses to delete it. Stores that can hold
        (S3 Object Lock legal holds, GCS temporary holds) override this."""
        raise HoldNotSupportedError(f"{redact(asset.uri or asset.link)}: {self.canonical_scheme}:// "
                                    "stores cannot hold objects")
