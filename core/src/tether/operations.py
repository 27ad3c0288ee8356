"""The one way core runs a storage operation: through the operation hooks.

Every call site (``add_remote``'s resolve, ``status``, uploads, checksums,
the downloader) calls these functions, never ``Driver.resolve`` & co
directly, so a plugin's wrapper sees every operation on every scheme. The
hook relay comes from the plugin manager in :mod:`tether.plugins` (the only
module that builds one); the default implementations here are registered in
it under the name ``tether`` and call the driver's method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .driver import Driver, Resolution
    from .models import Asset, RemoteObject


def _hook():
    from .plugins import get_registry

    return get_registry().hook


def resolve(driver: Driver, uri: str, *, max_objects: int, glob: bool | None = None,
            exclude: Any = None) -> Resolution:
    return _hook().tether_resolve(driver=driver, uri=uri, max_objects=max_objects, glob=glob, exclude=exclude)


def list_objects(driver: Driver, uri: str, *, max_objects: int, exclude: Any = None) -> list[RemoteObject]:
    """Every object under the prefix ``uri``, through the ``tether_list`` hook
    (so wrapper plugins see the listing): what a driver overriding ``resolve``
    calls instead of its own ``list``."""
    return _hook().tether_list(driver=driver, uri=uri, max_objects=max_objects, exclude=exclude)


def checksum(driver: Driver, uri: str, kinds: Iterable[str] = ("sha256",)) -> dict[str, str]:
    return _hook().tether_checksum(driver=driver, uri=uri, kinds=tuple(kinds))


def upload(driver: Driver, local_path: str, uri: str, *, sha256: str) -> RemoteObject:
    return _hook().tether_upload(driver=driver, local_path=local_path, uri=uri, sha256=sha256)


def download(driver: Driver, asset: Asset, dest: Path, fetch: Callable[[], str]) -> str:
    return _hook().tether_download(driver=driver, asset=asset, dest=dest, fetch=fetch)


class Defaults:
    """Core's implementation of each operation hook: the scheme's driver method.

    ``trylast`` so a plain implementation in a plugin may replace an
    operation; wrappers run around whichever implementation answers."""

    @hookimpl(trylast=True)
    def tether_resolve(self, driver: Driver, uri: str, max_objects: int, glob: bool | None,
                       exclude: Any) -> Resolution:
        # exclude (a tether.localtree.Excludes) only where given: drivers written
        # before it existed take no such argument.
        return driver.resolve(uri, max_objects=max_objects, glob=glob, **({} if exclude is None else {"exclude": exclude}))

    @hookimpl(trylast=True)
    def tether_list(self, driver: Driver, uri: str, max_objects: int, exclude: Any) -> list[RemoteObject]:
        return driver.list(uri, max_objects=max_objects, **({} if exclude is None else {"exclude": exclude}))

    @hookimpl(trylast=True)
    def tether_checksum(self, driver: Driver, uri: str, kinds: tuple[str, ...]) -> dict[str, str]:
        return driver.checksum(uri, kinds)

    @hookimpl(trylast=True)
    def tether_upload(self, driver: Driver, local_path: str, uri: str, sha256: str) -> RemoteObject:
        return driver.upload(local_path, uri, sha256=sha256)

    @hookimpl(trylast=True)
    def tether_download(self, driver: Driver, asset: Asset, dest: Path, fetch: Callable[[], str]) -> str:
        return fetch()
