"""The ``max_objects`` cap on what one URI may resolve to, and its error."""

from __future__ import annotations

from ..errors import TooManyObjectsError
from ..uris import redact

#: The default cap on the objects one URI may name (``max_objects``).
DEFAULT_MAX_OBJECTS = 10_000


def check_cap(count: int, max_objects: int, uri: str) -> None:
    """Raise :func:`too_many` when a complete listing of ``uri`` found more than ``max_objects``."""
    if count > max_objects:
        raise too_many(count, max_objects, uri, complete=True)


def too_many(count: int, max_objects: int, uri: str, *, complete: bool = False) -> TooManyObjectsError:
    """The error of a prefix over the ``max_objects`` cap. ``complete=False``: the
    listing stopped at ``count`` (there may be more), as soon as the cap was passed."""
    held = f"{count}" if complete else f"at least {count}"
    return TooManyObjectsError(
        f"{redact(uri)} holds {held} objects, more than max_objects={max_objects} (the default is "
        f"{DEFAULT_MAX_OBJECTS}); nothing was recorded. Raise the cap with add_remote(uri, max_objects=N), "
        "Artifact(..., max_objects=N) or `tether log --max-objects N`, or narrow the prefix")
