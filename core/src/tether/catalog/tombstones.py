"""Deleting versions: tombstones beside the claims they retire.

A deleted version keeps its claim, so its number is never handed out again
(the claim is the create-if-absent object that reserved it), and gains a
tombstone beside it::

    artifacts/<name>/versions/0000000007.json          the claim, unchanged
    artifacts/<name>/versions/0000000007.deleted.json  the tombstone (tether.tombstone/1)

One listing of ``versions/`` therefore tells live versions from deleted ones:
``versions``, ``latest`` and ``get`` skip a version with a tombstone at no
extra request, and ``get`` of it raises :class:`~tether.errors.VersionDeletedError`
saying when, by whom and why. The tombstone repeats what the claim said
(digest, sizes, manifest), so lineage can still describe the version after
``tether gc`` removed its manifest. This is git's approach to deleted refs
kept in a reflog, and W&B's "deleted artifact version": the name stays
taken, the content goes.

An alias pointing at a version protects it: deletion refuses with the alias
named. Deletion writes its tombstones, then reads the aliases again, and takes
the tombstones back if an alias moved onto a version meanwhile; ``set_alias``
checks for a tombstone after writing (see :mod:`.protection`). Between the
two, a version never ends up both deleted and aliased.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import re
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ..artifact import check_name
from ..errors import (
    AlreadyExistsError,
    ManifestError,
    ObjectNotFoundError,
    UnknownArtifactError,
    VersionDeletedError,
    VersionInUseError,
)
from ..parallel import parallel_map
from .claims import load_json
from .refs import version_number

if TYPE_CHECKING:
    from .core import Catalog

TOMBSTONE_SCHEMA = "tether.tombstone/1"
_CLAIM_RE = re.compile(r"^(\d{10})\.json$")
_TOMBSTONE_RE = re.compile(r"^(\d{10})\.deleted\.json$")


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: object) -> _dt.datetime | None:
    """An ISO 8601 time as tether writes it (``...Z``), or None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        t = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=_dt.UTC)


def actor() -> str:
    """Who is acting, for tombstones and protection records: ``$TETHER_USER``,
    else ``user@host`` of this process (like git's reflog identity)."""
    who = os.environ.get("TETHER_USER", "").strip()
    if who:
        return who[:200]
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment (containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@attrs.frozen
class Tombstone:
    """What is left of a deleted version: who deleted it, when, why, and what it was."""

    name: str
    version: int
    deleted_at: str
    deleted_by: str
    reason: str | None = None
    created_at: str | None = None
    digest: str | None = None
    manifest: str | None = None
    asset_count: int | None = None
    total_size: int | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}:v{self.version}"

    def describe(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"{self.ref} was deleted at {self.deleted_at} by {self.deleted_by}{why}"

    def to_dict(self) -> dict[str, Any]:
        return {"schema": TOMBSTONE_SCHEMA, **attrs.asdict(self)}

    @classmethod
    def from_bytes(cls, raw: bytes, where: str) -> Tombstone:
        doc = load_json(raw, f"tombstone {where}")
        if not isinstance(doc, dict) or doc.get("schema") != TOMBSTONE_SCHEMA:
            raise ManifestError(f"tombstone {where} is not a {TOMBSTONE_SCHEMA} document")
        try:
            return cls(name=str(doc["name"]), version=int(doc["version"]), deleted_at=str(doc["deleted_at"]),
                       deleted_by=str(doc.get("deleted_by", "")), reason=_opt(doc, "reason", str),
                       created_at=_opt(doc, "created_at", str), digest=_opt(doc, "digest", str),
                       manifest=_opt(doc, "manifest", str), asset_count=_opt(doc, "asset_count", int),
                       total_size=_opt(doc, "total_size", int))
        except (KeyError, TypeError, ValueError):
            raise ManifestError(f"tombstone {where} is damaged") from None


def _opt(doc: dict[str, Any], key: str, kind: type) -> Any:
    value = doc.get(key)
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


# ------------------------------------------------------------------ listing
def live_numbers(names: list[str]) -> list[int]:
    """Version numbers claimed in a ``versions/`` listing and not deleted."""
    claimed = {int(m.group(1)) for n in names if (m := _CLAIM_RE.match(n))}
    deleted = {int(m.group(1)) for n in names if (m := _TOMBSTONE_RE.match(n))}
    return sorted(claimed - deleted)


def claimed_numbers(names: list[str]) -> list[int]:
    """Every number ever claimed, deleted or not: the next version is above all of them."""
    return sorted(int(m.group(1)) for n in names if (m := _CLAIM_RE.match(n)))


def deleted_numbers(names: list[str]) -> list[int]:
    return sorted(int(m.group(1)) for n in names if (m := _TOMBSTONE_RE.match(n)))


def versions_listing(cat: Catalog, name: str) -> list[str]:
    return cat._driver.list_names(cat._uri("artifacts", name, "versions"))


def tombstone_uri(cat: Catalog, name: str, number: int) -> str:
    return cat._uri("artifacts", name, "versions", f"{number:010d}.deleted.json")


def read_tombstone(cat: Catalog, name: str, number: int) -> Tombstone | None:
    uri = tombstone_uri(cat, name, number)
    try:
        raw = cat._driver.read_bytes(uri)
    except ObjectNotFoundError:
        return None
    return Tombstone.from_bytes(raw, f"{name}:v{number}")


def deleted_error(t: Tombstone) -> VersionDeletedError:
    return VersionDeletedError(t.describe(), tombstone=t)


def raise_if_deleted(cat: Catalog, name: str, number: int) -> None:
    t = read_tombstone(cat, name, number)
    if t is not None:
        raise deleted_error(t)


def raise_if_all_deleted(cat: Catalog, name: str) -> None:
    """For ``get(name)`` when no live version is left: say the versions were
    deleted (and the last one's tombstone) rather than that the artifact never was."""
    listing = versions_listing(cat, name)
    gone = deleted_numbers(listing)
    if claimed_numbers(listing) and not live_numbers(listing) and gone:
        t = read_tombstone(cat, name, gone[-1])
        last = f"; the latest, {t.describe()}" if t else ""
        raise VersionDeletedError(f"every version of artifact {name!r} was deleted{last}", tombstone=t)


# ----------------------------------------------------------------- deleting
def delete(cat: Catalog, name: str, version: int | str | Iterable[int | str] | None = None,
           reason: str | None = None) -> list[Tombstone]:
    """Delete one version of ``name``, several (a list), or (``version=None``) every live one.

    Refuses, deleting nothing, while an alias points at a version to delete
    (the error names every such alias, and says which are protected)."""
    check_name(name)
    if reason is not None and not isinstance(reason, str):
        raise TypeError("reason must be a string")
    listing = versions_listing(cat, name)
    live = live_numbers(listing)
    if version is None:
        targets = live
        if not targets:
            if claimed_numbers(listing):
                raise VersionDeletedError(f"every version of artifact {name!r} is already deleted")
            raise UnknownArtifactError(f"no artifact named {name!r} in {cat!r}")
    else:
        targets = sorted({version_number(v) for v in
                          ([version] if isinstance(version, (int, str)) else list(version))})
        for number in targets:
            if number not in live:
                cat._missing(name, number)  # raises: deleted, unknown version or unknown artifact
    return delete_numbers(cat, name, targets, reason)


def delete_numbers(cat: Catalog, name: str, targets: list[int], reason: str | None) -> list[Tombstone]:
    """Tombstone the live versions ``targets`` of ``name``, or none of them."""
    _refuse_aliased(cat, name, set(targets))
    claims = parallel_map(lambda n: cat._read_claim(name, n), targets, cat._driver.default_workers)
    at, who = now_iso(), actor()

    def write(item: tuple[int, dict[str, Any]]) -> tuple[Tombstone, bool]:
        n, claim = item
        t = Tombstone(name=name, version=n, deleted_at=at, deleted_by=who, reason=reason,
                      created_at=_opt(claim, "created_at", str), digest=_opt(claim, "digest", str),
                      manifest=_opt(claim, "manifest", str), asset_count=_opt(claim, "asset_count", int),
                      total_size=_opt(claim, "total_size", int))
        try:
            cat._driver.write_bytes(tombstone_uri(cat, name, n), json.dumps(t.to_dict(), indent=1).encode(),
                                    if_absent=True)
        except AlreadyExistsError:  # deleted concurrently by someone else: theirs stands
            return read_tombstone(cat, name, n) or t, False
        return t, True

    done = parallel_map(write, list(zip(targets, claims)), cat._driver.default_workers)
    try:
        _refuse_aliased(cat, name, set(targets))  # an alias set while we wrote
    except VersionInUseError:
        for t, ours in done:
            if ours:
                cat._driver.delete(tombstone_uri(cat, name, t.version))
        raise
    return [t for t, _ in done]


def _refuse_aliased(cat: Catalog, name: str, targets: set[int]) -> None:
    from .protection import protected_alias_names

    pointing = sorted((a, n) for a, n in cat.aliases(name).items() if n in targets)
    if not pointing:
        return
    protected = protected_alias_names(cat, name)
    shown = ", ".join(f"{name}@{a} -> v{n}" + (" (protected)" if a in protected else "") for a, n in pointing)
    raise VersionInUseError(f"cannot delete: alias(es) point at the version(s) to delete: {shown}; move or "
                            "remove them first (`tether alias set` / `tether alias rm`; a protected alias "
                            "needs --force or `tether alias unprotect`)")


def tombstones(cat: Catalog, name: str) -> list[Tombstone]:
    """Every deleted version of ``name``, oldest number first."""
    check_name(name)
    numbers = deleted_numbers(versions_listing(cat, name))
    found = parallel_map(lambda n: read_tombstone(cat, name, n), numbers, cat._driver.default_workers)
    return [t for t in found if t is not None]
