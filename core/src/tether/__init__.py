"""tether: versioned remote artifacts whose bytes stay where they live.

>>> import tether
>>> art = tether.Artifact("training-data", type="dataset")
>>> art.add_remote("s3://bucket/train/")
>>> v = tether.Catalog().log(art, aliases=["candidate"])
>>> v.download("./data")

This module is the facade: everything a user or a plugin author needs is
importable from here. It stays light; no cloud SDK is imported until a driver
for its scheme is used.
"""

from __future__ import annotations

from . import errors
from .artifact import Artifact, LinkOnlyWarning
from .catalog import ArtifactVersion, AssetStatus, Catalog, StatusResult, VersionInfo
from .config import configure
from .driver import Driver, Resolution
from .hookspecs import hookimpl
from .models import Asset, RemoteObject
from .plugins import get_driver
from .selection import shard_paths
from .transfer import DownloadResult, RetryPolicy, VerifyResult

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "ArtifactVersion",
    "Asset",
    "AssetStatus",
    "Catalog",
    "DownloadResult",
    "Driver",
    "LinkOnlyWarning",
    "RemoteObject",
    "Resolution",
    "RetryPolicy",
    "StatusResult",
    "VerifyResult",
    "VersionInfo",
    "configure",
    "errors",
    "get_driver",
    "hookimpl",
    "shard_paths",
]
