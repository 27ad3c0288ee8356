"""Path helpers shared by drivers and core: folder prefixes, globs, local paths."""

from __future__ import annotations

import os
import re

#: The characters that make a URI a glob (``**`` crosses folders, ``*`` does not).
GLOB_CHARS = "*"


def folder_prefix(key: str) -> str:
    """``key`` as a folder prefix ending in ``/``; ``""`` for the bucket's root."""
    return key.rstrip("/") + "/" if key.strip("/") else ""


def glob_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a glob: ``*`` matches within one folder, ``**/``
    any number of folders (none included), ``**`` anything."""
    parts = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts), re.DOTALL)


def local_abspath(path: str) -> str:
    """``path`` absolute, with ``~`` expanded."""
    return os.path.abspath(os.path.expanduser(path))
