"""The hooks a tether plugin implements.

tether has one hook. A plugin registers *driver classes*; the storage
operations (resolve, list, stat, checksum, read_range/download, upload, and the
catalog primitives) are methods of :class:`tether.driver.Driver`. Why classes
and not one hook per operation: with per-operation hooks every implementation
would have to check the scheme and return None, and two plugins serving one
scheme would be settled silently by registration order. With classes, each
driver declares its schemes up front, tether builds a scheme registry once, and
a conflict is detected and reported by name (see ``docs/plugins.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .driver import Driver

hookspec = pluggy.HookspecMarker("tether")
hookimpl = pluggy.HookimplMarker("tether")


@hookspec
def tether_register_drivers() -> list[type[Driver]]:  # type: ignore[empty-body]
    """Return the :class:`~tether.driver.Driver` subclasses this plugin provides.

    Called once per process when tether first needs a driver. Keep the module
    that holds this hook light: import the fsspec backend (s3fs, gcsfs ...)
    inside the driver's methods, not at import time.
    """
