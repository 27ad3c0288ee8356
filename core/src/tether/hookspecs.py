"""The hooks a tether plugin implements: two layers.

*Backends* are :class:`tether.driver.Driver` classes, registered with
``tether_register_drivers``. Each declares its schemes up front, tether builds
a scheme registry once, and two plugins claiming one scheme is a conflict
reported by name (never settled silently by registration order).

*Cross-cutting behaviour* (metering, audit logs, policy, caching) is an
implementation of the operation hooks below. Each takes the driver chosen for
the URI's scheme plus the operation's arguments and is ``firstresult``. Core
registers the default implementation of each (plugin name ``tether``, marked
``trylast``), which calls the driver's method, so a plugin that only adds
drivers changes nothing. A plugin wraps an operation for every scheme with a
``@hookimpl(wrapper=True)`` generator: code before ``yield`` runs before the
operation, ``result = yield`` is its result (or raises its error), and the
wrapper returns the result it wants core to see. A plain (non-wrapper)
implementation that returns a non-None value replaces the operation.

Core calls these only through :mod:`tether.operations`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .checksum_kinds import ChecksumKind
    from .driver import Driver, Resolution
    from .models import Asset, RemoteObject

hookspec = pluggy.HookspecMarker("tether")
hookimpl = pluggy.HookimplMarker("tether")

#: The operation hooks, in the order a user meets them.
OPERATION_HOOKS = ("tether_resolve", "tether_list", "tether_checksum", "tether_upload", "tether_download")


@hookspec
def tether_register_drivers() -> list[type[Driver]]:  # type: ignore[empty-body]
    """Return the :class:`~tether.driver.Driver` subclasses this plugin provides.

    Called once per process when tether first needs a driver. Keep the module
    that holds this hook light: import the fsspec backend (s3fs, gcsfs ...)
    inside the driver's methods, not at import time.
    """


@hookspec
def tether_register_checksums() -> list[ChecksumKind]:  # type: ignore[empty-body]
    """Return the :class:`~tether.checksum_kinds.ChecksumKind` objects this plugin provides.

    Called once per process, with ``tether_register_drivers``. Each kind is
    then recorded, shown and verified like a built-in one (core registers
    ``sha256``, ``md5``, ``crc32c`` ... through this same hook, as plugin
    ``tether.checksums``). A plugin redefining a built-in kind fails to load;
    two plugins registering one name conflict (see :mod:`tether.checksum_kinds`).
    Import a heavy hashing library inside the kind's ``hasher`` factory, not here.
    """


@hookspec(firstresult=True)
def tether_resolve(driver: Driver, uri: str, max_objects: int, glob: bool | None,
                   exclude: Any) -> Resolution:  # type: ignore[empty-body]
    """What ``uri`` names (one object, a prefix, a glob): :meth:`Driver.resolve`.

    Called when a remote is added to an artifact (``add_remote``) and by ``status``."""


@hookspec(firstresult=True)
def tether_list(driver: Driver, uri: str, max_objects: int, exclude: Any) -> list[RemoteObject]:  # type: ignore[empty-body]
    """Every object under the prefix ``uri``: :meth:`Driver.list` (called by resolve for prefixes and globs)."""


@hookspec(firstresult=True)
def tether_checksum(driver: Driver, uri: str, kinds: tuple[str, ...]) -> dict[str, str]:  # type: ignore[empty-body]
    """Checksums of the object's bytes, computed by reading them: :meth:`Driver.checksum`."""


@hookspec(firstresult=True)
def tether_upload(driver: Driver, local_path: str, uri: str, sha256: str) -> RemoteObject:  # type: ignore[empty-body]
    """Store ``local_path`` (whose sha256 is ``sha256``) at ``uri``, verified: :meth:`Driver.upload`."""


@hookspec(firstresult=True)
def tether_download(driver: Driver, asset: Asset, dest: Path, fetch: Callable[[], str]) -> str:  # type: ignore[empty-body]
    """Fetch one asset's bytes into the local file ``dest``, verified and atomic.

    ``fetch()`` does it (ranged reads through :meth:`Driver.read_range`,
    retries, checksum verification) and returns ``"downloaded"``, ``"present"``
    or ``"preserved"``; the default implementation calls it."""
