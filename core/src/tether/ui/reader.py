"""What the pages show, read from a catalog: plain data, no web code.

Every method only reads. The lists come from the small catalog files (version
claims, alias and tag objects), never from manifests, except an artifact's
type, which only the manifest records: it is read from the manifest's first
line alone (a ranged read of its first 64 KiB) and remembered, since a
manifest is content-addressed and never changes.

Versions and diffs the pages page through are kept in a small LRU cache, keyed
by the manifest a version's claim names (content-addressed, so a cached
version is never stale); aliases and tags are read again on every request.
Remote catalogs are read with a few parallel requests per page.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import attrs

from ..artifact import check_name
from ..catalog import ArtifactVersion, Catalog
from ..catalog.refs import is_name, parse_ref, version_number
from ..diff import VersionDiff, diff_versions, page, sorted_under
from ..errors import TetherError, UnknownAliasError, UnknownArtifactError, UnknownVersionError
from ..models import Asset
from . import present, stream

HEADER_BYTES = 64 * 1024
_ASSETS_MARK = b',"assets":['
_VERSION_RE = re.compile(r"v?\d+")
T = TypeVar("T")


class LRU:
    """A few recently used values (thread-safe: Starlette serves sync routes from a pool)."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict[Any, Any](), threading.Lock()

    def peek(self, key: Any) -> Any:
        with self.lock:
            return self.items.get(key)

    def get(self, key: Any, make: Callable[[], T]) -> T:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]  # type: ignore[no-any-return]
        value = make()  # outside the lock: a slow read must not stall other pages
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


class Reader:
    """Read-only views of the catalog at ``root`` (None: the embedded default)."""

    def __init__(self, root: str | None) -> None:
        self.root_given = root
        self._catalog: Catalog | None = None
        self.versions = LRU(6)
        self.diffs = LRU(6)
        self.headers = LRU(4096)
        self.pool = ThreadPoolExecutor(8, thread_name_prefix="tether-ui")

    @property
    def catalog(self) -> Catalog:
        # Made on first use, so a catalog that cannot be reached at start-up is
        # an error page (and a later request may succeed), not a dead server.
        if self._catalog is None:
            self._catalog = Catalog(self.root_given)
        return self._catalog

    @property
    def root(self) -> str:
        return self.catalog.root

    def _map(self, fn: Callable[[Any], T], items: list[Any]) -> list[T]:
        return list(self.pool.map(fn, items))

    # ------------------------------------------------------------ artifacts
    def header(self, name: str, claim: dict[str, Any]) -> dict[str, Any]:
        """The manifest's header line (type, metadata, counts) without its assets."""
        rel = claim.get("manifest")
        return self.headers.get((self.root, name, rel), lambda: self._read_header(name, claim))

    def _read_header(self, name: str, claim: dict[str, Any]) -> dict[str, Any]:
        cat = self.catalog
        uri = cat._uri("artifacts", name, str(claim.get("manifest")))
        raw = cat._driver.read_range(Asset("manifest", link=uri, uri=uri), 0, HEADER_BYTES)
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = zlib.decompressobj(31).decompress(raw, 4 * HEADER_BYTES)
            except zlib.error:
                raw = b""
        line = raw.split(b"\n", 1)[0]
        if line.endswith(_ASSETS_MARK):
            try:
                doc = json.loads(line[:-len(_ASSETS_MARK)] + b"}")
                if isinstance(doc, dict) and isinstance(doc.get("type"), str):
                    return {"type": doc["type"]}
            except (ValueError, RecursionError):
                pass
        # A header longer than the read (much metadata) or another layout: the whole manifest.
        number = int(claim.get("version", 0) or 0)
        return {"type": cat._read_manifest(name, number, claim).type}

    def artifact_row(self, name: str) -> dict[str, Any]:
        cat = self.catalog
        try:
            latest = cat.latest_version(name)
            if latest is None:
                return {"name": name, "error": "no versions"}
            claim = cat._read_claim(name, latest)
            aliases = cat.aliases(name)
            return {"name": name, "type": self.header(name, claim)["type"], "latest": latest,
                    "created_at": claim.get("created_at", ""), "asset_count": claim.get("asset_count", 0),
                    "total_size": claim.get("total_size", 0), "aliases": dict(sorted(aliases.items())),
                    "tags": cat.tags(name, latest)}
        except TetherError as exc:  # one damaged artifact must not hide the others
            return {"name": name, "error": present.message(exc)}

    def has_tag(self, name: str, tag: str) -> bool:
        """Whether any version of ``name`` carries ``tag``: one listing of the
        versions that have tags, then one per such version."""
        cat = self.catalog
        return any(tag in cat.tags(name, v) for v in self.tagged_versions(name))

    def tagged_versions(self, name: str) -> list[str]:
        """The versions of ``name`` that have a tag folder: one listing."""
        cat = self.catalog
        names: list[str] = list(cat._driver.list_names(cat._uri("artifacts", name, "tags")))
        return [v for v in names if v.isdigit()]

    def artifacts(self, *, q: str = "", type_: str = "", tag: str = "", after: str = "",
                  limit: int = 100) -> dict[str, Any]:
        names = [n for n in self.catalog.artifacts() if (not after or n > after) and q.lower() in n.lower()]
        if tag:
            names = [n for n, ok in zip(names, self._map(lambda n: self.has_tag(n, tag), names)) if ok]
        rows: list[dict[str, Any]] = []
        more = False
        for start in range(0, len(names), limit):  # a type filter may drop rows: read on until full
            chunk = self._map(self.artifact_row, names[start:start + limit])
            rows.extend(r for r in chunk if not type_ or r.get("type") == type_)
            if len(rows) >= limit:
                more = len(rows) > limit or start + limit < len(names)
                rows = rows[:limit]
                break
        return {"q": q, "type": type_, "tag": tag, "artifacts": rows,
                "next": rows[-1]["name"] if more and rows else None}

    # ------------------------------------------------------------- artifact
    def artifact(self, name: str, *, before: int | None = None, limit: int = 50) -> dict[str, Any]:
        """Versions newest first, ``limit`` a page, keyset-paged by number (``before``)."""
        cat = self.catalog
        check_name(name)
        numbers = cat._version_numbers(name)
        if not numbers:
            raise UnknownArtifactError(f"no artifact named {name!r} in {cat!r}")
        shown = [n for n in numbers if before is None or n < before][-limit:][::-1]
        aliases = cat.aliases(name)
        tagged = set(self.tagged_versions(name))

        def row(n: int) -> dict[str, Any]:
            out: dict[str, Any] = {"version": n, "aliases": sorted(a for a, v in aliases.items() if v == n),
                                   "tags": cat.tags(name, n) if str(n) in tagged else []}
            try:
                claim = cat._read_claim(name, n)
            except TetherError as exc:
                return {**out, "error": present.message(exc)}
            return {**out, "created_at": claim.get("created_at", ""), "asset_count": claim.get("asset_count", 0),
                    "total_size": claim.get("total_size", 0), "digest": claim.get("digest", "")}

        rows = self._map(row, shown)
        first = next((r for r in rows if "error" not in r), None)
        type_ = self.header(name, cat._read_claim(name, first["version"]))["type"] if first else ""
        return {"name": name, "type": type_, "latest": numbers[-1], "count": len(numbers),
                "aliases": dict(sorted(aliases.items())), "versions": rows,
                "next": shown[-1] if shown and shown[-1] > numbers[0] else None}

    # -------------------------------------------------------------- version
    def number(self, name: str, ref: str) -> int:
        """``3``, ``v3``, ``latest`` or an alias, as a version number of ``name``."""
        cat = self.catalog
        check_name(name)
        if ref == "latest":
            latest = cat.latest_version(name)
            if latest is None:
                raise UnknownArtifactError(f"no artifact named {name!r} in {cat!r}")
            return latest
        if _VERSION_RE.fullmatch(ref):
            return version_number(ref)
        if not is_name(ref):
            raise UnknownVersionError(f"invalid version {ref!r}: use a number like 3, latest or an alias")
        aliases = cat.aliases(name)
        if ref not in aliases:
            raise UnknownAliasError(f"artifact {name!r} has no alias {ref!r}")
        return aliases[ref]

    def resolve(self, ref: str) -> tuple[str, int]:
        """``name:3`` / ``name@alias`` / ``name`` as (name, number)."""
        name, version, alias = parse_ref(ref.strip())
        return name, self.number(name, alias if alias is not None else str(version or "latest"))

    def version_page(self, name: str, number: int, *, after: str = "", prefix: str = "",
                     limit: int = 100) -> dict[str, Any]:
        """A version's facts and one page of its assets. From the cached
        version when there is one; else straight from the manifest text
        (:mod:`.stream`), so the first page of 100,000 assets never parses them all."""
        cat = self.catalog
        claim = cat._read_claim(name, number)
        aliases = tuple(sorted(a for a, n in cat.aliases(name).items() if n == number))
        tags = tuple(cat.tags(name, number))
        cached = self.versions.peek((self.root, name, number, claim.get("manifest")))
        got = None
        if cached is None:
            data = stream.verified_bytes(cat, name, number, claim)
            got = stream.page_of(data, where=f"{name}:v{number}", asset_count=claim.get("asset_count"),
                                 after=after or None, prefix=prefix or None, limit=limit)
        if got is None:  # cached, or a layout only the whole parse reads
            full = self.version(name, number)
            rows, nxt, matching = self.assets_page(full, after=after, prefix=prefix, limit=limit)
            v = attrs.evolve(full, aliases=aliases, tags=tags)
            return {"version": v, "assets": rows, "next": nxt, "matching": matching,
                    "asset_count": len(full.assets), "total_size": full.total_size}
        h = got.header
        v = ArtifactVersion(name=name, version=number, type=h["type"], created_at=h["created_at"],
                            digest=h["digest"], metadata=h["metadata"], aliases=aliases, tags=tags, catalog=cat,
                            manifest_reader=lambda: cat._read_manifest(name, number, claim))
        return {"version": v, "assets": list(got.rows), "next": got.next, "matching": got.matching,
                "asset_count": got.asset_count, "total_size": claim.get("total_size", 0)}

    def version(self, name: str, number: int) -> ArtifactVersion:
        """Version ``number`` with its assets in path order, from the cache when
        its claim still names the same manifest; aliases and tags read now."""
        cat = self.catalog
        claim = cat._read_claim(name, number)

        def load() -> ArtifactVersion:
            m = cat._read_manifest(name, number, claim)
            return ArtifactVersion(name=name, version=number, type=m.type, created_at=m.created_at,
                                   digest=m.digest, assets=tuple(sorted_under(m.assets, None)),
                                   metadata=m.metadata, catalog=cat)

        v = self.versions.get((self.root, name, number, claim.get("manifest")), load)
        number_aliases = tuple(sorted(a for a, n in cat.aliases(name).items() if n == number))
        return ArtifactVersion(name=name, version=number, type=v.type, created_at=v.created_at, digest=v.digest,
                               assets=v.assets, metadata=v.metadata, aliases=number_aliases,
                               tags=tuple(cat.tags(name, number)), catalog=cat)

    def assets_page(self, v: ArtifactVersion, *, after: str = "", prefix: str = "",
                    limit: int = 100) -> tuple[list[Asset], str | None, int]:
        """One page of assets by keyset (``after`` a logical path): a binary
        search, then ``limit`` rows; never the whole list. Also the count under ``prefix``."""
        scope = sorted_under(v.assets, prefix or None)
        rows, nxt = page(scope, after or None, limit)
        return rows, nxt, len(scope)

    def folder(self, v: ArtifactVersion, prefix: str) -> list[dict[str, Any]]:
        """The sub-folders directly under ``prefix`` with their asset counts and bytes."""
        subs: dict[str, list[int]] = {}
        cut = len(prefix)
        for a in sorted_under(v.assets, prefix or None):
            rest = a.logical_path[cut:]
            head, sep, _ = rest.partition("/")
            if sep:
                slot = subs.setdefault(head, [0, 0])
                slot[0] += 1
                slot[1] += a.size or 0
        return [{"prefix": prefix + k + "/", "name": k, "assets": c, "bytes": b} for k, (c, b) in sorted(subs.items())]

    def files_in(self, v: ArtifactVersion, prefix: str, *, after: str = "",
                 limit: int = 100) -> tuple[list[Asset], str | None]:
        """The assets directly in the folder ``prefix`` (not in its sub-folders), paged."""
        scope = [a for a in sorted_under(v.assets, prefix or None) if "/" not in a.logical_path[len(prefix):]]
        return page(scope, after or None, limit)

    # ----------------------------------------------------------------- diff
    def diff(self, a: str, b: str, prefix: str = "") -> VersionDiff:
        (na, va), (nb, vb) = self.resolve(a), self.resolve(b)
        old, new = self.version(na, va), self.version(nb, vb)
        key = (self.root, old.name, old.version, old.digest, new.name, new.version, new.digest, prefix)
        return self.diffs.get(key, lambda: diff_versions(old, new, prefix=prefix or None))
