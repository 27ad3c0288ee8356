"""Logical paths: the relative names assets get inside an artifact and on disk.

A logical path is POSIX-style, relative, made of non-empty segments, none of
them ``.`` or ``..``, with no backslash, NUL or drive letter, and valid
Unicode: a file name that is not valid UTF-8 (Python hands it over with lone
surrogates) is refused, showing its bad bytes as ``\xff``, since manifests are
UTF-8 JSON and such a name could not be written or read back. Everything that
builds or reads a manifest goes through :func:`check_logical_path`, and the
downloader checks again against the real destination (:func:`dest_path_for`),
so a hostile key or a hand-edited manifest can never write outside ``dest``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import UnsafePathError

MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 4096
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def shown_name(name: str) -> str:
    """``name`` for a message: bytes that are not valid UTF-8 as ``\\xff``."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def check_logical_path(path: str, *, what: str = "logical path") -> str:
    """Return ``path`` if it is a safe logical path, else raise UnsafePathError."""
    if isinstance(path, str) and not path.isascii() and _SURROGATE_RE.search(path):
        raise UnsafePathError(f"{what} '{shown_name(path)}' is not valid UTF-8 (a file name in another "
                              "encoding?); tether records names as UTF-8: rename it, e.g. with convmv")
    # Fast path for the common case (called once per asset, 100,000 times for a
    # large version): none of the risky characters or segments, lengths in bounds.
    if isinstance(path, str) and path and "\x00" not in path and "\\" not in path and path[0] != "/" \
            and not _DRIVE_RE.match(path):
        wrapped = f"/{path}/"
        if "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped:
            if len(path) <= MAX_SEGMENT_BYTES // 4:  # even at 4 bytes a character, nothing is too long
                return path
            if path.isascii() and len(path) <= MAX_PATH_BYTES and \
                    max(map(len, path.split("/"))) <= MAX_SEGMENT_BYTES:
                return path
    if not isinstance(path, str) or path == "":
        raise UnsafePathError(f"{what} is empty")
    shown = path.encode("unicode_escape").decode("ascii")
    if "\x00" in path:
        raise UnsafePathError(f"{what} {shown!r} contains a NUL byte")
    if "\\" in path:
        raise UnsafePathError(f"{what} {shown!r} contains a backslash")
    if path.startswith("/"):
        raise UnsafePathError(f"{what} {shown!r} is absolute")
    if _DRIVE_RE.match(path):
        raise UnsafePathError(f"{what} {shown!r} starts with a drive letter")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise UnsafePathError(f"{what} {shown[:80]!r}... is longer than {MAX_PATH_BYTES} bytes")
    for seg in path.split("/"):
        if seg in ("", ".", ".."):
            raise UnsafePathError(f"{what} {shown!r} has an empty, '.' or '..' segment")
        if len(seg.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise UnsafePathError(
                f"{what} {shown[:80]!r} has a name longer than {MAX_SEGMENT_BYTES} bytes")
    return path


def join_logical(prefix: str | None, rel: str) -> str:
    """Join an optional logical prefix (``models/``) and a relative name."""
    if not prefix:
        return rel
    return prefix.rstrip("/") + "/" + rel


def dest_path_for(dest: Path, logical_path: str) -> Path:
    """Where ``logical_path`` lands under ``dest``; refuses anything outside it.

    Checks the string rules, then resolves symlinks of the existing parents so
    a symlinked sub-folder pointing elsewhere is refused too.
    """
    check_logical_path(logical_path)
    root = os.path.realpath(dest)
    target = os.path.join(root, *logical_path.split("/"))
    parent = os.path.realpath(os.path.dirname(target))
    if os.path.commonpath([root, parent]) != root:
        raise UnsafePathError(f"logical path {logical_path!r} resolves outside {dest}")
    return Path(parent) / os.path.basename(target)
