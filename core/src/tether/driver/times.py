"""Timestamps as drivers record them: ISO 8601 UTC strings and epoch seconds.

Every store returns modification times in its own shape (a ``datetime``, epoch
seconds, an ISO string); a manifest records one shape, :func:`iso_time`'s.
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any


def epoch_of(value: Any) -> float | None:
    """Epoch seconds of the timestamp shapes fsspec backends and stores return."""
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_dt.UTC)).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return _dt.datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


# Whole seconds already formatted: files of one folder share a handful of
# mtimes, and gmtime + strftime per file was an eighth of an unchanged re-log.
_STAMPS: dict[int, str] = {}


def _iso(whole: int, micros: int) -> str:
    stamp = _STAMPS.get(whole)
    if stamp is None:
        if len(_STAMPS) >= 4096:
            _STAMPS.clear()
        stamp = _STAMPS[whole] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{stamp}.{micros:06d}Z" if micros else stamp + "Z"


def iso_time_ns(ns: int) -> str:
    """ISO 8601 UTC of a nanosecond epoch (``st_mtime_ns``), to the microsecond:
    the per-file half of every local listing, in integer arithmetic."""
    whole, frac = divmod(ns, 1_000_000_000)
    return _iso(whole, frac // 1000)


def iso_time(value: Any) -> str | None:
    """Normalise the many timestamp shapes fsspec backends return to ISO 8601 UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):  # epoch seconds
        whole = int(value)
        micros = round((value - whole) * 1_000_000)
        if micros >= 1_000_000:
            whole, micros = whole + 1, 0
        return _iso(whole, micros)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)
