"""Helpers of the run tests: counting a catalog's storage requests, filling a catalog with runs."""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from typing import Any

import tether
from tether.catalog.runs import RUN_SCHEMA, RunStore, new_run_id

COUNTED = ("read_bytes", "read_bytes_versioned", "write_bytes", "write_bytes_if_match", "list_names",
           "exists", "delete", "stat_path")


class CountingDriver:
    """Stands in for a catalog's driver and counts the storage calls made through it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()
        self.uris: list[str] = []

    @classmethod
    def install(cls, catalog: tether.Catalog) -> CountingDriver:
        counting = cls(catalog._driver)
        catalog._driver = counting  # type: ignore[assignment]
        return counting

    def reset(self) -> None:
        self.calls.clear()
        self.uris.clear()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in COUNTED:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if args:
                self.uris.append(str(args[0]))
            return attr(*args, **kwargs)

        return counted

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def fake_runs(catalog: tether.Catalog, n: int, name: str = "unrelated") -> list[str]:
    """``n`` finished runs that touched nothing, written straight through the store (fast)."""
    store = RunStore(catalog)
    start = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    ids = []
    for i in range(n):
        at = start + _dt.timedelta(seconds=i)
        stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        run_id = new_run_id(at)
        store.create({"schema": RUN_SCHEMA, "id": run_id, "name": name, "status": "finished",
                      "started_at": stamp, "ended_at": stamp, "heartbeat_at": stamp})
        ids.append(run_id)
    return ids


def check_conditional_overwrite(driver: Any, base: str) -> None:
    """What every driver's conditional overwrite must do (a lost race, a gone object)."""
    import pytest
    from tether import errors

    uri = f"{base}/runs/r/run.json"
    driver.write_bytes(uri, b"one", if_absent=True)
    data, token = driver.read_bytes_versioned(uri)
    assert data == b"one"
    token2 = driver.write_bytes_if_match(uri, b"two", token)
    assert driver.read_bytes_versioned(uri) == (b"two", token2)
    with pytest.raises(errors.PreconditionFailedError):  # a writer that read before the last write loses
        driver.write_bytes_if_match(uri, b"stale", token)
    assert driver.read_bytes(uri) == b"two"
    assert issubclass(errors.PreconditionFailedError, errors.AlreadyExistsError)
    driver.write_bytes_if_match(uri, b"three", token2)  # the token returned is good for the next write
    assert driver.read_bytes(uri) == b"three"
    with pytest.raises(errors.ObjectNotFoundError):
        driver.write_bytes_if_match(f"{base}/runs/r/missing.json", b"x", token2)
    with pytest.raises(errors.ObjectNotFoundError):
        driver.read_bytes_versioned(f"{base}/runs/r/missing.json")


def increment(uri: str, times: int) -> int:
    """Read-modify-write a counter ``times`` times through the URI's driver,
    retrying lost races (how run records are completed); return how many races
    this process lost. Module level: run in separate processes."""
    from tether.resolver import driver_for_uri

    driver = driver_for_uri(uri)
    lost = 0
    for _ in range(times):
        while True:
            data, token = driver.read_bytes_versioned(uri)
            try:
                driver.write_bytes_if_match(uri, str(int(data) + 1).encode(), token)
                break
            except tether.errors.PreconditionFailedError:
                lost += 1
    return lost


def check_run_scenario(root: str, workdir: Any) -> None:
    """Inputs (as asked and as resolved), outputs, producers and a failed block, on the catalog at ``root``."""
    import pytest

    cat = tether.Catalog(root)
    (workdir / "raw.csv").write_text("raw")
    (workdir / "model.pt").write_bytes(b"weights")
    raw = tether.Artifact("raw")
    raw.add(workdir / "raw.csv")
    cat.log(raw, aliases=["prod"])
    with tether.Run("train", params={"lr": 0.1}, catalog=cat, external={"mlflow": "ml-1"}) as run:
        assert run.use("raw@prod").version == 1
        model = tether.Artifact("model", type="model")
        model.add(workdir / "model.pt")
        v = run.log(model, aliases=["candidate"])
    assert v.run_id == run.id and cat.get("model@candidate").created_by_run == run.id
    rec = cat.run(run.id)
    assert (rec.status, dict(rec.params), dict(rec.external)) == ("finished", {"lr": 0.1}, {"mlflow": "ml-1"})
    assert [(e.version_ref, e.ref, e.alias) for e in rec.inputs] == [("raw:v1", "raw@prod", "prod")]
    assert [(e.version_ref, e.created) for e in rec.outputs] == [("model:v1", True)]
    lin = cat.lineage("model:1", upstream=1, downstream=1)
    assert [r.id for r in lin.producers_of("model:v1")] == [run.id] and "raw:v1" in lin.versions
    assert [r.id for r in cat.lineage("raw@prod").consumers_of("raw:v1")] == [run.id]
    with pytest.raises(RuntimeError, match="diverged"), tether.Run("train", catalog=cat) as failed:
        failed.use("model@candidate")
        raise RuntimeError("diverged")
    assert (cat.run(failed.id).status, cat.run(failed.id).error) == ("failed", "RuntimeError")
    assert [r.id for r in cat.runs(name="train")] == [failed.id, run.id]
    assert [r.id for r in cat.runs(status="failed")] == [failed.id]


def use_and_log(root: str, i: int, path: str) -> str:
    """One of N racing processes: a run that uses the shared input and logs its own model."""
    cat = tether.Catalog(root)
    with tether.Run(f"worker-{i}", params={"i": i}, catalog=cat) as run:
        run.use("shared@prod")
        art = tether.Artifact("model", type="model")
        art.add(path)
        run.log(art)
    return run.id


def check_racing_runs(root: str, workdir: Any, n: int, **race_kw: Any) -> None:
    """``n`` processes each running use + log on one catalog: ``n`` complete runs and every edge."""
    from tether.racing import race

    cat = tether.Catalog(root)
    (workdir / "shared.csv").write_text("shared")
    shared = tether.Artifact("shared")
    shared.add(workdir / "shared.csv")
    cat.log(shared, aliases=["prod"])
    paths = []
    for i in range(n):
        p = workdir / f"model-{i}.pt"
        p.write_text(f"model {i}")
        paths.append(str(p))
    ids = race(use_and_log, [(root, i, paths[i]) for i in range(n)], processes=True, **race_kw)
    assert len(set(ids)) == n
    runs = cat.runs(limit=None)
    assert sorted(r.id for r in runs) == sorted(ids) and {r.status for r in runs} == {"finished"}
    produced = {}
    for run_id in ids:
        rec = cat.run(run_id)
        assert [(e.version_ref, e.ref) for e in rec.inputs] == [("shared:v1", "shared@prod")], rec
        (out,) = rec.outputs
        assert out.name == "model" and out.created is True
        produced[out.version] = run_id
    assert sorted(produced) == list(range(1, n + 1))  # n distinct versions, each made by one run
    lin = cat.lineage("shared:1", upstream=0, downstream=1)
    assert sorted(r.id for r in lin.consumers_of("shared:v1")) == sorted(ids)
    assert set(lin.versions) == {"shared:v1"} | {f"model:v{k}" for k in range(1, n + 1)}
    for number, run_id in produced.items():
        assert cat.get("model", version=number).created_by_run == run_id
        assert [r.id for r in cat.lineage(f"model:{number}", downstream=0).producers_of(f"model:v{number}")] \
            == [run_id]
