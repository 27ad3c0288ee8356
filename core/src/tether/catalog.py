"""The catalog: immutable, numbered versions of named artifacts, on any driver.

Layout under the root (a local folder, ``s3://bucket/prefix``, ``gs://...``)::

    artifacts/<name>/manifests/<sha256>.json[.gz]   content-addressed manifest
    artifacts/<name>/versions/<0000000007>.json      version claim -> manifest
    artifacts/<name>/aliases/<alias>.json            {"version": 7}
    artifacts/<name>/tags/<version>/<tag>            one empty object per tag
    objects/sha256/<ab>/<digest>                     uploaded files (Artifact.add)

Logging writes the manifest first, then *claims* the next version number with
the store's create-if-absent write (local: ``os.link``; S3: ``If-None-Match``;
GCS: ``ifGenerationMatch=0``). The claim is small and written last, so a
version is either absent or complete, and N concurrent writers get N distinct
numbers with no server of ours. Aliases and tags are one object each, so
concurrent moves never corrupt anything: the last write wins.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from . import config, transfer
from .artifact import Artifact, PendingFile, check_name
from .driver import Driver
from .errors import (
    AlreadyExistsError,
    InvalidNameError,
    ManifestError,
    ObjectNotFoundError,
    TetherError,
    UnknownAliasError,
    UnknownArtifactError,
    UnknownVersionError,
)
from .models import VERSION_SCHEMA, Asset, FrozenMap, Manifest, RemoteObject, content_digest
from .parallel import parallel_map
from .resolver import driver_for_uri, scheme_of
from .uris import redact, split_scheme

COMPRESS_OVER_ASSETS = 1000
_VERSION_FILE_RE = re.compile(r"^(\d{10})\.json$")
TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:=+-]{0,127}$")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
class AssetStatus:
    logical_path: str | None
    status: str  # unchanged | modified | deleted | new | skipped
    uri: str | None = None
    detail: str | None = None


@attrs.frozen
class StatusResult:
    outcomes: tuple[AssetStatus, ...]

    @property
    def drifted(self) -> bool:
        return any(o.status in ("modified", "deleted", "new") for o in self.outcomes)

    def with_status(self, status: str) -> list[AssetStatus]:
        return [o for o in self.outcomes if o.status == status]


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
                 strict: bool = False, raise_on_error: bool = True) -> transfer.DownloadResult:
        """Fetch exactly the recorded bytes into ``dest`` (see :mod:`tether.transfer`)."""
        return transfer.download(self.assets, dest, overwrite=overwrite, workers=workers,
                                 progress=progress, strict=strict, raise_on_error=raise_on_error,
                                 driver_for=lambda a: driver_for_uri(a.uri or a.link), label=self.ref)

    def verify(self, dest: str | os.PathLike[str]) -> transfer.VerifyResult:
        """Check a local copy under ``dest`` against the manifest."""
        return transfer.verify(self.assets, dest)

    def status(self) -> StatusResult:
        """Compare the recorded assets with the store now: one listing per source."""
        return _status(self.assets)


class Catalog:
    """Versions of named artifacts, stored under ``root``.

    ``Catalog()`` is the embedded default: a folder on this machine
    (``$TETHER_HOME``, else the per-user data folder). ``Catalog("s3://bucket/p")``
    or ``Catalog("gs://bucket/p")`` is a team catalog on an object store.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        if root is None:
            root = config.home_dir()
        root = os.fspath(root)
        scheme, _ = split_scheme(root)
        if scheme is None:
            root = "file://" + str(Path(root).expanduser().resolve())
        self.root = root.rstrip("/")
        self._driver: Driver = driver_for_uri(self.root)

    def __repr__(self) -> str:
        return f"Catalog({redact(self.root)!r})"

    @property
    def storage_uri(self) -> str:
        """Where :meth:`Artifact.add` uploads files unless the artifact says otherwise."""
        return self._uri("objects")

    def _uri(self, *parts: str) -> str:
        return self.root + "/" + "/".join(parts)

    # ------------------------------------------------------------------ reading
    def artifacts(self) -> list[str]:
        return [n for n in self._driver.list_names(self._uri("artifacts")) if _is_name(n)]

    def _version_numbers(self, name: str) -> list[int]:
        names = self._driver.list_names(self._uri("artifacts", name, "versions"))
        return sorted(int(m.group(1)) for n in names if (m := _VERSION_FILE_RE.match(n)))

    def _read_claim(self, name: str, version: int) -> dict[str, Any]:
        uri = self._uri("artifacts", name, "versions", f"{version:010d}.json")
        try:
            raw = self._driver.read_bytes(uri)
        except ObjectNotFoundError:
            raise UnknownVersionError(f"artifact {name!r} has no version {version}") from None
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise ManifestError(f"version claim {redact(uri)} is not valid JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("schema") != VERSION_SCHEMA:
            raise ManifestError(f"version claim {redact(uri)} has unsupported schema "
                                f"{doc.get('schema') if isinstance(doc, dict) else None!r}")
        return doc

    def versions(self, name: str) -> list[VersionInfo]:
        check_name(name)
        nums = self._version_numbers(name)
        if not nums:
            raise UnknownArtifactError(f"no artifact named {name!r} in {self!r}")
        out = []
        for n in nums:
            d = self._read_claim(name, n)
            out.append(VersionInfo(name, n, str(d.get("created_at", "")), str(d.get("digest", "")),
                                   int(d.get("asset_count", 0)), int(d.get("total_size", 0))))
        return out

    def latest_version(self, name: str) -> int | None:
        nums = self._version_numbers(name)
        return nums[-1] if nums else None

    def get(self, name: str, version: int | str | None = None, alias: str | None = None) -> ArtifactVersion:
        """A version by number, by alias, or the latest. ``name`` may also be a
        reference: ``"data:3"``, ``"data:v3"``, ``"data@production"``, ``"data:latest"``."""
        name, version, alias = parse_ref(name, version, alias)
        check_name(name)
        if alias is not None and version is not None:
            raise InvalidNameError("give a version or an alias, not both")
        if alias is not None:
            aliases = self.aliases(name)
            if alias not in aliases:
                raise UnknownAliasError(f"artifact {name!r} has no alias {alias!r}"
                                        + (f" (aliases: {', '.join(sorted(aliases))})" if aliases else ""))
            number = aliases[alias]
        elif version is None or version == "latest":
            latest = self.latest_version(name)
            if latest is None:
                raise UnknownArtifactError(f"no artifact named {name!r} in {self!r}")
            number = latest
        else:
            number = _version_number(version)
            if self.latest_version(name) is None:
                raise UnknownArtifactError(f"no artifact named {name!r} in {self!r}")
        return self._load(name, number)

    def _load(self, name: str, number: int, *, lazy_type: str | None = None) -> ArtifactVersion:
        """Version ``number`` of ``name``. With ``lazy_type`` (the type the
        caller already knows it has), the manifest is read only when its assets
        or metadata are first used."""
        claim = self._read_claim(name, number)
        refs = {"aliases": tuple(sorted(a for a, v in self.aliases(name).items() if v == number)),
                "tags": tuple(self.tags(name, number))}
        if lazy_type is not None and isinstance(claim.get("created_at"), str):
            return ArtifactVersion(name=name, version=number, type=lazy_type, created_at=claim["created_at"],
                                   digest=str(claim.get("digest", "")), catalog=self, **refs,
                                   manifest_reader=lambda: self._read_manifest(name, number, claim))
        m = self._read_manifest(name, number, claim)
        return ArtifactVersion(name=name, version=number, type=m.type, created_at=m.created_at,
                               digest=m.digest, assets=m.assets, metadata=m.metadata, catalog=self, **refs)

    def _read_manifest(self, name: str, number: int, claim: dict[str, Any]) -> Manifest:
        rel = claim.get("manifest")
        if not isinstance(rel, str) or not re.match(r"^manifests/[0-9a-f]{64}\.json(\.gz)?$", rel):
            raise ManifestError(f"{name}:v{number}: version claim names an invalid manifest {rel!r}")
        uri = self._uri("artifacts", name, rel)
        try:
            data = self._driver.read_bytes(uri)
        except ObjectNotFoundError:
            raise ManifestError(f"{name}:v{number}: manifest {redact(uri)} is missing") from None
        if hashlib.sha256(data).hexdigest() != rel.split("/")[1].split(".")[0]:
            raise ManifestError(f"{name}:v{number}: manifest {redact(uri)} does not match its checksum")
        return Manifest.from_bytes(data, where=f"{name}:v{number}")

    # ------------------------------------------------------------------ logging
    def log(self, artifact: Artifact, aliases: Iterable[str] = (), tags: Iterable[str] = (),
            *, workers: int | None = None) -> ArtifactVersion:
        """Log ``artifact`` as the next version of its name.

        Content identical to the latest version (same assets, checksums and
        version ids) returns that version instead of creating a new one; the
        aliases and tags given are applied to it."""
        aliases, tags = list(aliases), list(tags)
        for a in aliases:
            check_name(a, "alias")
        for t in tags:
            _check_tag(t)
        assets = list(artifact.assets)
        if artifact.pending_files:
            assets.extend(self._upload(artifact, workers))
        if not assets:
            raise TetherError(f"artifact {artifact.name!r} has no assets to log")
        assets.sort(key=lambda a: a.logical_path)
        frozen = tuple(assets)
        digest = content_digest(artifact.type, frozen)
        name = artifact.name
        latest = self.latest_version(name)
        manifest: Manifest | None = None
        if latest is not None and self._read_claim(name, latest).get("digest") == digest:
            number = latest
        else:
            manifest = Manifest(name=name, type=artifact.type, assets=frozen, created_at=_now(),
                                metadata=artifact.metadata, digest=digest)
            number = self._commit(manifest, latest)
        for a in aliases:
            self.set_alias(name, a, number)
        if tags:
            self.add_tags(name, number, *tags)
        if manifest is None:
            # Same content as the latest version (same type: the digest covers it).
            return self._load(name, number, lazy_type=artifact.type)
        # A version just written: no need to read back what is in memory. It is
        # new, so its only aliases and tags are the ones just given.
        return ArtifactVersion(name=name, version=number, type=manifest.type, created_at=manifest.created_at,
                               digest=digest, assets=frozen, metadata=manifest.metadata,
                               aliases=tuple(sorted(set(aliases))), tags=tuple(sorted(set(tags))), catalog=self)

    def _commit(self, manifest: Manifest, latest: int | None) -> int:
        compress = len(manifest.assets) > COMPRESS_OVER_ASSETS
        data = manifest.to_bytes(compress=compress)
        sha = hashlib.sha256(data).hexdigest()
        rel = f"manifests/{sha}.json" + (".gz" if compress else "")
        uri = self._uri("artifacts", manifest.name, rel)
        if not self._driver.exists(uri):
            try:
                self._driver.write_bytes(uri, data, if_absent=True)
            except AlreadyExistsError:
                pass  # same content, written by a concurrent logger
        number = (latest or 0) + 1
        for _ in range(10_000):
            claim = {"schema": VERSION_SCHEMA, "name": manifest.name, "version": number,
                     "manifest": rel, "created_at": manifest.created_at, "digest": manifest.digest,
                     "asset_count": len(manifest.assets), "total_size": manifest.total_size}
            try:
                self._driver.write_bytes(self._uri("artifacts", manifest.name, "versions", f"{number:010d}.json"),
                                         json.dumps(claim, indent=1).encode(), if_absent=True)
                return number
            except AlreadyExistsError:
                newest = self.latest_version(manifest.name) or number
                number = max(number, newest) + 1
        raise TetherError(f"could not claim a version number for {manifest.name!r}")

    def _upload(self, artifact: Artifact, workers: int | None) -> list[Asset]:
        """Upload files from Artifact.add to content-addressed storage (skipping
        ones already there) and return their assets."""
        target_root = (artifact.artifacts_uri or self.storage_uri).rstrip("/")
        store = driver_for_uri(target_root)
        local = driver_for_uri("file:///")
        pending = artifact.pending_files
        hashed = local.enrich([RemoteObject(uri="file://" + p.local_path, path=p.local_path, size=0)
                               for p in pending])

        def one(item: tuple[PendingFile, RemoteObject]) -> Asset:
            pf, obj = item
            sha = obj.checksums["sha256"]
            uri = f"{target_root}/sha256/{sha[:2]}/{sha}"
            existing = store.stat_path(store.path_of(uri))
            if existing is not None and existing.size == obj.size:
                stored = store.enrich([existing])[0] if scheme_of(uri) == "file" else existing
            else:
                stored = store.upload(pf.local_path, uri)
            sums = dict(stored.checksums)
            if sums.get("sha256", sha) != sha:
                raise TetherError(f"{pf.local_path} changed while it was uploaded")
            sums["sha256"] = sha
            return Asset(logical_path=pf.logical_path, link=stored.uri, uri=stored.uri, size=stored.size,
                         checksums=sums, version_id=stored.version_id, last_modified=stored.last_modified,
                         metadata=pf.metadata)

        return parallel_map(one, zip(pending, hashed), workers or store.default_workers)

    # ------------------------------------------------------------ aliases & tags
    def aliases(self, name: str) -> dict[str, int]:
        folder = self._uri("artifacts", name, "aliases")
        out = {}
        for n in self._driver.list_names(folder):
            if not n.endswith(".json"):
                continue
            try:
                doc = json.loads(self._driver.read_bytes(f"{folder}/{n}"))
                out[n[:-5]] = int(doc["version"])
            except (ObjectNotFoundError, ValueError, KeyError, TypeError):
                continue  # removed while listing, or not ours
        return out

    def set_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version`` (moving it if it pointed elsewhere)."""
        check_name(alias, "alias")
        if alias == "latest" or re.fullmatch(r"v?\d+", alias):
            raise InvalidNameError(f"alias {alias!r} is reserved (it looks like a version)")
        number = _version_number(version)
        if number not in self._version_numbers(name):
            self._missing(name, number)
        self._driver.write_bytes(self._uri("artifacts", name, "aliases", f"{alias}.json"),
                                 json.dumps({"version": number}).encode())

    def remove_alias(self, name: str, alias: str) -> None:
        check_name(alias, "alias")
        if alias not in self.aliases(name):
            raise UnknownAliasError(f"artifact {name!r} has no alias {alias!r}")
        self._driver.delete(self._uri("artifacts", name, "aliases", f"{alias}.json"))

    def tags(self, name: str, version: int | str) -> list[str]:
        return [t for t in self._driver.list_names(self._uri("artifacts", name, "tags", str(_version_number(version))))
                if TAG_RE.match(t)]

    def add_tags(self, name: str, version: int | str, *tags: str) -> None:
        number = _version_number(version)
        if number not in self._version_numbers(name):
            self._missing(name, number)
        for t in tags:
            _check_tag(t)
            self._driver.write_bytes(self._uri("artifacts", name, "tags", str(number), t), b"")

    def remove_tags(self, name: str, version: int | str, *tags: str) -> None:
        number = _version_number(version)
        for t in tags:
            _check_tag(t)
            self._driver.delete(self._uri("artifacts", name, "tags", str(number), t))

    def _missing(self, name: str, number: int) -> None:
        if not self._version_numbers(name):
            raise UnknownArtifactError(f"no artifact named {name!r} in {self!r}")
        raise UnknownVersionError(f"artifact {name!r} has no version {number}")


def _is_name(n: str) -> bool:
    try:
        check_name(n)
        return True
    except InvalidNameError:
        return False


def _check_tag(tag: str) -> None:
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise InvalidNameError(f"invalid tag {tag!r}: letters, digits and . _ : = + - only")


def _version_number(version: int | str) -> int:
    if isinstance(version, bool):
        raise UnknownVersionError(f"invalid version {version!r}")
    if isinstance(version, int):
        n = version
    else:
        m = re.fullmatch(r"v?(\d+)", str(version).strip())
        if not m:
            raise UnknownVersionError(f"invalid version {version!r}: use a number like 3 or v3")
        n = int(m.group(1))
    if n < 1:
        raise UnknownVersionError(f"invalid version {version!r}: versions start at 1")
    return n


def parse_ref(name: str, version: int | str | None = None,
              alias: str | None = None) -> tuple[str, int | str | None, str | None]:
    """Split ``name:3`` / ``name:v3`` / ``name:latest`` / ``name@alias``."""
    if "@" in name:
        name, _, ref_alias = name.partition("@")
        if alias is not None and alias != ref_alias:
            raise InvalidNameError("alias given twice")
        alias = ref_alias
    elif ":" in name:
        name, _, ref_version = name.partition(":")
        if version is not None and str(version) != ref_version:
            raise InvalidNameError("version given twice")
        version = ref_version
    return name, version, alias


# ---------------------------------------------------------------------- status
def _same(asset: Asset, obj: RemoteObject) -> tuple[bool, str | None]:
    if asset.version_id and obj.version_id:
        if asset.version_id == obj.version_id:
            return True, None
        return False, f"version {obj.version_id}, recorded {asset.version_id}"
    if obj.size != asset.size:
        return False, f"size {obj.size}, recorded {asset.size}"
    for kind in ("sha256", "md5", "crc32c", "etag"):
        if kind in asset.checksums and kind in obj.checksums:
            if asset.checksums[kind] != obj.checksums[kind]:
                return False, f"{kind} {obj.checksums[kind]}, recorded {asset.checksums[kind]}"
            return True, None
    return True, None


def _status(assets: tuple[Asset, ...]) -> StatusResult:
    out: list[AssetStatus] = []
    by_source: dict[str | None, list[Asset]] = {}
    for a in assets:
        if not a.synced:
            out.append(AssetStatus(a.logical_path, "skipped", detail=f"link-only: {a.link}"))
        else:
            by_source.setdefault(a.source, []).append(a)
    for source, group in by_source.items():
        if source is None:
            for a in group:
                assert a.uri is not None
                obj = driver_for_uri(a.uri).stat_path(driver_for_uri(a.uri).path_of(a.uri))
                if obj is None:
                    out.append(AssetStatus(a.logical_path, "deleted", a.uri))
                    continue
                obj = driver_for_uri(a.uri).enrich([obj])[0]
                same, why = _same(a, obj)
                out.append(AssetStatus(a.logical_path, "unchanged" if same else "modified", a.uri, why))
            continue
        driver = driver_for_uri(source)
        try:
            res = driver.resolve(source, max_objects=max(10_000, 2 * len(group) + 1000))
            current = {o.uri: o for o in res.objects}
        except ObjectNotFoundError:
            current = {}
        for a in group:
            obj = current.pop(a.uri or "", None)
            if obj is None:
                out.append(AssetStatus(a.logical_path, "deleted", a.uri))
            else:
                same, why = _same(a, obj)
                out.append(AssetStatus(a.logical_path, "unchanged" if same else "modified", a.uri, why))
        for uri in sorted(current):
            out.append(AssetStatus(None, "new", uri, f"under {source}, not in the manifest"))
    return StatusResult(tuple(out))
