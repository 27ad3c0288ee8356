"""Walking a local folder: which files a folder holds, for logging it.

One walker for both ways a local folder is logged, uploaded
(:meth:`Artifact.add`) and tracked in place (:meth:`Artifact.add_remote`, the
local driver's listing), so both record the same files.

**Symlinks are followed**, to files and to folders alike, and the target's
content is recorded under the link's name. A manifest records files, not
links (there is no link entry to restore), so a link is either its content or
nothing; leaving out a linked folder while taking a linked file would drop
data without a word, which is what this rule exists to prevent (``cp -rL``,
``rsync -L`` and ``tar -h`` make the same choice; ``rsync -a`` and git keep
links as links, which a manifest cannot). A folder link pointing at one of its
own parents (a loop) is refused, naming it, before anything is hashed. A link
pointing nowhere, and anything that is neither a file nor a folder (a FIFO, a
socket, a device), holds no bytes to record and is skipped.

**Exclusions.** :class:`Excludes` holds glob patterns, matched like a subset
of ``.gitignore``: a pattern ending in ``/`` matches folders only (and
everything under them); a pattern with another ``/`` is matched against the
path relative to the folder being logged; any other pattern is matched against
each file and folder name at any depth. ``*`` matches within a name, ``**``
across folders (the same glob syntax as URIs). :data:`DEFAULT_EXCLUDES` (git's
own folder and the litter operating systems leave) apply to local folders
unless turned off.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from .driver import glob_regex
from .errors import InvalidArtifactError
from .paths import shown_name
from .progress import advance

#: Left out of local folders unless ``default_excludes=False`` (CLI: ``--no-default-excludes``):
#: a git repository's own folder and what macOS, Windows and zip tools leave behind.
DEFAULT_EXCLUDES: tuple[str, ...] = (".git/", ".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX/")


class Excludes:
    """Compiled exclusion patterns (see the module docstring for the syntax)."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = tuple(patterns)
        self._names: list[re.Pattern[str]] = []
        self._paths: list[re.Pattern[str]] = []
        self._folder_names: list[re.Pattern[str]] = []
        self._folder_paths: list[re.Pattern[str]] = []
        for p in self.patterns:
            if not isinstance(p, str) or not p.strip("/"):
                raise InvalidArtifactError(f"invalid exclude pattern {p!r}: give a file or folder glob "
                                           "('*.tmp', 'logs/', 'cache/**/*.bin')")
            folder_only = p.endswith("/")
            body = p.strip("/")
            rx = glob_regex(body)
            if "/" in body:
                (self._folder_paths if folder_only else self._paths).append(rx)
            else:
                (self._folder_names if folder_only else self._names).append(rx)
        # A folder matched by a file pattern (``cache`` without the slash) is left out too, as git does.
        self._folder_names += self._names
        self._folder_paths += self._paths
        # One alternation per kind: a walk asks about every file, and one match
        # costs less than one per pattern (the defaults alone are five).
        self._name_rx, self._path_rx = _either(self._names), _either(self._paths)
        self._folder_name_rx, self._folder_path_rx = _either(self._folder_names), _either(self._folder_paths)

    @classmethod
    def build(cls, exclude: Iterable[str] | str | None, default_excludes: bool) -> Excludes | None:
        """The patterns given (one string is one pattern), plus the defaults; None if there are none."""
        given = [exclude] if isinstance(exclude, str) else list(exclude or ())
        patterns = [*given, *(DEFAULT_EXCLUDES if default_excludes else ())]
        return cls(patterns) if patterns else None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __repr__(self) -> str:
        return f"Excludes({list(self.patterns)!r})"

    def file(self, rel: str) -> bool:
        """Whether the file at relative path ``rel`` is left out (its folders are checked by the walker)."""
        return bool((self._name_rx is not None and self._name_rx.fullmatch(rel.rsplit("/", 1)[-1]))
                    or (self._path_rx is not None and self._path_rx.fullmatch(rel)))

    def folder(self, rel: str) -> bool:
        """Whether the folder at relative path ``rel`` is left out, with everything under it."""
        return bool((self._folder_name_rx is not None and self._folder_name_rx.fullmatch(rel.rsplit("/", 1)[-1]))
                    or (self._folder_path_rx is not None and self._folder_path_rx.fullmatch(rel)))

    def path(self, rel: str) -> bool:
        """Whether a file at ``rel`` is left out, by its own name or any of its folders'
        (for listings that arrive whole, such as an object store's)."""
        parts = rel.split("/")
        return self.file(rel) or any(self.folder("/".join(parts[:i])) for i in range(1, len(parts)))


def _either(patterns: list[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One pattern that fully matches what any of ``patterns`` fully matches (glob
    regexes: no anchors or groups of their own to clash)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{rx.pattern})" for rx in patterns), re.DOTALL)


def scan(root: str, exclude: Excludes | None = None) -> dict[str, os.stat_result]:
    """Every file under the folder ``root`` (absolute paths, through links as
    named) with its stat, following symlinks, leaving out ``exclude``.

    Reports ``listing`` progress (files found so far)."""
    root = root.rstrip("/") or "/"
    files: dict[str, os.stat_result] = {}
    try:
        st = os.stat(root)
    except (FileNotFoundError, NotADirectoryError):
        return files
    pending: list[tuple[str, str, frozenset[tuple[int, int]]]] = [(root, "", frozenset({(st.st_dev, st.st_ino)}))]
    while pending:
        folder, rel, ancestors = pending.pop()
        before = len(files)
        try:
            _scan(folder, rel, ancestors, files, pending, exclude)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        advance("listing", len(files) - before, "objects")
    return files


def _scan(folder: str, rel: str, ancestors: frozenset[tuple[int, int]], files: dict[str, os.stat_result],
          pending: list[tuple[str, str, frozenset[tuple[int, int]]]], exclude: Excludes | None) -> None:
    """Add ``folder``'s files (with their stat) to ``files`` and its sub-folders
    to ``pending``: one scandir for the names, one stat a file.

    Where the OS allows, the stats are made relative to an open descriptor of
    the folder (``fstatat``), sparing the kernel a walk of the full path for
    every file: a tenth of an unchanged re-log."""
    base = folder if folder.endswith("/") else folder + "/"
    prefix = rel + "/" if rel else ""
    by_fd = os.scandir in os.supports_fd
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if by_fd else None
    try:
        with os.scandir(fd if by_fd else folder) as it:
            for entry in it:
                try:
                    if entry.is_file():  # the common case first; follows links
                        if exclude is None or not exclude.file(prefix + entry.name):
                            files[base + entry.name] = entry.stat()
                    elif entry.is_dir():  # follows links too
                        sub = prefix + entry.name
                        if exclude is not None and exclude.folder(sub):
                            continue
                        st = entry.stat()
                        key = (st.st_dev, st.st_ino)
                        if key in ancestors:
                            raise InvalidArtifactError(
                                f"'{shown_name(base + entry.name)}' links to a folder that contains it "
                                f"('{shown_name(os.path.realpath(base + entry.name))}'): following it would never "
                                "end; remove the link or exclude it")
                        pending.append((base + entry.name, sub, ancestors | {key}))
                except FileNotFoundError:
                    continue  # removed while we looked, or a link pointing nowhere
    finally:
        if fd is not None:
            os.close(fd)


def glob_files(pattern: str, exclude: Excludes | None = None) -> list[tuple[str, str]]:
    """``(path, relative name)`` of the local files matching ``pattern`` (an
    absolute path with ``*`` / ``**``), relative to its fixed leading folder,
    as the drivers resolve globs."""
    static = pattern.split("*", 1)[0]
    base = static.rsplit("/", 1)[0] if "/" in static else ""
    rx = glob_regex(pattern)
    found = scan(base or "/", exclude)
    cut = len(base) + 1
    return sorted((p, p[cut:]) for p in found if rx.fullmatch(p))
