"""An audit log of every storage operation tether runs: a complete hook plugin.

Each hook is a pluggy *wrapper* (``wrapper=True``): the code before ``yield``
runs before the operation, ``yield`` returns its result or raises its error,
and the wrapper returns what core should see (here: the result, unchanged).
Wrappers run for every scheme, whichever plugin provides the driver.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Generator
from typing import Any

import tether
from tether.driverkit import redact

ENV = "TETHER_AUDIT_LOG"


def _write(op: str, driver: Any, uri: str | None, ok: bool, **extra: Any) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    line = {"time": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"), "op": op,
            "scheme": driver.scheme, "uri": redact(uri or ""), "ok": ok, **extra, "pid": os.getpid()}
    data = (json.dumps(line, sort_keys=False) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)  # one write per line: lines from several processes never interleave
    finally:
        os.close(fd)


def _audited(op: str, driver: Any, uri: str | None, describe: Any) -> Generator[None, Any, Any]:
    try:
        result = yield
    except Exception as exc:
        _write(op, driver, uri, False, error=type(exc).__name__)
        raise
    _write(op, driver, uri, True, **describe(result))
    return result


@tether.hookimpl(wrapper=True)
def tether_resolve(driver: Any, uri: str, max_objects: int, glob: bool | None) -> Generator[None, Any, Any]:
    return (yield from _audited("resolve", driver, uri, lambda r: {"kind": r.kind, "objects": len(r.objects)}))


@tether.hookimpl(wrapper=True)
def tether_list(driver: Any, uri: str, max_objects: int) -> Generator[None, Any, Any]:
    return (yield from _audited("list", driver, uri, lambda r: {"objects": len(r)}))


@tether.hookimpl(wrapper=True)
def tether_checksum(driver: Any, uri: str, kinds: tuple[str, ...]) -> Generator[None, Any, Any]:
    return (yield from _audited("checksum", driver, uri, lambda r: {"kinds": sorted(r)}))


@tether.hookimpl(wrapper=True)
def tether_upload(driver: Any, local_path: str, uri: str, sha256: str) -> Generator[None, Any, Any]:
    return (yield from _audited("upload", driver, uri, lambda r: {"bytes": r.size}))


@tether.hookimpl(wrapper=True)
def tether_download(driver: Any, asset: Any, dest: Any, fetch: Any) -> Generator[None, Any, Any]:
    return (yield from _audited("download", driver, asset.uri,
                                lambda r: {"bytes": asset.size, "status": r}))
