"""``tether://``: a logged version as a read-only, pinned, verified fsspec filesystem.

Registered through fsspec's own entry point group (``fsspec.specs``), so any
fsspec reader opens versions with no tether import::

    fsspec.open("tether://imagenet-subset@prod/train/0001.jpg")
    pandas.read_parquet("tether://sales:v12/2026/", storage_options={"catalog": "s3://team/tether"})
    dask.dataframe.read_parquet("tether://sales:v12/2026/*.parquet")

A path is ``REF/LOGICAL/PATH``: ``REF`` is ``name``, ``name:v12`` or
``name@alias``. The catalog is ``storage_options={"catalog": URI}``, else
``$TETHER_CATALOG``, else the default one.

* Listings (``ls``, ``info``, ``find``, ``glob``, ``walk``) come from the
  manifest: no request reaches a store. A version is loaded once per
  filesystem instance, and an alias (or a bare name: the latest version) is
  resolved once per instance too, so every read of one job sees one version;
  a pickled instance (a Dask task) carries those resolutions to its workers.
  ``invalidate_cache()`` resolves them again.
* ``open`` reads the recorded object *version* through its driver's
  ``read_range`` (S3 VersionId or If-Match on the ETag, GCS generation, a
  local file's recorded size): a changed object is a ``DriftError``.
* What is verified against the recorded checksum (the strongest kind tether
  can recompute, see :func:`tether.checksums.verifiers`):
  - a file no larger than the block size (default 8 MiB) is fetched whole on
    its first read, whatever offset is asked for, and verified before any
    byte of it is returned;
  - a larger file read sequentially from its first byte is hashed as it
    streams, and its last block is held back until the whole file verified:
    a mismatch raises ``ChecksumMismatchError`` instead of returning the end;
  - a larger file read at other offsets (seeks, Parquet footers) gets pinned
    bytes (the recorded version, never another), but those ranges are not
    content-verified: manifests record whole-object checksums only, no
    part-level ones. Use ``cache_dir`` to verify every read;
  - with ``storage_options={"cache_dir": PATH}`` every file is first fetched
    whole into a local cache, verified on fill, and read from there. Entries
    are named by content (``sha256-<hex>-<size>``, else the strongest
    cryptographic checksum recorded), so two versions sharing a file share
    its cache entry; an asset with no such checksum is keyed by its object
    version. A filled entry is trusted afterwards (size checked), as fsspec's
    own file caches are.
  - assets with no checksum tether can recompute (an S3 multipart ETag
    alone) are checked by size only.
* Every write (``open(..., "wb")``, ``rm``, ``mkdir``, ``put``, ...) raises
  :class:`~tether.errors.ReadOnlyError`, also a ``PermissionError``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from glob import has_magic
from pathlib import Path
from typing import Any

import attrs
from fsspec.spec import AbstractFileSystem

from . import config, transfer
from .catalog import ArtifactVersion, Catalog
from .catalog.version import check_sources_allowed
from .errors import (
    InvalidArgumentError,
    NoDriverError,
    ObjectNotFoundError,
    ReadOnlyError,
    TetherError,
)
from .fsread import TetherFile, cache_key
from .models import Asset
from .resolver import driver_for_uri
from .selection import Filter, select

#: Files up to this size are fetched whole and verified before their first byte is returned.
DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
#: Options every fsspec filesystem takes (instance and listings caches, the event loop).
_FSSPEC_OPTIONS = frozenset({"skip_instance_cache", "use_listings_cache", "listings_expiry_time", "max_paths",
                             "asynchronous", "loop"})

class _Tree:
    """One version's manifest as a folder tree (built once, read-only)."""

    def __init__(self, version: ArtifactVersion) -> None:
        self.version = version
        self.files: dict[str, Asset] = {}
        self.links: dict[str, Asset] = {}  # link-only assets: listed nowhere, named in errors
        self.children: dict[str, dict[str, bool]] = {"": {}}  # folder -> {child name: is folder}
        self.globs: dict[tuple[str, str], list[str]] = {}
        for a in version.assets:
            if not a.synced:
                self.links[a.logical_path] = a
                continue
            self.files[a.logical_path] = a
            parts = a.logical_path.split("/")
            folder = ""
            for depth, name in enumerate(parts):
                is_dir = depth < len(parts) - 1
                kids = self.children[folder]
                if kids.get(name) is None or is_dir:
                    kids[name] = is_dir
                folder = f"{folder}/{name}" if folder else name
                if is_dir and folder not in self.children:
                    self.children[folder] = {}


class _DefaultCatalog:
    """The catalog an instance without ``catalog=`` reads, as of now: part of
    fsspec's instance token, so a changed ``$TETHER_CATALOG`` or
    ``$TETHER_HOME`` gets a new instance instead of the old catalog's."""

    def __get__(self, obj: object, owner: type | None = None) -> str:
        return os.environ.get("TETHER_CATALOG") or str(config.home_dir())


class TetherFileSystem(AbstractFileSystem):
    """Versions of a tether catalog, read-only (see the module docstring)."""

    protocol = "tether"
    root_marker = ""
    default_catalog = _DefaultCatalog()
    _extra_tokenize_attributes = ("default_catalog",)

    def __init__(self, catalog: str | None = None, cache_dir: str | None = None,
                 block_size: int | None = None, pins: dict[str, str] | None = None, **kwargs: Any) -> None:
        unknown = set(kwargs) - _FSSPEC_OPTIONS
        if unknown:  # e.g. storage_options={"storage_options": ...}: say so, do not read the default catalog
            raise InvalidArgumentError(f"unknown tether:// option(s) {sorted(unknown)}; tether:// takes catalog, "
                                       "cache_dir and block_size")
        super().__init__(catalog=catalog, cache_dir=cache_dir, block_size=block_size, pins=pins, **kwargs)
        self.catalog = Catalog(catalog or self.default_catalog)
        self.cache_dir = os.path.abspath(os.path.expanduser(cache_dir)) if cache_dir else None
        self.blocksize = int(block_size or DEFAULT_BLOCK_SIZE)
        self._pins: dict[str, str] = dict(pins or {})  # ref as written -> "name:vN"
        self._trees: dict[str, _Tree] = {}
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        # The resolved catalog root and aliases travel with the instance: a worker
        # reads the versions the client resolved, wherever its own defaults point.
        options = {**self.storage_options, "catalog": self.catalog.root,
                   "pins": {**(self.storage_options.get("pins") or {}), **self._pins}}
        return _rebuild, (options,)

    # ------------------------------------------------------------------ versions
    def _split(self, path: str) -> tuple[str, str]:
        path = self._strip_protocol(path).strip("/")
        ref, _, rel = path.partition("/")
        return ref, rel

    def _tree(self, ref: str) -> _Tree:
        with self._lock:
            pin = self._pins.get(ref)
            tree = self._trees.get(pin) if pin else None
        if tree is not None:
            return tree
        version = self.catalog.get(pin or ref)
        check_sources_allowed(version.assets, self.catalog, version.ref)
        tree = _Tree(version)
        with self._lock:
            self._pins.setdefault(ref, version.ref)
            self._pins.setdefault(version.ref, version.ref)
            return self._trees.setdefault(version.ref, tree)

    def version(self, ref: str) -> ArtifactVersion:
        """The version ``ref`` names for this filesystem (resolved once, then pinned)."""
        return self._tree(self._split(ref)[0]).version

    def invalidate_cache(self, path: str | None = None) -> None:
        with self._lock:
            self._pins.clear()
            self._trees.clear()
        super().invalidate_cache(path)

    def shard_paths(self, ref: str, i: int, n: int, *, include: Filter = None,
                    exclude: Filter = None) -> list[str]:
        """Paths of shard ``i`` of ``n`` of the version (see :func:`tether.shard_paths`)."""
        tree = self._tree(self._split(ref)[0])
        chosen = select(tree.version.assets, include=include, exclude=exclude, shard=(i, n),
                        label=tree.version.ref)
        return [f"{tree.version.ref}/{a.logical_path}" for a in chosen if a.synced]

    # ------------------------------------------------------------------ listings
    # A glob that names no asset is a folder of what it matches, its files named
    # below it (``2026/*.parquet/p0.parquet``): readers that take one path and
    # never expand globs (``pandas.read_parquet``, pyarrow datasets) read them all.
    def _lookup(self, ref: str, rel: str, tree: _Tree) -> tuple[str, Asset | None]:
        """What ``rel`` is: ``("file", asset)``, ``("dir", None)``, ``("glob", None)`` or ``("", None)``."""
        if rel in tree.files:
            return "file", tree.files[rel]
        if rel in tree.children:
            return "dir", None
        if has_magic(rel) and self._glob(ref, rel):
            return "glob", None
        segs = rel.split("/")
        for k in range(len(segs) - 1, 0, -1):  # a file below a glob folder
            pattern = "/".join(segs[:k])
            if has_magic(pattern):
                real = _glob_base(pattern) + "/".join(segs[k:])
                if real in tree.files and f"{ref}/{real}" in self._glob(ref, pattern):
                    return "file", tree.files[real]
        return "", None

    def _glob(self, ref: str, pattern: str) -> list[str]:
        tree = self._tree(ref)
        key = (ref, pattern)
        found = tree.globs.get(key)
        if found is None:  # the version never changes: each glob is matched once
            found = tree.globs[key] = [p for p in self.glob(f"{ref}/{pattern}") if p.partition("/")[2] in tree.files]
        return found

    def _entry(self, name: str, asset: Asset | None, tree: _Tree) -> dict[str, Any]:
        if asset is None:
            return {"name": name, "size": 0, "type": "directory"}
        return {"name": name, "size": asset.size or 0, "type": "file", "checksums": dict(asset.checksums),
                "version_id": asset.version_id, "last_modified": asset.last_modified,
                "version": tree.version.ref, "logical_path": asset.logical_path}

    def _below(self, ref: str, rel: str, kind: str, tree: _Tree) -> list[tuple[str, Asset | None]]:
        """The entries directly in the folder (or glob folder) ``rel``."""
        if kind == "glob":
            base = _glob_base(rel)
            return [(f"{ref}/{rel}/{p.partition('/')[2][len(base):]}", tree.files[p.partition("/")[2]])
                    for p in self._glob(ref, rel)]
        prefix = f"{rel}/" if rel else ""
        return [(f"{ref}/{prefix}{name}", None if is_dir else tree.files[prefix + name])
                for name, is_dir in sorted(tree.children[rel].items())]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        ref, rel = self._split(path)
        if not ref:
            return {"name": "", "size": 0, "type": "directory"}
        tree = self._tree(ref)
        kind, asset = self._lookup(ref, rel, tree)
        if not kind:
            raise self._missing(ref, rel, tree)
        return self._entry(f"{ref}/{rel}" if rel else ref, asset, tree)

    def _missing(self, ref: str, rel: str, tree: _Tree) -> Exception:
        link = tree.links.get(rel)
        if link is not None:
            return NoDriverError(f"{tree.version.ref}: asset {rel!r} is a link-only reference ({link.link}) "
                                 "that tether cannot read")
        return ObjectNotFoundError(f"{tree.version.ref} has no asset or folder {rel!r} (tether://{ref}/{rel})")

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        ref, rel = self._split(path)
        if not ref:
            names = self.catalog.artifacts()
            return [{"name": n, "size": 0, "type": "directory"} for n in names] if detail else names
        tree = self._tree(ref)
        kind, asset = self._lookup(ref, rel, tree)
        if not kind:
            raise self._missing(ref, rel, tree)
        rows = [(f"{ref}/{rel}", asset)] if kind == "file" else self._below(ref, rel, kind, tree)
        return [self._entry(n, a, tree) for n, a in rows] if detail else [n for n, _ in rows]

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        ref, rel = self._split(path)
        if not ref:
            return super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        tree = self._tree(ref)
        kind, asset = self._lookup(ref, rel, tree)
        out: dict[str, dict[str, Any]] = {}
        if kind == "file":
            out[f"{ref}/{rel}"] = self._entry(f"{ref}/{rel}", asset, tree)
        elif kind:
            if withdirs and rel:
                out[f"{ref}/{rel}"] = self._entry(f"{ref}/{rel}", None, tree)
            stack = [(rel, kind, 1)]
            while stack:  # depth first; sorted below
                folder, what, depth = stack.pop()
                for name, a in self._below(ref, folder, what, tree):
                    if a is not None or withdirs:
                        out[name] = self._entry(name, a, tree)
                    if a is None and (maxdepth is None or depth < maxdepth):
                        stack.append((name.partition("/")[2], "dir", depth + 1))
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    def ukey(self, path: str) -> str:
        info = self.info(path)
        return hashlib.sha256(f"{info.get('version')}\0{info['name']}\0{info.get('checksums')}\0"
                              f"{info.get('version_id')}".encode()).hexdigest()

    # ------------------------------------------------------------------ reading
    def _asset(self, path: str) -> tuple[Asset, _Tree]:
        ref, rel = self._split(path)
        if not ref:
            raise IsADirectoryError(f"tether://{path} is not a file")
        tree = self._tree(ref)
        kind, asset = self._lookup(ref, rel, tree)
        if kind == "file" and asset is not None:
            return asset, tree
        if kind:
            raise IsADirectoryError(f"tether://{ref}/{rel} is a folder of {tree.version.ref}")
        raise self._missing(ref, rel, tree)

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None, autocommit: bool = True,
              cache_options: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if mode != "rb":
            self._read_only(path)
        asset, _ = self._asset(path)
        if self.cache_dir:
            return open(self._cache_path(asset), "rb")
        return TetherFile(self, self._strip_protocol(path), asset, block_size=block_size or self.blocksize,
                          cache_options=cache_options)

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        with self.open(path, "rb") as f:
            size = f.size if hasattr(f, "size") else os.fstat(f.fileno()).st_size
            start = 0 if start is None else (start if start >= 0 else max(0, size + start))
            end = size if end is None else (end if end >= 0 else max(0, size + end))
            f.seek(start)
            return f.read(max(0, min(end, size) - start))

    def _cache_path(self, asset: Asset) -> str:
        """The asset's verified copy in the cache, fetched (and verified) on the first use."""
        assert self.cache_dir is not None
        key = cache_key(asset)
        final = Path(self.cache_dir, *key.split("/"))
        try:
            if final.stat().st_size == asset.size:
                return str(final)
        except FileNotFoundError:
            pass
        Path(self.cache_dir).mkdir(parents=True, exist_ok=True)
        driver = driver_for_uri(asset.uri or asset.link)
        # The downloader's fetch: verified, atomic, locked between processes,
        # resumable. Named by the key, so one entry serves every version.
        dl = transfer.Downloader(workers=driver.default_workers, progress=None,
                                 retry=transfer.RetryPolicy.from_env(), driver_for=lambda _a: driver)
        try:
            dl.fetch(attrs.evolve(asset, logical_path=key), final, "overwrite")
        except TetherError as exc:  # name the asset, not the cache entry
            raise type(exc)(exc.message.replace(repr(key), repr(asset.logical_path))) from None
        finally:
            dl.close()
        return str(final)

    # ------------------------------------------------------------------ writing
    def _read_only(self, path: str, *args: Any, **kwargs: Any) -> Any:
        raise ReadOnlyError(f"tether://{self._strip_protocol(str(path))}: a logged version is read-only; "
                            "log a new version with tether.Catalog().log() or `tether log` instead")

    def _write(self, path: str = "", *args: Any, **kwargs: Any) -> Any:
        return self._read_only(path)

    mkdir = makedirs = rmdir = rm = rm_file = _rm = touch = pipe_file = pipe = put_file = put = _write
    cp_file = copy = mv = move = rename = setxattrs = _write


def _glob_base(pattern: str) -> str:
    """The folder a glob's matches are named relative to: up to the last ``/`` before its first wildcard."""
    first = min((i for i in (pattern.find(c) for c in "*?[") if i >= 0), default=len(pattern))
    return pattern[: pattern.rfind("/", 0, first) + 1]


def _rebuild(options: dict[str, Any]) -> TetherFileSystem:
    return TetherFileSystem(**options)
