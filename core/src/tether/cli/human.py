"""Numbers and times as people read them; ``--json`` keeps the raw values."""

from __future__ import annotations

import datetime as _dt

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(n: int | None) -> str:
    """``1536`` as ``"1.5 KiB"``: powers of 1024, three significant digits."""
    if n is None:
        return "?"
    size = float(n)
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(size)} B"
            return f"{size:.1f} {unit}" if abs(size) < 100 else f"{size:.0f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _parse(iso: str) -> _dt.datetime | None:
    try:
        stamp = _dt.datetime.fromisoformat(iso)
    except (ValueError, AttributeError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=_dt.UTC)


def ago(iso: str, now: _dt.datetime | None = None) -> str:
    """``"3 hours ago"``; the date itself beyond a month; the text as given if it is no time."""
    stamp = _parse(iso)
    if stamp is None:
        return iso or "?"
    seconds = ((now or _dt.datetime.now(_dt.UTC)) - stamp).total_seconds()
    if seconds < 0:
        return stamp.strftime("%Y-%m-%d %H:%M")  # a clock ahead: say when, not "in the future"
    for limit, size, unit in ((60, 1, "second"), (3600, 60, "minute"), (86400, 3600, "hour"),
                              (30 * 86400, 86400, "day")):
        if seconds < limit:
            if unit == "second" and seconds < 10:
                return "just now"
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return stamp.strftime("%Y-%m-%d")
