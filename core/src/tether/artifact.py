"""``Artifact``: the builder a user fills before logging it to a catalog."""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from . import config, operations
from .driver import DEFAULT_MAX_OBJECTS, Driver, Resolution
from .errors import (
    AccessDeniedError,
    InvalidArtifactError,
    InvalidNameError,
    InvalidURIError,
    NoDriverError,
    ObjectNotFoundError,
)
from .installhints import link_only_note
from .localtree import Excludes, glob_files, scan
from .models import Asset
from .nogc import gc_paused
from .paths import check_logical_path, join_logical
from .progress import Progress, reporting
from .resolver import can_link_only, driver_for_uri, scheme_of
from .rows import AssetRow, DuplicatePath, ObjectRows, asset_rows, materialise
from .uris import redact, split_scheme

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class LinkOnlyWarning(UserWarning):
    """A reference was recorded as a link only: tether cannot fetch it."""


class InPlaceWarning(UserWarning):
    """Local files were recorded in place (:meth:`Artifact.add_remote` of a local
    path), not copied: once they change, that version cannot be downloaded.
    :meth:`Artifact.add` keeps copies."""


def check_name(name: str, what: str = "artifact name") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or name.endswith((".json", ".tmp")):
        raise InvalidNameError(f"invalid {what} {name!r}: use letters, digits, '.', '_' and '-' "
                               "(at most 128, starting with a letter or digit)")
    return name


#: Metadata is stored as JSON in the manifest; deeper nesting than this is
#: refused so every JSON reader (tether's included) can read it back.
MAX_METADATA_DEPTH = 64
#: The largest JSON text of one metadata mapping: the manifest reader bounds
#: line length (:data:`tether.models.MAX_LINE`), and metadata is one line.
MAX_METADATA_BYTES = 8 * 1024 * 1024


def check_type(type_: object) -> str:
    if not isinstance(type_, str) or not type_:
        raise InvalidArtifactError(f"artifact type must be a non-empty string, not {type_!r:.60}")
    return type_


def check_metadata(metadata: object, what: str) -> dict[str, Any]:
    """``metadata`` as a dict, if it is JSON as it will be stored: string keys;
    values str, int, finite float, bool, None, lists and dicts of those. NaN
    and Infinity are refused (no JSON reader but Python's accepts them); so is
    anything ``json`` would silently turn into something else (int keys)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidArtifactError(f"{what} must be a mapping, not {type(metadata).__name__}")
    size = 0
    stack: list[tuple[object, int]] = [(metadata, 0)]
    while stack:  # iterative: a cyclic or very deep value must not recurse
        value, depth = stack.pop()
        if depth > MAX_METADATA_DEPTH:
            raise InvalidArtifactError(f"{what} is nested deeper than {MAX_METADATA_DEPTH} levels")
        if isinstance(value, str):
            try:
                size += len(value.encode("utf-8"))
            except UnicodeEncodeError:
                raise InvalidArtifactError(f"{what}: {value[:40]!r} is not valid Unicode text") from None
        elif value is None or isinstance(value, (bool, int)):
            size += 8
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidArtifactError(f"{what}: {value!r} is not a JSON number")
            size += 8
        elif isinstance(value, Mapping):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise InvalidArtifactError(f"{what}: key {k!r:.40} is not a string")
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)
        else:
            raise InvalidArtifactError(f"{what}: a {type(value).__name__} is not JSON (use strings, numbers, "
                                       "booleans, None, lists and dicts)")
        if size > MAX_METADATA_BYTES:
            raise InvalidArtifactError(f"{what} is larger than {MAX_METADATA_BYTES} bytes")
    return dict(metadata)


def check_artifact(artifact: Artifact) -> None:
    """Re-check what a user may have changed on the artifact since building it."""
    check_name(artifact.name)
    check_type(artifact.type)
    check_metadata(artifact.metadata, f"artifact {artifact.name!r} metadata")


@attrs.frozen
class PendingFile:
    """A local file added with :meth:`Artifact.add`, uploaded when logged."""

    local_path: str
    logical_path: str
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


class Artifact:
    """A named set of files to log as the next version of ``name``.

    >>> art = Artifact("imagenet-subset", type="dataset")
    >>> art.add_remote("s3://bucket/train/")          # one asset per object
    >>> art.add("config.yaml")                        # uploaded when logged
    >>> Catalog().log(art, aliases=["candidate"])
    """

    def __init__(self, name: str, type: str = "dataset", metadata: Mapping[str, Any] | None = None, *,
                 strict: bool = False, max_objects: int | None = None,
                 artifacts_uri: str | None = None) -> None:
        self.name = check_name(name)
        self.type = check_type(type)
        self.metadata = check_metadata(metadata, f"artifact {name!r} metadata")
        self.strict = strict
        self.max_objects = max_objects
        self.artifacts_uri = artifacts_uri
        # Assets by logical path; a folder's listing is kept as rows (tether.rows)
        # until something reads them: an unchanged re-log never does.
        self._assets: dict[str, Asset | AssetRow] = {}
        self._rows_held = False
        self._pending: dict[str, PendingFile] = {}

    def __repr__(self) -> str:
        return f"Artifact({self.name!r}, type={self.type!r}, assets={len(self._assets) + len(self._pending)})"

    @property
    def assets(self) -> tuple[Asset, ...]:
        """Assets resolved so far (files from :meth:`add` appear once logged)."""
        if self._rows_held:
            self._assets = {a.logical_path: a for a in materialise(tuple(self._assets.values()))}  # built once
            self._rows_held = False
        return tuple(self._assets.values())  # type: ignore[arg-type]

    def _recorded(self) -> tuple[Asset | AssetRow, ...]:
        """The assets as held: an :class:`Asset`, or an :class:`~tether.rows.AssetRow`
        not built yet (which answers ``logical_path``, ``uri``, ``synced`` and
        ``identity()`` like one). For :meth:`Catalog.log`, which builds them only
        when it writes a manifest."""
        return tuple(self._assets.values())

    @property
    def pending_files(self) -> tuple[PendingFile, ...]:
        return tuple(self._pending.values())

    def _claim(self, logical_path: str) -> None:
        if logical_path in self._assets or logical_path in self._pending:
            raise InvalidArtifactError(f"artifact {self.name!r} already has an asset at {logical_path!r}")

    # ------------------------------------------------------------------ remote
    def add_remote(self, uri: str, logical_path: str | None = None,
                   metadata: Mapping[str, Any] | None = None, *, strict: bool | None = None,
                   max_objects: int | None = None, glob: bool | None = None,
                   hash: bool = False, exclude: Iterable[str] | str | None = None,
                   default_excludes: bool = True, progress: Progress | None = None) -> list[Asset]:
        """Record the object(s) ``uri`` names where they are, without copying them.

        ``uri`` is one object, a prefix/folder (one asset per object, logical
        paths relative to it, matched on ``/`` boundaries), or a glob (``*``).
        A URI whose scheme no tether plugin serves (``https://``, any string) is
        kept as a link-only asset with a :class:`LinkOnlyWarning`; so is an
        object store that refuses access. ``strict=True`` raises instead.

        A local path (or ``file://`` URI) is **tracked in place**: the manifest
        points at the files themselves, and a local disk keeps no old versions,
        so once a file changes, versions recording its old bytes cannot be
        downloaded (logging warns once with :class:`InPlaceWarning`). To keep
        copies, use :meth:`add`. Object stores with versioning keep old bytes
        fetchable by version id.

        ``exclude`` (glob patterns, see :mod:`tether.localtree`) leaves files out
        of a folder, prefix or glob; local folders also leave out
        :data:`~tether.localtree.DEFAULT_EXCLUDES` (``.git/``, ``.DS_Store`` ...)
        unless ``default_excludes=False``. ``progress`` receives
        :class:`~tether.progress.ProgressEvent`\\ s while listing and hashing.

        ``hash=True`` reads every object's bytes once (pinned to the version
        recorded) and records their sha256, for objects whose store reports no
        checksum tether can verify (``verification`` would be ``size-only``).
        Objects that already carry a sha256 are not read.
        """
        if not isinstance(uri, str) or not uri.strip():
            raise InvalidURIError(f"artifact {self.name!r}: empty URI {uri!r}; give an object, prefix or link")
        metadata = check_metadata(metadata, f"metadata for {redact(uri)}")
        strict = self.strict if strict is None else strict
        cap = max_objects or self.max_objects or config.int_setting("max_objects", DEFAULT_MAX_OBJECTS)
        if logical_path is not None:
            check_logical_path(logical_path.rstrip("/") or logical_path)
        if can_link_only(uri):
            note = link_only_note(scheme_of(uri))  # names tether-http for an https:// URI
            if strict:
                raise NoDriverError(f"no installed tether driver serves {redact(uri)} (strict=True){note}")
            return [self._add_link(uri, logical_path, metadata,
                                   f"no tether driver serves this scheme; recorded as a link only{note}")]
        driver = driver_for_uri(uri)
        leave_out = Excludes.build(exclude, default_excludes and scheme_of(uri) == "file")
        try:
            with reporting(progress):
                if leave_out is not None and driver.lists_with_exclude:
                    res = operations.resolve(driver, uri, max_objects=cap, glob=glob, exclude=leave_out)
                else:
                    res = operations.resolve(driver, uri, max_objects=cap, glob=glob)
        except AccessDeniedError as exc:
            if strict:
                raise
            return [self._add_link(uri, logical_path, metadata, f"{exc}; recorded as a link only")]
        # A driver that lists with ``exclude`` already left those out (and its listing
        # may be rows, which this filter would build one object at a time).
        if leave_out is not None and res.kind != "object" and not driver.lists_with_exclude:
            kept = tuple(o for o in res.objects if not leave_out.path(res.relative(o)))
            if not kept:
                raise ObjectNotFoundError(f"every object under {redact(uri)} is excluded ({', '.join(leave_out.patterns)})")
            res = attrs.evolve(res, objects=kept)
        return self._add_resolved(res, uri, logical_path, metadata, driver if hash else None)

    def _add_resolved(self, res: Resolution, uri: str, logical_path: str | None,
                      metadata: Mapping[str, Any] | None, hash_with: Driver | None = None) -> list[Asset]:
        if isinstance(res.objects, ObjectRows) and res.kind != "object" and hash_with is None:
            return self._add_rows(res.objects, res.base, uri, logical_path, metadata)
        source = redact(res.objects[0].uri if res.kind == "object" else uri)
        # Staged first so a clash leaves the artifact as it was.
        staged: dict[str, Asset] = {}
        relative, from_object = res.relative, Asset.from_object
        # Not around resolve or hashing: they can take minutes of network I/O, and the
        # collector should run meanwhile for whatever the HTTP stack leaves behind.
        with gc_paused():  # one asset per object, none cyclic
            for obj in res.objects:
                if res.kind == "object":
                    lp = logical_path.rstrip("/") if logical_path else relative(obj)
                else:
                    lp = join_logical(logical_path, relative(obj))
                if lp in staged:
                    raise InvalidArtifactError(f"artifact {self.name!r}: two objects map to {lp!r}")
                staged[lp] = from_object(lp, obj, source=source, metadata=metadata)
        if self._assets or self._pending:
            for lp in staged:
                self._claim(lp)  # raises, naming the clash
        if hash_with is not None:
            from .hashing import hash_assets  # imports transfer: only when asked

            staged = {a.logical_path: a for a in hash_assets(list(staged.values()), hash_with)}
        self._assets.update(staged)
        return list(staged.values())

    def _add_rows(self, objects: ObjectRows, base: str, uri: str, logical_path: str | None,
                  metadata: Mapping[str, Any] | None) -> list[Asset]:
        """:meth:`_add_resolved` for a listing of rows: kept as rows (see :mod:`tether.rows`).
        The assets returned are built lazily too."""
        with gc_paused():  # one row per object, none cyclic
            try:
                staged = asset_rows(objects, base, logical_path, redact(uri), metadata)
            except DuplicatePath as exc:
                raise InvalidArtifactError(f"artifact {self.name!r}: two objects map to {exc.args[0]!r}") from None
        if self._assets or self._pending:
            for lp in staged:
                self._claim(lp)  # raises, naming the clash
        self._assets.update(staged)
        self._rows_held = True
        return _LazyAssets(tuple(staged.values()))

    def _add_link(self, uri: str, logical_path: str | None, metadata: Mapping[str, Any] | None,
                  why: str) -> Asset:
        link = redact(uri)
        lp = logical_path or _link_name(link, len(self._assets))
        self._claim(lp)
        # ``why`` may be an error that already names the URI: say it once.
        warnings.warn(why if link in why else f"{link}: {why}", LinkOnlyWarning, stacklevel=3)
        asset = Asset(logical_path=lp, link=link, synced=False, metadata=metadata or {})
        self._assets[lp] = asset
        return asset

    # ------------------------------------------------------------------- local
    def add(self, local_path: str | os.PathLike[str], logical_path: str | None = None,
            metadata: Mapping[str, Any] | None = None, *, exclude: Iterable[str] | str | None = None,
            default_excludes: bool = True, progress: Progress | None = None) -> list[PendingFile]:
        """Add a local file, folder or glob (``data/*.csv``) to be **uploaded**
        when the artifact is logged, into the catalog's content-addressed
        storage (or ``artifacts_uri``): the version keeps its own copy, so
        changing or deleting the local files later never affects it, and
        identical files are stored once. (:meth:`add_remote` of a local path
        records the files in place instead, without a copy.)

        Folders are walked following symlinks (see :mod:`tether.localtree`),
        leaving out ``exclude`` and, unless ``default_excludes=False``,
        :data:`~tether.localtree.DEFAULT_EXCLUDES` (``.git/``, ``.DS_Store`` ...).
        A file named directly is always added. ``progress`` receives the files
        found while a folder is walked; hashing and uploading happen when the
        artifact is logged (see :meth:`Catalog.log`)."""
        if os.fspath(local_path) in ("", b""):
            # An unset shell variable: never read it as the working directory.
            raise InvalidURIError(f"artifact {self.name!r}: empty local path; give a file or folder "
                                  "('.' for the current folder)")
        metadata = check_metadata(metadata, f"metadata for {os.fspath(local_path)!r}")
        if "\x00" in os.fspath(local_path):
            raise InvalidURIError(f"local path {os.fspath(local_path)!r} contains a NUL byte")
        leave_out = Excludes.build(exclude, default_excludes)
        path = Path(local_path).expanduser()
        files: list[tuple[str, str]] = []
        if not path.exists() and "*" in str(path):
            with reporting(progress):
                matched = glob_files(os.path.abspath(path), leave_out)
            if not matched:
                raise ObjectNotFoundError(f"no local file matches {str(path)!r}")
            files = [(full, join_logical(logical_path, rel)) for full, rel in matched]
        elif not path.exists():
            raise ObjectNotFoundError(f"no local file or folder {str(path)!r}")
        elif path.is_dir():
            root = str(path.resolve())
            cut = len(root.rstrip("/")) + 1
            with reporting(progress):
                found = scan(root, leave_out)
            files = [(full, join_logical(logical_path, full[cut:])) for full in sorted(found)]
        else:
            path = path.resolve()
            files.append((str(path), logical_path.rstrip("/") if logical_path else path.name))
        out = []
        for full, lp in files:
            check_logical_path(lp)
            self._claim(lp)
            pf = PendingFile(full, lp, dict(metadata or {}))
            self._pending[lp] = pf
            out.append(pf)
        return out


class _LazyAssets(list):  # type: ignore[type-arg]
    """What :meth:`Artifact.add_remote` returns for rows: a list of the assets,
    built on first read (a caller that drops the return value never pays)."""

    def __init__(self, rows: tuple[AssetRow, ...]) -> None:
        super().__init__()
        self._rows: tuple[AssetRow, ...] | None = rows

    def _build(self) -> None:
        if getattr(self, "_rows", None) is not None:
            rows, self._rows = self._rows, None
            list.extend(self, materialise(rows))

    def __len__(self) -> int:
        rows = getattr(self, "_rows", None)
        return len(rows) if rows is not None else list.__len__(self)

    def __reduce__(self) -> tuple[object, ...]:
        return (list, (list(self),))  # a copy or a pickle is a plain list of the assets

    def __bool__(self) -> bool:
        return len(self) > 0


def _lazy(name: str):
    method = getattr(list, name)

    def call(self, *args, **kwargs):
        self._build()
        return method(self, *args, **kwargs)

    call.__name__ = name
    return call


for _name in ("__getitem__", "__iter__", "__reversed__", "__contains__", "__eq__", "__ne__", "__lt__", "__le__",
              "__gt__", "__ge__", "__add__", "__iadd__", "__mul__", "__imul__", "__rmul__", "__repr__", "__setitem__",
              "__delitem__", "append", "extend", "insert", "pop", "remove", "clear",
              "index", "count", "sort", "reverse", "copy"):
    if hasattr(list, _name):
        setattr(_LazyAssets, _name, _lazy(_name))


def warn_in_place(ref: str, assets: Iterable[Asset | AssetRow]) -> None:
    """One :class:`InPlaceWarning` per log that recorded local files in place (not copied)."""
    # Drivers write their URIs with the scheme (a file:// URI here): a prefix test per asset.
    local = [a for a in assets if a.synced and a.uri is not None and a.uri.startswith("file:")]
    if local:
        warnings.warn(f"{ref} records {len(local)} local file(s) in place, without a copy "
                      f"({redact(local[0].uri or '')}{' ...' if len(local) > 1 else ''}): once they change, "
                      "this version cannot be downloaded; Artifact.add keeps copies", InPlaceWarning, stacklevel=3)


def _link_name(link: str, index: int) -> str:
    scheme, rest = split_scheme(link)
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    for seg in reversed(rest.split("/")):
        try:
            return check_logical_path(seg.strip())
        except Exception:  # noqa: BLE001 - fall through to a generated name
            continue
    return f"link-{index}"
