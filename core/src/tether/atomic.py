"""Atomic local writes: bytes appear under their final name complete, or not at all."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .paths import short_prefix

TMP_MARK = ".tether-tmp-"


def temp_name(final: Path) -> Path:
    """A unique hidden temp file beside ``final`` (same folder: rename stays atomic),
    its name under 255 bytes whatever script ``final``'s name is in."""
    return final.with_name(f".{short_prefix(final.name)}{TMP_MARK}{secrets.token_hex(6)}")


def fsync_dir(folder: Path) -> None:
    """Flush ``folder``'s entries to disk, so a rename or link into it survives a crash.
    Best effort: filesystems that cannot fsync a folder are left as they are."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(final: Path, data: bytes, *, if_absent: bool = False) -> None:
    """Write ``data`` to ``final`` atomically.

    ``if_absent=True`` is create-if-absent: ``os.link`` of a complete temp file
    fails with FileExistsError when ``final`` exists, so two writers racing for
    one name cannot both win and a reader never sees half a file.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if if_absent:
            os.link(tmp, final)
        else:
            os.replace(tmp, final)
        fsync_dir(final.parent)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
