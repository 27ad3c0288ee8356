"""Aliases and tags of versions, the :class:`~tether.catalog.Catalog` methods that read and move them.

An alias (``artifacts/<name>/aliases/<alias>.json``, ``{"version": 7}``) names
one version and moves; a tag (``artifacts/<name>/tags/<version>/<tag>``, an
empty object) marks a version. Each is one object, so concurrent moves never
corrupt anything: the last write wins. Protected aliases and immutable tags are
enforced through :mod:`.protection`.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ..artifact import check_name
from ..errors import InvalidNameError, ManifestError, ObjectNotFoundError, UnknownAliasError, UnknownTagError
from .claims import load_json
from .protection import guard_add_tags, guard_alias, guard_remove_tags
from .refs import TAG_RE, check_tag, is_name, version_number

if TYPE_CHECKING:
    from .core import Catalog


class AliasesTagsMixin:
    """``aliases``, ``set_alias``, ``remove_alias``, ``tags``, ``add_tags``, ``remove_tags``."""

    def aliases(self: Catalog, name: str) -> dict[str, int]:
        """Alias -> version. Files that are not a valid alias (bad name, not
        JSON, nested too deeply, no positive integer version) are skipped, as
        git skips a ref file it cannot parse."""
        check_name(name)
        folder = self._uri("artifacts", name, "aliases")
        out = {}
        for n in self._driver.list_names(folder):
            if not n.endswith(".json") or not is_name(n[:-5]):
                continue
            try:
                doc = load_json(self._driver.read_bytes(f"{folder}/{n}"), "alias")
            except (ObjectNotFoundError, ManifestError):
                continue  # removed while listing, or not ours
            number = doc.get("version") if isinstance(doc, dict) else None
            if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
                out[n[:-5]] = number
        return out

    def set_alias(self: Catalog, name: str, alias: str, version: int | str, *, force: bool = False) -> None:
        """Point ``alias`` at ``version`` (moving it if it pointed elsewhere).
        A protected alias moves only with ``force=True`` (see :mod:`.protection`)."""
        check_name(name)
        check_name(alias, "alias")
        if alias == "latest" or re.fullmatch(r"v?\d+", alias):
            raise InvalidNameError(f"alias {alias!r} is reserved (it looks like a version)")
        number = version_number(version)
        if number not in self._version_numbers(name):
            self._missing(name, number)
        after = guard_alias(self, name, alias, number, force)
        self._driver.write_bytes(self._uri("artifacts", name, "aliases", f"{alias}.json"),
                                 json.dumps({"version": number}).encode())
        after()

    def remove_alias(self: Catalog, name: str, alias: str, *, force: bool = False) -> None:
        check_name(name)
        check_name(alias, "alias")
        if alias not in self.aliases(name):
            raise UnknownAliasError(f"artifact {name!r} has no alias {alias!r}")
        after = guard_alias(self, name, alias, None, force)
        self._driver.delete(self._uri("artifacts", name, "aliases", f"{alias}.json"))
        after()

    def tags(self: Catalog, name: str, version: int | str) -> list[str]:
        check_name(name)
        return [t for t in self._driver.list_names(self._uri("artifacts", name, "tags", str(version_number(version))))
                if TAG_RE.match(t)]

    def add_tags(self: Catalog, name: str, version: int | str, *tags: str, force: bool = False) -> None:
        """Tag a version. An immutable tag (see :mod:`.protection`) set on
        another version, or removed, is set here only with ``force=True``."""
        check_name(name)
        for t in tags:
            check_tag(t)
        number = version_number(version)
        if number not in self._version_numbers(name):
            self._missing(name, number)
        guard_add_tags(self, name, number, tags, force)
        for t in tags:
            self._driver.write_bytes(self._uri("artifacts", name, "tags", str(number), t), b"")

    def remove_tags(self: Catalog, name: str, version: int | str, *tags: str, force: bool = False) -> None:
        """Remove tags from a version. A tag the version does not have is an
        :class:`UnknownTagError` naming it (and nothing is removed), as
        :meth:`remove_alias` refuses an alias that is not there."""
        check_name(name)
        for t in tags:
            check_tag(t)
        number = version_number(version)
        if number not in self._version_numbers(name):
            self._missing(name, number)
        have = set(self.tags(name, number))
        absent = [t for t in tags if t not in have]
        if absent:
            listed = f" (its tags: {', '.join(sorted(have))})" if have else " (it has no tags)"
            raise UnknownTagError(f"{name}:v{number} has no tag {', '.join(repr(t) for t in absent)}{listed}")
        guard_remove_tags(self, name, number, tags, force)
        for t in tags:
            self._driver.delete(self._uri("artifacts", name, "tags", str(number), t))
