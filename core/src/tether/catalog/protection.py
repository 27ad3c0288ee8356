"""Protected aliases (optionally holding their objects) and immutable tags.

Layout, beside the aliases and tags they guard::

    artifacts/<name>/protected-aliases/<alias>.json   tether.protected-alias/1
    artifacts/<name>/immutable-tags.json              {"patterns": ["v*", "release-*"]}
    artifacts/<name>/tag-claims/<tag>.json            which version an immutable tag was first set on

A protected alias moves or goes only with ``force=True`` (``--force``), as a
protected branch refuses a push. With ``hold=True`` the store is asked to
hold exactly the object versions the alias pins (an S3 Object Lock legal
hold, a GCS temporary hold), so not even a bucket administrator's delete or a
lifecycle rule removes them; the holds follow a forced move and are released
when the alias is unprotected, except on objects another held alias still needs.

An immutable tag (a tag matching one of the artifact's immutable patterns) is
claimed with a create-if-absent write naming its version, the way a version
number is: it can never be set on a second version, and its claim outlives
the tag and the version, so a removed tag's name is not quietly reused for
other content. ``force=True`` overrides both, as ``git tag -f`` does.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ..artifact import check_name
from ..driver import Driver
from ..errors import (
    AlreadyExistsError,
    HoldNotSupportedError,
    ImmutableTagError,
    InvalidNameError,
    ManifestError,
    ObjectNotFoundError,
    ProtectedAliasError,
    TetherError,
    UnknownAliasError,
)
from ..models import Asset
from ..parallel import parallel_map
from ..resolver import driver_for_uri
from .claims import load_json
from .tombstones import actor, now_iso, raise_if_deleted

if TYPE_CHECKING:
    from .core import Catalog

PROTECTED_SCHEMA = "tether.protected-alias/1"
_PATTERN_RE = re.compile(r"^[A-Za-z0-9*?\[\]][A-Za-z0-9._:=+*?\[\]!-]{0,127}$")


@attrs.frozen
class AliasProtection:
    """A protected alias: who protected it, when, and what it holds (``held``:
    ``(uri, version_id)`` of every object version under a hold)."""

    name: str
    alias: str
    protected_at: str
    protected_by: str
    hold: bool = False
    version: int | None = None
    held: tuple[tuple[str, str | None], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        doc = attrs.asdict(self)
        doc["held"] = [{"uri": u, "version_id": v} for u, v in self.held]
        return {"schema": PROTECTED_SCHEMA, **doc}


def _uri(cat: Catalog, name: str, alias: str) -> str:
    return cat._uri("artifacts", name, "protected-aliases", f"{alias}.json")


def read_protection(cat: Catalog, name: str, alias: str) -> AliasProtection | None:
    try:
        raw = cat._driver.read_bytes(_uri(cat, name, alias))
    except ObjectNotFoundError:
        return None
    where = f"protection of {name}@{alias}"
    doc = load_json(raw, where)
    if not isinstance(doc, dict) or doc.get("schema") != PROTECTED_SCHEMA:
        raise ManifestError(f"{where} is not a {PROTECTED_SCHEMA} document")
    held = doc.get("held") if isinstance(doc.get("held"), list) else []
    return AliasProtection(name=name, alias=alias, protected_at=str(doc.get("protected_at", "")),
                           protected_by=str(doc.get("protected_by", "")), hold=doc.get("hold") is True,
                           version=doc["version"] if isinstance(doc.get("version"), int) else None,
                           held=tuple((str(h["uri"]), h.get("version_id")) for h in held
                                      if isinstance(h, dict) and isinstance(h.get("uri"), str)))


def _write(cat: Catalog, p: AliasProtection) -> None:
    cat._driver.write_bytes(_uri(cat, p.name, p.alias), json.dumps(p.to_dict(), indent=1).encode())


def protected_alias_names(cat: Catalog, name: str) -> set[str]:
    names = cat._driver.list_names(cat._uri("artifacts", name, "protected-aliases"))
    return {n[:-5] for n in names if n.endswith(".json")}


def protected_aliases(cat: Catalog, name: str) -> list[AliasProtection]:
    check_name(name)
    found = [read_protection(cat, name, a) for a in sorted(protected_alias_names(cat, name))]
    return [p for p in found if p is not None]


# -------------------------------------------------------------------- holds
def _holdable(cat: Catalog, name: str, version: int) -> list[Asset]:
    return [a for a in cat._load(name, version).assets if a.synced and a.uri]


def _key(a: Asset) -> tuple[str, str | None]:
    assert a.uri is not None
    return a.uri, a.version_id


def place_holds(cat: Catalog, name: str, version: int) -> tuple[tuple[str, str | None], ...]:
    """Hold every object version of ``name:version``; all or none (a store
    that cannot hold one of them fails the whole, releasing what was placed)."""
    assets = _holdable(cat, name, version)
    placed: list[Asset] = []
    try:
        for a in assets:
            driver = driver_for_uri(a.uri or "")
            if type(driver).set_hold is Driver.set_hold:
                driver.set_hold(a, True)  # raises: this store cannot hold at all
            if a.version_id is None:
                raise HoldNotSupportedError(f"{name}:v{version}: asset {a.logical_path!r} has no recorded object "
                                            "version, so no hold can pin exactly its bytes")
            driver.set_hold(a, True)
            placed.append(a)
    except TetherError:
        _release(placed)
        raise
    return tuple(sorted({_key(a) for a in assets}, key=lambda k: (k[0], k[1] or "")))


def _release(assets: Iterable[Asset]) -> None:
    def one(a: Asset) -> None:
        try:
            driver_for_uri(a.uri or "").set_hold(a, False)
        except ObjectNotFoundError:
            pass  # nothing left to hold

    parallel_map(one, list(assets), 8)


def _needed_elsewhere(cat: Catalog, skip: tuple[str, str]) -> set[tuple[str, str | None]]:
    """Object versions held for any other protected alias of the catalog:
    uploads are shared between versions and artifacts, so releasing one
    alias's hold must not release another's."""
    out: set[tuple[str, str | None]] = set()
    for name in cat.artifacts():
        for alias in protected_alias_names(cat, name):
            if (name, alias) == skip:
                continue
            p = read_protection(cat, name, alias)
            if p is not None and p.hold:
                out.update(p.held)
    return out


def release_holds(cat: Catalog, p: AliasProtection, keep: Iterable[tuple[str, str | None]] = ()) -> None:
    needed = _needed_elsewhere(cat, (p.name, p.alias)) | set(keep)
    _release(Asset(logical_path="held", link=u, uri=u, version_id=v) for u, v in p.held if (u, v) not in needed)


# ------------------------------------------------------------------ aliases
def protect_alias(cat: Catalog, name: str, alias: str, hold: bool = False) -> AliasProtection:
    check_name(name)
    check_name(alias, "alias")
    aliases = cat.aliases(name)
    if alias not in aliases:
        raise UnknownAliasError(f"artifact {name!r} has no alias {alias!r}: set it before protecting it")
    old = read_protection(cat, name, alias)
    held = place_holds(cat, name, aliases[alias]) if hold else ()
    p = AliasProtection(name=name, alias=alias, protected_at=now_iso(), protected_by=actor(), hold=hold,
                        version=aliases[alias], held=held)
    _write(cat, p)
    if old is not None and old.hold:
        release_holds(cat, old, keep=held)
    return p


def unprotect_alias(cat: Catalog, name: str, alias: str) -> AliasProtection:
    check_name(name)
    check_name(alias, "alias")
    p = read_protection(cat, name, alias)
    if p is None:
        raise UnknownAliasError(f"alias {alias!r} of {name!r} is not protected")
    cat._driver.delete(_uri(cat, name, alias))
    if p.hold:
        release_holds(cat, p)
    return p


def guard_alias(cat: Catalog, name: str, alias: str, target: int | None, force: bool) -> Callable[[], None]:
    """Called before ``set_alias`` (``target``) or ``remove_alias`` (None)
    writes; returns what to do once the write is done."""
    p = read_protection(cat, name, alias)
    current = _alias_value(cat, name, alias)
    if p is not None and target != current and not force:
        doing = "removing it" if target is None else f"moving it to v{target}"
        raise ProtectedAliasError(f"alias {alias!r} of {name!r} is protected (it points at v{current}; protected "
                                  f"by {p.protected_by} at {p.protected_at}): {doing} needs force=True / --force")

    def after() -> None:
        if target is not None:
            try:
                raise_if_deleted(cat, name, target)  # deleted while we wrote: do not leave the alias on it
            except TetherError:
                _restore(cat, name, alias, current)
                raise
        if p is None or target == current:
            return
        if target is None:
            cat._driver.delete(_uri(cat, name, alias))
            if p.hold:
                release_holds(cat, p)
            return
        held = place_holds(cat, name, target) if p.hold else ()
        _write(cat, attrs.evolve(p, version=target, held=held))
        if p.hold:
            release_holds(cat, p, keep=held)

    return after


def _alias_value(cat: Catalog, name: str, alias: str) -> int | None:
    """Where one alias points now (one read, not every alias of the artifact)."""
    try:
        doc = load_json(cat._driver.read_bytes(cat._uri("artifacts", name, "aliases", f"{alias}.json")), "alias")
    except (ObjectNotFoundError, ManifestError):
        return None
    n = doc.get("version") if isinstance(doc, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else None


def _restore(cat: Catalog, name: str, alias: str, previous: int | None) -> None:
    uri = cat._uri("artifacts", name, "aliases", f"{alias}.json")
    if previous is None:
        cat._driver.delete(uri)
    else:
        cat._driver.write_bytes(uri, json.dumps({"version": previous}).encode())


# --------------------------------------------------------------------- tags
def check_pattern(pattern: str) -> str:
    if not isinstance(pattern, str) or not _PATTERN_RE.match(pattern):
        raise InvalidNameError(f"invalid tag pattern {pattern!r}: tag characters and * ? [ ] only")
    return pattern


def _patterns_uri(cat: Catalog, name: str) -> str:
    return cat._uri("artifacts", name, "immutable-tags.json")


def immutable_patterns(cat: Catalog, name: str) -> list[str]:
    try:
        raw = cat._driver.read_bytes(_patterns_uri(cat, name))
    except ObjectNotFoundError:
        return []
    doc = load_json(raw, f"immutable tags of {name!r}")
    pats = doc.get("patterns") if isinstance(doc, dict) else None
    return [p for p in pats if isinstance(p, str)] if isinstance(pats, list) else []


def _matches(tag: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(tag, p) for p in patterns)


def _claim_uri(cat: Catalog, name: str, tag: str) -> str:
    return cat._uri("artifacts", name, "tag-claims", f"{tag}.json")


def tag_claim(cat: Catalog, name: str, tag: str) -> dict[str, Any] | None:
    try:
        doc = load_json(cat._driver.read_bytes(_claim_uri(cat, name, tag)), f"claim of tag {tag!r}")
    except ObjectNotFoundError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("version"), int) else None


def _claim_tag(cat: Catalog, name: str, tag: str, number: int, force: bool) -> None:
    doc = json.dumps({"tag": tag, "version": number, "at": now_iso(), "by": actor()}).encode()
    try:
        cat._driver.write_bytes(_claim_uri(cat, name, tag), doc, if_absent=True)
        return
    except AlreadyExistsError:
        pass
    claim = tag_claim(cat, name, tag) or {}
    old = claim.get("version")
    if old == number and not claim.get("removed_at"):
        return
    if not force:
        what = (f"it was removed from v{old} at {claim.get('removed_at')}, and its name is not reused"
                if claim.get("removed_at") else f"it was set on v{old} at {claim.get('at')}")
        raise ImmutableTagError(f"tag {tag!r} of {name!r} is immutable: {what}; setting it on v{number} "
                                "needs force=True / --force")
    cat._driver.write_bytes(_claim_uri(cat, name, tag), doc)
    if isinstance(old, int) and old != number:
        cat._driver.delete(cat._uri("artifacts", name, "tags", str(old), tag))  # a forced move


def guard_add_tags(cat: Catalog, name: str, number: int, tags: tuple[str, ...], force: bool) -> None:
    patterns = immutable_patterns(cat, name)
    for t in tags:
        if patterns and _matches(t, patterns):
            _claim_tag(cat, name, t, number, force)


def guard_remove_tags(cat: Catalog, name: str, number: int, tags: tuple[str, ...], force: bool) -> None:
    patterns = immutable_patterns(cat, name)
    for t in tags:
        if not (patterns and _matches(t, patterns)):
            continue
        if not force:
            raise ImmutableTagError(f"tag {t!r} of {name!r} is immutable: removing it from v{number} needs "
                                    "force=True / --force (its name stays reserved for that version)")
        claim = tag_claim(cat, name, t) or {"tag": t, "version": number}
        cat._driver.write_bytes(_claim_uri(cat, name, t), json.dumps(
            {**claim, "removed_at": now_iso(), "removed_by": actor()}).encode())


def make_tags_immutable(cat: Catalog, name: str, pattern: str) -> list[str]:
    """Make tags of ``name`` matching ``pattern`` immutable, from now on and
    for those already set (each must be on one version only); returns them."""
    check_name(name)
    check_pattern(pattern)
    on: dict[str, list[int]] = {}
    for n in cat._version_numbers(name):
        for t in cat.tags(name, n):
            if fnmatch.fnmatchcase(t, pattern):
                on.setdefault(t, []).append(n)
    twice = {t: ns for t, ns in on.items() if len(ns) > 1}
    if twice:
        shown = "; ".join(f"{t} on {', '.join(f'v{n}' for n in ns)}" for t, ns in sorted(twice.items()))
        raise ImmutableTagError(f"cannot make tags {pattern!r} of {name!r} immutable: {shown}; remove all but "
                                "one first")
    for t, (n,) in sorted(on.items()):
        _claim_tag(cat, name, t, n, force=False)
    patterns = immutable_patterns(cat, name)
    if pattern not in patterns:
        cat._driver.write_bytes(_patterns_uri(cat, name),
                                json.dumps({"patterns": [*patterns, pattern]}, indent=1).encode())
    return sorted(on)


def make_tags_mutable(cat: Catalog, name: str, pattern: str) -> None:
    check_name(name)
    patterns = immutable_patterns(cat, name)
    if pattern not in patterns:
        raise InvalidNameError(f"tags {pattern!r} of {name!r} are not immutable (patterns: {patterns or 'none'})")
    cat._driver.write_bytes(_patterns_uri(cat, name), json.dumps(
        {"patterns": [p for p in patterns if p != pattern]}, indent=1).encode())


__all__ = ["AliasProtection", "guard_add_tags", "guard_alias", "guard_remove_tags",
           "make_tags_immutable", "make_tags_mutable", "protect_alias", "protected_aliases", "unprotect_alias"]
