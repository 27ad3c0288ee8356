"""Names and references: tags, version numbers, ``name:3`` / ``name@alias``."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..artifact import check_name
from ..errors import InvalidNameError, UnknownVersionError

TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:=+-]{0,127}$")


def is_name(n: str) -> bool:
    try:
        check_name(n)
        return True
    except InvalidNameError:
        return False


def check_tag(tag: str) -> None:
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise InvalidNameError(f"invalid tag {tag!r}: letters, digits and . _ : = + - only")


def names(given: str | Iterable[str] | None, what: str) -> list[str]:
    """Aliases or tags as given to ``log``: one string is one name, not its letters."""
    if given is None:
        return []
    if isinstance(given, str):
        return [given]
    try:
        return list(given)
    except TypeError:
        raise InvalidNameError(f"{what} must be a name or a list of names, not {type(given).__name__}") from None


def version_number(version: int | str) -> int:
    if isinstance(version, bool):
        raise UnknownVersionError(f"invalid version {version!r}")
    if isinstance(version, int):
        n = version
    else:
        m = re.fullmatch(r"v?(\d+)", str(version).strip())
        if not m:
            raise UnknownVersionError(f"invalid version {version!r}: use a number like 3 or v3")
        n = int(m.group(1))
    if n < 1:
        raise UnknownVersionError(f"invalid version {version!r}: versions start at 1")
    return n


def parse_ref(name: str, version: int | str | None = None,
              alias: str | None = None) -> tuple[str, int | str | None, str | None]:
    """Split ``name:3`` / ``name:v3`` / ``name:latest`` / ``name@alias``."""
    if "@" in name:
        name, _, ref_alias = name.partition("@")
        if alias is not None and alias != ref_alias:
            raise InvalidNameError("alias given twice")
        alias = ref_alias
    elif ":" in name:
        name, _, ref_version = name.partition(":")
        if version is not None and str(version) != ref_version:
            raise InvalidNameError("version given twice")
        version = ref_version
    return name, version, alias


def number_ranges(numbers: Iterable[int]) -> str:
    """``[1, 2, 3, 5]`` as ``"1-3, 5"``."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(numbers):
        if run and n != run[-1] + 1:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
            run = []
        run.append(n)
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)
