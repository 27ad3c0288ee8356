"""``tether.Run``: one execution of a job, with the versions it used and logged.

>>> with tether.Run("train-resnet", params={"lr": 0.1}) as run:
...     data = run.use("imagenet-subset@prod")     # an input, as asked and as resolved
...     v = run.log(art, aliases=["candidate"])    # an output: v.run_id == run.id

While the block runs, every ``Catalog.log`` / ``Catalog.get`` on the run's
catalog in this context attaches its version to the run, and so does every
process started meanwhile (``TETHER_RUN_ID`` and ``TETHER_RUN_CATALOG`` are
exported for children: a script that shells out to ``tether log`` keeps its
lineage). The record is written at the start, refreshed by a heartbeat (every
``TETHER_RUN_HEARTBEAT`` seconds, default and at most 60) and completed at the
end as ``finished``, or ``failed`` when the block raised (the exception goes
on). A process killed mid-run leaves its run ``running``, its last heartbeat
telling how long ago it stopped. Nothing is read from the environment into
the record: params, metadata and summary are only what the code gives.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import os
import platform
import socket
import subprocess
import threading
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .artifact import Artifact, check_name
from .catalog import ArtifactVersion, Catalog
from .catalog.active import activated
from .catalog.runs import (
    MAX_JSON_BYTES,
    RUN_SCHEMA,
    RunInfo,
    RunStore,
    check_run_id,
    checked_json,
    new_run_id,
    now_iso,
)
from .errors import AlreadyExistsError, RunDataError
from .models import FrozenMap
from .resolver import driver_for_uri
from .uris import redact

HEARTBEAT_SECONDS = 60.0
GIT_TIMEOUT = 3.0


class RunWarning(UserWarning):
    """Something around a run failed without failing it (a heartbeat, an OpenLineage endpoint)."""


class _Bounded(dict):  # type: ignore[type-arg]
    """``run.metadata`` / ``run.summary``: a dict that refuses what the record cannot hold,
    at the line that sets it rather than at the end of a long run."""

    def __init__(self, what: str, initial: Mapping[str, Any] | None = None) -> None:
        super().__init__(checked_json(what, initial))
        self._what = what

    def _check(self, candidate: dict[str, Any]) -> None:
        checked_json(self._what, candidate)

    def __setitem__(self, key: str, value: Any) -> None:
        self._check({**self, key: value})
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        merged = {**self, **dict(*args, **kwargs)}
        self._check(merged)
        super().update(merged)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]


def git_facts(cwd: str | None = None) -> dict[str, Any] | None:
    """``{"git_commit", "git_dirty"}`` of the repository around ``cwd``, None outside one.

    Dirty means tracked files differ from the commit, as ``git describe
    --dirty`` says; untracked files do not count. The remote URL is not
    recorded (it can carry a token)."""
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT,
                               stdin=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "--verify", "HEAD")
    if not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": bool(status) if status is not None else None}


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name on this system (a container's uid): recorded as absent
        return None


class Run:
    """A run of ``name`` in ``catalog`` (default: the embedded catalog).

    ``params`` and ``external`` (ids of the same run in other trackers,
    ``{"mlflow": run_id}``) are fixed at the start; ``metadata`` and
    ``summary`` may be set while it runs. All are JSON and at most 64 KiB each."""

    def __init__(self, name: str, params: Mapping[str, Any] | None = None,
                 catalog: Catalog | str | os.PathLike[str] | None = None,
                 external: Mapping[str, Any] | None = None, *,
                 metadata: Mapping[str, Any] | None = None) -> None:
        self.name = check_name(name, "run name")
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
        self.params: Mapping[str, Any] = FrozenMap(checked_json("params", params))
        self.external: Mapping[str, Any] = FrozenMap(checked_json("external", external, 4096))
        self.metadata: dict[str, Any] = _Bounded("metadata", metadata)
        self.summary: dict[str, Any] = _Bounded("summary")
        self.id: str | None = None
        self.status: str | None = None
        self.command: list[str] | None = None  # set by `tether run`
        self._artifacts_uri: str | None = None
        self._store = RunStore(self.catalog)
        self._lock = threading.Lock()
        self._beat: _Heartbeat | None = None
        self._saved_env: dict[str, str | None] | None = None
        self._active: Any = None

    def __repr__(self) -> str:
        return f"Run({self.name!r}, id={self.id!r}, status={self.status!r})"

    # ------------------------------------------------------------ life cycle
    def start(self) -> Run:
        """Write the record (status ``running``) and start the heartbeat."""
        if self.id is not None:
            raise RunDataError(f"run {self.id} has started already")
        started = _dt.datetime.now(_dt.timezone.utc)
        at = started.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        doc: dict[str, Any] = {
            "schema": RUN_SCHEMA, "id": "", "name": self.name, "status": "running", "started_at": at,
            "ended_at": None, "heartbeat_at": at, "params": dict(self.params), "metadata": dict(self.metadata),
            "summary": dict(self.summary), "external": dict(self.external), "host": socket.gethostname(),
            "user": _user(), "pid": os.getpid(), "python": platform.python_version(),
            "tether_version": _version(), "artifacts_uri": self._artifacts_uri, "error": None, "exit_code": None,
        }
        code = git_facts()
        if code is not None:
            doc["code"] = code
        if self.command is not None:
            doc["command"] = self.command
        for _ in range(5):
            doc["id"] = new_run_id(started)
            try:
                self._store.create(doc)
                break
            except AlreadyExistsError:  # 48 random bits met in one millisecond
                continue
        self.id, self.status = doc["id"], "running"
        self._begin()
        from .openlineage import emit_for

        emit_for(self.catalog, RunInfo.from_record(doc, self.id), "START")
        return self

    @classmethod
    def resume(cls, run_id: str, catalog: Catalog | str | os.PathLike[str] | None = None) -> Run:
        """A handle on a run started elsewhere (another process, an earlier
        session): ``use`` and ``log`` attach to it; as a context manager it is
        marked running again, and finished or failed at the end of the block."""
        cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
        info = RunStore(cat).info(check_run_id(run_id))
        run = cls(info.name, info.params, cat, info.external, metadata=info.metadata)
        run.summary.update(info.summary)
        run.id, run.status, run._artifacts_uri = info.id, info.status, info.artifacts_uri
        return run

    def end(self, status: str = "finished", *, error: str | None = None, exit_code: int | None = None) -> None:
        """Complete the record: ``finished`` or ``failed``, when, and the final summary."""
        if status not in ("finished", "failed"):
            raise RunDataError(f"a run ends finished or failed, not {status!r}")
        run_id = self._require_id()
        self._finish()
        at = now_iso()

        def change(doc: dict[str, Any]) -> None:
            doc.update(status=status, ended_at=at, heartbeat_at=at, error=error, exit_code=exit_code,
                       summary=dict(self.summary), metadata=dict(self.metadata))

        with self._lock:
            doc = self._store.update(run_id, change)
        self.status = status
        from .openlineage import emit_for

        info = RunInfo.from_record(doc, run_id)
        emit_for(self.catalog, info, "COMPLETE" if status == "finished" else "FAIL", store=self._store)

    def __enter__(self) -> Self:
        if self.id is None:
            self.start()
            return self
        # A resumed run: running again until the block ends.
        with self._lock:
            self._store.update(self.id, lambda d: d.update(status="running", ended_at=None, heartbeat_at=now_iso()))
        self.status = "running"
        self._begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Only the exception's type: its message may quote a secret (a URL, a token).
        try:
            self.end("failed" if exc_type else "finished", error=exc_type.__name__ if exc_type else None)
        except Exception as end_exc:
            if exc_type is None:
                raise  # the block worked but its record could not be completed: say so
            # The block's own exception matters more: it goes on, this is a warning.
            warnings.warn(f"run {self.id}: could not mark it failed ({type(end_exc).__name__}: {end_exc})",
                          RunWarning, stacklevel=2)

    def _begin(self) -> None:
        """Export the run to this context and to child processes; start the heartbeat."""
        assert self.id is not None
        self._active = activated(self.catalog.root, self.id)
        self._active.__enter__()
        self._saved_env = {k: os.environ.get(k) for k in ("TETHER_RUN_ID", "TETHER_RUN_CATALOG")}
        os.environ["TETHER_RUN_ID"] = self.id
        os.environ["TETHER_RUN_CATALOG"] = self.catalog.root
        self._beat = _Heartbeat(self, heartbeat_interval())
        self._beat.start()

    def _finish(self) -> None:
        if self._beat is not None:
            self._beat.stop()
            self._beat = None
        if self._saved_env is not None:
            for k, v in self._saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            self._saved_env = None
        if self._active is not None:
            try:
                self._active.__exit__(None, None, None)
            except ValueError:  # ended in another thread or context than it started in
                pass
            self._active = None

    def heartbeat(self) -> None:
        """Write the record now: the time, and metadata and summary so far."""
        run_id = self._require_id()
        at = now_iso()
        metadata, summary = dict(self.metadata), dict(self.summary)

        def change(doc: dict[str, Any]) -> None:
            if doc.get("status") == "running":
                doc.update(heartbeat_at=at, metadata=metadata, summary=summary)

        with self._lock:
            self._store.update(run_id, change)

    # ---------------------------------------------------------- versions
    def use(self, ref: str, version: int | str | None = None, alias: str | None = None) -> ArtifactVersion:
        """The version ``ref`` names (``"data@prod"``, ``"data:3"``), recorded as an input
        with the reference as asked and the version it resolved to."""
        with activated(self.catalog.root, self._require_id()):
            return self.catalog.get(ref, version, alias)

    def log(self, artifact: Artifact, aliases: Iterable[str] = (), tags: Iterable[str] = (), *,
            workers: int | None = None) -> ArtifactVersion:
        """Log ``artifact`` as an output of this run (a new version, or, for
        unchanged content, the existing one with this run as a second producer)."""
        run_id = self._require_id()
        restore = artifact.artifacts_uri
        if restore is None and self._artifacts_uri is not None:
            artifact.artifacts_uri = f"{self._artifacts_uri.rstrip('/')}/{run_id}"
        try:
            with activated(self.catalog.root, run_id):
                return self.catalog.log(artifact, aliases, tags, workers=workers)
        finally:
            artifact.artifacts_uri = restore

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None, type: str = "file", *,
                     aliases: Iterable[str] = (), metadata: Mapping[str, Any] | None = None) -> ArtifactVersion:
        """Upload a local file or folder as the next version of ``name`` (default:
        the file's name), as an output of this run."""
        name = name if name is not None else _name_from_path(path)
        art = Artifact(name, type=type, metadata=metadata)
        art.add(path)
        return self.log(art, aliases)

    def set_artifacts_uri(self, uri: str) -> None:
        """Upload this run's files under ``<uri>/<run id>/`` instead of the catalog's storage."""
        driver_for_uri(uri)  # a scheme no driver serves fails here, not at the first upload
        self._artifacts_uri = uri
        if self.id is not None:
            with self._lock:
                self._store.update(self.id, lambda d: d.update(artifacts_uri=redact(uri)))

    @property
    def artifacts_uri(self) -> str | None:
        return f"{self._artifacts_uri.rstrip('/')}/{self.id}" if self._artifacts_uri and self.id else None

    def info(self) -> RunInfo:
        """The record as stored now, with its inputs and outputs."""
        return self.catalog.run(self._require_id())

    def _require_id(self) -> str:
        if self.id is None:
            raise RunDataError(f"run {self.name!r} has not started: use `with tether.Run(...)` or run.start()")
        return self.id


class _Heartbeat(threading.Thread):
    """Rewrites the record every ``interval`` seconds while the run runs.

    A failed beat (the store unreachable for a while) warns once and keeps
    beating: lineage bookkeeping must not kill a training job."""

    def __init__(self, run: Run, interval: float) -> None:
        super().__init__(name=f"tether-heartbeat-{run.id}", daemon=True)
        self.run_ref, self.interval = run, interval
        self._stopped = threading.Event()
        self._warned = False

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.run_ref.heartbeat()
            except Exception as exc:  # noqa: BLE001 - reported, never raised into the job
                if not self._warned:
                    self._warned = True
                    warnings.warn(f"run {self.run_ref.id}: heartbeat failed ({type(exc).__name__}: {exc}); "
                                  "the run goes on", RunWarning, stacklevel=1)

    def stop(self) -> None:
        self._stopped.set()
        if self is not threading.current_thread():
            self.join()


def heartbeat_interval() -> float:
    raw = os.environ.get("TETHER_RUN_HEARTBEAT", "")
    try:
        value = float(raw) if raw else HEARTBEAT_SECONDS
    except ValueError:
        raise RunDataError(f"TETHER_RUN_HEARTBEAT must be a number of seconds, got {raw!r}") from None
    return min(HEARTBEAT_SECONDS, max(0.05, value))


def _name_from_path(path: str | os.PathLike[str]) -> str:
    import re

    base = Path(path).expanduser().resolve().name
    name = re.sub(r"[^A-Za-z0-9._-]", "-", base).strip(".-_")[:128] or "artifact"
    if name.endswith((".json", ".tmp")):
        name = name.rsplit(".", 1)[0] or "artifact"
    return check_name(name)


def _version() -> str:
    from . import __version__

    return __version__


__all__ = ["MAX_JSON_BYTES", "Run", "RunInfo", "RunWarning", "git_facts"]
