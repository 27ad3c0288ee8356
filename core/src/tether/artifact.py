"""``Artifact``: the builder a user fills before logging it to a catalog."""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from . import config, operations
from .driver import DEFAULT_MAX_OBJECTS, Resolution
from .errors import (
    AccessDeniedError,
    InvalidArtifactError,
    InvalidNameError,
    InvalidURIError,
    NoDriverError,
    ObjectNotFoundError,
)
from .models import Asset
from .nogc import gc_paused
from .paths import check_logical_path, join_logical
from .resolver import can_link_only, driver_for_uri
from .uris import redact, split_scheme

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class LinkOnlyWarning(UserWarning):
    """A reference was recorded as a link only: tether cannot fetch it."""


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
        self._assets: dict[str, Asset] = {}
        self._pending: dict[str, PendingFile] = {}

    def __repr__(self) -> str:
        return f"Artifact({self.name!r}, type={self.type!r}, assets={len(self._assets) + len(self._pending)})"

    @property
    def assets(self) -> tuple[Asset, ...]:
        """Assets resolved so far (files from :meth:`add` appear once logged)."""
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
                   max_objects: int | None = None, glob: bool | None = None) -> list[Asset]:
        """Record the object(s) ``uri`` names without copying them.

        ``uri`` is one object, a prefix/folder (one asset per object, logical
        paths relative to it, matched on ``/`` boundaries), or a glob (``*``).
        A URI whose scheme no tether plugin serves (``https://``, any string) is
        kept as a link-only asset with a warning; so is an object store that
        refuses access. ``strict=True`` raises instead.
        """
        if not isinstance(uri, str) or not uri.strip():
            raise InvalidURIError(f"artifact {self.name!r}: empty URI {uri!r}; give an object, prefix or link")
        metadata = check_metadata(metadata, f"metadata for {redact(uri)}")
        strict = self.strict if strict is None else strict
        cap = max_objects or self.max_objects or config.int_setting("max_objects", DEFAULT_MAX_OBJECTS)
        if logical_path is not None:
            check_logical_path(logical_path.rstrip("/") or logical_path)
        if can_link_only(uri):
            if strict:
                raise NoDriverError(f"no installed tether driver serves {redact(uri)} (strict=True)")
            return [self._add_link(uri, logical_path, metadata,
                                   "no tether driver serves this scheme; recorded as a link only")]
        driver = driver_for_uri(uri)
        try:
            res = operations.resolve(driver, uri, max_objects=cap, glob=glob)
        except AccessDeniedError as exc:
            if strict:
                raise
            return [self._add_link(uri, logical_path, metadata, f"{exc}; recorded as a link only")]
        # Not around resolve: a listing can take minutes of network I/O, and the
        # collector should run meanwhile for whatever the HTTP stack leaves behind.
        with gc_paused():  # one asset per object, none cyclic
            return self._add_resolved(res, uri, logical_path, metadata)

    def _add_resolved(self, res: Resolution, uri: str, logical_path: str | None,
                      metadata: Mapping[str, Any] | None) -> list[Asset]:
        source = redact(res.objects[0].uri if res.kind == "object" else uri)
        # Staged first so a clash leaves the artifact as it was.
        staged: dict[str, Asset] = {}
        relative, from_object = res.relative, Asset.from_object
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
        self._assets.update(staged)
        return list(staged.values())

    def _add_link(self, uri: str, logical_path: str | None, metadata: Mapping[str, Any] | None,
                  why: str) -> Asset:
        link = redact(uri)
        lp = logical_path or _link_name(link, len(self._assets))
        self._claim(lp)
        warnings.warn(f"{link}: {why}", LinkOnlyWarning, stacklevel=3)
        asset = Asset(logical_path=lp, link=link, synced=False, metadata=metadata or {})
        self._assets[lp] = asset
        return asset

    # ------------------------------------------------------------------- local
    def add(self, local_path: str | os.PathLike[str], logical_path: str | None = None,
            metadata: Mapping[str, Any] | None = None) -> list[PendingFile]:
        """Add a local file or folder; it is uploaded to the catalog's artifact
        storage (or ``artifacts_uri``) when the artifact is logged."""
        if os.fspath(local_path) in ("", b""):
            # An unset shell variable: never read it as the working directory.
            raise InvalidURIError(f"artifact {self.name!r}: empty local path; give a file or folder "
                                  "('.' for the current folder)")
        metadata = check_metadata(metadata, f"metadata for {os.fspath(local_path)!r}")
        if "\x00" in os.fspath(local_path):
            raise InvalidURIError(f"local path {os.fspath(local_path)!r} contains a NUL byte")
        path = Path(local_path).expanduser()
        if not path.exists():
            raise ObjectNotFoundError(f"no local file or folder {str(path)!r}")
        path = path.resolve()
        files: list[tuple[str, str]] = []
        if path.is_dir():
            for folder, dirs, names in os.walk(path):
                dirs.sort()
                for n in sorted(names):
                    full = os.path.join(folder, n)
                    rel = os.path.relpath(full, path).replace(os.sep, "/")
                    files.append((full, join_logical(logical_path, rel)))
        else:
            files.append((str(path), logical_path.rstrip("/") if logical_path else path.name))
        out = []
        for full, lp in files:
            check_logical_path(lp)
            self._claim(lp)
            pf = PendingFile(full, lp, dict(metadata or {}))
            self._pending[lp] = pf
            out.append(pf)
        return out


def _link_name(link: str, index: int) -> str:
    scheme, rest = split_scheme(link)
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    for seg in reversed(rest.split("/")):
        try:
            return check_logical_path(seg.strip())
        except Exception:  # noqa: BLE001 - fall through to a generated name
            continue
    return f"link-{index}"
