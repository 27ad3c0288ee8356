"""OpenLineage export: tether runs as ``RunEvent`` s (the optional extra ``tether[openlineage]``).

Each run becomes a START event and, once it ended, a COMPLETE or FAIL event,
built with the ``openlineage-python`` client's model (spec 2-0-2):

* job: namespace = the catalog URI (redacted), name = the run's name;
* run: ``runId`` is a UUIDv7 derived from the tether run id (its start time
  in the first 48 bits), so every event of one run, from any process, carries
  the same id; the ``tether`` run facet holds the tether id, params and the
  ids of the same run in other trackers (``external``);
* datasets: namespace = the catalog URI, name = ``name:vN``, with the
  ``version`` facet (DatasetVersionDatasetFacet); an input also carries the
  ``tetherReference`` input facet with the reference as asked (``@prod``).

With ``TETHER_OPENLINEAGE_URL`` set, a ``tether.Run`` POSTs its events to
``<url>/api/v1/lineage`` (``TETHER_OPENLINEAGE_ENDPOINT`` changes the path,
``TETHER_OPENLINEAGE_API_KEY`` adds a bearer token, as the OpenLineage client's
own ``OPENLINEAGE_*`` variables do) as it starts and ends. The POST is plain
``urllib`` with a short timeout; a failing endpoint never fails the run: the
first failure warns (once per process), the run goes on.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import urllib.request
import uuid
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import ExtraNotInstalledError
from .uris import redact

if TYPE_CHECKING:
    from .catalog import Catalog
    from .catalog.lineage import Lineage
    from .catalog.runs import Edge, RunInfo, RunStore

PRODUCER = "https://github.com/tether-dev/tether"
FACET_SCHEMA = "https://github.com/tether-dev/tether/blob/main/docs/reference.md#openlineage"
_warned: set[str] = set()


class OpenLineageWarning(UserWarning):
    """Events could not be sent to ``TETHER_OPENLINEAGE_URL`` (the run went on)."""


def openlineage_run_id(run_id: str) -> str:
    """The UUIDv7 standing for tether run ``run_id`` (deterministic)."""
    started = _dt.datetime.strptime(run_id[:19], "%Y%m%dT%H%M%S.%f").replace(tzinfo=_dt.timezone.utc)
    ms = int(started.timestamp() * 1000) & ((1 << 48) - 1)
    bits = int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:10], "big")
    rand_a, rand_b = (bits >> 62) & 0xFFF, bits & ((1 << 62) - 1)
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b))


def _model() -> Any:
    try:
        import attr
        from openlineage.client.generated import base, dataset_version_dataset, error_message_run
    except ImportError:
        raise ExtraNotInstalledError("OpenLineage events need the openlineage extra: "
                                     "pip install 'tether[openlineage]' (openlineage-python)") from None

    @attr.define
    class TetherRunFacet(base.RunFacet):
        """tether's own view of the run: its id, params, other trackers' ids."""

        runId: str  # noqa: N815 - OpenLineage field style
        name: str
        status: str
        params: dict[str, Any] = attr.field(factory=dict)
        external: dict[str, Any] = attr.field(factory=dict)

        @staticmethod
        def _get_schema() -> str:
            return FACET_SCHEMA + "-tetherrunfacet"

    @attr.define
    class TetherReferenceInputFacet(base.InputDatasetFacet):
        """How the run asked for this input (``data@prod``) before it resolved to a version."""

        ref: str
        alias: str | None = None

        @staticmethod
        def _get_schema() -> str:
            return FACET_SCHEMA + "-tetherreferenceinputfacet"

    return base, dataset_version_dataset, error_message_run, TetherRunFacet, TetherReferenceInputFacet


def run_events(catalog_root: str, run: RunInfo, inputs: Iterable[Edge] = (), outputs: Iterable[Edge] = (),
               types: Iterable[str] | None = None) -> list[Any]:
    """The RunEvents of ``run``: START, then COMPLETE or FAIL if it ended
    (``types`` picks some of them). Models of the openlineage client."""
    base, versions, errors, TetherRunFacet, TetherReferenceInputFacet = _model()
    namespace = redact(catalog_root)
    ended = {"finished": "COMPLETE", "failed": "FAIL"}.get(run.status)
    wanted = list(types) if types is not None else ["START"] + ([ended] if ended else [])

    def facets(event_type: str) -> dict[str, Any]:
        out: dict[str, Any] = {"tether": TetherRunFacet(
            runId=run.id, name=run.name, status="running" if event_type == "START" else run.status,
            params=dict(run.params), external=dict(run.external), producer=PRODUCER)}
        if event_type == "FAIL":
            out["errorMessage"] = errors.ErrorMessageRunFacet(
                message=run.error or (f"exit code {run.exit_code}" if run.exit_code is not None else "failed"),
                programmingLanguage="python", producer=PRODUCER)
        return out

    def version_facet(e: Edge) -> dict[str, Any]:
        return {"version": versions.DatasetVersionDatasetFacet(datasetVersion=str(e.version), producer=PRODUCER)}

    ins = [base.InputDataset(namespace=namespace, name=e.version_ref, facets=version_facet(e),
                             inputFacets={"tetherReference": TetherReferenceInputFacet(
                                 ref=e.ref or e.name, alias=e.alias, producer=PRODUCER)})
           for e in _unique(inputs)]
    outs = [base.OutputDataset(namespace=namespace, name=e.version_ref, facets=version_facet(e))
            for e in _unique(outputs)]
    events = []
    for event_type in wanted:
        start = event_type == "START"
        events.append(base.RunEvent(
            eventType=base.EventType[event_type], eventTime=(run.started_at if start else run.ended_at)
            or run.last_write, producer=PRODUCER,
            run=base.Run(runId=openlineage_run_id(run.id), facets=facets(event_type)),
            job=base.Job(namespace=namespace, name=run.name),
            inputs=[] if start else ins, outputs=[] if start else outs))
    return events


def to_json(event: Any) -> str:
    from openlineage.client.serde import Serde

    return Serde.to_json(event)


def lineage_events(lin: Lineage) -> list[str]:
    """Every run of a lineage graph as OpenLineage events, as JSON lines."""
    out: list[str] = []
    for run in sorted(lin.runs.values(), key=lambda r: r.id):
        out.extend(to_json(e) for e in run_events(lin.catalog_root, run, run.inputs or (), run.outputs or ()))
    return out


def emit_for(catalog: Catalog, run: RunInfo, event_type: str, *, store: RunStore | None = None) -> None:
    """Send ``run``'s START / COMPLETE / FAIL event to ``TETHER_OPENLINEAGE_URL``, if set.

    Never raises: a missing extra, an unreachable endpoint or a refusal warn
    once and the run goes on."""
    url = os.environ.get("TETHER_OPENLINEAGE_URL")
    if not url:
        return
    target = url.rstrip("/") + "/" + os.environ.get("TETHER_OPENLINEAGE_ENDPOINT", "api/v1/lineage").lstrip("/")
    try:
        inputs: tuple[Edge, ...] = ()
        outputs: tuple[Edge, ...] = ()
        if event_type != "START" and store is not None:
            inputs, outputs = store.edges(run.id, "input"), store.edges(run.id, "output")
        event = run_events(catalog.root, run, inputs, outputs, types=[event_type])[0]
        body = to_json(event).encode()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get("TETHER_OPENLINEAGE_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(target, data=body, headers=headers, method="POST")
        timeout = float(os.environ.get("TETHER_OPENLINEAGE_TIMEOUT", "5"))
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the user's endpoint
            resp.read()
    except Exception as exc:  # noqa: BLE001 - lineage export must never fail the run
        if target not in _warned:
            _warned.add(target)
            what = exc.message if isinstance(exc, ExtraNotInstalledError) else f"{type(exc).__name__}: {_short(exc)}"
            warnings.warn(f"OpenLineage events for run {run.id} not sent to {redact(target)} ({what}); "
                          "the run goes on (warned once)", OpenLineageWarning, stacklevel=3)


def _short(exc: BaseException) -> str:
    # An HTTPError / URLError text can quote the URL, and the URL can carry credentials.
    code = getattr(exc, "code", None)
    return f"HTTP {code}" if code else redact(str(getattr(exc, "reason", exc)))[:200]


def _unique(edges: Iterable[Edge]) -> list[Edge]:
    seen: dict[str, Edge] = {}
    for e in edges:
        seen.setdefault(e.version_ref, e)
    return list(seen.values())


def events_json(events: Iterable[Any]) -> list[dict[str, Any]]:
    return [json.loads(to_json(e)) for e in events]
