"""From a URI string to the driver that serves it, or to a link-only reference."""

from __future__ import annotations

from .driver import Driver
from .errors import InvalidURIError, NoDriverError
from .plugins import get_registry
from .uris import redact, split_scheme


def scheme_of(uri: str) -> str:
    """The scheme tether dispatches on; plain paths are ``file``."""
    if "\x00" in uri:
        raise InvalidURIError(f"{redact(uri)!r} contains a NUL byte")
    scheme, _ = split_scheme(uri)
    return scheme or "file"


def driver_for_uri(uri: str) -> Driver:
    """The driver for ``uri``; raises NoDriverError (or its install-hint /
    load-error / conflict relatives) when none can serve it."""
    return get_registry().driver_for(scheme_of(uri))


def can_link_only(uri: str) -> bool:
    """True when ``uri`` names a scheme no tether plugin is known for, so it is
    kept as a plain reference; known-but-missing drivers raise instead."""
    return not get_registry().knows(scheme_of(uri))


__all__ = ["NoDriverError", "can_link_only", "driver_for_uri", "scheme_of"]
