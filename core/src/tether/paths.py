"""Logical paths: the relative names assets get inside an artifact and on disk.

A logical path is POSIX-style, relative, made of non-empty segments, none of
them ``.`` or ``..``, with no backslash, NUL or drive letter, at most
:data:`MAX_PATH_BYTES` long and :data:`MAX_DEPTH` segments deep. Everything
that builds or reads a manifest goes through :func:`check_logical_path`, and
the downloader checks again against the real destination
(:func:`dest_path_for`), so a hostile key or a hand-edited manifest can never
write outside ``dest``.

Names that one disk tells apart and another does not (``A`` / ``a`` on a
case-insensitive disk, NFC ``é`` / NFD ``é`` on macOS) are compared with
:func:`fold_case` and :func:`fold_unicode`; :func:`name_clash` finds two paths
that would land on one file, or a file that another path needs as a folder.

A file name that is not valid UTF-8 (Python hands it over with lone surrogates)
is refused, showing its bad bytes as ``\xff``: manifests are UTF-8 JSON and
such a name could not be written or read back.
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import InvalidArtifactError, UnsafePathError

MAX_SEGMENT_BYTES = 255
# PATH_MAX on Linux: no longer path can be handed to the kernel in one call.
MAX_PATH_BYTES = 4096
# S3 and GCS keys are at most 1,024 bytes, so no key a store can hold has more
# than 512 segments ("a/" * 512); deeper paths only come from hand-made
# manifests. The bound also keeps any code that walks a path recursively far
# from Python's recursion limit (1,000 frames).
MAX_DEPTH = 512
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
            if path.isascii() and len(path) <= MAX_PATH_BYTES and path.count("/") < MAX_DEPTH and \
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
    segments = path.split("/")
    if len(segments) > MAX_DEPTH:
        raise UnsafePathError(f"{what} {shown[:80]!r}... is {len(segments)} folders deep, more than {MAX_DEPTH}")
    for seg in segments:
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

    Checks the string rules, then resolves symlinks of the existing parents:
    a sub-folder of ``dest`` that is a symbolic link is refused wherever it
    points (as git refuses to check out "beyond a symbolic link"), so every
    folder tether writes into is a real folder below ``dest``. ``dest`` itself
    may be a link: the user named it.
    """
    check_logical_path(logical_path)
    root = os.path.realpath(dest)
    target = os.path.join(root, *logical_path.split("/"))
    lexical = os.path.dirname(target)
    parent = os.path.realpath(lexical)
    if os.path.commonpath([root, parent]) != root:
        raise UnsafePathError(f"logical path {logical_path!r} resolves outside {dest}")
    if parent != lexical:
        raise UnsafePathError(f"logical path {logical_path!r} goes through a symbolic link inside {dest}; "
                              "tether does not write through links")
    return Path(parent) / os.path.basename(target)


# ----------------------------------------------------------------- name clashes
def fold_unicode(path: str) -> str:
    """The name a normalisation-insensitive disk (APFS, HFS+) sees: NFC."""
    if path.isascii():
        return path
    return unicodedata.normalize("NFC", path)


def _simple_fold(ch: str) -> str:
    # Python only offers full case folding (``ß`` -> ``ss``); disks use simple,
    # one-character folding (APFS, NTFS's upcase table), where ``ß`` stays
    # ``ß``. A character whose full fold is one character folds the same way
    # in both; otherwise its lower case, if that is one character.
    folded = ch.casefold()
    if len(folded) == 1:
        return folded
    lowered = ch.lower()
    return lowered if len(lowered) == 1 else ch


def fold_case(path: str, *, unicode: bool = True) -> str:
    """The name a case-insensitive disk sees: simple case folding, after NFC
    when the disk also ignores normalisation (``unicode``; APFS and HFS+ do,
    NTFS does not).

    ``Data/A.txt`` and ``data/a.TXT`` fold alike; ``straße`` and ``strasse``
    do not (no disk treats them as one name)."""
    if path.isascii():
        return path.lower()
    text = fold_unicode(path) if unicode else path
    lowered = text.lower()
    # Where full folding agrees with lower case for every character (no ß, ſ,
    # final sigma, Cherokee ...) and no İ (whose lower case is two characters),
    # lower case is the simple folding: skip the per-character loop.
    if lowered == text.casefold() and "\u0130" not in text:
        return lowered
    return "".join(map(_simple_fold, text))


def name_clash(paths: Iterable[str], key: Callable[[str], str] = str) -> tuple[str, str] | None:
    """The first two paths that cannot both exist on a disk that compares names by ``key``.

    Either both fold to one name, or one is a file where the other needs a
    folder (``a`` and ``a/b``: legal keys on S3 and GCS, never two files on a
    disk). Sorting with ``/`` as the lowest character puts everything inside a
    folder right after the folder's own name, so one pass over neighbours
    finds every clash. Returns ``(a, b)`` as given, or ``None``.
    """
    ordered = sorted((key(p).replace("/", "\x00"), p) for p in paths)
    for (ka, pa), (kb, pb) in itertools.pairwise(ordered):
        if (ka == kb and pa != pb) or kb.startswith(ka + "\x00"):
            return pa, pb
    return None


def clash_reason(a: str, b: str, key: Callable[[str], str]) -> str:
    """Why :func:`name_clash` paired ``a`` and ``b`` under ``key``, for an error message."""
    if key(a) != key(b):
        return "would be a file and a folder at once"
    if fold_unicode(a) == fold_unicode(b):
        return "differ only by Unicode normalisation (NFC/NFD)"
    if fold_case(a, unicode=False) == fold_case(b, unicode=False):
        return "differ only by case"
    return "differ only by case and Unicode normalisation"


def file_folder_clash(paths: Iterable[str]) -> tuple[str, str] | None:
    """``(a, a/b)`` when one logical path is a file and also a folder of another."""
    return name_clash(paths)


def check_file_folder_clash(paths: Iterable[str], *, label: str) -> None:
    """Refuse an artifact holding ``a`` and ``a/b`` (both legal keys on S3 and
    GCS) before anything of it is stored: no download could ever hold both."""
    clash = file_folder_clash(paths)
    if clash:
        a, b = clash
        raise InvalidArtifactError(f"{label}: assets {a!r} and {b!r} cannot both be files: {a!r} would "
                                   "have to be a file and a folder at once on disk (rename one of them)")


def short_prefix(name: str, max_bytes: int = 80) -> str:
    """The longest start of ``name`` at most ``max_bytes`` long in the file
    system's encoding, cut between characters: part and temp file names built
    from it stay under 255 bytes whatever script the name is in."""
    if len(name) * 4 <= max_bytes:
        return name
    out, used = [], 0
    for ch in name:
        used += len(ch.encode("utf-8", "surrogatepass"))  # never less than the bytes on disk
        if used > max_bytes:
            break
        out.append(ch)
    return "".join(out)
