"""A complete tether driver in one module: fsspec's ``memory://`` filesystem.

Everything else (resolve, list, boundary rule, caps, download, upload,
catalog primitives) comes from :class:`tether.Driver`'s fsspec defaults.
"""

from __future__ import annotations

from typing import Any

import tether


class MemoryDriver(tether.Driver):
    schemes = ("memory",)
    conditional_overwrite = False  # the fallback below: atomic only within this one process
    description = "fsspec in-memory filesystem (per process)"

    def make_filesystem(self, bucket: str | None, options: dict[str, Any]):  # noqa: ANN201
        from fsspec.implementations.memory import MemoryFileSystem  # lazy: keep import tether light

        return MemoryFileSystem()

    # fsspec's memory paths start with "/"; tether's driver paths do not.
    def fs_path(self, path: str) -> str:
        return "/" + path

    def from_fs_path(self, name: str) -> str:
        return name.lstrip("/")

    # Conditional overwrite (run records): the base class's fallback takes a
    # lock, compares a content hash and writes. Across processes that would not
    # be atomic, but this whole store lives inside one process, so it is: no
    # override needed. A driver over a shared store overrides
    # ``read_bytes_versioned`` / ``write_bytes_if_match`` with the store's own
    # conditional write (an ETag, a generation), as tether-s3 and tether-gcs do.
    read_bytes_versioned = tether.Driver.read_bytes_versioned
    write_bytes_if_match = tether.Driver.write_bytes_if_match


@tether.hookimpl
def tether_register_drivers() -> list[type[tether.Driver]]:
    return [MemoryDriver]
