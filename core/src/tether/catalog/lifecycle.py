"""The lifecycle half of :class:`~tether.catalog.Catalog`: delete, retain, protect, collect, check.

``Catalog`` inherits these methods; each is a thin entry point into the
module that does the work:

* :mod:`.tombstones` – ``delete``, ``is_deleted``, ``tombstone``, ``deleted_versions``
* :mod:`.protection` – protected aliases (``hold`` on the store) and immutable tags
* :mod:`.retention`  – ``retain``: keep-last / aliased / tagged / younger-than / used-by-runs, and stored policies
* :mod:`.gc`         – ``gc``: removing uploads, staged copies and manifests nothing needs
* :mod:`.insurance`  – ``check`` and the reference-risk reports of a version's buckets

Durations are given as ``"30d"``, ``"24h"``, ``"90m"``, ``"45s"``, ``"2w"``
(or combined, ``"1d12h"``), a number of seconds, or a ``timedelta``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from ..driver import RiskReport
    from .core import Catalog
    from .gc import GCReport
    from .insurance import CheckResult
    from .protection import AliasProtection
    from .retention import RetentionPolicy, RetentionResult, RunsProvider
    from .tombstones import Tombstone

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(value: str | float | _dt.timedelta, what: str = "duration") -> float:
    """Seconds in ``value`` (see the module docstring); a bad one is an InvalidArgumentError."""
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif re.fullmatch(f"(?:{_PART.pattern})+", text):
            seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        else:
            raise InvalidArgumentError(f"invalid {what} {value!r}: use e.g. 30d, 24h, 90m, 45s or 2w")
    else:
        raise InvalidArgumentError(f"invalid {what} {value!r}: use e.g. 30d, 24h, 90m, 45s or 2w")
    if not seconds >= 0 or seconds == float("inf"):
        raise InvalidArgumentError(f"invalid {what} {value!r}: must be a finite, non-negative duration")
    return seconds


class LifecycleMixin:
    """Deletion, retention, protection, garbage collection and checks (see the module docstring)."""

    # ---------------------------------------------------------------- deleting
    def delete(self: Catalog, name: str, version: int | str | Iterable[int | str] | None = None,
               reason: str | None = None) -> list[Tombstone]:
        """Delete ``name:version`` (or a list of versions), or every live version of ``name`` (``None``).

        The version disappears from ``versions``, ``get`` and ``latest``; its
        number is never reused; a tombstone records who, when and why. An
        alias pointing at a version to delete refuses it (the error names it).
        The bytes go later, with :meth:`gc`."""
        from .tombstones import delete

        return delete(self, name, version, reason)

    def is_deleted(self: Catalog, name: str, version: int | str) -> bool:
        from .refs import version_number
        from .tombstones import tombstone_uri

        return self._driver.exists(tombstone_uri(self, name, version_number(version)))

    def tombstone(self: Catalog, name: str, version: int | str) -> Tombstone | None:
        """Who deleted ``name:version``, when and why; None if it is not deleted."""
        from ..artifact import check_name
        from .refs import version_number
        from .tombstones import read_tombstone

        return read_tombstone(self, check_name(name), version_number(version))

    def deleted_versions(self: Catalog, name: str) -> list[Tombstone]:
        from .tombstones import tombstones

        return tombstones(self, name)

    # -------------------------------------------------------------- protecting
    def protect_alias(self: Catalog, name: str, alias: str, hold: bool = False) -> AliasProtection:
        """Protect ``name@alias``: moving or removing it then needs ``force=True``.
        ``hold=True`` also places a store hold (S3 Object Lock legal hold, GCS
        temporary hold) on exactly the object versions it pins, or fails
        saying why the store cannot."""
        from .protection import protect_alias

        return protect_alias(self, name, alias, hold)

    def unprotect_alias(self: Catalog, name: str, alias: str) -> AliasProtection:
        """Remove the protection (and release its holds); returns what it was."""
        from .protection import unprotect_alias

        return unprotect_alias(self, name, alias)

    def protected_aliases(self: Catalog, name: str) -> list[AliasProtection]:
        from .protection import protected_aliases

        return protected_aliases(self, name)

    def protect_tags(self: Catalog, name: str, pattern: str) -> list[str]:
        """Make tags of ``name`` matching ``pattern`` (``"v*"``, ``"release-1.0"``)
        immutable; returns the matching tags already set."""
        from .protection import make_tags_immutable

        return make_tags_immutable(self, name, pattern)

    def unprotect_tags(self: Catalog, name: str, pattern: str) -> None:
        from .protection import make_tags_mutable

        make_tags_mutable(self, name, pattern)

    def immutable_tag_patterns(self: Catalog, name: str) -> list[str]:
        from ..artifact import check_name
        from .protection import immutable_patterns

        return immutable_patterns(self, check_name(name))

    # --------------------------------------------------------------- retaining
    def retain(self: Catalog, name: str, keep_last: int | None = None, keep_aliased: bool = True,
               keep_tagged: bool = True, keep_younger_than: str | float | _dt.timedelta | None = None,
               keep_used_by_runs_younger_than: str | float | _dt.timedelta | None = None, *,
               dry_run: bool = True, runs: RunsProvider | None = None,
               policy: RetentionPolicy | None = None) -> RetentionResult:
        """Delete the versions of ``name`` no keep rule keeps (only what would
        go, while ``dry_run``). With no rule given, the policy stored for
        ``name`` (or the catalog's default) applies. ``runs``: a callable
        ``(name, since) -> versions used or produced by runs since then``,
        for ``keep_used_by_runs_younger_than``; by default the catalog's runs."""
        from .retention import RetentionPolicy, retain, stored_policy

        if policy is None:
            given = (keep_last, keep_younger_than, keep_used_by_runs_younger_than)
            policy = (RetentionPolicy.build(keep_last, keep_aliased, keep_tagged, keep_younger_than,
                                            keep_used_by_runs_younger_than)
                      if any(g is not None for g in given) else stored_policy(self, name))
        return retain(self, name, policy, dry_run=dry_run, runs=runs)

    def retain_all(self: Catalog, *, dry_run: bool = True,
                   runs: RunsProvider | None = None) -> list[RetentionResult]:
        """Apply the stored policies: each artifact's own, else the catalog default."""
        from .retention import retain_all

        return retain_all(self, dry_run=dry_run, runs=runs)

    def set_retention_policy(self: Catalog, name: str | None, policy: RetentionPolicy) -> None:
        """Store ``policy`` for ``name`` (``None``: the catalog default)."""
        from .retention import save_policy

        save_policy(self, name, policy)

    def retention_policy(self: Catalog, name: str | None) -> RetentionPolicy | None:
        from .retention import load_policy

        return load_policy(self, name)

    def remove_retention_policy(self: Catalog, name: str | None) -> None:
        from .retention import remove_policy

        remove_policy(self, name)

    # ------------------------------------------------------------- collecting
    def gc(self: Catalog, grace: str | float | _dt.timedelta = "24h", *, dry_run: bool = False,
           workers: int | None = None) -> GCReport:
        """Remove what tether uploaded that no version needs (see :mod:`.gc`);
        nothing younger than ``grace``, nothing a running ``log`` announced."""
        from .gc import collect

        return collect(self, parse_duration(grace, "grace"), dry_run=dry_run, workers=workers)

    # --------------------------------------------------------------- checking
    def check(self: Catalog, ref: str, *, workers: int | None = None, risks: bool = True) -> CheckResult:
        """``get(ref).check()``: every pinned object version still there, by metadata alone."""
        from .insurance import check_version

        return check_version(self.get(ref), workers=workers, risks=risks)

    def reference_risks(self: Catalog, ref: str) -> list[RiskReport]:
        """What the buckets ``ref`` points into say about keeping its objects."""
        from .insurance import reference_risks

        return reference_risks(self, self.get(ref).assets)


__all__ = ["LifecycleMixin", "parse_duration"]
