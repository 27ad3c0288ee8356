"""Error translation for every driver operation, whichever class defines it.

:class:`~tether.driver.Driver` runs :func:`translate_operations` on each
subclass when it is defined (``__init_subclass__``), and on itself and its
mixins once: so a driver's operation leaves only through
:meth:`Driver.translate_error` (a :mod:`tether.errors` type naming the URI),
even where its author forgot ``translating()``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..errors import TetherError

if TYPE_CHECKING:
    from .base import Driver

#: The public operations whose errors are translated whatever class defines
#: them, and how to find the URI to name: the argument's position (after self)
#: and how to turn it into a URI.
TRANSLATED: dict[str, tuple[int, str]] = {
    "resolve": (0, "uri"), "list": (0, "uri"), "stat": (0, "uri"), "checksum": (0, "uri"),
    "exists": (0, "uri"), "read_bytes": (0, "uri"), "write_bytes": (0, "uri"), "list_names": (0, "uri"),
    "delete": (0, "uri"), "read_bytes_versioned": (0, "uri"), "write_bytes_if_match": (0, "uri"),
    "remove_stale_uploads": (0, "uri"), "upload": (1, "uri"), "stat_path": (0, "path"),
    "glob": (0, "path"), "read_range": (0, "asset"), "holds": (0, "object"), "enrich": (-1, ""),
}


def translate_operations(cls: type) -> None:
    """Wrap each public operation ``cls`` itself defines so that any exception
    leaves as :meth:`Driver.translate_error` maps it, naming the URI.

    Done per class at definition time (``__init_subclass__``), so an operation
    a driver overrides without remembering ``translating()`` is translated all
    the same, and inherited ones are already wrapped where they were defined.
    Tether errors pass unchanged (``translate_error`` returns them)."""
    for name, (pos, kind) in TRANSLATED.items():
        fn = cls.__dict__.get(name)
        if fn is None or not callable(fn) or getattr(fn, "__tether_translated__", False):
            continue

        def make(fn: Any, pos: int, kind: str) -> Any:
            @functools.wraps(fn)
            def op(self: Driver, *args: Any, **kwargs: Any) -> Any:
                try:
                    return fn(self, *args, **kwargs)
                except TetherError:
                    raise
                except Exception as exc:
                    where = args[pos] if 0 <= pos < len(args) else kwargs.get(
                        {"uri": "uri", "path": "path", "asset": "asset", "object": "obj"}.get(kind, ""))
                    err = self.translate_error(exc, named_uri(self, where, kind),
                                               asset=where if kind == "asset" else None,
                                               create=bool(kwargs.get("if_absent")))
                    if err is exc:
                        raise
                    raise err from None
            op.__tether_translated__ = True  # type: ignore[attr-defined]
            return op

        setattr(cls, name, make(fn, pos, kind))


def named_uri(driver: Driver, value: Any, kind: str) -> str:
    if value is None:
        return f"{driver.canonical_scheme}://"
    if kind == "path" and isinstance(value, str):
        return driver.uri_of(value)
    if kind in ("asset", "object"):
        return str(getattr(value, "uri", None) or f"{driver.canonical_scheme}://")
    return str(value)

