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
