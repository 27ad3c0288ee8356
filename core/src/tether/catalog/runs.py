"""Runs in the catalog: run records and lineage edges, on any driver.

Layout under the catalog root (documented for other tools in docs/reference.md)::

    runs/<run_id>/run.json                                      the record (tether.run/1)
    runs/<run_id>/inputs/<name>@<version>.json                  an input edge (tether.edge/1)
    runs/<run_id>/outputs/<name>@<version>.json                 an output edge
    artifacts/<name>/lineage/<version>/consumers/<run_id>.json  reverse index: runs that used it
    artifacts/<name>/lineage/<version>/producers/<run_id>.json  reverse index: runs that logged it
    run-names/<run name>/<run_id>                               empty: the runs of one name

The record is written when the run starts (create-if-absent) and rewritten by
*conditional overwrites* (``Driver.write_bytes_if_match``: If-Match on S3,
ifGenerationMatch on GCS, lock + compare + rename locally): the heartbeat and
the end read it, change it and write it back only if nobody wrote in between,
else retry, as git updates a ref. Edges are small write-once objects, one per
(run, version), so any number of runs using and producing versions of one
artifact at once need no lock and lose nothing. Each edge is written twice,
under the run and under the version, so ``lineage`` of a version lists two
folders instead of every run. Run ids start with the UTC start time
(``20261127T103000.123Z-3f9a1c2b7d4e``): the listing order is the start order,
and the newest N runs cost one listing plus N small reads.
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..artifact import check_name
from ..errors import (
    AlreadyExistsError,
    ManifestError,
    ObjectNotFoundError,
    PreconditionFailedError,
    RunDataError,
    StorageError,
    UnknownRunError,
)
from ..models import FrozenMap
from ..parallel import parallel_map
from ..uris import redact

if TYPE_CHECKING:
    from .core import Catalog

RUN_SCHEMA = "tether.run/1"
EDGE_SCHEMA = "tether.edge/1"
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{12}$")
_EDGE_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,127})@(?P<version>\d+)(?:~[0-9a-f]{8})?\.json$")
#: Bound on each of params / metadata / summary / external, as compact JSON.
MAX_JSON_BYTES = 64 * 1024
STATUSES = ("running", "finished", "failed")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id(at: _dt.datetime | None = None) -> str:
    """A run id that sorts by start time: ``<UTC time to the ms>Z-<48 random bits>``."""
    at = at or _dt.datetime.now(_dt.timezone.utc)
    return at.strftime("%Y%m%dT%H%M%S.") + f"{at.microsecond // 1000:03d}Z-" + secrets.token_hex(6)


def check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise UnknownRunError(f"{run_id!r} is not a run id (like 20261127T103000.123Z-3f9a1c2b7d4e)")
    return run_id


def checked_json(what: str, value: Mapping[str, Any] | None, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """``value`` as a plain dict, if it is strict JSON (string keys, no NaN) of at most ``limit`` bytes."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RunDataError(f"run {what} must be a mapping, not {type(value).__name__}")
    out = dict(value)
    for k, v in out.items():
        if not isinstance(k, str):
            raise RunDataError(f"run {what}: key {k!r} is not a string")
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise RunDataError(f"run {what}[{k!r}]: {type(v).__name__} value is not JSON "
                               f"({exc}); use numbers, strings, booleans, None, lists and dicts") from None
    size = len(json.dumps(out, separators=(",", ":")).encode())
    if size > limit:
        raise RunDataError(f"run {what} is {size} bytes as JSON, more than the {limit} allowed; "
                           "log large things as an artifact instead")
    return out


@attrs.frozen
class Edge:
    """One use (``kind="input"``) or one log (``kind="output"``) of a version by a run.

    ``ref``: the reference as asked (``"data@prod"``), inputs only. ``created``:
    outputs only, False when the run logged content identical to an existing
    version and so became a second producer of it."""

    kind: str
    run_id: str
    name: str
    version: int
    at: str = ""
    ref: str | None = None
    alias: str | None = None
    created: bool | None = None

    @property
    def version_ref(self) -> str:
        return f"{self.name}:v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        doc = {"schema": EDGE_SCHEMA, "kind": self.kind, "run_id": self.run_id, "name": self.name,
               "version": self.version, "at": self.at}
        for k in ("ref", "alias", "created"):
            if getattr(self, k) is not None:
                doc[k] = getattr(self, k)
        return doc

    @classmethod
    def from_doc(cls, doc: Any, where: str) -> Edge:
        try:
            return cls(kind=str(doc["kind"]), run_id=str(doc["run_id"]), name=str(doc["name"]),
                       version=int(doc["version"]), at=str(doc.get("at", "")), ref=doc.get("ref"),
                       alias=doc.get("alias"), created=doc.get("created"))
        except (TypeError, KeyError, ValueError):
            raise ManifestError(f"edge {where} is not a {EDGE_SCHEMA} document") from None


@attrs.frozen
class RunInfo:
    """A run record as read from the catalog.

    ``inputs`` / ``outputs`` are None when not read (``catalog.runs()`` reads
    records only); ``catalog.run(id)`` reads them from the run's edges."""

    id: str
    name: str
    status: str
    started_at: str
    ended_at: str | None = None
    heartbeat_at: str | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=FrozenMap)
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=FrozenMap)
    summary: Mapping[str, Any] = attrs.field(factory=dict, converter=FrozenMap)
    external: Mapping[str, Any] = attrs.field(factory=dict, converter=FrozenMap)
    host: str | None = None
    user: str | None = None
    pid: int | None = None
    code: Mapping[str, Any] | None = None
    artifacts_uri: str | None = None
    error: str | None = None
    exit_code: int | None = None
    command: tuple[str, ...] | None = None
    python: str | None = None
    tether_version: str | None = None
    inputs: tuple[Edge, ...] | None = None
    outputs: tuple[Edge, ...] | None = None

    @property
    def last_write(self) -> str:
        """When the run last wrote its record (its end, else its last heartbeat)."""
        return self.ended_at or self.heartbeat_at or self.started_at

    def seconds_since_write(self, now: _dt.datetime | None = None) -> float | None:
        """How long ago the run last wrote: a ``running`` run silent for much
        longer than its heartbeat interval (a minute) has most likely died."""
        try:
            then = _dt.datetime.fromisoformat(self.last_write)
        except ValueError:
            return None
        return max(0.0, ((now or _dt.datetime.now(_dt.timezone.utc)) - then).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        doc = attrs.asdict(self, recurse=False)
        for k in ("params", "metadata", "summary", "external"):
            doc[k] = dict(doc[k])
        doc["code"] = dict(self.code) if self.code is not None else None
        doc["command"] = list(self.command) if self.command is not None else None
        for k in ("inputs", "outputs"):
            edges = getattr(self, k)
            doc[k] = None if edges is None else [e.to_dict() for e in edges]
        doc["seconds_since_write"] = self.seconds_since_write()
        return doc

    @classmethod
    def from_record(cls, doc: Any, where: str) -> RunInfo:
        if not isinstance(doc, dict) or doc.get("schema") != RUN_SCHEMA:
            raise ManifestError(f"run record {where} is not a {RUN_SCHEMA} document")
        fields = {f.name for f in attrs.fields(cls)} - {"inputs", "outputs"}
        kw = {k: v for k, v in doc.items() if k in fields and v is not None}
        if isinstance(kw.get("command"), list):
            kw["command"] = tuple(str(a) for a in kw["command"])
        try:
            return cls(**kw)
        except TypeError as exc:
            raise ManifestError(f"run record {where}: {exc}") from None


class RunStore:
    """Reads and writes the run records and edges of one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.driver = catalog._driver

    def _uri(self, *parts: str) -> str:
        return self.catalog._uri(*parts)

    def record_uri(self, run_id: str) -> str:
        return self._uri("runs", check_run_id(run_id), "run.json")

    # ------------------------------------------------------------ the record
    def create(self, doc: dict[str, Any]) -> None:
        """Write a new record (create-if-absent) and its name index entry."""
        self.driver.write_bytes(self.record_uri(doc["id"]), _dump(doc), if_absent=True)
        self.driver.write_bytes(self._uri("run-names", doc["name"], doc["id"]), b"")

    def read(self, run_id: str) -> dict[str, Any]:
        uri = self.record_uri(run_id)
        try:
            return _load(self.driver.read_bytes(uri), uri)
        except ObjectNotFoundError:
            raise UnknownRunError(f"no run {run_id} in {self.catalog!r}") from None

    def update(self, run_id: str, change: Callable[[dict[str, Any]], None], attempts: int = 50) -> dict[str, Any]:
        """Read the record, apply ``change`` to it, write it back if nobody wrote
        in between; on a lost race read again and re-apply (so ``change`` must be
        idempotent, e.g. set fields). Returns the record written."""
        uri = self.record_uri(run_id)
        for attempt in range(attempts):
            try:
                raw, token = self.driver.read_bytes_versioned(uri)
            except ObjectNotFoundError:
                raise UnknownRunError(f"no run {run_id} in {self.catalog!r}") from None
            doc = _load(raw, uri)
            change(doc)
            try:
                self.driver.write_bytes_if_match(uri, _dump(doc), token)
                return doc
            except PreconditionFailedError:
                time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
        raise StorageError(f"run {run_id}: {attempts} conditional writes of {redact(uri)} in a row "
                           "lost to concurrent writers")

    def exists(self, run_id: str) -> bool:
        return self.driver.exists(self.record_uri(run_id))

    # ------------------------------------------------------------------ edges
    def add_edge(self, edge: Edge) -> None:
        """Record ``edge`` under the run and under the version, write-once.

        The run's side first: it is what ``catalog.run(id)`` shows; the
        version's side makes ``lineage`` cheap. One run using one version
        under two references keeps both (the second gets a suffixed name)."""
        folder = "inputs" if edge.kind == "input" else "outputs"
        base = f"{edge.name}@{edge.version}"
        data = _dump(edge.to_dict())
        run_side = self._uri("runs", edge.run_id, folder, base + ".json")
        try:
            self.driver.write_bytes(run_side, data, if_absent=True)
        except AlreadyExistsError:
            first = Edge.from_doc(_load(self.driver.read_bytes(run_side), run_side), run_side)
            if edge.kind == "input" and first.ref != edge.ref:
                suffix = _short_hash(edge.ref or "")
                try:
                    self.driver.write_bytes(self._uri("runs", edge.run_id, folder, f"{base}~{suffix}.json"),
                                            data, if_absent=True)
                except AlreadyExistsError:
                    pass  # this reference was recorded already
        side = "consumers" if edge.kind == "input" else "producers"
        try:
            self.driver.write_bytes(self._uri("artifacts", edge.name, "lineage", str(edge.version), side,
                                              edge.run_id + ".json"), data, if_absent=True)
        except AlreadyExistsError:
            pass  # the run used (or logged) this version before: one reverse entry is enough

    def edges(self, run_id: str, kind: str) -> tuple[Edge, ...]:
        folder = self._uri("runs", check_run_id(run_id), "inputs" if kind == "input" else "outputs")
        names = [n for n in self.driver.list_names(folder) if _EDGE_RE.match(n)]

        def one(n: str) -> Edge | None:
            uri = f"{folder}/{n}"
            try:
                return Edge.from_doc(_load(self.driver.read_bytes(uri), uri), uri)
            except ObjectNotFoundError:
                return None

        found = [e for e in parallel_map(one, names, self.driver.default_workers) if e is not None]
        return tuple(sorted(found, key=lambda e: (e.name, e.version, e.at)))

    def version_runs(self, name: str, version: int, side: str) -> list[str]:
        """Ids of the runs that consumed (``side="consumers"``) or produced a
        version: one listing, no record read."""
        names = self.driver.list_names(self._uri("artifacts", name, "lineage", str(version), side))
        return sorted(n[:-5] for n in names if n.endswith(".json") and RUN_ID_RE.match(n[:-5]))

    # ---------------------------------------------------------------- reading
    def info(self, run_id: str, *, with_edges: bool = False) -> RunInfo:
        uri = self.record_uri(run_id)
        info = RunInfo.from_record(self.read(run_id), redact(uri))
        if with_edges:
            info = attrs.evolve(info, inputs=self.edges(run_id, "input"), outputs=self.edges(run_id, "output"))
        return info

    def ids(self, name: str | None = None) -> list[str]:
        """Run ids, oldest first (one listing of ``runs/``, or of one name's index)."""
        if name is not None:
            check_name(name, "run name")
            listed = self.driver.list_names(self._uri("run-names", name))
        else:
            listed = self.driver.list_names(self._uri("runs"))
        return sorted(n for n in listed if RUN_ID_RE.match(n))

    def newest(self, name: str | None = None, status: str | None = None, limit: int | None = 50) -> list[RunInfo]:
        """Runs newest first, reading records in batches of ``limit`` until
        ``limit`` match (with no ``status`` filter: exactly the newest N)."""
        if status is not None and status not in STATUSES:
            raise RunDataError(f"unknown run status {status!r} (one of {', '.join(STATUSES)})")
        ids = self.ids(name)[::-1]
        batch = max(1, limit or len(ids) or 1)
        out: list[RunInfo] = []
        for start in range(0, len(ids), batch):
            infos = parallel_map(self._info_or_none, ids[start:start + batch], self.driver.default_workers)
            out.extend(i for i in infos if i is not None and (status is None or i.status == status))
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    def _info_or_none(self, run_id: str) -> RunInfo | None:
        try:
            return self.info(run_id)
        except UnknownRunError:
            return None  # listed, then deleted


def _short_hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False).encode()


def _load(raw: bytes, uri: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ManifestError(f"{redact(uri)} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{redact(uri)} is not a JSON object")
    return doc
