"""The catalog: immutable, numbered versions of named artifacts, on any driver.

Layout under the root (a local folder, ``s3://bucket/prefix``, ``gs://...``)::

    artifacts/<name>/manifests/<sha256>.json[.gz]   content-addressed manifest
    artifacts/<name>/versions/<0000000007>.json      version claim -> manifest
    artifacts/<name>/versions/<0000000007>.deleted.json  tombstone of a deleted version (.tombstones)
    artifacts/<name>/aliases/<alias>.json            {"version": 7}
    artifacts/<name>/tags/<version>/<tag>            one empty object per tag
    objects/sha256/<ab>/<digest>                     uploaded files (Artifact.add)

Logging writes the manifest first, then *claims* the next version number with
the store's create-if-absent write (local: ``os.link``; S3: ``If-None-Match``;
GCS: ``ifGenerationMatch=0``). The claim is small and written last, so a
version is either absent or complete, and N concurrent writers get N distinct
numbers with no server of ours. Aliases and tags are one object each, so
concurrent moves never corrupt anything: the last write wins.

Each ``log`` call carries a random identity (``log_id``) recorded in its claim.
When the answer to a claim write is lost and the SDK retries it, the retry
finds the claim already there; reading it back and finding this manifest and
this identity, the log knows the claim is its own and returns that number
instead of claiming another (the idempotency-token approach of S3's and GCS's
own SDKs). A number is claimed only by a write that created the object.

Every public method validates the names it is given before any path is
built from them, so no name can address a file outside the catalog.

This module holds :class:`Catalog` and its reading methods; ``Catalog``
inherits logging from :mod:`.commit`, aliases and tags from
:mod:`.aliases_tags`, and deleting, retention and checks from :mod:`.lifecycle`.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config
from ..artifact import check_name
from ..driver import Driver
from ..errors import (
    CatalogNotFoundError,
    InvalidNameError,
    ManifestError,
    ObjectNotFoundError,
    TetherError,
    UnknownAliasError,
    UnknownArtifactError,
    UnknownVersionError,
)
from ..models import Manifest
from ..resolver import driver_for_uri
from ..uris import redact, split_scheme
from .active import active_run_id, record_edge
from .aliases_tags import AliasesTagsMixin
from .claims import parse_claim
from .commit import COMPRESS_OVER_ASSETS, CommitMixin, _logical_path, _now  # noqa: F401 (re-exported)
from .lifecycle import LifecycleMixin
from .lineage import Lineage, lineage_of
from .refs import is_name, number_ranges, parse_ref, version_number
from .runs import RunInfo, RunStore
from .tombstones import claimed_numbers, live_numbers, raise_if_all_deleted, raise_if_deleted
from .version import ArtifactVersion, VersionInfo

if TYPE_CHECKING:
    from ..diff import VersionDiff

_VERSION_FILE_RE = re.compile(r"^(\d{10})\.json$")


class Catalog(CommitMixin, AliasesTagsMixin, LifecycleMixin):
    """Versions of named artifacts, stored under ``root``.

    ``Catalog()`` is the embedded default: a folder on this machine
    (``$TETHER_HOME``, else the per-user data folder). ``Catalog("s3://bucket/p")``
    or ``Catalog("gs://bucket/p")`` is a team catalog on an object store.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        # The embedded default is created on first write and is simply empty
        # before; a root someone named must exist to be read (see exists()).
        self.is_default = root is None
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
    def exists(self) -> bool:
        """Whether the catalog's root is there: its folder, or its bucket (a
        prefix holding nothing yet in an existing bucket is an empty catalog).
        Logging to a local folder creates it."""
        driver = self._driver
        path = driver.path_of(self.root)
        target = driver.bucket_of(path) if driver.bucketed else path
        with driver.translating(self.root):
            return bool(driver.fs(path).exists(driver.fs_path(target or path)))

    def _check_exists(self) -> None:
        """A catalog named by the user that is not there is an error, not an empty
        list: a mistyped ``--catalog`` must not look like a catalog with nothing in it."""
        if not self.is_default and not self.exists():
            driver = self._driver
            path = driver.path_of(self.root)
            what = f"no bucket {driver.bucket_of(path)!r}" if driver.bucketed else f"no folder {path}"
            raise CatalogNotFoundError(f"catalog {redact(self.root)} does not exist ({what}); "
                                       "logging to a local folder creates it")

    def artifacts(self) -> list[str]:
        found = [n for n in self._driver.list_names(self._uri("artifacts")) if is_name(n)]
        if not found:
            self._check_exists()
        return found

    def _unknown_artifact(self, name: str) -> TetherError:
        """The error for a name with no versions: the catalog is missing, or the
        name is not in it (with the nearest names, as git suggests commands)."""
        self._check_exists()
        close = difflib.get_close_matches(name, self.artifacts(), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return UnknownArtifactError(f"no artifact named {name!r} in {self!r}{hint}")

    def _unknown_version(self, name: str, number: int) -> TetherError:
        """The error for a version that is not there, listing those that are."""
        numbers = self._version_numbers(name)
        if not numbers and not self._claimed_numbers(name):  # all deleted: the artifact is known
            return self._unknown_artifact(name)
        return self._no_version(name, number, numbers)

    @staticmethod
    def _no_version(name: str, number: int, numbers: list[int]) -> UnknownVersionError:
        has = (f"it has {'version' if len(numbers) == 1 else 'versions'} {number_ranges(numbers)}"
               if numbers else "it has no versions")
        return UnknownVersionError(f"artifact {name!r} has no version {number} ({has})")

    def _version_numbers(self, name: str) -> list[int]:
        """Live version numbers: claimed and not deleted (see :mod:`.tombstones`)."""
        return live_numbers(self._driver.list_names(self._uri("artifacts", name, "versions")))

    def _claimed_numbers(self, name: str) -> list[int]:
        """Every number ever claimed, deleted versions' included (never reused)."""
        return claimed_numbers(self._driver.list_names(self._uri("artifacts", name, "versions")))

    def _read_claim(self, name: str, version: int) -> dict[str, Any]:
        uri = self._uri("artifacts", name, "versions", f"{version:010d}.json")
        try:
            raw = self._driver.read_bytes(uri)
        except ObjectNotFoundError:
            # Always UnknownVersionError: internal callers catch it for a claim gone in a race.
            raise self._no_version(name, version, self._version_numbers(name)) from None
        return parse_claim(raw, uri)

    def version_info(self, name: str, version: int | str) -> VersionInfo:
        """One version's summary from its claim alone (no manifest is read)."""
        check_name(name)
        number = version_number(version)
        d = self._read_claim(name, number)
        return VersionInfo(name, number, d.get("created_at", ""), d.get("digest", ""),
                           d.get("asset_count", 0), d.get("total_size", 0))

    def versions(self, name: str) -> list[VersionInfo]:
        """Every version's summary, from the claims alone.

        A damaged claim (not JSON, wrong field types) is a ManifestError naming
        its file rather than a version left out: like ``git log`` on a corrupt
        object, a listing that silently skipped it would misreport what the
        catalog holds. Delete or repair the file named."""
        check_name(name)
        nums = self._version_numbers(name)
        if not nums:
            if self._claimed_numbers(name):
                return []  # every version deleted: the artifact is known, empty
            raise self._unknown_artifact(name)
        out = []
        for n in nums:
            d = self._read_claim(name, n)
            out.append(VersionInfo(name, n, d.get("created_at", ""), d.get("digest", ""),
                                   d.get("asset_count", 0), d.get("total_size", 0)))
        return out

    def latest_version(self, name: str) -> int | None:
        check_name(name)
        nums = self._version_numbers(name)
        return nums[-1] if nums else None

    def get(self, name: str, version: int | str | None = None, alias: str | None = None) -> ArtifactVersion:
        """A version by number, by alias, or the latest. ``name`` may also be a
        reference: ``"data:3"``, ``"data:v3"``, ``"data@production"``, ``"data:latest"``.

        Inside a run (``tether.Run``, or ``TETHER_RUN_ID`` in the environment)
        the version is recorded as an input of the run, with the reference as
        asked and the version it resolved to."""
        v = self._load(*self._resolve(name, version, alias))
        run_id = active_run_id(self)
        if run_id is not None:
            _, asked_version, asked_alias = parse_ref(name, version, alias)
            ref = (f"{v.name}@{asked_alias}" if asked_alias is not None
                   else f"{v.name}:{asked_version}" if asked_version is not None else v.name)
            record_edge(self, run_id, "input", v.name, v.version, ref=ref, alias=asked_alias)
        return v

    def _resolve(self, name: str, version: int | str | None = None, alias: str | None = None) -> tuple[str, int]:
        """``(name, version number)`` of a reference, reading no manifest."""
        name, version, alias = parse_ref(name, version, alias)
        check_name(name)
        if alias is not None:
            check_name(alias, "alias")
        if alias is not None and version is not None:
            raise InvalidNameError("give a version or an alias, not both")
        if alias is not None:
            aliases = self.aliases(name)
            if alias not in aliases and not aliases and self.latest_version(name) is None:
                raise self._unknown_artifact(name)
            if alias not in aliases:
                raise UnknownAliasError(f"artifact {name!r} has no alias {alias!r}"
                                        + (f" (aliases: {', '.join(sorted(aliases))})" if aliases else ""))
            number = aliases[alias]
        elif version is None or version == "latest":
            latest = self.latest_version(name)
            if latest is None:
                raise_if_all_deleted(self, name)
                raise self._unknown_artifact(name)
            number = latest
        else:
            number = version_number(version)
            if not self._claimed_numbers(name):
                raise self._unknown_artifact(name)
        return name, number

    def _load(self, name: str, number: int, *, lazy_type: str | None = None) -> ArtifactVersion:
        """Version ``number`` of ``name``. With ``lazy_type`` (the type the
        caller already knows it has), the manifest is read only when its assets
        or metadata are first used."""
        raise_if_deleted(self, name, number)
        claim = self._read_claim(name, number)
        refs = {"aliases": tuple(sorted(a for a, v in self.aliases(name).items() if v == number)),
                "tags": tuple(self.tags(name, number)), "created_by_run": claim.get("created_by_run")}
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
        return Manifest.from_bytes(data, where=f"{name}:v{number}", asset_count=claim.get("asset_count"))

    def diff(self, a: str | ArtifactVersion, b: str | ArtifactVersion, *,
             prefix: str | None = None) -> VersionDiff:
        """``catalog.diff("ds:3", "ds@prod")``: what changed from ``a`` to ``b``
        (references as :meth:`get` takes them, or versions); see :mod:`tether.diff`."""
        old = self.get(a) if isinstance(a, str) else a
        new = self.get(b) if isinstance(b, str) else b
        return old.diff(new, prefix=prefix)

    # ------------------------------------------------------------------- runs
    def runs(self, name: str | None = None, status: str | None = None, limit: int | None = 50) -> list[RunInfo]:
        """Runs newest first (records only: no edge, no manifest is read)."""
        return RunStore(self).newest(name, status, limit)

    def run(self, run_id: str) -> RunInfo:
        """One run's record, with its inputs and outputs."""
        return RunStore(self).info(run_id, with_edges=True)

    def lineage(self, ref: str, upstream: int = 1, downstream: int = 1) -> Lineage:
        """The runs around a version: who produced it from what (``upstream``
        levels back) and who used it to make what (``downstream`` levels on)."""
        return lineage_of(self, ref, upstream=upstream, downstream=downstream)

    def _missing(self, name: str, number: int) -> None:
        raise_if_deleted(self, name, number)
        raise self._unknown_version(name, number)
