"""``tether gc``: remove what tether stored that no version needs any more.

What it may remove, and nothing else (never a byte of the user's own buckets,
never a file it does not recognise):

* uploads at ``objects/sha256/<ab>/<digest>`` (and noncurrent versions of
  them, on a versioned bucket) that no *root* version references, last
  modified more than ``grace`` ago;
* staged copies there (``.<digest>.tether-tmp-<time>-<rand>``) older than
  ``grace``: what a killed upload left;
* manifests of versions deleted more than ``grace`` ago, and manifests no
  claim names (a log killed between manifest and claim) older than
  ``max(grace, 1h)``.

Roots are the live versions and the versions deleted less than ``grace`` ago
(their manifests and objects stay for the grace period, as git keeps
unreachable objects for two weeks).

The protocol, safe against any number of concurrent ``log`` calls (see
:mod:`.intents` for the handshake):

1. **Mark**: list the uploads; read every claim and tombstone, then the
   manifests of the roots; the candidates are the unreferenced uploads and
   manifests old enough.
2. **Announce**: write the candidate digests to ``objects/gc-pending/``.
3. **Intents**: read ``objects/intents/``; drop every digest a running log
   announced (a log writes its intent before it looks at any address, so it
   either is seen here or sees step 2 and waits for this gc to finish).
4. **Re-check**: list the claims again; read the manifests of versions claimed
   (or undeleted) since step 1 and drop what they reference.
5. **Sweep**: delete the rest, within half of :data:`~.intents.PENDING_TTL` of step 2
   (else stop: the next gc continues), then remove the pending list.

Grace on object age is the second line of defence (tethers without intents,
clocks), not the first: ``grace=0`` is safe against running logs too.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import attrs

from ..atomic import TMP_MARK
from ..driver import StoredObject
from ..errors import ManifestError, ObjectNotFoundError, TetherError
from ..parallel import parallel_map
from ..staging import is_stale
from ..uris import redact
from .intents import PENDING_TTL, intent_digests, pending_lists, pending_uri, write_pending
from .tombstones import claimed_numbers, deleted_numbers, parse_time, read_tombstone, versions_listing

if TYPE_CHECKING:
    from .core import Catalog

#: A manifest no claim names is collected only this old: a log writes its claim right after it.
ORPHAN_FLOOR = 3600.0
_ADDRESS = re.compile(r"^[0-9a-f]{2}/([0-9a-f]{64})$")
_STAGED = re.compile(r"^[0-9a-f]{2}/\.([0-9a-f]{64})" + re.escape(TMP_MARK))
_MANIFEST = re.compile(r"^[0-9a-f]{64}\.json(\.gz)?$")


@attrs.frozen
class GCReport:
    """What ``gc`` removed (or, ``dry_run``, would remove), and what it kept and why."""

    dry_run: bool
    grace: float
    objects: tuple[str, ...] = ()
    object_bytes: int = 0
    staged: tuple[str, ...] = ()
    staged_bytes: int = 0
    manifests: tuple[str, ...] = ()
    manifest_bytes: int = 0
    kept_young: int = 0
    kept_announced: int = 0
    kept_claimed: int = 0
    failed: tuple[str, ...] = ()
    stopped: str | None = None

    @property
    def bytes_reclaimed(self) -> int:
        return self.object_bytes + self.staged_bytes + self.manifest_bytes

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "bytes_reclaimed": self.bytes_reclaimed}


@attrs.frozen
class _Item:
    obj: StoredObject
    digest: str | None  # None for manifests
    kind: str  # objects | staged | manifests


class _Claims:
    """Every claim and tombstone of the catalog, read once."""

    def __init__(self, cat: Catalog, now: float, grace: float, workers: int) -> None:
        self.cat, self.workers = cat, workers
        self.live: dict[str, set[int]] = {}
        self.roots: set[tuple[str, int]] = set()
        self.manifest_of: dict[tuple[str, int], str] = {}
        for name in cat.artifacts():
            listing = versions_listing(cat, name)
            claimed, deleted = claimed_numbers(listing), set(deleted_numbers(listing))
            self.live[name] = set(claimed) - deleted
            recent = parallel_map(lambda n, name=name: self._recently_deleted(name, n, now - grace),
                                  sorted(deleted & set(claimed)), workers)
            self.roots |= {(name, n) for n in self.live[name]}
            self.roots |= {(name, n) for n, keep in zip(sorted(deleted & set(claimed)), recent) if keep}
            claims = parallel_map(lambda n, name=name: cat._read_claim(name, n), claimed, workers)
            for n, claim in zip(claimed, claims):
                if isinstance(claim.get("manifest"), str):
                    self.manifest_of[(name, n)] = claim["manifest"]

    def _recently_deleted(self, name: str, n: int, cutoff: float) -> bool:
        t = read_tombstone(self.cat, name, n)
        when = parse_time(t.deleted_at) if t is not None else None
        return when is None or when.timestamp() > cutoff  # unreadable: keep, to be safe

    def references(self, versions: set[tuple[str, int]], storage: str) -> dict[str, set[str | None]]:
        """Upload URI (without version) -> version ids the ``versions`` pin (None: any)."""
        refs: dict[str, set[str | None]] = {}

        def one(v: tuple[str, int]) -> list[tuple[str, str | None]]:
            name, n = v
            m = self.cat._read_manifest(name, n, self.cat._read_claim(name, n))
            return [(a.uri, a.version_id) for a in m.assets if a.synced and a.uri and a.uri.startswith(storage)]

        for pairs in parallel_map(one, sorted(versions), self.workers):
            for uri, vid in pairs:
                refs.setdefault(uri, set()).add(vid)
        return refs


def _kept(refs: dict[str, set[str | None]], key: str, obj: StoredObject) -> bool:
    """Whether a referenced upload's stored version is needed: the current one
    always (a reference without a version id reads it), others when pinned."""
    pins = refs.get(key)
    return pins is not None and (obj.latest or obj.version_id in pins)


def collect(cat: Catalog, grace: float, *, dry_run: bool = False, workers: int | None = None,
            after_mark: Any = None) -> GCReport:
    """Run the protocol in the module docstring. ``after_mark`` (tests): called between steps 1 and 2."""
    store = cat._driver
    workers = workers or store.default_workers
    storage = cat.storage_uri
    uploads = storage + "/sha256/"
    now = time.time()
    try:
        claims = _Claims(cat, now, grace, workers)
        refs = claims.references(claims.roots, uploads)
    except ManifestError as exc:
        raise ManifestError(f"gc stopped before removing anything: {exc}") from None
    items, young = _candidates(cat, claims, refs, uploads, now, grace)
    if after_mark is not None:
        after_mark()
    pending = None
    report = GCReport(dry_run=dry_run, grace=grace, kept_young=young)
    digests = {i.digest for i in items if i.digest}
    if digests and not dry_run:
        pending = write_pending(store, storage, digests)
    started = time.monotonic()
    try:
        expired: list[str] = []
        announced = intent_digests(store, storage, expired=expired)
        kept_announced = sum(1 for i in items if i.digest in announced)
        items = [i for i in items if i.digest not in announced]
        items, kept_claimed = _recheck(cat, claims, items, uploads, workers)
        report = attrs.evolve(report, kept_announced=kept_announced, kept_claimed=kept_claimed)
        if dry_run:
            return _tally(report, [(i, True) for i in items])
        done = parallel_map(lambda i: _remove(cat, i, started), items, workers)
        report = _tally(report, [(i, err is None) for i, err in zip(items, done)])
        failed = tuple(f"{redact(i.obj.uri)}: {err}" for i, err in zip(items, done) if err and err != "stopped")
        if any(err == "stopped" for err in done):
            report = attrs.evolve(report, stopped="took longer than the pending list allows; run gc again")
        report = attrs.evolve(report, failed=failed)
        _housekeeping(cat, expired, now)
        return report
    finally:
        if pending is not None:
            store.delete(pending)


def _candidates(cat: Catalog, claims: _Claims, refs: dict[str, set[str | None]], uploads: str, now: float,
                grace: float) -> tuple[list[_Item], int]:
    store, cutoff = cat._driver, now - grace
    items: list[_Item] = []
    young = 0
    for obj in store.inventory(uploads):
        rel = obj.path[len(store.path_of(uploads)):]
        if m := _ADDRESS.match(rel):
            if _kept(refs, obj.uri, obj):
                continue
            if obj.modified is None or obj.modified >= cutoff:
                young += 1
                continue
            items.append(_Item(obj, m.group(1), "objects"))
        elif m := _STAGED.match(rel):
            if is_stale(rel.rsplit("/", 1)[-1], obj.modified, now, grace):
                items.append(_Item(obj, m.group(1), "staged"))
            else:
                young += 1
    needed = {(name, claims.manifest_of.get((name, n))) for name, n in claims.roots}
    named = {(name, rel) for (name, _), rel in claims.manifest_of.items()}
    for name in claims.live:
        folder = cat._uri("artifacts", name, "manifests") + "/"
        for obj in store.inventory(folder):
            file = obj.path.rsplit("/", 1)[-1]
            rel = f"manifests/{file}"
            if not _MANIFEST.match(file) or (name, rel) in needed:
                continue
            floor = cutoff if (name, rel) in named else now - max(grace, ORPHAN_FLOOR)
            if obj.modified is not None and obj.modified < floor:
                items.append(_Item(obj, None, "manifests"))
            else:
                young += 1
    return items, young


def _recheck(cat: Catalog, claims: _Claims, items: list[_Item], uploads: str,
             workers: int) -> tuple[list[_Item], int]:
    """Step 4: versions live now that were not at the mark keep what they reference."""
    new: set[tuple[str, int]] = set()
    for name in cat.artifacts():
        listing = versions_listing(cat, name)
        live = set(claimed_numbers(listing)) - set(deleted_numbers(listing))
        new |= {(name, n) for n in live - claims.live.get(name, set())}
    if not new:
        return items, 0
    for name, n in new:
        claim = cat._read_claim(name, n)
        if isinstance(claim.get("manifest"), str):
            claims.manifest_of[(name, n)] = claim["manifest"]
    refs = claims.references(new, uploads)
    manifests = {cat._uri("artifacts", name, claims.manifest_of.get((name, n), "")) for name, n in new}
    keep = [i for i in items if (i.kind == "objects" and i.obj.uri in refs) or
            (i.kind == "manifests" and i.obj.uri in manifests)]
    return [i for i in items if i not in keep], len(keep)


def _remove(cat: Catalog, item: _Item, started: float) -> str | None:
    if time.monotonic() - started > PENDING_TTL / 2:
        return "stopped"
    try:
        cat._driver.delete_exact(item.obj)
    except ObjectNotFoundError:
        return None  # gone already: what we wanted
    except (TetherError, OSError) as exc:  # a held or locked object, no permission ...
        return str(exc)
    return None


def _tally(report: GCReport, results: list[tuple[_Item, bool]]) -> GCReport:
    out: dict[str, Any] = {}
    for kind, size_field in (("objects", "object_bytes"), ("staged", "staged_bytes"),
                             ("manifests", "manifest_bytes")):
        gone = [i for i, ok in results if ok and i.kind == kind]
        out[kind] = tuple(redact(i.obj.uri) + (f" (version {i.obj.version_id})" if i.obj.version_id else "")
                          for i in gone)
        out[size_field] = sum(i.obj.size for i in gone)
    return attrs.evolve(report, **out)


def _housekeeping(cat: Catalog, expired_intents: list[str], now: float) -> None:
    """Expired intents, the lists of gcs that died, and (S3) abandoned multipart uploads."""
    store = cat._driver
    for uri in expired_intents:
        store.delete(uri)
    live = pending_lists(store, cat.storage_uri, now)
    folder = pending_uri(cat.storage_uri)
    for n in store.list_names(folder):
        if n not in live:
            store.delete(f"{folder}/{n}")
    for name in store.list_names(cat.storage_uri + "/sha256"):
        if re.fullmatch(r"[0-9a-f]{2}", name):
            try:
                store.remove_stale_uploads(f"{cat.storage_uri}/sha256/{name}")
            except (TetherError, OSError):
                continue
